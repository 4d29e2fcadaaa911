"""The human-readable dossier of an evidence package: HTML always, PDF when fpdf2 and a font are there."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

__all__ = ["FONT", "dossier_html", "dossier_pdf", "timeline"]

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def timeline(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(UTC time, what happened) in time order, from every dated element of the package."""
    inc = record["incident"]
    events = [(inc["start_at"], f"incident begins: {inc['title']}")]
    if inc.get("end_at"):
        events.append((inc["end_at"], "incident ends"))
    for act in record["acts"]:
        if act.get("occurred_at"):
            events.append((act["occurred_at"], f"act {act['id']}: {act['violation']}"))
    for ev in record["evidence"]:
        if ev.get("capture_start"):
            events.append((ev["capture_start"], f"evidence {ev['id']} captured ({ev['media_type']})"))
        for c in ev.get("custody", []):
            events.append((c["at"], f"evidence {ev['id']}: custody event {c['event']} by {c['actor']}"))
    for src in record["sources"]:
        if src.get("received_at"):
            events.append((src["received_at"], f"source {src['id']} received ({src['kind']})"))
    return sorted((str(t), what) for t, what in events if t)


def _rows(items: list[dict[str, Any]], fields: list[str]) -> str:
    head = "".join(f"<th>{html.escape(f)}</th>" for f in fields)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(i.get(f, '') or ''))}</td>" for f in fields) + "</tr>"
        for i in items
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def dossier_html(record: dict[str, Any]) -> str:
    inc = record["incident"]
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Dossier {e(inc['id'])}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 6px;font-size:90%;vertical-align:top}</style></head><body>",
        f"<h1>{e(inc['title'])}</h1>",
        f"<p>Incident {e(inc['id'])}, status {e(str(inc['status']))}, {e(str(inc['start_at']))} – "
        f"{e(str(inc.get('end_at') or ''))} UTC, "
        f"at {e(str(inc.get('place_name') or inc.get('place_text')))}</p>",
        f"<p>{e(str(inc.get('summary') or ''))}</p>",
        "<h2>Timeline (UTC)</h2>",
        _rows([{"time": t, "event": w} for t, w in timeline(record)], ["time", "event"]),
        "<h2>Acts</h2>",
        _rows(record["acts"], ["id", "violation", "victim_id", "occurred_at", "injuries"]),
        "<h2>Victims</h2>",
        _rows(record["victims"], ["id", "pseudonym", "primary_name", "sex", "birth_date"]),
        "<h2>Suspects</h2>",
        _rows(record["suspects"], ["act_id", "role", "person", "unit", "confidence"])
        if record.get("suspects_included")
        else "<p>Not included: this role may not view suspects.</p>",
        "<h2>Sources and their grading</h2>",
        _rows(record["sources"], ["id", "kind", "author_role", "language", "reliability", "credibility"]),
        "<h2>Evidence (original bytes in files/, SHA-256 in the manifest)</h2>",
        _rows(
            record["evidence"], ["id", "media_type", "sha256", "capture_start", "capture_time_basis", "file"]
        ),
        "<h2>Online material (Berkeley Protocol)</h2>",
        _rows(record["online"], ["evidence_id", "url", "captured_at", "capture_tool", "sha256"]),
        f"<p>Package {e(record['package_id'])}, made {e(record['created_at'])} by {e(record['created_by'])}. "
        "Check it with <code>python verify_package.py THIS.zip --key KEY</code>.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def dossier_pdf(record: dict[str, Any]) -> bytes | None:
    """The dossier as PDF, or None when fpdf2 or a Unicode font is missing."""
    try:
        from fpdf import FPDF
    except ImportError:
        return None
    if not FONT.is_file():
        return None
    pdf = FPDF()
    pdf.add_font("dejavu", "", str(FONT))
    pdf.set_font("dejavu", size=10)
    pdf.add_page()
    inc = record["incident"]
    lines = [
        inc["title"],
        f"Incident {inc['id']} · status {inc['status']} · {inc['start_at']} UTC",
        str(inc.get("summary") or ""),
        "",
        "Timeline (UTC)",
        *(f"{t}  {w}" for t, w in timeline(record)),
        "",
        "Acts",
        *(f"{a['id']}  {a['violation']}  victim {a.get('victim_id') or '-'}" for a in record["acts"]),
        "",
        "Sources and grading",
        *(f"{s['id']}  {s['kind']}  {s['reliability']}{s['credibility']}" for s in record["sources"]),
        "",
        "Evidence",
        *(f"{v['id']}  {v['media_type']}  sha256 {v['sha256']}" for v in record["evidence"]),
        "",
        f"Package {record['package_id']}, made {record['created_at']} by {record['created_by']}.",
    ]
    for line in lines:
        pdf.multi_cell(0, 5, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
