"""Suspect candidates for acts: who was there, who was on duty, who the sources name.

For each act, candidates come from three kinds of evidence, each named in the
explanation with the record ids behind it:

1. **Deployments**: units deployed at a place within `radius_m` of the
   incident's place during a period overlapping the incident's window.
2. **Rosters**: members of a deployed unit, or of any of its sub-units, whose
   membership was current on the incident's date. A badge number or rank that
   a perpetrator mention in the incident's sources gives, matching the roster,
   raises the score.
3. **Mentions**: persons that perpetrator or commander mentions in the
   incident's sources were linked to.

Candidates are leads for investigators, never findings; they are stored as
`suspect_act` link suggestions (from person or unit, to act) and never published.
"""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, func, literal, or_, select, union_all

from svidok.linking.frames import duck, haversine_sql, to_arrow
from svidok.store.links import Suggestion
from svidok.store.register import table_of

PERPETRATOR_ROLES = ("perpetrator", "commander")
#: DuckDB's memory for the ranking query; beyond it, it spills to disk
MEMORY_LIMIT = "2GB"


@dataclass(frozen=True)
class SuspectSettings:
    """Weights and limits of suspect ranking; stored with every run."""

    radius_m: float = 1_000.0
    deployed_unit_score: float = 0.6
    roster_member_score: float = 0.25
    badge_match_score: float = 0.95
    rank_match_bonus: float = 0.1
    named_in_source_score: float = 0.9
    max_per_act: int = 25
    max_roster: int = 40
    method: str = "suspects-v1"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Candidate:
    act_id: str
    kind: str  # "person" or "unit"
    candidate_id: str
    score: float
    explanation: tuple[str, ...]


def _acts(conn: Connection, only: list[str] | None) -> pa.Table:
    act, incident, place = table_of("act"), table_of("incident"), table_of("place")
    query = select(
        act.c.id,
        act.c.incident_id,
        incident.c.start_at,
        func.coalesce(incident.c.end_at, incident.c.start_at),
        func.coalesce(incident.c.lat, place.c.lat),
        func.coalesce(incident.c.lon, place.c.lon),
    ).select_from(
        act.join(incident, act.c.incident_id == incident.c.id).outerjoin(
            place, incident.c.place_id == place.c.id
        )
    )
    if only is not None:
        query = query.where(act.c.id.in_(only))
    schema = pa.schema(
        [
            ("act", pa.string()),
            ("incident", pa.string()),
            ("s", pa.timestamp("us")),
            ("e", pa.timestamp("us")),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
        ]
    )
    return to_arrow(conn, query, schema)


def _deployments(conn: Connection) -> pa.Table:
    deployment, place = table_of("deployment"), table_of("place")
    query = select(
        deployment.c.id,
        deployment.c.unit_id,
        place.c.name,
        deployment.c.start_at,
        deployment.c.end_at,
        place.c.lat,
        place.c.lon,
    ).select_from(deployment.join(place, deployment.c.place_id == place.c.id))
    schema = pa.schema(
        [
            ("dep", pa.string()),
            ("unit", pa.string()),
            ("place_name", pa.string()),
            ("s", pa.timestamp("us")),
            ("e", pa.timestamp("us")),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
        ]
    )
    return to_arrow(conn, query, schema)


def _unit_ancestors(conn: Connection) -> pa.Table:
    """(unit, ancestor) for every unit and each unit above it, itself included."""
    unit = table_of("unit")
    parents: dict[str, str | None] = {
        row[0]: row[1] for row in conn.execute(select(unit.c.id, unit.c.parent_id))
    }
    pairs: list[tuple[str, str]] = []
    for unit_id in parents:
        seen: set[str] = set()
        current: str | None = unit_id
        while current is not None and current not in seen:
            pairs.append((unit_id, current))
            seen.add(current)
            current = parents.get(current)
    return pa.table(
        {"unit": [p[0] for p in pairs], "ancestor": [p[1] for p in pairs]},
        schema=pa.schema([("unit", pa.string()), ("ancestor", pa.string())]),
    )


