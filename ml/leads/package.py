"""Case packages: everything an investigator needs about one lead, as a JSON-like dict.

Built only for the top leads (``_lead_top``, see ``ml.leads.assemble``): a handful of set-based
SQL queries fetch the details of all of them at once, and Python groups them per lead. The
package holds raw identifiers (it is stored inside the warehouse); exports mask it
(``ml.leads.masking``). Its content, without rank, priority or registry fields, is what the
registry fingerprints, so it must be deterministic: every list is ordered in SQL.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb

from ml.contract import CONTRACT_VERSION
from ml.leads.config import LeadConfig
from ml.leads.masking import Masker
from ml.leads.priority import COMPONENTS
from ml.warehouse import table_exists

VALUE_RULE = (
    "sum over orders of the sellers' listings of quantity * unit_price * counterfeit_score (CNY)"
)


@dataclass
class CaseLead:
    """One top lead: its ranking numbers and its case package."""

    lead_key: str
    kind: str
    ring_id: str | None
    candidate_rank: int
    priority_score: float
    components: dict[str, float]
    seller_ids: list[str]
    source_ids: list[str]
    province: str | None
    city: str | None
    est_counterfeit_value: float
    package: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return content_fingerprint(self.package)


def content_fingerprint(package: dict[str, Any]) -> str:
    canonical = json.dumps(package, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """JSON-ready values: ISO timestamps, rounded floats, lists kept."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float | Decimal):  # DECIMAL columns would not serialise to JSON
        return round(float(value), 6)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[dict]:
    cursor = con.execute(sql, params or {})
    names = [d[0] for d in cursor.description]
    return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def _by_lead(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row.pop("lead_key")].append(row)
    return grouped


