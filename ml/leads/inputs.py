"""What each top lead's case package is made of, hashed, so unchanged leads are not re-assembled.

``lead_input_hashes`` hashes, per lead of ``_lead_top`` and in a few set-based queries, every row
that ``ml.leads.package.materialize`` reads for it: its candidate numbers and place; per member
seller the seller row, its scores, its stats, each listing with its score, reasons and order
totals, reports, outcomes, low-rated reviews, inbound shipments, payment accounts and the brands
it claims; the ring links of a ring lead and the rows of its sources; and the package settings.
Same hash as the last build: the stored package is reused as it is (``cloudsword.lead_inputs``),
since ``materialize`` is deterministic in exactly these rows. Hashes are DuckDB's 64-bit
``hash``: a DuckDB upgrade that changes them only makes every lead look changed once.

The stored package is a cache, never a source of truth: a build with ``incremental=False``
re-assembles every lead (and must give the same packages; ``tests/test_leads_incremental.py``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import duckdb
import pyarrow as pa

from ml.contract import CONTRACT_VERSION
from ml.leads.config import LeadConfig
from ml.warehouse import table_exists

#: Bump when ``materialize`` or ``_package`` change what a package holds.
PACKAGE_VERSION = "1"
INPUTS_TABLE = "cloudsword.lead_inputs"


def _set_hash(rows_sql: str) -> str:
    """hash of the sorted list of row hashes (order-free, duplicates kept)."""
    return f"hash(list_sort(list({rows_sql})))"


def lead_input_hashes(con: duckdb.DuckDBPyConnection, config: LeadConfig) -> dict[str, str]:
    """lead_key -> hash of everything its package is built from (leads of ``_lead_top``)."""
    reviews = (
        f"""SELECT l.seller_id, {_set_hash("hash(r)")} AS h
            FROM _lead_listings l JOIN staging.stg_reviews r USING (listing_id)
            WHERE l.seller_id IN (SELECT seller_id FROM m) AND r.rating <= 2
            GROUP BY ALL"""
        if table_exists(con, "staging", "stg_reviews")
        else "SELECT NULL::VARCHAR AS seller_id, NULL::UBIGINT AS h WHERE false"
    )
    rows = con.execute(
        f"""
        WITH m AS (SELECT DISTINCT seller_id FROM _lead_top_members),
        sel AS (SELECT seller_id, hash(s) AS h FROM staging.stg_sellers s
                WHERE seller_id IN (SELECT seller_id FROM m)),
        sco AS (SELECT seller_id, {_set_hash("hash(risk_score, ring_id)")} AS h
                FROM main.seller_scores WHERE seller_id IN (SELECT seller_id FROM m)
                GROUP BY ALL),
        sta AS (SELECT seller_id, hash(st) AS h FROM _lead_seller_stats st
                WHERE seller_id IN (SELECT seller_id FROM m)),
        lis AS (
            SELECT l.seller_id,
                   {
            _set_hash(
                "hash(sl, l.counterfeit_score, ls.top_reasons, ls.model_version, "
                "o.n_orders, o.units, o.gross, o.last_order_at, b.rights_holder)"
            )
        }
                       AS h
            FROM _lead_listings l
            JOIN staging.stg_listings sl USING (listing_id)
            LEFT JOIN main.listing_scores ls USING (listing_id)
            LEFT JOIN _lead_listing_orders o USING (listing_id)
            LEFT JOIN staging.stg_brands b ON b.brand = l.brand
            WHERE l.seller_id IN (SELECT seller_id FROM m)
            GROUP BY ALL
        ),
        rep AS (SELECT seller_id, {_set_hash("hash(r)")} AS h FROM _lead_reports r
                WHERE seller_id IN (SELECT seller_id FROM m) GROUP BY ALL),
        out AS (SELECT seller_id, {_set_hash("hash(o)")} AS h FROM _lead_outcomes o
                WHERE seller_id IN (SELECT seller_id FROM m) GROUP BY ALL),
        rev AS ({reviews}),
        shp AS (SELECT seller_id, {_set_hash("hash(sh)")} AS h
                FROM staging.stg_inbound_shipments sh
                WHERE seller_id IN (SELECT seller_id FROM m) GROUP BY ALL),
        acc AS (SELECT seller_id, {_set_hash("hash(p)")} AS h
                FROM staging.stg_seller_payment_accounts p
                WHERE seller_id IN (SELECT seller_id FROM m) GROUP BY ALL),
        per_seller AS (
            SELECT m.seller_id,
                   hash(m.seller_id, sel.h, sco.h, sta.h, lis.h, rep.h, out.h, rev.h, shp.h,
                        acc.h) AS h
            FROM m LEFT JOIN sel USING (seller_id) LEFT JOIN sco USING (seller_id)
            LEFT JOIN sta USING (seller_id) LEFT JOIN lis USING (seller_id)
            LEFT JOIN rep USING (seller_id) LEFT JOIN out USING (seller_id)
            LEFT JOIN rev USING (seller_id) LEFT JOIN shp USING (seller_id)
            LEFT JOIN acc USING (seller_id)
        ),
        per_lead AS (
            SELECT tm.lead_key, {_set_hash("ps.h")} AS h
            FROM _lead_top_members tm JOIN per_seller ps USING (seller_id) GROUP BY ALL
        ),
        links AS (
            SELECT t.lead_key, {_set_hash("hash(rl)")} AS h
            FROM _lead_top t JOIN main.ring_links rl ON rl.ring_id = t.ring_id
            WHERE t.kind = 'ring' GROUP BY ALL
        ),
        src AS (
            SELECT ls.lead_key, {_set_hash("hash(so)")} AS h
            FROM _lead_sources ls JOIN main.sources so USING (source_id)
            WHERE ls.lead_key IN (SELECT lead_key FROM _lead_top) GROUP BY ALL
        ),
        top AS (
            SELECT t.lead_key,
                   hash(t.kind, t.anchor_id, t.ring_id, t.seller_ids, t.source_ids,
                        t.est_counterfeit_value, t.gross_sales, t.n_sellers, t.n_sources,
                        t.n_brands, t.n_listings, t.n_high_risk_listings,
                        t.n_counterfeit_confirmed, t.n_genuine_confirmed, t.first_listing_at,
                        t.first_report_at, t.first_shipment_at, t.last_shipment_at,
                        t.last_order_at, p.province, p.city) AS h
            FROM _lead_top t LEFT JOIN _lead_place p USING (lead_key)
        )
        SELECT top.lead_key, hash(top.h, per_lead.h, links.h, src.h)::VARCHAR
        FROM top LEFT JOIN per_lead USING (lead_key) LEFT JOIN links USING (lead_key)
        LEFT JOIN src USING (lead_key)
        """
    ).fetchall()
    settings = json.dumps(
        [PACKAGE_VERSION, CONTRACT_VERSION, asdict(config)], sort_keys=True, default=str
    )
    return {key: hashlib.sha256(f"{settings}|{value}".encode()).hexdigest() for key, value in rows}


def ensure_inputs_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS cloudsword")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {INPUTS_TABLE} "
        "(lead_key VARCHAR PRIMARY KEY, input_hash VARCHAR, package VARCHAR, summary VARCHAR)"
    )


def reusable_packages(
    con: duckdb.DuckDBPyConnection, hashes: dict[str, str]
) -> dict[str, tuple[dict, str]]:
    """(package, evidence summary) stored for each lead whose input hash did not change since
    the last build (the summary is a function of the package alone)."""
    ensure_inputs_table(con)
    stored = con.execute(
        f"SELECT lead_key, input_hash, package, summary FROM {INPUTS_TABLE}"
    ).fetchall()
    return {
        key: (json.loads(package), summary)
        for key, input_hash, package, summary in stored
        if hashes.get(key) == input_hash and summary is not None
    }


def save_inputs(
    con: duckdb.DuckDBPyConnection,
    hashes: dict[str, str],
    packages: dict[str, dict],
    summaries: dict[str, str],
) -> None:
    """Replace the stored hashes, packages and summaries with this build's (inside its
    transaction)."""
    ensure_inputs_table(con)
    con.execute(f"DELETE FROM {INPUTS_TABLE}")
    keys = [k for k in packages if k in hashes]
    table = pa.table(
        {
            "lead_key": pa.array(keys, pa.string()),
            "input_hash": pa.array([hashes[k] for k in keys], pa.string()),
            "package": pa.array(
                [json.dumps(packages[k], ensure_ascii=False, sort_keys=True) for k in keys],
                pa.string(),
            ),
            "summary": pa.array([summaries.get(k) for k in keys], pa.string()),
        }
    )
    con.register("_lead_inputs_arrow", table)
    try:
        con.execute(f"INSERT INTO {INPUTS_TABLE} SELECT * FROM _lead_inputs_arrow")
    finally:
        con.unregister("_lead_inputs_arrow")
