"""Bar charts drawn on the server as SVG (no script, no inline style: presentation attributes only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

WIDTH = 640
BAR = 16
GAP = 4
LABEL = 190


def bar_chart(
    rows: list[dict[str, Any]],
    measure: str,
    label: Callable[[str], str],
    title: str,
    *,
    limit: int = 40,
    by_value: bool = True,
) -> Markup:
    """A horizontal bar per row (at most `limit`; largest first, or in key order), with its count."""
    shown = [r for r in rows if r.get("key") is not None]
    if by_value:
        shown.sort(key=lambda r: -int(r.get(measure) or 0))
    shown = shown[:limit]
    top = max((int(r.get(measure) or 0) for r in shown), default=0) or 1
    height = len(shown) * (BAR + GAP) + 24
    room = WIDTH - LABEL - 50
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" >',
        f"<title>{escape(title)}</title>",
    ]
    for i, row in enumerate(shown):
        y = 20 + i * (BAR + GAP)
        value = int(row.get(measure) or 0)
        width = max(1, round(room * value / top))
        name = label(str(row["key"]))
        if len(name) > 30:
            name = name[:29] + "…"
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + BAR - 4}" text-anchor="end">{escape(name)}</text>'
            f'<rect x="{LABEL}" y="{y}" width="{width}" height="{BAR}" fill="#0b5394"></rect>'
            f'<text x="{LABEL + width + 4}" y="{y + BAR - 4}">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # every text in it went through escape(); the rest are ints
