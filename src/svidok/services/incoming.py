"""A record as read from an input file, before validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Incoming:
    """One record from a file: where it is, its kind and raw fields, or why it could not be read.

    `raw_text` is the line as read, written verbatim to a reject file.
    `from_text` marks CSV input, where all values are strings and empty means absent.
    `field_labels` maps record fields to the input's own column names for messages.
    """

    line: int
    raw_text: str
    kind: str | None
    data: dict[str, Any] | None
    from_text: bool = False
    parse_error: str | None = None
    field_labels: dict[str, str] = field(default_factory=dict)