def _members(conn: Connection) -> pa.Table:
    membership = table_of("membership")
    query = select(
        membership.c.id,
        membership.c.person_id,
        membership.c.unit_id,
        membership.c.rank,
        membership.c.badge_number,
        membership.c.start_date,
        membership.c.end_date,
    )
    schema = pa.schema(
        [(n, pa.string()) for n in ("mb", "person", "unit", "rank", "badge", "start_date", "end_date")]
    )
    return to_arrow(conn, query, schema)


def _source_mentions(conn: Connection) -> pa.Table:
    """Perpetrator mentions of sources tied to incidents by a citation or a non-rejected link."""
    citation, link, mention = table_of("citation"), table_of("link"), table_of("mention")
    act = table_of("act")
    cited_incident = select(
        citation.c.subject_id.label("incident"), citation.c.source_id.label("source")
    ).where(citation.c.subject_kind == "incident")
    cited_act = (
        select(act.c.incident_id.label("incident"), citation.c.source_id.label("source"))
        .select_from(citation.join(act, (citation.c.subject_id == act.c.id)))
        .where(citation.c.subject_kind == "act")
    )
    linked = select(link.c.to_id.label("incident"), link.c.from_id.label("source")).where(
        link.c.kind == "source_incident", link.c.status != "rejected"
    )
    sources = union_all(cited_incident, cited_act, linked).subquery()
    query = (
        select(
            sources.c.incident,
            mention.c.id,
            mention.c.source_id,
            mention.c.person_id,
            mention.c.unit_id,
            mention.c.rank,
            mention.c.badge_number,
            literal(1),
        )
        .select_from(sources.join(mention, mention.c.source_id == sources.c.source))
        .where(mention.c.role.in_(PERPETRATOR_ROLES))
        .where(
            or_(
                mention.c.person_id.is_not(None),
                mention.c.badge_number.is_not(None),
                mention.c.unit_id.is_not(None),
            )
        )
    )
    schema = pa.schema(
        [(n, pa.string()) for n in ("incident", "mention", "source", "person", "unit", "rank", "badge")]
        + [("one", pa.int64())]
    )
    return to_arrow(conn, query, schema)


