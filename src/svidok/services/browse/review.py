"""The review queue: machine links with what each end is, as the reader may see it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from svidok.domain.values import ID_PREFIXES
from svidok.services import review
from svidok.services.browse.common import fetch, named, persons
from svidok.services.context import ServiceContext
from svidok.store.register import table_of

__all__ = ["LINK_KINDS", "review_queue"]

LINK_KINDS = (
    "mention_person",
    "person_person",
    "source_incident",
    "evidence_incident",
    "missing_custody",
    "missing_mention",
    "incident_incident",
    "suspect_act",
)

_LABELS = {
    "mention": ("raw_name", "role"),
    "source": ("kind", "language"),
    "incident": ("title", "status"),
    "evidence": ("media_type", "capture_start"),
    "act": ("violation", "incident_id"),
    "custody_record": ("recorded_name", "held_from"),
    "missing_case": ("missing_name", "status"),
}


def review_queue(
    ctx: ServiceContext,
    *,
    kind: str | None = None,
    status: str = "suggested",
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Links to review (from `services.review.list_links`), each end described for the reader.

    Suspect candidates are listed only for roles allowed `suspect.view`; a link whose
    end the reader cannot see is left out.
    """
    ctx.require("link.list", "link")
    if kind == "suspect_act" and not ctx.can("suspect.view"):
        return []
    links = review.list_links(ctx, kind=kind, status=status, limit=limit, offset=offset)
    if not ctx.can("suspect.view"):
        links = [li for li in links if li["kind"] != "suspect_act"]
    with ctx.store.read() as conn:
        ends = _ends(ctx, conn, links)
    shown = []
    for li in links:
        a, b = ends.get(str(li["from_id"])), ends.get(str(li["to_id"]))
        if a is None or b is None:
            continue
        shown.append({**li, "from": a, "to": b})
    return shown


def _ends(ctx: ServiceContext, conn: Any, links: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ids = {str(li["from_id"]) for li in links} | {str(li["to_id"]) for li in links}
    found: dict[str, dict[str, Any]] = {}
    for pid, row in persons(ctx, conn, [i for i in ids if i.startswith("pe_")]).items():
        found[pid] = {"kind": "person", "id": pid, "label": row["label"]}
    for uid, row in named(conn, "unit", [i for i in ids if i.startswith("un_")]).items():
        found[uid] = {"kind": "unit", "id": uid, "label": row["name"]}
    simple = {f"{ID_PREFIXES[k]}_": k for k in _LABELS}
    by_kind: dict[str, list[str]] = {}
    for i in ids:
        kind = next((k for p, k in simple.items() if i.startswith(p)), None)
        if kind:
            by_kind.setdefault(kind, []).append(i)
    for kind, wanted in by_kind.items():
        table = table_of(kind)
        first, second = _LABELS[kind]
        rows = ctx.mask(
            conn,
            kind,
            fetch(
                conn,
                select(table.c.id, table.c[first], table.c[second]).where(
                    table.c.id.in_(wanted), ctx.visible(kind, table.c.id)
                ),
            ),
        )
        for row in rows:
            found[str(row["id"])] = {
                "kind": kind,
                "id": row["id"],
                "label": str(row[first] or ""),
                "detail": str(row[second] or ""),
            }
    return found
