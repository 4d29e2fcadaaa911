"""Reports → incidents: which incident a testimony describes.

A source says roughly when and where its events happened (`reported_*`), and
names people. An incident is suggested for it when the reported window lies
within a tolerance of the incident's window and the reported point (or place)
within a radius of the incident's place; people the source names who are
victims or perpetrators in the incident, or are named by sources already cited
for it, raise the score. Sources already cited for an incident are skipped:
that decision is made.

The explanation gives the time gap, the distance and the shared persons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, func, select, union_all

from svidok.linking.evidence import WINDOW, incident_windows
from svidok.linking.frames import duck, haversine_sql, to_arrow
from svidok.store.links import Suggestion
from svidok.store.register import table_of


@dataclass(frozen=True)
class ReportLinkSettings:
    """How near a report must be to an incident; stored with every run."""

    time_tolerance_min: float = 120.0
    radius_m: float = 1_500.0
    shared_person_weight: float = 0.5
    max_per_source: int = 3
    min_score: float = 0.05
    method: str = "reports-time-place-persons-v1"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _gazetteer(conn: Connection) -> dict[str, tuple[float, float]]:
    """Every place name in every language (case-folded) → the place's coordinates."""
    place = table_of("place")
    found: dict[str, tuple[float, float]] = {}
    for name, names, lat, lon in conn.execute(
        select(place.c.name, place.c.names, place.c.lat, place.c.lon).where(place.c.lat.is_not(None))
    ):
        for label in [name, *(names or {}).values()]:
            found.setdefault(" ".join(str(label).casefold().split()), (lat, lon))
    return found


def _sources(conn: Connection, only: list[str] | None) -> pa.Table:
    """Uncited sources with a reported time; a place given only in words is looked up in the gazetteer."""
    source, place, citation = table_of("source"), table_of("place"), table_of("citation")
    cited = select(citation.c.source_id).where(citation.c.subject_kind.in_(("incident", "act")))
    query = (
        select(
            source.c.id,
            source.c.reported_start,
            func.coalesce(source.c.reported_end, source.c.reported_start),
            func.coalesce(source.c.reported_lat, place.c.lat),
            func.coalesce(source.c.reported_lon, place.c.lon),
        )
        .select_from(source.outerjoin(place, source.c.reported_place_id == place.c.id))
        .where(source.c.reported_start.is_not(None), source.c.id.not_in(cited))
    )
    if only is not None:
        query = query.where(source.c.id.in_(only))
    gazetteer = _gazetteer(conn)
    rows: list[tuple[Any, ...]] = []
    for record_id, start, end, lat, lon, text in conn.execute(
        query.add_columns(source.c.reported_place_text)
    ):
        if lat is None and text:
            lat, lon = gazetteer.get(" ".join(text.casefold().split()), (None, None))
        rows.append((record_id, start, end, lat, lon))
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in WINDOW.names]
    return pa.table(
        {
            name: pa.array(list(col), type=WINDOW.field(name).type)
            for name, col in zip(WINDOW.names, columns, strict=True)
        }
    )


def _persons(conn: Connection) -> tuple[pa.Table, pa.Table]:
    """(source, person) from linked mentions; (incident, person) from acts, involvements, cited sources."""
    mention, act, involvement, citation = (
        table_of("mention"),
        table_of("act"),
        table_of("involvement"),
        table_of("citation"),
    )
    by_source = (
        select(mention.c.source_id, mention.c.person_id).where(mention.c.person_id.is_not(None)).distinct()
    )
    victims = select(act.c.incident_id, act.c.victim_id).where(act.c.victim_id.is_not(None))
    perpetrators = (
        select(act.c.incident_id, involvement.c.person_id)
        .select_from(involvement.join(act, involvement.c.act_id == act.c.id))
        .where(involvement.c.person_id.is_not(None))
    )
    named = (
        select(citation.c.subject_id, mention.c.person_id)
        .select_from(citation.join(mention, mention.c.source_id == citation.c.source_id))
        .where(citation.c.subject_kind == "incident", mention.c.person_id.is_not(None))
    )
    by_incident = union_all(victims, perpetrators, named).subquery()
    pair = pa.schema([("owner", pa.string()), ("person", pa.string())])
    return (
        to_arrow(conn, by_source, pair),
        to_arrow(conn, select(by_incident.c[0], by_incident.c[1]).distinct(), pair),
    )


