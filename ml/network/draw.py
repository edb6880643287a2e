"""A small picture of one ring: its sellers, the identifiers that tie them, their sources.

Self-contained SVG (no scripts, fonts or links; every text XML-escaped), so an HTML lead report
can inline it and Dagster metadata can show it. Layout is deterministic without any random seed:
sellers on an inner circle (sorted by id), each identifier on a middle circle near the mean angle
of the sellers it ties, sources on an outer circle near their receivers; the outer circles keep
that angular order and spread items evenly so labels do not pile up.
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import escape

import duckdb

from ml.network.identifiers import mask_identifier
from ml.network.sql import scalar
from ml.warehouse import connect

KIND_COLOURS = {
    "alipay": "#1f77b4",
    "bank_card": "#17becf",
    "bank_account": "#0b4f8a",
    "phone": "#d62728",
    "id_document": "#8c564b",
    "business_license": "#9467bd",
    "device": "#ff7f0e",
    "ip": "#bcbd22",
    "email": "#e377c2",
    "ship_from_address": "#2ca02c",
    "sender_address": "#7f7f7f",
    "image_phash": "#aec7e8",
}
SOURCE_COLOUR = "#444444"
SIZE = 640
MAX_IDENTIFIERS = 40
MAX_SOURCES = 12


def _risk_colour(risk: float) -> str:
    """White-ish (0) to deep red (1)."""
    risk = min(max(risk, 0.0), 1.0)
    g = int(235 - 200 * risk)
    return f"#{235:02x}{g:02x}{g:02x}"


def _spread(targets: list[float]) -> list[float]:
    """Even angles in the order of ``targets``, rotated to sit near them on average."""
    n = len(targets)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: (targets[i], i))
    step = 2 * math.pi / n
    offset = sum(targets[i] - k * step for k, i in enumerate(order)) / n
    angles = [0.0] * n
    for k, i in enumerate(order):
        angles[i] = offset + k * step
    return angles


def _mean_angle(angles: list[float]) -> float:
    x = sum(math.cos(a) for a in angles)
    y = sum(math.sin(a) for a in angles)
    if abs(x) < 1e-9 and abs(y) < 1e-9:
        return angles[0] if angles else 0.0
    return math.atan2(y, x) % (2 * math.pi)


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _ring_data(con: duckdb.DuckDBPyConnection, ring_id: str) -> dict:
    sellers = con.execute(
        """SELECT r.seller_id, coalesce(s.risk_score, 0.0)
           FROM main.rings r LEFT JOIN main.seller_scores s USING (seller_id)
           WHERE r.ring_id = ? ORDER BY r.seller_id""",
        [ring_id],
    ).fetchall()
    identifiers = con.execute(
        """SELECT kind, identifier, list_sort(list(DISTINCT seller_id)) AS sellers
           FROM main.ring_links WHERE ring_id = ? GROUP BY ALL
           ORDER BY len(sellers) DESC, kind, identifier LIMIT ?""",
        [ring_id, MAX_IDENTIFIERS],
    ).fetchall()
    n_identifiers = scalar(
        con,
        "SELECT count(*) FROM (SELECT DISTINCT kind, identifier FROM main.ring_links "
        "WHERE ring_id = ?)",
        [ring_id],
    )
    sources = con.execute(
        """SELECT source_id, sender_address, risk_score,
                  list_sort(list_intersect(linked_sellers, m.members)) AS sellers
           FROM main.sources,
                (SELECT list(seller_id) AS members FROM main.rings WHERE ring_id = ?) m
           WHERE len(list_intersect(linked_sellers, m.members)) > 0
           ORDER BY risk_score DESC, source_id LIMIT ?""",
        [ring_id, MAX_SOURCES],
    ).fetchall()
    return {
        "sellers": sellers,
        "identifiers": identifiers,
        "n_identifiers": n_identifiers,
        "sources": sources,
    }


def render_ring_svg(ring_id: str, data: dict, *, mask: bool = True) -> str:
    """The SVG text for ``data`` as read by ``_ring_data``."""
    cx = cy = SIZE / 2
    r_seller, r_ident, r_source = SIZE * 0.17, SIZE * 0.31, SIZE * 0.43
    sellers = data["sellers"]
    seller_angle = {
        s: 2 * math.pi * i / max(len(sellers), 1) - math.pi / 2 for i, (s, _) in enumerate(sellers)
    }

    def point(angle: float, radius: float) -> tuple[float, float]:
        return cx + radius * math.cos(angle), cy + radius * math.sin(angle)

    ident_angles = _spread(
        [
            _mean_angle([seller_angle[s] for s in ss if s in seller_angle])
            for _, _, ss in data["identifiers"]
        ]
    )
    source_angles = _spread(
        [
            _mean_angle([seller_angle[s] for s in ss if s in seller_angle])
            for *_, ss in data["sources"]
        ]
    )
    legend_h = 18 * ((len(KIND_COLOURS) + 3) // 4) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE + legend_h}" '
        f'viewBox="0 0 {SIZE} {SIZE + legend_h}" font-family="sans-serif" font-size="10">',
        f"<title>{escape(f'Ring {ring_id}: {len(sellers)} sellers')}</title>",
        f'<rect width="{SIZE}" height="{SIZE + legend_h}" fill="#ffffff"/>',
    ]
    lines: list[str] = []
    shapes: list[str] = []
    for (kind, identifier, ss), angle in zip(data["identifiers"], ident_angles, strict=True):
        x, y = point(angle, r_ident)
        colour = KIND_COLOURS.get(kind, "#999999")
        for s in ss:
            if s in seller_angle:
                sx, sy = point(seller_angle[s], r_seller)
                lines.append(
                    f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{x:.1f}" y2="{y:.1f}" '
                    f'stroke="{colour}" stroke-width="1.2" stroke-opacity="0.7"/>'
                )
        label = mask_identifier(kind, identifier) if mask else identifier
        shapes.append(
            f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}">'
            f"<title>{escape(f'{kind}: {label}')}</title></rect>"
        )
        shapes.append(
            f'<text x="{x:.1f}" y="{y + 15:.1f}" text-anchor="middle" fill="#333333">'
            f"{escape(_short(label, 22))}</text>"
        )
    for (source_id, address, risk, ss), angle in zip(data["sources"], source_angles, strict=True):
        x, y = point(angle, r_source)
        for s in ss:
            if s in seller_angle:
                sx, sy = point(seller_angle[s], r_seller)
                lines.append(
                    f'<line x1="{sx:.1f}" y1="{sy:.1f}" x2="{x:.1f}" y2="{y:.1f}" '
                    f'stroke="{SOURCE_COLOUR}" stroke-width="1" stroke-dasharray="4 3" '
                    'stroke-opacity="0.6"/>'
                )
        shapes.append(
            f'<polygon points="{x:.1f},{y - 8:.1f} {x + 8:.1f},{y + 6:.1f} '
            f'{x - 8:.1f},{y + 6:.1f}" '
            f'fill="{_risk_colour(float(risk or 0))}" stroke="{SOURCE_COLOUR}">'
            f"<title>{escape(f'{source_id}: {address} (risk {float(risk or 0):.2f})')}</title>"
            "</polygon>"
        )
        shapes.append(
            f'<text x="{x:.1f}" y="{y + 18:.1f}" text-anchor="middle" fill="#222222">'
            f"{escape(source_id)}</text>"
        )
    for seller_id, risk in sellers:
        x, y = point(seller_angle[seller_id], r_seller)
        shapes.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="11" fill="{_risk_colour(float(risk))}" '
            f'stroke="#222222"><title>{escape(f"{seller_id} (risk {float(risk):.2f})")}</title>'
            "</circle>"
        )
        shapes.append(
            f'<text x="{x:.1f}" y="{y + 22:.1f}" text-anchor="middle" font-weight="bold">'
            f"{escape(_short(seller_id, 16))}</text>"
        )
    parts += lines + shapes
    hidden = data["n_identifiers"] - len(data["identifiers"])
    heading = f"Ring {ring_id}: {len(sellers)} sellers, {data['n_identifiers']} shared identifiers"
    if hidden > 0:
        heading += f" ({hidden} not drawn)"
    parts.append(f'<text x="10" y="18" font-size="13">{escape(heading)}</text>')
    # Legend: identifier kinds, then the seller and source symbols.
    y0 = SIZE + 8
    for i, (kind, colour) in enumerate(KIND_COLOURS.items()):
        lx, ly = 10 + (i % 4) * 155, y0 + 18 * (i // 4)
        parts.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="{ly + 9}">{escape(kind)}</text>')
    ly = y0 + 18 * ((len(KIND_COLOURS) + 3) // 4)
    parts.append(
        f'<circle cx="15" cy="{ly + 5}" r="5" fill="{_risk_colour(0.8)}" stroke="#222222"/>'
        f'<text x="24" y="{ly + 9}">seller (redder = riskier)</text>'
        f'<polygon points="185,{ly} 191,{ly + 10} 179,{ly + 10}" fill="{_risk_colour(0.8)}" '
        f'stroke="{SOURCE_COLOUR}"/><text x="196" y="{ly + 9}">upstream source</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def ring_svg(
    warehouse: Path | str | duckdb.DuckDBPyConnection, ring_id: str, *, mask: bool = True
) -> str:
    """SVG picture of ring ``ring_id`` (identifiers masked unless ``mask=False``).

    ``warehouse`` is a path (a read-only connection is opened and closed) or an open connection.
    Raises KeyError when the ring does not exist.
    """
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        data = _ring_data(warehouse, ring_id)
    else:
        with connect(Path(warehouse), read_only=True) as con:
            data = _ring_data(con, ring_id)
    if not data["sellers"]:
        raise KeyError(f"no ring {ring_id!r} in main.rings")
    return render_ring_svg(ring_id, data, mask=mask)


__all__ = ["KIND_COLOURS", "render_ring_svg", "ring_svg"]
