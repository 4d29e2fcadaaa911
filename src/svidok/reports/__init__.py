"""What the register produces: search, statistics, estimates, exports, evidence packages."""
