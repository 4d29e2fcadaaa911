"""Small value types of the register: gradings, precisions, partial dates, ids."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta, timezone

from svidok.errors import InputError

RELIABILITY_GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
"""Source reliability (Admiralty / NATO system): A completely reliable … E unreliable, F cannot be judged."""

CREDIBILITY_GRADES: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
"""Information credibility: 1 confirmed by other sources … 5 improbable, 6 cannot be judged."""

TIME_PRECISIONS: tuple[str, ...] = ("second", "minute", "hour", "day", "week", "month", "year")
"""How exactly a stored time is known; the stored value is the start of that span."""

LINK_STATUSES: tuple[str, ...] = ("suggested", "auto", "confirmed", "rejected")
"""suggested: awaits review; auto: applied by the machine above its auto-link threshold;
confirmed / rejected: decided by a person, never changed by a machine run."""
MACHINE_STATUSES: tuple[str, ...] = ("suggested", "auto")
SEXES: tuple[str, ...] = ("male", "female", "unknown")
BASES: tuple[str, ...] = ("metadata", "asserted", "server", "unknown")
"""Where a capture time or place comes from: file metadata, a person's statement, the server clock."""

_PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")

ID_PREFIXES: dict[str, str] = {
    "place": "pl",
    "unit": "un",
    "person": "pe",
    "person_name": "pn",
    "source": "so",
    "incident": "in",
    "act": "ac",
    "involvement": "iv",
    "mention": "me",
    "membership": "mb",
    "deployment": "de",
    "custody_record": "cu",
    "missing_case": "mc",
    "evidence": "ev",
    "citation": "ci",
    "link": "li",
    "link_run": "lr",
}


def new_id(kind: str, token: str | None = None) -> str:
    """A fresh record id such as `in_3f9c0a5e12d4b7e8a1c2`: kind prefix and 80 random bits."""
    return f"{ID_PREFIXES[kind]}_{token or secrets.token_hex(10)}"


def check_partial_date(value: str, field: str = "date") -> str:
    """Accept YYYY, YYYY-MM or YYYY-MM-DD (a birth date is often known only to the year)."""
    if not _PARTIAL_DATE.match(value):
        raise InputError(f"{field}: {value!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
    return value


def to_utc(moment: datetime) -> tuple[datetime, int | None]:
    """Naive UTC datetime for storage plus the original UTC offset in minutes (None if naive)."""
    if moment.tzinfo is None:
        return moment, None
    offset = moment.utcoffset() or timedelta(0)
    return moment.astimezone(UTC).replace(tzinfo=None), int(offset.total_seconds() // 60)


def from_utc(stored: datetime, offset_minutes: int | None) -> datetime:
    """The stored UTC time shown in its original offset."""
    aware = stored.replace(tzinfo=UTC)
    if offset_minutes is None:
        return aware
    return aware.astimezone(timezone(timedelta(minutes=offset_minutes)))