@contextmanager
def _only_leads(con: duckdb.DuckDBPyConnection, keys: list[str]) -> Iterator[None]:
    """Narrow ``_lead_top`` and ``_lead_top_members`` to ``keys`` for the detail queries, and
    restore them afterwards (the rest of the build reads them whole)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _lead_top_all AS SELECT * FROM _lead_top")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _lead_top_members_all AS SELECT * FROM _lead_top_members"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _lead_todo (lead_key VARCHAR)")
    if keys:
        con.executemany("INSERT INTO _lead_todo VALUES (?)", [[k] for k in keys])
    for table in ("_lead_top", "_lead_top_members"):
        con.execute(f"DELETE FROM {table} WHERE lead_key NOT IN (SELECT lead_key FROM _lead_todo)")
    try:
        yield
    finally:
        for table in ("_lead_top", "_lead_top_members"):
            con.execute(f"DELETE FROM {table}")
            con.execute(f"INSERT INTO {table} SELECT * FROM {table}_all")


def materialize(
    con: duckdb.DuckDBPyConnection,
    config: LeadConfig,
    reuse: dict[str, dict[str, Any]] | None = None,
) -> list[CaseLead]:
    """Case packages of every lead in ``_lead_top``, best first.

    ``reuse`` maps lead keys to packages known to be current (``ml.leads.inputs``: nothing they
    are built from changed); only the other leads are assembled from the warehouse.
    """
    reuse = reuse or {}
    top = _rows(
        con,
        """
        SELECT t.*, p.province, p.city FROM _lead_top t LEFT JOIN _lead_place p USING (lead_key)
        ORDER BY candidate_rank
        """,
    )
    todo = [row["lead_key"] for row in top if row["lead_key"] not in reuse]
    if not reuse:
        details = _details(con, config)
    elif todo:
        with _only_leads(con, todo):
            details = _details(con, config)
    else:
        details = {}
    leads = []
    for row in top:
        key = row["lead_key"]
        if key in reuse:
            package = reuse[key]
        else:
            parts = {name: rows.get(key, []) for name, rows in details.items()}
            package = _package(row, parts)
        leads.append(
            CaseLead(
                lead_key=key,
                kind=row["kind"],
                ring_id=row["ring_id"],
                candidate_rank=int(row["candidate_rank"]),
                priority_score=float(row["priority_score"]),
                components={c: round(float(row[f"{c}_component"]), 6) for c in COMPONENTS},
                seller_ids=list(row["seller_ids"]),
                source_ids=list(row["source_ids"]),
                province=row["province"],
                city=row["city"],
                est_counterfeit_value=float(row["est_counterfeit_value"]),
                package=package,
            )
        )
    return leads


def _details(con: duckdb.DuckDBPyConnection, config: LeadConfig) -> dict[str, dict]:
    """Every package section of the leads in ``_lead_top``, grouped by lead key."""
    return {
        "sellers": _by_lead(_rows(con, SELLERS_SQL)),
        "listings": _by_lead(_rows(con, LISTINGS_SQL, {"k": config.max_listings})),
        "linked_identifiers": _by_lead(_rows(con, LINKS_SQL, {"k": config.max_identifiers})),
        "payment_accounts": _by_lead(_rows(con, ACCOUNTS_SQL, {"k": config.max_accounts})),
        "sources": _by_lead(_rows(con, SOURCES_SQL)),
        "shipments": _by_lead(_rows(con, SHIPMENTS_SQL, {"k": config.max_shipment_groups})),
        "brands": _by_lead(_rows(con, BRANDS_SQL)),
        "complaint_counts": _by_lead(_rows(con, COMPLAINT_COUNTS_SQL)),
        "recent_reports": _by_lead(_rows(con, RECENT_REPORTS_SQL, {"k": config.max_reports})),
        "outcome_cases": _by_lead(_rows(con, OUTCOMES_SQL, {"k": config.max_outcomes})),
        "reviews": _by_lead(_rows(con, REVIEWS_SQL, {"k": config.max_reviews}))
        if table_exists(con, "staging", "stg_reviews")
        else {},
    }


def _package(row: dict, parts: dict[str, list[dict]]) -> dict[str, Any]:
    by_type = {"consumer": 0, "rights_holder": 0, "platform_patrol": 0}
    by_reason: dict[str, int] = {}
    for c in parts["complaint_counts"]:
        by_type[c["reporter_type"]] = by_type.get(c["reporter_type"], 0) + c["n"]
        by_reason[c["reason"]] = by_reason.get(c["reason"], 0) + c["n"]
    return {
        "contract_version": CONTRACT_VERSION,
        "lead_key": row["lead_key"],
        "kind": row["kind"],
        "ring_id": row["ring_id"],
        "anchor_id": row["anchor_id"],
        "province": row["province"],
        "city": row["city"],
        "seller_ids": row["seller_ids"],
        "source_ids": row["source_ids"],
        "est_counterfeit_value": row["est_counterfeit_value"],
        "est_counterfeit_value_rule": VALUE_RULE,
        "gross_sales": row["gross_sales"],
        "counts": {
            "sellers": row["n_sellers"],
            "sources": row["n_sources"],
            "brands": row["n_brands"],
            "listings": row["n_listings"],
            "high_risk_listings": row["n_high_risk_listings"],
        },
        "sellers": parts["sellers"],
        "listings": parts["listings"],
        "linked_identifiers": parts["linked_identifiers"],
        "payment_accounts": parts["payment_accounts"],
        "sources": parts["sources"],
        "shipments": parts["shipments"],
        "brands": parts["brands"],
        "complaints": {
            "total": sum(by_type.values()),
            "by_reporter_type": by_type,
            "by_reason": dict(sorted(by_reason.items())),
            "recent": parts["recent_reports"],
        },
        "low_rated_reviews": parts["reviews"],
        "outcomes": {
            "counterfeit_confirmed": row["n_counterfeit_confirmed"],
            "genuine_confirmed": row["n_genuine_confirmed"],
            "note": "counts use the latest outcome per listing or seller",
            "cases": parts["outcome_cases"],
        },
        "timeline": _timeline(row, parts),
    }


def _timeline(row: dict, parts: dict[str, list[dict]]) -> list[dict]:
    events = [
        (row["first_listing_at"], "first_listing", "first listing by one of its sellers"),
        (row["first_report_at"], "first_complaint", "first report about its sellers or listings"),
        (row["first_shipment_at"], "first_shipment", "first inbound shipment to its sellers"),
        (row["last_shipment_at"], "last_shipment", "latest inbound shipment to its sellers"),
        (row["last_order_at"], "last_order", "latest order of its sellers' listings"),
    ]
    for case in parts["outcome_cases"]:
        events.append(
            (
                case["decided_at"],
                "outcome",
                f"{case['outcome']} ({case['source']}) on {case['entity_type']} "
                f"{case['entity_id']}, case {case['case_ref']}",
            )
        )
    return [
        {"at": at, "event": event, "detail": detail}
        for at, event, detail in sorted((e for e in events if e[0]), key=lambda e: (e[0], e[1]))
    ]


def evidence_summary(p: dict[str, Any], masker: Masker) -> str:
    """One line for the leads table: who, what ties them, where from, how much, what proof."""
    shops = [s["shop_name"] for s in p["sellers"] if s.get("shop_name")]
    shown = ", ".join(shops[:3]) + (f" +{len(shops) - 3}" if len(shops) > 3 else "")
    n_sellers = len(p["seller_ids"])
    parts = []
    if p["kind"] == "ring":
        parts.append(f"Ring {p['ring_id']} of {n_sellers} sellers ({shown})")
    elif p["kind"] == "source":
        parts.append(f"Source {p['anchor_id']} supplying {n_sellers} sellers ({shown})")
    else:
        parts.append(f"Seller {p['anchor_id']} ({shown})")
    idents = masker.package(p["linked_identifiers"][:3])
    if idents:
        tied = "; ".join(f"{i['kind']} {i['identifier']} x{i['n_sellers']}" for i in idents)
        parts.append(f"tied by {tied}")
    if p["sources"]:
        cities = sorted({s["sender_city"] for s in p["sources"] if s.get("sender_city")})
        parts.append(f"{len(p['sources'])} upstream sources ({', '.join(cities[:3])})")
    parts.append(f"est. counterfeit value {p['est_counterfeit_value']:,.0f} CNY")
    complaints = p["complaints"]
    parts.append(
        f"{complaints['total']} reports "
        f"({complaints['by_reporter_type'].get('rights_holder', 0)} rights-holder)"
    )
    outcomes = p["outcomes"]
    if outcomes["counterfeit_confirmed"] or outcomes["genuine_confirmed"]:
        parts.append(
            f"{outcomes['counterfeit_confirmed']} confirmed counterfeit, "
            f"{outcomes['genuine_confirmed']} confirmed genuine"
        )
    if p["listings"]:
        top = p["listings"][0]
        parts.append(f"top listing '{top['title']}' score {top['counterfeit_score']:.2f}")
    return masker.text("; ".join(parts))


SELLERS_SQL = """
SELECT m.lead_key, m.seller_id, s.shop_name, s.province, s.city, s.registered_at,
       s.business_license, s.phone, s.id_document_hash,
       round(sc.risk_score, 4) AS risk_score, st.n_listings, st.n_high_risk_listings,
       round(st.est_value, 2) AS est_counterfeit_value, st.n_orders,
       st.n_reports_consumer + st.n_reports_rights_holder + st.n_reports_platform_patrol
           AS n_reports,
       st.n_counterfeit_confirmed, st.n_genuine_confirmed
