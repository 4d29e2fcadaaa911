"""Audit entries and their canonical bytes (format version 1).

Threat: the log itself leaking what it records about (LOG-06), or two programs
hashing "the same" entry differently so that a court's verifier disagrees with
ours. An entry holds only ids, action names, field names and digests; `check_details`
refuses protected column names and free-floating floats.

Format v1: UTF-8 JSON with sorted keys, no spaces, ASCII escapes, no floats::

    {"action":..,"actor":..,"at":"YYYY-MM-DDTHH:MM:SS.ffffffZ","details":{..},
     "id":..,"kind":..,"seq":N,"v":1}

Because keys are sorted, every entry ends with `"seq":N,"v":1}`: the verifier
checks an entry's position without parsing it. The bytes are stored beside the
row (`audit_entry.entry`), so verification hashes stored bytes and never
re-serialises; the other columns are a query convenience that `verify(deep=True)`
checks against the bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from svidok.errors import InputError

__all__ = ["FORMAT_VERSION", "Entry", "check_details", "encode", "decode"]

FORMAT_VERSION = 1
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
_MAX_TEXT = 300


@dataclass(frozen=True)
class Entry:
    """One audit event: who did what to which record, when (UTC), with safe details."""

    seq: int
    at: datetime
    actor: str
    action: str
    kind: str | None
    record_id: str | None
    details: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        return encode(self)


def utc_naive(moment: datetime | None = None) -> datetime:
    """`moment` (now by default) as a naive UTC datetime, as the tables store times."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def encode(entry: Entry) -> bytes:
    obj = {
        "v": FORMAT_VERSION,
        "seq": entry.seq,
        "at": utc_naive(entry.at).strftime(_TIME),
        "actor": entry.actor,
        "action": entry.action,
        "kind": entry.kind,
        "id": entry.record_id,
        "details": entry.details,
    }
    return canonical_json(obj)


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def decode(data: bytes) -> Entry:
    obj = json.loads(data)
    if obj.get("v") != FORMAT_VERSION:
        raise ValueError(f"unknown audit entry format {obj.get('v')!r}")
    return Entry(
        seq=obj["seq"],
        at=datetime.strptime(obj["at"], _TIME),
        actor=obj["actor"],
        action=obj["action"],
        kind=obj["kind"],
        record_id=obj["id"],
        details=obj["details"],
    )


def _check_value(key: str, value: Any) -> None:
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            raise InputError(f"audit detail {key!r} is longer than {_MAX_TEXT} characters")
        return
    if isinstance(value, list):
        for item in value:
            if isinstance(item, list | dict):
                raise InputError(f"audit detail {key!r} must be a flat list")
            _check_value(key, item)
        return
    raise InputError(
        f"audit detail {key!r} has type {type(value).__name__}; use ids, names, digests, integers"
    )


def check_details(details: dict[str, Any], protected: frozenset[str] = frozenset()) -> None:
    """Refuse details that could carry protected contents.

    Allowed: strings (ids, field names, digests, short codes), integers, booleans,
    null, flat lists of those. A key equal to a protected column of the record's
    table is refused: name the field in a list (`{"fields": ["primary_name"]}`)
    instead of giving its value.
    """
    for key, value in details.items():
        if not isinstance(key, str):
            raise InputError("audit detail keys must be strings")
        if key in protected:
            raise InputError(
                f"audit detail {key!r} is a protected field: record the field name, not its value"
            )
        _check_value(key, value)
