"""The network picture of a lead, as inline SVG.

``network_svg`` is the one place that decides where the picture comes from: for a ring lead it
asks ``ml.network.ring_svg(con, ring_id)`` when that exists and returns plain SVG; otherwise (or
for source and seller leads) it draws the package itself: sellers on a circle (red = riskier),
upstream sources as squares above them, grey lines for shared identifiers, blue for supply.
"""

from __future__ import annotations

import logging
import math
import re
from html import escape
from typing import Any

import duckdb

log = logging.getLogger(__name__)

MAX_SELLERS = 40
MAX_SOURCES = 12
WIDTH, HEIGHT = 820, 660
_UNSAFE = re.compile(r"<\s*(script|foreignobject|iframe)|\son\w+\s*=|javascript:", re.IGNORECASE)


def network_svg(
    con: duckdb.DuckDBPyConnection, package: dict[str, Any], masked: bool = True
) -> str:
    """The picture of one lead (the caller still sweeps it with the lead's masker)."""
    if package.get("kind") == "ring" and package.get("ring_id"):
        picture = _network_ring_svg(con, package["ring_id"], masked)
        if picture:
            return picture
    return draw_lead_svg(package)


def _network_ring_svg(con: duckdb.DuckDBPyConnection, ring_id: str, masked: bool) -> str | None:
    try:
        from ml.network import ring_svg  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        picture = ring_svg(con, ring_id, mask=masked)
    except Exception:  # a missing picture must not stop an export
        log.warning(
            "ml.network.ring_svg failed for ring %s; drawing our own", ring_id, exc_info=True
        )
        return None
    # Only take plain SVG; anything scriptable falls back to our own drawing.
    if not isinstance(picture, str) or "<svg" not in picture or _UNSAFE.search(picture):
        return None
    return picture


def _risk_colour(risk: float | None) -> str:
    r = min(max(float(risk or 0.0), 0.0), 1.0)
    return f"rgb({int(120 + 135 * r)},{int(200 - 160 * r)},{int(120 - 80 * r)})"


def _short(text: Any, n: int = 18) -> str:
    text = "" if text is None else str(text)
    return escape(text if len(text) <= n else text[: n - 1] + "…")


def draw_lead_svg(package: dict[str, Any]) -> str:
    sellers = package.get("sellers", [])[:MAX_SELLERS]
    sources = package.get("sources", [])[:MAX_SOURCES]
    cx, cy = WIDTH / 2, 160 + (HEIGHT - 160) / 2
    radius = 0 if len(sellers) == 1 else min(220.0, 60 + 9 * len(sellers))
    seller_xy: dict[str, tuple[float, float]] = {}
    for i, seller in enumerate(sellers):
        angle = 2 * math.pi * i / max(len(sellers), 1) - math.pi / 2
        seller_xy[seller["seller_id"]] = (
            cx + radius * math.cos(angle),
            cy + radius * math.sin(angle),
        )
    source_xy: dict[str, tuple[float, float]] = {}
    for i, source in enumerate(sources):
        source_xy[source["source_id"]] = (WIDTH * (i + 1) / (len(sources) + 1), 50.0)

    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    for ident in package.get("linked_identifiers", []):
        members = [s for s in ident.get("seller_ids", []) if s in seller_xy]
        for other in members[1:]:
            pair = tuple(sorted((members[0], other)))
            if pair in seen:
                continue
            seen.add(pair)
            (x1, y1), (x2, y2) = seller_xy[pair[0]], seller_xy[pair[1]]
            lines.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="#888" stroke-width="1.5"><title>{escape(str(ident.get("kind")))}'
                "</title></line>"
            )
    for source in sources:
        sx, sy = source_xy[source["source_id"]]
        for seller_id in source.get("supplies_sellers", []):
            if seller_id in seller_xy:
                x2, y2 = seller_xy[seller_id]
                lines.append(
                    f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                    'stroke="#3b6fb6" stroke-width="1" stroke-dasharray="4 3"/>'
                )

    nodes: list[str] = []
    for source in sources:
        x, y = source_xy[source["source_id"]]
        nodes.append(
            f'<rect x="{x - 9:.1f}" y="{y - 9:.1f}" width="18" height="18" '
            f'fill="{_risk_colour(source.get("risk_score"))}" stroke="#234"/>'
            f'<text x="{x:.1f}" y="{y - 14:.1f}" text-anchor="middle" font-size="10">'
            f"{_short(source['source_id'])}</text>"
            f'<text x="{x:.1f}" y="{y + 22:.1f}" text-anchor="middle" font-size="9">'
            f"{_short(source.get('sender_city'))}</text>"
        )
    for seller in sellers:
        x, y = seller_xy[seller["seller_id"]]
        nodes.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" '
            f'fill="{_risk_colour(seller.get("risk_score"))}" stroke="#222">'
            f"<title>{escape(str(seller['seller_id']))} risk {seller.get('risk_score')}</title>"
            f"</circle>"
            f'<text x="{x:.1f}" y="{y + 21:.1f}" text-anchor="middle" font-size="10">'
            f"{_short(seller['seller_id'])}</text>"
            f'<text x="{x:.1f}" y="{y + 32:.1f}" text-anchor="middle" font-size="9" '
            f'fill="#555">{_short(seller.get("shop_name"))}</text>'
        )
    more = []
    hidden = len(package.get("sellers", [])) - len(sellers)
    if hidden > 0:
        more.append(
            f'<text x="10" y="{HEIGHT - 10}" font-size="11">+{hidden} more sellers not drawn</text>'
        )
    legend = (
        f'<text x="{WIDTH - 10}" y="{HEIGHT - 10}" text-anchor="end" font-size="10" fill="#555">'
        "circles: sellers (red = higher risk) · squares: upstream sources · grey: shared "
        "identifier · blue dashed: supplies</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="lead network">'
        + "".join(lines)
        + "".join(nodes)
        + "".join(more)
        + legend
        + "</svg>"
    )