FROM _lead_top_members m
LEFT JOIN staging.stg_sellers s USING (seller_id)
LEFT JOIN main.seller_scores sc USING (seller_id)
LEFT JOIN _lead_seller_stats st USING (seller_id)
ORDER BY m.lead_key, sc.risk_score DESC NULLS LAST, m.seller_id
"""

LISTINGS_SQL = """
WITH ranked AS (
    SELECT m.lead_key, l.listing_id, l.counterfeit_score,
           row_number() OVER (PARTITION BY m.lead_key
                              ORDER BY l.counterfeit_score DESC, l.listing_id) AS k
    FROM _lead_top_members m JOIN _lead_listings l USING (seller_id)
    QUALIFY k <= $k
)
SELECT r.lead_key, r.listing_id, sl.seller_id, sl.title, sl.brand, sl.category,
       sl.price, sl.status, sl.created_at, round(r.counterfeit_score, 4) AS counterfeit_score,
       coalesce(ls.top_reasons, []::VARCHAR[]) AS top_reasons, ls.model_version,
       coalesce(o.n_orders, 0) AS n_orders, coalesce(o.units, 0) AS units,
       round(coalesce(o.gross, 0), 2) AS gross_sales
FROM ranked r
JOIN staging.stg_listings sl USING (listing_id)
LEFT JOIN main.listing_scores ls USING (listing_id)
LEFT JOIN _lead_listing_orders o USING (listing_id)
ORDER BY r.lead_key, r.k
"""

LINKS_SQL = """
WITH links AS (
    SELECT t.lead_key, rl.kind, rl.identifier, rl.seller_id AS a, rl.other_seller_id AS b
    FROM _lead_top t JOIN main.ring_links rl ON rl.ring_id = t.ring_id
    WHERE t.kind = 'ring'
),
ends AS (
    SELECT lead_key, kind, identifier, a AS seller_id FROM links WHERE a IS NOT NULL
    UNION
    SELECT lead_key, kind, identifier, b FROM links WHERE b IS NOT NULL
)
SELECT lead_key, kind, identifier, list_sort(list(DISTINCT seller_id)) AS seller_ids,
       count(DISTINCT seller_id) AS n_sellers
FROM ends GROUP BY lead_key, kind, identifier
QUALIFY row_number() OVER (PARTITION BY lead_key
                           ORDER BY n_sellers DESC, kind, identifier) <= $k
ORDER BY lead_key, n_sellers DESC, kind, identifier
"""

ACCOUNTS_SQL = """
SELECT m.lead_key, p.account_type, p.account_ref,
       min(p.bank_name) AS bank_name,
       list_sort(list(DISTINCT p.holder_name) FILTER (WHERE p.holder_name IS NOT NULL))
           AS holder_names,
       list_sort(list(DISTINCT p.seller_id)) AS seller_ids,
       count(DISTINCT p.seller_id) AS n_sellers, min(p.first_seen_at) AS first_seen_at
