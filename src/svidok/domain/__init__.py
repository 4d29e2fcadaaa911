"""Plain types, vocabularies and rules that need no I/O."""