def suspect_candidates(
    conn: Connection, settings: SuspectSettings, only_acts: list[str] | None = None
) -> list[Candidate]:
    """Ranked candidates for every act (or only the given acts)."""
    spill = tempfile.TemporaryDirectory(prefix="svidok-suspects-")  # ids, ranks, badges only
    con = duck()
    con.execute(f"SET temp_directory = '{spill.name}'")  # nosec B608 # a directory we just made
    # the on-duty rows of a large register run to tens of millions: DuckDB spills them to its
    # temporary directory rather than holding them all (its default limit is 80 % of the RAM)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")  # nosec B608 # a module constant, not input
    con.execute("SET preserve_insertion_order = false")
    con.register("acts", _acts(conn, only_acts))
    con.register("deps", _deployments(conn))
    con.register("anc", _unit_ancestors(conn))
    con.register("members", _members(conn))
    con.register("mentions", _source_mentions(conn))
    dist = haversine_sql("a.lat", "a.lon", "d.lat", "d.lon")
    dlat = settings.radius_m / 111_000.0
    con.execute(
        f"""
        CREATE TEMP TABLE deployed AS
        SELECT a.act, a.incident, a.s AS act_s, d.dep, d.unit, d.place_name, d.s, d.e, {dist} AS dist_m
        FROM acts a JOIN deps d ON d.s <= a.e AND d.e >= a.s
        WHERE a.lat IS NOT NULL AND abs(a.lat - d.lat) <= ?
          AND abs(a.lon - d.lon) <= ? / greatest(cos(radians(a.lat)), 0.01)
          AND {dist} <= ?
        """,  # nosec B608 # {dist} is a constant haversine expression; values are bound as ?
        [dlat, dlat, settings.radius_m],
    )
    con.execute(
        """
        CREATE TEMP TABLE by_badge AS
        SELECT row_number() OVER () AS g, incident, badge, list_sort(list(DISTINCT mention)) AS ms
        FROM mentions WHERE badge IS NOT NULL GROUP BY incident, badge
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE by_rank AS
        SELECT row_number() OVER () AS g, incident, rank, unit, list_sort(list(DISTINCT mention)) AS ms
        FROM mentions WHERE rank IS NOT NULL AND unit IS NOT NULL GROUP BY incident, rank, unit
        """
    )
    con.execute(
        """
        -- The incident's perpetrator mentions are grouped by badge and by rank + unit first and
        -- joined on equality: joining every roster member to every mention of the incident and
        -- filtering afterwards took gigabytes (killed a 100,000-testimony run).
        CREATE TEMP TABLE on_duty AS
        WITH roster_size AS (
          SELECT anc.ancestor AS unit, count(*) AS n FROM anc JOIN members m ON m.unit = anc.unit GROUP BY 1
        )
        -- one row per (deployment of the act, membership): anc holds each (unit, ancestor) once;
        -- the mentions behind a badge or rank stay in by_badge / by_rank (as a group number here)
        SELECT d.act, m.person, m.mb, m.unit, m.rank, m.badge, d.dep, d.unit AS deployed_unit,
               b.g AS badge_group, k.g AS rank_group
        FROM deployed d
        JOIN roster_size r ON r.unit = d.unit
        JOIN anc ON anc.ancestor = d.unit
        JOIN members m ON m.unit = anc.unit
        LEFT JOIN by_badge b ON b.incident = d.incident AND b.badge = m.badge
        LEFT JOIN by_rank k ON k.incident = d.incident AND k.rank = m.rank AND k.unit = m.unit
        WHERE (m.start_date IS NULL OR m.start_date <= strftime(d.act_s, '%Y-%m-%d'))
          AND (m.end_date IS NULL
               OR m.end_date >= substr(strftime(d.act_s, '%Y-%m-%d'), 1, length(m.end_date)))
          -- a whole roster is a lead only when it is small; a large one needs a badge or rank to point
          AND (r.n <= ? OR b.g IS NOT NULL OR k.g IS NOT NULL)
        """,
        [settings.max_roster],
    )
    con.execute(
        """
        CREATE TEMP TABLE named AS
        SELECT a.act, x.person, list_sort(list(DISTINCT x.mention)) AS ms,
               list_sort(list(DISTINCT x.source)) AS ss
        FROM acts a JOIN mentions x ON x.incident = a.incident
        WHERE x.person IS NOT NULL GROUP BY ALL
        """
    )
    # Rank inside the query: each distinct piece of evidence (one reason line) adds log(1 - p);
    # the score is 1 - exp(sum), as `_rank` combines them, and only each act's best
    # `max_per_act` candidates come back to Python, where their explanations are written.
    weights = {
        "w_unit": _log_miss(settings.deployed_unit_score),
        "w_member": _log_miss(settings.roster_member_score),
        "w_badge": _log_miss(settings.badge_match_score),
        "w_rank": _log_miss(settings.rank_match_bonus),
        "w_named": _log_miss(settings.named_in_source_score),
    }
    con.execute(
        """
        CREATE TEMP TABLE kept AS
        WITH evidence AS (
          -- one row per distinct piece of evidence (one explanation line), as in `_rank`
          SELECT DISTINCT act, unit AS candidate, 0 AS kind, dep AS a, NULL::VARCHAR AS b, $w_unit AS w
          FROM deployed
          UNION SELECT act, person, 1, mb, dep, $w_member FROM on_duty
          UNION SELECT act, person, 2, badge_group::VARCHAR, NULL, $w_badge FROM on_duty
                WHERE coalesce(badge, '') <> '' AND badge_group IS NOT NULL
          UNION SELECT act, person, 3, rank_group::VARCHAR, NULL, $w_rank FROM on_duty
                WHERE coalesce(rank, '') <> '' AND rank_group IS NOT NULL
          UNION SELECT act, person, 4, NULL, NULL, $w_named FROM named
        ), scored AS (
          SELECT act, candidate, round(1 - exp(sum(w)), 6) AS score FROM evidence GROUP BY act, candidate
        )
        SELECT act, candidate FROM scored
        QUALIFY row_number() OVER (PARTITION BY act ORDER BY score DESC, candidate) <= $top
        """,
        {**weights, "top": settings.max_per_act},
    )
    units = con.execute(
        """
        SELECT d.act, d.unit, d.dep, d.place_name, d.s, d.e, d.dist_m
        FROM deployed d SEMI JOIN kept k ON k.act = d.act AND k.candidate = d.unit
        """
    ).fetchall()
    members = con.execute(
        """
        SELECT o.act, o.person, o.mb, o.unit, o.rank, o.badge, o.dep, o.deployed_unit, b.ms, r.ms
        FROM on_duty o SEMI JOIN kept k ON k.act = o.act AND k.candidate = o.person
        LEFT JOIN by_badge b ON b.g = o.badge_group
        LEFT JOIN by_rank r ON r.g = o.rank_group
        ORDER BY o.act, o.person, o.dep, o.mb  -- explanations list their evidence in a stable order
        """
    ).fetchall()
    named = con.execute(
        """
        SELECT n.act, n.person, n.ms, n.ss
        FROM named n SEMI JOIN kept k ON k.act = n.act AND k.candidate = n.person
        """
    ).fetchall()
    con.close()
    spill.cleanup()
    return _rank(settings, units, members, named)