FROM _lead_top_members m JOIN staging.stg_seller_payment_accounts p USING (seller_id)
GROUP BY m.lead_key, p.account_type, p.account_ref
QUALIFY row_number() OVER (PARTITION BY m.lead_key
                           ORDER BY n_sellers DESC, p.account_type, p.account_ref) <= $k
ORDER BY m.lead_key, n_sellers DESC, p.account_type, p.account_ref
"""

SOURCES_SQL = """
SELECT t.lead_key, so.source_id, so.sender_address, so.sender_city,
       round(so.risk_score, 4) AS risk_score,
       round(so.est_counterfeit_value, 2) AS est_counterfeit_value,
       list_sort(list_intersect(so.linked_sellers, t.seller_ids)) AS supplies_sellers,
       len(so.linked_sellers) AS n_linked_sellers
FROM _lead_top t JOIN _lead_sources ls USING (lead_key) JOIN main.sources so USING (source_id)
ORDER BY t.lead_key, so.risk_score DESC, so.source_id
"""

SHIPMENTS_SQL = """
SELECT m.lead_key, sh.sender_address, sh.sender_city, count(*) AS n_shipments,
       round(sum(sh.weight_kg), 3) AS total_weight_kg,
       min(sh.received_at) AS first_received_at, max(sh.received_at) AS last_received_at,
       list_sort(list(DISTINCT sh.sender_name) FILTER (WHERE sh.sender_name IS NOT NULL))[1:5]
           AS sender_names,
       list_sort(list(DISTINCT sh.sender_phone) FILTER (WHERE sh.sender_phone IS NOT NULL))[1:5]
           AS sender_phones,
       list_sort(list(DISTINCT sh.seller_id)) AS receivers
FROM _lead_top_members m JOIN staging.stg_inbound_shipments sh USING (seller_id)
GROUP BY m.lead_key, sh.sender_address, sh.sender_city
QUALIFY row_number() OVER (PARTITION BY m.lead_key
                           ORDER BY n_shipments DESC, sh.sender_address, sh.sender_city) <= $k
ORDER BY m.lead_key, n_shipments DESC, sh.sender_address, sh.sender_city
"""

BRANDS_SQL = """
SELECT m.lead_key, l.brand, min(b.rights_holder) AS rights_holder,
       count(*) AS n_listings, round(max(l.counterfeit_score), 4) AS max_score
FROM _lead_top_members m JOIN _lead_listings l USING (seller_id)
LEFT JOIN staging.stg_brands b ON b.brand = l.brand
WHERE l.brand IS NOT NULL
GROUP BY ALL
ORDER BY m.lead_key, n_listings DESC, l.brand
"""

COMPLAINT_COUNTS_SQL = """
SELECT m.lead_key, r.reporter_type, r.reason, count(*) AS n
FROM _lead_top_members m JOIN _lead_reports r USING (seller_id)
GROUP BY ALL ORDER BY ALL
"""

RECENT_REPORTS_SQL = """
SELECT m.lead_key, r.report_id, r.created_at, r.reporter_type, r.reason, r.seller_id,
       r.listing_id, r.text
FROM _lead_top_members m JOIN _lead_reports r USING (seller_id)
QUALIFY row_number() OVER (
    PARTITION BY m.lead_key
    ORDER BY r.reporter_type = 'rights_holder' DESC, r.created_at DESC, r.report_id) <= $k
ORDER BY m.lead_key, r.reporter_type = 'rights_holder' DESC, r.created_at DESC, r.report_id
"""

OUTCOMES_SQL = """
SELECT m.lead_key, o.case_ref, o.entity_type, o.entity_id, o.seller_id, o.outcome, o.source,
       o.decided_at, o.is_latest
FROM _lead_top_members m JOIN _lead_outcomes o USING (seller_id)
QUALIFY row_number() OVER (PARTITION BY m.lead_key ORDER BY o.decided_at DESC, o.case_ref)
        <= $k
ORDER BY m.lead_key, o.decided_at, o.case_ref
"""

# Buyers' own words about the goods: the latest low-rated reviews (rating <= 2) with a text.
REVIEWS_SQL = """
SELECT m.lead_key, r.review_id, r.created_at, r.rating, l.seller_id, r.listing_id, r.text
FROM _lead_top_members m JOIN _lead_listings l USING (seller_id)
JOIN staging.stg_reviews r ON r.listing_id = l.listing_id
WHERE r.rating <= 2 AND r.text IS NOT NULL AND trim(r.text) <> ''
QUALIFY row_number() OVER (PARTITION BY m.lead_key ORDER BY r.created_at DESC, r.review_id) <= $k
ORDER BY m.lead_key, r.created_at DESC, r.review_id
"""
