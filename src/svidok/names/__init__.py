"""Cross-script personal names."""
