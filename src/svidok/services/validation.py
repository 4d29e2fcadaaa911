"""Checking one incoming record against its table and the domain rules.

A `RecordCleaner` is built once per record kind from the table's columns (type,
length, nullability, defaults) and the rules in `svidok.domain.rules`. It turns
a raw mapping (from JSON or a CSV row) into values ready to insert, or lists
every field that is wrong and why. Messages name fields and codes, never the
contents of protected fields.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, Integer, String, Table, Text

from svidok.domain import rules
from svidok.domain.values import ID_PREFIXES
from svidok.domain.vocabulary import vocabulary
from svidok.store.models import Base

ID_PATTERN = re.compile(r"[a-z]{2}_[0-9A-Za-z_-]{1,28}")
"""Matched with `fullmatch`: `$` would also accept a trailing newline."""
# PostgreSQL's `integer` and `bigint`: a larger whole number must be refused here, not by the driver.
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
SHOWN_CHARS = 40
"""Values and names echoed in messages are cut to this many characters (a hostile file may hold megabytes)."""


def shown(value: Any) -> str:
    """`repr` of a value for a message, cut short: control characters escaped, never megabytes."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def field_label(name: Any) -> str:
    """A field name as messages show it: plain names as they are, anything odd through `shown`."""
    if isinstance(name, str) and len(name) <= SHOWN_CHARS and name.isidentifier() and name.isascii():
        return name
    return shown(name)


class FieldProblem(Exception):
    """A value is unusable; `field` says which one."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class ForeignKey:
    column: str
    target_kind: str


@dataclass
class RecordCleaner:
    """Validates and coerces records of one kind."""

    kind: str
    table: Table
    required: frozenset[str]
    defaults: dict[str, Any]
    foreign_keys: tuple[ForeignKey, ...]
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = tuple(c.name for c in self.table.columns)

    def clean(self, raw: Mapping[str, Any], *, from_text: bool = False) -> dict[str, Any]:
        """The record ready to insert, or `FieldProblems` naming every bad field.

        `from_text` is set for CSV input, where every value arrives as a string
        and an empty cell means "not given".
        """
        problems: list[FieldProblem] = []
        for name in raw:
            if name not in self.columns:
                problems.append(FieldProblem(field_label(name), f"not a field of {self.kind}"))
        out: dict[str, Any] = {}
        for name in self.columns:
            value = raw.get(name)
            if from_text and value == "":
                value = None
            if value is None:
                if name in self.required:
                    problems.append(FieldProblem(name, "is required"))
                else:
                    out[name] = _fresh(self.defaults.get(name))
                continue
            try:
                out[name] = self._field(name, value, from_text)
            except FieldProblem as problem:
                # a kept exception's traceback holds this frame (and the raw record): a cycle that
                # only the cyclic collector frees, so bad records of megabytes would pile up
                problems.append(problem.with_traceback(None))
        if not problems:
            problems.extend(self._cross_field(out))
        if problems:
            raise FieldProblems(problems)
        return out

    def _field(self, name: str, value: Any, from_text: bool) -> Any:
        column = self.table.columns[name]
        value = _coerce(name, column.type, value, from_text)
        key = (self.kind, name)
        if name == "id":
            prefix = ID_PREFIXES[self.kind]
            if not ID_PATTERN.fullmatch(value) or not value.startswith(prefix + "_"):
                raise FieldProblem(
                    name, f"id must look like {prefix}_ followed by up to 28 letters, digits, - or _"
                )
        if key in rules.CODED_FIELDS:
            vocab = vocabulary(rules.CODED_FIELDS[key])
            if value not in vocab:
                raise FieldProblem(name, f"unknown code {shown(value)}; valid: {', '.join(vocab.codes)}")
        if key in rules.CODE_LIST_FIELDS:
            vocab = vocabulary(rules.CODE_LIST_FIELDS[key])
            bad = [code for code in value if code not in vocab]
            if bad:
                listed = ", ".join(shown(code) for code in bad[:5]) + (", …" if len(bad) > 5 else "")
                raise FieldProblem(name, f"unknown codes [{listed}]; valid: {', '.join(vocab.codes)}")
        if key in rules.ENUM_FIELDS and value not in rules.ENUM_FIELDS[key]:
            valid = ", ".join(str(v) for v in rules.ENUM_FIELDS[key])
            raise FieldProblem(name, f"{shown(value)} is not one of: {valid}")
        if key in rules.PARTIAL_DATE_FIELDS and not _PARTIAL_DATE.fullmatch(value):
            raise FieldProblem(name, "must be a date YYYY, YYYY-MM or YYYY-MM-DD")
        if name in rules.LATITUDE_FIELDS and not -90 <= value <= 90:
            raise FieldProblem(name, "latitude must be between -90 and 90")
        if name in rules.LONGITUDE_FIELDS and not -180 <= value <= 180:
            raise FieldProblem(name, "longitude must be between -180 and 180")
        if key in rules.UNIT_RANGE_FIELDS and not 0 <= value <= 1:
            raise FieldProblem(name, "must be between 0 and 1")
        return value

    def _cross_field(self, record: dict[str, Any]) -> list[FieldProblem]:
        problems = []
        order = rules.TIME_ORDER.get(self.kind)
        if order:
            first, second = record.get(order[0]), record.get(order[1])
            if first is not None and second is not None and second < first:
                problems.append(FieldProblem(order[1], f"is before {order[0]}"))
        if self.kind == "involvement" and not (record.get("person_id") or record.get("unit_id")):
            problems.append(FieldProblem("person_id", "an involvement needs a person_id or a unit_id"))
        return problems


class FieldProblems(Exception):
    """Every bad field of one record."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _fresh(default: Any) -> Any:
    """A copy of a mutable default, so records never share one list or map."""
    return type(default)() if isinstance(default, list | dict) else default


