"""Every error Svidok raises on purpose.

Messages name record ids, files, lines and fields, never protected contents
(names, testimony text, contact details), so they are safe to log and show.
The CLI maps `SvidokError` to exit code 2 with the message; the web layer maps
it to an RFC 9457 problem document.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "DatabaseUnavailable",
    "ImportFailed",
    "InputError",
    "NotFound",
    "RecordProblem",
    "SvidokError",
    "UnknownCode",
]


class SvidokError(Exception):
    """Base of every error Svidok raises deliberately."""

    exit_code = 2


class ConfigError(SvidokError):
    """The settings, data directory or database URL cannot be used."""


class DatabaseUnavailable(SvidokError):
    """The database server cannot be reached; retrying later may succeed."""

    exit_code = 3


class InputError(SvidokError):
    """A value given by a user or a file is invalid."""


class UnknownCode(InputError):
    """A code is not in its controlled vocabulary."""

    def __init__(self, vocabulary: str, code: object, valid: list[str]) -> None:
        self.vocabulary = vocabulary
        self.code = code
        self.valid = valid
        super().__init__(f"unknown {vocabulary} code {code!r}; valid codes: {', '.join(valid)}")


class NotFound(SvidokError):
    """No record of that kind and id exists (or the caller may not know it does)."""

    def __init__(self, kind: str, record_id: str) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"no {kind} with id {record_id!r}")


class ConflictError(SvidokError):
    """A record with this id already exists with different contents."""


class RecordProblem(InputError):
    """One bad record in an input file: where it is, which field, and why."""

    def __init__(self, file: str, line: int, field: str | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
        where = f"{file}:{line}"
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")


class ImportFailed(InputError):
    """An import was refused as a whole; nothing was written."""

    def __init__(self, problems: list[RecordProblem], shown: int = 20) -> None:
        self.problems = problems
        lines = [str(p) for p in problems[:shown]]
        more = len(problems) - shown
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__(
            f"import refused, nothing written: {len(problems)} bad record(s)\n" + "\n".join(lines)
        )
