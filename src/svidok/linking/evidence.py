"""Evidence ↔ incidents by capture time and place.

What investigators do with surveillance recordings and phone videos: every
evidence item whose capture window falls within a tolerance of an incident's
time window, and whose capture point lies within a radius of the incident's
place, is suggested for that incident. The explanation gives the distance in
time and in space. Items or incidents without coordinates (directly or through
their place) are not matched: time alone cannot tell apart the many incidents
of one protest day.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, func, select

from svidok.linking.frames import duck, haversine_sql, to_arrow
from svidok.store.links import Suggestion
from svidok.store.register import table_of


@dataclass(frozen=True)
class EvidenceLinkSettings:
    """How near in time and space an item must be; stored with every run."""

    time_tolerance_min: float = 30.0
    radius_m: float = 1_500.0
    max_per_item: int = 5
    method: str = "evidence-time-place-v1"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


WINDOW = pa.schema(
    [
        ("id", pa.string()),
        ("s", pa.timestamp("us")),
        ("e", pa.timestamp("us")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
    ]
)


def incident_windows(conn: Connection) -> pa.Table:
    """Every incident's id, time window and coordinates (its own, else its place's)."""
    incident, place = table_of("incident"), table_of("place")
    query = select(
        incident.c.id,
        incident.c.start_at,
        func.coalesce(incident.c.end_at, incident.c.start_at),
        func.coalesce(incident.c.lat, place.c.lat),
        func.coalesce(incident.c.lon, place.c.lon),
    ).select_from(incident.outerjoin(place, incident.c.place_id == place.c.id))
    return to_arrow(conn, query, WINDOW)


def _evidence(conn: Connection, only: list[str] | None = None) -> pa.Table:
    evidence, place = table_of("evidence"), table_of("place")
    query = (
        select(
            evidence.c.id,
            evidence.c.capture_start,
            func.coalesce(evidence.c.capture_end, evidence.c.capture_start),
            func.coalesce(evidence.c.lat, place.c.lat),
            func.coalesce(evidence.c.lon, place.c.lon),
        )
        .select_from(evidence.outerjoin(place, evidence.c.place_id == place.c.id))
        .where(evidence.c.capture_start.is_not(None))
    )
    if only is not None:
        query = query.where(evidence.c.id.in_(only))
    return to_arrow(conn, query, WINDOW)


def suggest_evidence_links(
    conn: Connection, settings: EvidenceLinkSettings, only: list[str] | None = None
) -> list[Suggestion]:
    """Suggestions for every evidence item (or only the given ones), best first per item."""
    ev, inc = _evidence(conn, only), incident_windows(conn)
    tol = settings.time_tolerance_min
    dlat = settings.radius_m / 111_000.0
    dist = haversine_sql("e.lat", "e.lon", "i.lat", "i.lon")
    con = duck()
    con.register("ev", ev)
    con.register("inc", inc)
    rows = con.execute(
        f"""
        WITH pairs AS (
          SELECT e.id AS ev, i.id AS inc, e.s AS cs, e.e AS ce, i.s AS s, i.e AS e,
                 CASE WHEN e.e < i.s THEN epoch(i.s) - epoch(e.e)
                      WHEN e.s > i.e THEN epoch(e.s) - epoch(i.e) ELSE 0 END AS gap_s,
                 {dist} AS dist_m
          FROM ev e JOIN inc i
            ON e.s <= i.e + to_minutes(CAST(? AS BIGINT)) AND e.e >= i.s - to_minutes(CAST(? AS BIGINT))
          WHERE e.lat IS NOT NULL AND i.lat IS NOT NULL
            AND abs(e.lat - i.lat) <= ? AND abs(e.lon - i.lon) <= ? / greatest(cos(radians(i.lat)), 0.01)
        ), scored AS (
          SELECT *, exp(-gap_s / (? * 30.0)) * exp(-dist_m / (? / 2.0)) AS score
          FROM pairs WHERE dist_m <= ?
        )
        SELECT ev, inc, cs, ce, s, e, gap_s, dist_m, score FROM (
          SELECT *, row_number() OVER (PARTITION BY ev ORDER BY score DESC, inc) AS rank FROM scored
        ) WHERE rank <= ? ORDER BY ev, rank
        """,  # nosec B608 # {dist} is a constant haversine expression; values are bound as ?
        [int(tol), int(tol), dlat, dlat, tol, settings.radius_m, settings.radius_m, settings.max_per_item],
    ).fetchall()
    con.close()
    return [
        Suggestion(
            kind="evidence_incident",
            from_id=ev_id,
            to_id=inc_id,
            score=float(score),
            explanation=_explain(cs, ce, s, e, gap_s, dist_m),
            method=settings.method,
        )
        for ev_id, inc_id, cs, ce, s, e, gap_s, dist_m, score in rows
    ]


def _explain(cs: datetime, ce: datetime, s: datetime, e: datetime, gap_s: float, dist_m: float) -> list[str]:
    window = f"captured {cs:%Y-%m-%d %H:%M}–{ce:%H:%M} UTC"
    incident = f"incident {s:%Y-%m-%d %H:%M}–{e:%H:%M} UTC"
    if gap_s == 0:
        when = f"time: {window} overlaps the {incident}"
    elif ce < s:
        when = f"time: {window}, {gap_s / 60:.0f} min before the {incident}"
    else:
        when = f"time: {window}, {gap_s / 60:.0f} min after the {incident}"
    return [when, f"place: {dist_m:.0f} m from the incident's place"]