_PARTIAL_DATE = re.compile(r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")


def _coerce(name: str, type_: Any, value: Any, from_text: bool) -> Any:
    type_ = getattr(type_, "impl", type_)  # a protected column checks as its plain text type
    if isinstance(type_, DateTime):
        return parse_utc(name, value)
    if isinstance(type_, Integer):
        if isinstance(value, bool):
            raise FieldProblem(name, "must be a whole number")
        if from_text and isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value.strip()):
            value = int(value)
        if not isinstance(value, int):
            raise FieldProblem(name, "must be a whole number")
        low, high = INT64 if isinstance(type_, BigInteger) else INT32
        if not low <= value <= high:
            raise FieldProblem(name, f"must be between {low} and {high}")
        return value
    if isinstance(type_, Float):
        if isinstance(value, bool):
            raise FieldProblem(name, "must be a number")
        number: float
        if isinstance(value, int | float):
            try:
                number = float(value)
            except OverflowError:  # a JSON integer of hundreds of digits
                raise FieldProblem(name, "must be a finite number") from None
        elif from_text and isinstance(value, str):
            try:
                number = float(value.replace(",", ".") if value.count(",") == 1 else value)
            except ValueError:
                raise FieldProblem(name, "must be a number") from None
        else:
            raise FieldProblem(name, "must be a number")
        if not math.isfinite(number):
            raise FieldProblem(name, "must be a finite number")
        return number
    if isinstance(type_, JSON):
        return _json_value(name, value, from_text)
    if isinstance(type_, String | Text):
        if not isinstance(value, str):
            raise FieldProblem(name, "must be text")
        _check_text(name, value)
        length = getattr(type_, "length", None)
        if length is not None and len(value) > length:
            raise FieldProblem(name, f"is longer than {length} characters ({len(value)})")
        return value
    raise FieldProblem(name, f"has an unsupported type {type_}")  # pragma: no cover


def _check_text(name: str, value: str) -> None:
    """Text every database takes: no NUL (PostgreSQL refuses it), no unpaired surrogate (not UTF-8)."""
    if "\x00" in value:
        raise FieldProblem(name, "contains a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldProblem(name, "contains an unpaired surrogate (not valid Unicode)") from None


def _json_value(name: str, value: Any, from_text: bool) -> Any:
    if from_text and isinstance(value, str):
        value = [part.strip() for part in value.split(";") if part.strip()]
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise FieldProblem(name, "must be a list of text values")
        for item in value:
            _check_text(name, item)
        return value
    if isinstance(value, dict):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise FieldProblem(name, "must map language codes to text")
        for key, item in value.items():
            _check_text(name, key)
            _check_text(name, item)
        return value
    raise FieldProblem(name, "must be a list or an object")


def parse_utc(name: str, value: Any) -> datetime:
    """An ISO 8601 time as naive UTC; a time without offset is taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise FieldProblem(name, "must be an ISO 8601 time such as 2020-08-10T21:30:00Z") from None
    else:
        raise FieldProblem(name, "must be an ISO 8601 time such as 2020-08-10T21:30:00Z")
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+01:00 falls before year 1 in UTC
            raise FieldProblem(name, "is outside the years 1 to 9999 in UTC") from None
    return moment


@cache
def cleaner(kind: str) -> RecordCleaner:
    """The cleaner of one record kind (built once)."""
    table = Base.metadata.tables[kind]
    required = set()
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            defaults[column.name] = default.arg  # type: ignore[attr-defined]
        elif default is not None and getattr(default, "is_callable", False):
            defaults[column.name] = default.arg(None)  # type: ignore[attr-defined]
        elif not column.nullable:
            required.add(column.name)
    fks = tuple(
        ForeignKey(column=fk.parent.name, target_kind=fk.column.table.name)
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name)
    )
    return RecordCleaner(
        kind=kind,
        table=table,
        required=frozenset(required),
        defaults=defaults,
        foreign_keys=fks,
    )
