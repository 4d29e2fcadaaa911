"""Which fields of which record kinds take codes, gradings, dates or coordinates.

The import path and the services check records against these rules, so a bad
code is refused wherever it comes from, with the list of valid values.
"""

from __future__ import annotations

from svidok.domain.values import (
    BASES,
    CREDIBILITY_GRADES,
    LINK_STATUSES,
    RELIABILITY_GRADES,
    SEXES,
    TIME_PRECISIONS,
)

CODED_FIELDS: dict[tuple[str, str], str] = {
    ("place", "kind"): "place_type",
    ("unit", "kind"): "unit_kind",
    ("source", "kind"): "source_kind",
    ("source", "author_role"): "source_role",
    ("incident", "status"): "incident_status",
    ("act", "violation"): "violation_type",
    ("involvement", "role"): "involvement_role",
    ("mention", "role"): "mention_role",
    ("missing_case", "status"): "missing_status",
    ("link", "kind"): "link_kind",
}
"""Single-code fields and the controlled vocabulary each draws from."""

CODE_LIST_FIELDS: dict[tuple[str, str], str] = {
    ("act", "injuries"): "injury_type",
    ("custody_record", "injuries"): "injury_type",
}
"""Fields holding a list of codes."""

ENUM_FIELDS: dict[tuple[str, str], tuple[object, ...]] = {
    ("person", "sex"): SEXES,
    ("mention", "sex"): SEXES,
    ("missing_case", "sex"): SEXES,
    ("source", "reliability"): RELIABILITY_GRADES,
    ("source", "credibility"): CREDIBILITY_GRADES,
    ("incident", "start_precision"): TIME_PRECISIONS,
    ("incident", "end_precision"): TIME_PRECISIONS,
    ("act", "precision"): TIME_PRECISIONS,
    ("source", "reported_precision"): TIME_PRECISIONS,
    ("evidence", "capture_time_basis"): BASES,
    ("evidence", "capture_place_basis"): BASES,
    ("link", "status"): LINK_STATUSES,
}
"""Fields with a small fixed set of values defined in code."""

PARTIAL_DATE_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("person", "birth_date"),
        ("custody_record", "birth_date"),
        ("missing_case", "birth_date"),
        ("membership", "start_date"),
        ("membership", "end_date"),
    }
)

LATITUDE_FIELDS = frozenset({"lat", "reported_lat"})
LONGITUDE_FIELDS = frozenset({"lon", "reported_lon"})

TIME_ORDER: dict[str, tuple[str, str]] = {
    "incident": ("start_at", "end_at"),
    "source": ("reported_start", "reported_end"),
    "deployment": ("start_at", "end_at"),
    "custody_record": ("held_from", "held_to"),
    "evidence": ("capture_start", "capture_end"),
}
"""Pairs of times where the second may not come before the first."""

UNIT_RANGE_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {("involvement", "confidence"), ("citation", "confidence"), ("link", "score")}
)
"""Fields that hold a probability between 0 and 1."""
