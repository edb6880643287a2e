"""Self-contained HTML case reports and the export index, readable offline.

Every value from the data goes through ``html.escape`` (titles, shop names, report texts, ids);
the only markup not built here is the network SVG (see ``ml.leads.svg``). The package handed in
is already masked (or deliberately not, for an unmasked export).
"""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;
max-width:1200px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}.muted{color:#666}.banner{background:#fee;
border:1px solid #c00;padding:8px;margin:8px 0}.summary{background:#f7f9fc;padding:10px;
border-left:4px solid #3b6fb6}
"""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "<br>".join(escape(str(v)) for v in value)
    if isinstance(value, float):
        return escape(f"{value:,.4f}".rstrip("0").rstrip("."))
    return escape(str(value))


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_cell(r.get(k))}</td>'
            if isinstance(r.get(k), int | float) and not isinstance(r.get(k), bool)
            else f"<td>{_cell(r.get(k))}</td>"
            for k, _ in columns
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def _banner(unmasked: bool) -> str:
    if not unmasked:
        return ""
    return (
        '<div class="banner">UNMASKED export: payment accounts, phone numbers and ID document '
        "hashes appear in full. Handle under the data protection rules.</div>"
    )


def case_html(lead: dict[str, Any], svg: str, unmasked: bool) -> str:
    """The investigator's report of one lead (``lead`` = the exported JSON package)."""
    p = lead
    comps = p.get("priority_components") or {}
    facts = [
        ("Rank", p.get("rank")),
        ("Priority score (0-100)", p.get("priority_score")),
        ("Status", p.get("status")),
        ("Kind", p.get("kind")),
        ("Ring", p.get("ring_id")),
        ("Jurisdiction", f"{p.get('province') or '?'} / {p.get('city') or '?'}"),
        ("Est. counterfeit value (CNY)", f"{p.get('est_counterfeit_value', 0):,.2f}"),
        ("Gross sales (CNY)", f"{p.get('gross_sales', 0):,.2f}"),
        ("Sellers / sources / brands", "{sellers} / {sources} / {brands}".format(**p["counts"])),
        ("First exported", p.get("first_exported_at")),
        ("Updated", p.get("updated_at")),
    ]
    fact_rows = "".join(f"<tr><th>{escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in facts)
    complaints = p["complaints"]
    outcomes = p["outcomes"]
    body = [
        f"<h1>Lead {escape(str(p['lead_id']))}</h1>",
        _banner(unmasked),
        f'<p class="summary">{escape(p.get("evidence_summary") or "")}</p>',
        f"<table>{fact_rows}</table>",
        "<h2>Priority</h2>",
        table(
            [{"component": k, "value": v} for k, v in comps.items()],
            [("component", "component (0..1)"), ("value", "value")],
        ),
        f'<p class="muted">Value rule: {escape(p.get("est_counterfeit_value_rule", ""))}</p>',
        "<h2>Network</h2>",
        f'<div class="network">{svg}</div>',
        "<h2>Sellers</h2>",
        table(
            p["sellers"],
            [
                ("seller_id", "seller"),
                ("shop_name", "shop name"),
                ("province", "province"),
                ("city", "city"),
                ("risk_score", "risk"),
                ("n_listings", "listings"),
                ("n_high_risk_listings", "high-risk listings"),
                ("est_counterfeit_value", "est. value (CNY)"),
                ("n_reports", "reports"),
                ("n_counterfeit_confirmed", "confirmed counterfeit"),
                ("phone", "phone"),
                ("id_document_hash", "ID document"),
                ("business_license", "business licence"),
                ("registered_at", "registered"),
            ],
        ),
        "<h2>Linked identifiers</h2>",
        table(
            p["linked_identifiers"],
            [("kind", "kind"), ("identifier", "identifier"), ("seller_ids", "ties sellers")],
        ),
        "<h2>Payment accounts</h2>",
        table(
            p["payment_accounts"],
            [
                ("account_type", "type"),
                ("account_ref", "account"),
                ("bank_name", "bank"),
                ("holder_names", "holder"),
                ("seller_ids", "used by"),
            ],
        ),
        "<h2>Upstream sources</h2>",
        table(
            p["sources"],
            [
                ("source_id", "source"),
                ("sender_address", "address"),
                ("sender_city", "city"),
                ("risk_score", "risk"),
                ("est_counterfeit_value", "est. value (CNY)"),
                ("supplies_sellers", "supplies"),
            ],
        ),
        "<h2>Inbound shipments</h2>",
        table(
            p["shipments"],
            [
                ("sender_address", "sender address"),
                ("sender_city", "city"),
                ("sender_names", "sender names"),
                ("sender_phones", "sender phones"),
                ("n_shipments", "shipments"),
                ("total_weight_kg", "kg"),
                ("first_received_at", "first"),
                ("last_received_at", "last"),
                ("receivers", "receivers"),
            ],
        ),
        "<h2>Riskiest listings</h2>",
        table(
            p["listings"],
            [
                ("listing_id", "listing"),
                ("seller_id", "seller"),
                ("title", "title"),
                ("brand", "brand"),
                ("price", "price (CNY)"),
                ("counterfeit_score", "score"),
                ("top_reasons", "reasons"),
                ("n_orders", "orders"),
                ("gross_sales", "sales (CNY)"),
                ("status", "status"),
            ],
        ),
        "<h2>Brands</h2>",
        table(
            p["brands"],
            [
                ("brand", "brand"),
                ("rights_holder", "rights holder"),
                ("n_listings", "listings"),
                ("max_score", "max score"),
            ],
        ),
        "<h2>Complaints</h2>",
        table(
            [{"reporter_type": k, "n": v} for k, v in complaints["by_reporter_type"].items()],
            [("reporter_type", "reporter type"), ("n", "reports")],
        ),
        table(
            complaints["recent"],
            [
                ("created_at", "when"),
                ("reporter_type", "by"),
                ("reason", "reason"),
                ("seller_id", "seller"),
                ("listing_id", "listing"),
                ("text", "text"),
            ],
        ),
        "<h2>Low-rated buyer reviews</h2>",
        table(
            p.get("low_rated_reviews", []),
            [
                ("created_at", "when"),
                ("rating", "rating"),
                ("seller_id", "seller"),
                ("listing_id", "listing"),
                ("text", "text"),
            ],
        ),
        "<h2>Confirmed outcomes</h2>",
        f"<p>{_cell(outcomes['counterfeit_confirmed'])} counterfeit confirmed, "
        f"{_cell(outcomes['genuine_confirmed'])} genuine confirmed "
        '<span class="muted">(latest outcome per listing or seller)</span></p>',
        table(
            outcomes["cases"],
            [
                ("decided_at", "decided"),
                ("case_ref", "case"),
                ("entity_type", "entity"),
                ("entity_id", "id"),
                ("outcome", "outcome"),
                ("source", "source"),
            ],
        ),
        "<h2>Timeline</h2>",
        table(p["timeline"], [("at", "when"), ("event", "event"), ("detail", "detail")]),
        "<h2>Status history</h2>",
        table(
            p.get("status_history", []),
            [("changed_at", "when"), ("status", "status"), ("note", "note")],
        ),
        '<p class="muted"><a href="../index.html">All leads</a> · '
        f'<a href="{escape(str(p["lead_id"]))}.json">case package (JSON)</a></p>',
    ]
    return _page(f"Lead {p['lead_id']}", "".join(body))


def index_html(current: list[dict[str, Any]], earlier: list[dict[str, Any]], unmasked: bool) -> str:
    """The list of current leads (best first) and of earlier leads whose reports are kept."""

    def link(row: dict[str, Any]) -> dict[str, Any]:
        lead_id = escape(str(row["lead_id"]))
        return {
            **{k: _cell(v) for k, v in row.items()},
            "lead_id": f'<a href="leads/{lead_id}.html">{lead_id}</a> '
            f'(<a href="leads/{lead_id}.json">json</a>)',
        }

    def rows_html(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
        if not rows:
            return '<p class="muted">none</p>'
        head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{link(r)[k]}</td>" for k, _ in columns) + "</tr>" for r in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    columns = [
        ("rank", "rank"),
        ("lead_id", "lead"),
        ("priority_score", "priority"),
        ("status", "status"),
        ("province", "province"),
        ("city", "city"),
        ("n_sellers", "sellers"),
        ("est_counterfeit_value", "est. value (CNY)"),
        ("evidence_summary", "evidence"),
    ]
    earlier_columns = [("lead_id", "lead"), ("status", "status"), ("updated_at", "updated")]
    body = (
        "<h1>cloudsword leads</h1>"
        + _banner(unmasked)
        + f"<h2>Current leads ({len(current)}), best first</h2>"
        + rows_html(current, columns)
        + f"<h2>Earlier leads ({len(earlier)})</h2>"
        + '<p class="muted">No longer in the current list; their last reports are kept.</p>'
        + rows_html(earlier, earlier_columns)
    )
    return _page("cloudsword leads", body)