def suggest_report_links(
    conn: Connection, settings: ReportLinkSettings, only: list[str] | None = None
) -> list[Suggestion]:
    """Incident suggestions for every uncited source with a reported time (or only the given ones)."""
    con = duck()
    con.register("src", _sources(conn, only))
    con.register("inc", incident_windows(conn))
    source_persons, incident_persons = _persons(conn)
    con.register("sp", source_persons)
    con.register("ip", incident_persons)
    tol = int(settings.time_tolerance_min)
    dlat = settings.radius_m / 111_000.0
    dist = haversine_sql("r.lat", "r.lon", "i.lat", "i.lon")
    rows = con.execute(
        f"""
        WITH pairs AS (
          SELECT r.id AS src, i.id AS inc,
                 CASE WHEN r.e < i.s THEN epoch(i.s) - epoch(r.e)
                      WHEN r.s > i.e THEN epoch(r.s) - epoch(i.e) ELSE 0 END AS gap_s,
                 CASE WHEN r.lat IS NULL OR i.lat IS NULL THEN NULL ELSE {dist} END AS dist_m
          FROM src r JOIN inc i
            ON r.s <= i.e + to_minutes(CAST(? AS BIGINT)) AND r.e >= i.s - to_minutes(CAST(? AS BIGINT))
          WHERE r.lat IS NULL OR i.lat IS NULL
             OR (abs(r.lat - i.lat) <= ? AND abs(r.lon - i.lon) <= ? / greatest(cos(radians(i.lat)), 0.01))
        ), shared AS (
          SELECT p.src, p.inc, list(DISTINCT sp.person ORDER BY sp.person) AS persons
          FROM pairs p JOIN sp ON sp.owner = p.src JOIN ip ON ip.owner = p.inc AND ip.person = sp.person
          GROUP BY ALL
        ), scored AS (
          SELECT p.*, coalesce(s.persons, []) AS persons,
                 exp(-gap_s / (? * 30.0))
                   * CASE WHEN dist_m IS NULL THEN 0.3 ELSE exp(-dist_m / (? / 2.0)) END AS base
          FROM pairs p LEFT JOIN shared s USING (src, inc)
          WHERE dist_m IS NULL OR dist_m <= ?
        ), final AS (
          SELECT *, 1 - (1 - base) * pow(1 - ?, len(persons)) AS score FROM scored
        )
        SELECT src, inc, gap_s, dist_m, persons, score FROM (
          SELECT *, row_number() OVER (PARTITION BY src ORDER BY score DESC, inc) AS rank FROM final
        ) WHERE rank <= ? AND score >= ? ORDER BY src, rank
        """,  # nosec B608 # {dist} is a constant haversine expression; values are bound as ?
        [
            tol,
            tol,
            dlat,
            dlat,
            settings.time_tolerance_min,
            settings.radius_m,
            settings.radius_m,
            settings.shared_person_weight,
            settings.max_per_source,
            settings.min_score,
        ],
    ).fetchall()
    con.close()
    return [
        Suggestion(
            kind="source_incident",
            from_id=src,
            to_id=inc,
            score=float(score),
            explanation=_explain(gap_s, dist_m, persons),
            method=settings.method,
        )
        for src, inc, gap_s, dist_m, persons, score in rows
    ]


def _explain(gap_s: float, dist_m: float | None, persons: list[str]) -> list[str]:
    reasons = [
        "time: the reported window overlaps the incident"
        if gap_s == 0
        else f"time: {gap_s / 60:.0f} min between the reported window and the incident"
    ]
    reasons.append(
        "place: no coordinates on one side"
        if dist_m is None
        else f"place: {dist_m:.0f} m from the incident's place"
    )
    if persons:
        reasons.append(f"persons: {len(persons)} named in both ({', '.join(persons[:5])})")
    return reasons


def assign_best(suggestions: list[Suggestion]) -> dict[str, str]:
    """The best incident of each source (for evaluation)."""
    best: dict[str, Suggestion] = {}
    for s in suggestions:
        if s.from_id not in best or s.score > best[s.from_id].score:
            best[s.from_id] = s
    return {k: v.to_id for k, v in best.items()}
