"""Linking: turning fragments into one register.

Machine suggestions with scores and explanations (mentions → persons, reports →
incidents, evidence ↔ incidents, suspect candidates, missing persons ↔ custody
records); human decisions stored as link statuses and never undone by a re-run.
The batch paths run set-wise in DuckDB; the scoring cores are pure.
"""