def _log_miss(score: float) -> float:
    """log(1 - p) of one piece of evidence, as `_rank` caps it."""
    return math.log(1 - min(score, 0.999))


def _rank(
    settings: SuspectSettings, units: list[Any], members: list[Any], named: list[Any]
) -> list[Candidate]:
    scores: dict[tuple[str, str, str], float] = defaultdict(float)
    reasons: dict[tuple[str, str, str], list[str]] = defaultdict(list)

    def add(key: tuple[str, str, str], score: float, reason: str) -> None:
        # independent pieces of evidence combine like probabilities: 1 - Π(1 - p)
        scores[key] = 1 - (1 - scores[key]) * (1 - min(score, 0.999))
        if reason not in reasons[key]:
            reasons[key].append(reason)

    for act, unit, dep, place_name, start, end, dist_m in units:
        add(
            (act, "unit", unit),
            settings.deployed_unit_score,
            f"deployment {dep}: unit deployed at {place_name} {start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC, "
            f"{dist_m:.0f} m from the incident",
        )
    for act, person, mb, unit, rank, badge, dep, deployed_unit, badge_mentions, rank_mentions in members:
        via = "" if unit == deployed_unit else f" (sub-unit of {deployed_unit})"
        add(
            (act, "person", person),
            settings.roster_member_score,
            f"membership {mb}: on the roster of {unit}{via} deployed in {dep}",
        )
        if badge and badge_mentions:
            add(
                (act, "person", person),
                settings.badge_match_score,
                f"badge number {badge} on the roster is given by mention(s) "
                f"{', '.join(sorted(badge_mentions))}",
            )
        if rank and rank_mentions:
            add(
                (act, "person", person),
                settings.rank_match_bonus,
                f"rank {rank} in unit {unit} matches mention(s) {', '.join(sorted(rank_mentions))}",
            )
    for act, person, mentions, sources in named:
        add(
            (act, "person", person),
            settings.named_in_source_score,
            f"named as perpetrator in source(s) {', '.join(sorted(sources))} "
            f"(mention(s) {', '.join(sorted(mentions))})",
        )
    by_act: dict[str, list[Candidate]] = defaultdict(list)
    for (act, kind, candidate), score in scores.items():
        by_act[act].append(
            Candidate(act, kind, candidate, round(score, 6), tuple(reasons[(act, kind, candidate)]))
        )
    ranked: list[Candidate] = []
    for act in sorted(by_act):
        ranked.extend(sorted(by_act[act], key=lambda c: (-c.score, c.candidate_id))[: settings.max_per_act])
    return ranked


def as_suggestions(candidates: list[Candidate], settings: SuspectSettings) -> list[Suggestion]:
    return [
        Suggestion("suspect_act", c.candidate_id, c.act_id, c.score, list(c.explanation), settings.method)
        for c in candidates
    ]
