"""Use cases: import, export, statistics, linking, search. Access checks and audit live here."""
