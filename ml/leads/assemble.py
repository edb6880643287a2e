"""Lead candidates, computed in DuckDB SQL over the whole warehouse.

A lead is one of three kinds, so that every suspect seller is in at most one kind of lead:

* ``ring``: the sellers of a ring (``main.rings``), with every source (``main.sources``) whose
  ``linked_sellers`` include one of them. Key ``ring:<ring_id>``.
* ``source``: a source with ``risk_score >= min_source_risk`` none of whose linked sellers is in
  a ring, with those sellers. Key ``source:<source_id>``.
* ``seller``: a seller with ``risk_score >= min_seller_risk`` (``main.seller_scores``) in no
  ring and no source lead. Key ``seller:<seller_id>``.

Per lead, SQL aggregates the numbers that priority needs (``ml.leads.priority``):

* ``est_counterfeit_value`` (CNY) = sum over the orders of its sellers' listings of
  ``quantity * unit_price * counterfeit_score`` (a listing without a score counts 0): the
  money paid for goods weighted by the probability that they were counterfeit.
* complaints: reports about its sellers or their listings, by reporter type;
* confirmed outcomes: the latest outcome per listing or seller (a later one overrides);
* breadth: distinct sellers and distinct brands claimed by their listings;
* last activity: latest listing, order, report or inbound shipment of its sellers.

Only the best ``max_leads`` candidates go on to become case packages (``ml.leads.package``).
All intermediate tables are TEMP tables of the one connection (``_lead_*``).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from ml.leads.config import LeadConfig
from ml.leads.priority import COMPONENTS, component_sql, priority_sql

REQUIRED_TABLES = (
    "staging.stg_sellers",
    "staging.stg_listings",
    "staging.stg_orders",
    "staging.stg_reports",
    "staging.stg_enforcement_outcomes",
    "staging.stg_inbound_shipments",
    "staging.stg_seller_payment_accounts",
    "staging.stg_brands",
    "main.listing_scores",
    "main.seller_scores",
    "main.rings",
    "main.ring_links",
    "main.sources",
)


def missing_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    present = {
        f"{schema}.{table}"
        for schema, table in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }
    return [t for t in REQUIRED_TABLES if t not in present]


def data_as_of(con: duckdb.DuckDBPyConnection, now: datetime) -> datetime:
    """The latest event in the warehouse, capped at ``now`` (recency is measured from it)."""
    latest = con.execute(
        """
        SELECT greatest(
            (SELECT max(created_at) FROM staging.stg_listings),
            (SELECT max(paid_at) FROM staging.stg_orders),
            (SELECT max(created_at) FROM staging.stg_reports),
            (SELECT max(received_at) FROM staging.stg_inbound_shipments))
        """
    ).fetchone()[0]
    return min(latest, now) if latest is not None else now


def build_candidates(con: duckdb.DuckDBPyConnection, now: datetime, config: LeadConfig) -> int:
    """Create the TEMP tables of candidate leads; return how many candidates there are."""
    missing = missing_tables(con)
    if missing:
        raise RuntimeError(
            "cannot build leads, the warehouse lacks " + ", ".join(missing) + " (run the "
            "staging, scoring and network steps first)"
        )
    _members(con, config)
    _seller_stats(con, config)
    _candidates(con, data_as_of(con, now), config)
    return int(con.execute("SELECT count(*) FROM _lead_candidates").fetchone()[0])


def _members(con: duckdb.DuckDBPyConnection, config: LeadConfig) -> None:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_source_sellers AS
        SELECT DISTINCT source_id, seller_id
        FROM (SELECT source_id, unnest(linked_sellers) AS seller_id FROM main.sources)
        WHERE seller_id IS NOT NULL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_members AS
        WITH ring_sellers AS (
            SELECT DISTINCT ring_id, seller_id FROM main.rings
            WHERE ring_id IS NOT NULL AND seller_id IS NOT NULL
        ),
        ringed AS (SELECT DISTINCT seller_id FROM ring_sellers),
        lone_sources AS (
            SELECT so.source_id FROM main.sources so
            WHERE so.risk_score >= $min_source_risk
              AND NOT EXISTS (
                SELECT 1 FROM _lead_source_sellers x JOIN ringed r USING (seller_id)
                WHERE x.source_id = so.source_id)
        ),
        source_members AS (
            SELECT ss.source_id, ss.seller_id
            FROM _lead_source_sellers ss JOIN lone_sources USING (source_id)
        ),
        covered AS (SELECT seller_id FROM ringed UNION SELECT seller_id FROM source_members)
        SELECT 'ring:' || ring_id AS lead_key, 'ring' AS kind, ring_id AS anchor_id, ring_id,
               seller_id
        FROM ring_sellers
        UNION ALL
        SELECT 'source:' || source_id, 'source', source_id, NULL, seller_id FROM source_members
        UNION ALL
        SELECT DISTINCT 'seller:' || s.seller_id, 'seller', s.seller_id, NULL, s.seller_id
        FROM main.seller_scores s
        WHERE s.risk_score >= $min_seller_risk
          AND NOT EXISTS (SELECT 1 FROM covered c WHERE c.seller_id = s.seller_id)
        """,
        {"min_source_risk": config.min_source_risk, "min_seller_risk": config.min_seller_risk},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_sources AS
        SELECT DISTINCT m.lead_key, ss.source_id
        FROM _lead_members m JOIN _lead_source_sellers ss USING (seller_id)
        WHERE m.kind <> 'source'
        UNION
        SELECT DISTINCT lead_key, anchor_id FROM _lead_members WHERE kind = 'source'
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _lead_sellers AS SELECT DISTINCT seller_id FROM _lead_members"
    )


def _seller_stats(con: duckdb.DuckDBPyConnection, config: LeadConfig) -> None:
    """Per candidate seller: listings, value, reports, outcomes, shipments, brands."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_listings AS
        SELECT l.listing_id, l.seller_id, l.brand, l.created_at,
               coalesce(s.counterfeit_score, 0.0) AS counterfeit_score
        FROM staging.stg_listings l
        LEFT JOIN main.listing_scores s ON s.listing_id = l.listing_id
        WHERE l.seller_id IN (SELECT seller_id FROM _lead_sellers)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_listing_orders AS
        SELECT listing_id, count(*) AS n_orders, sum(quantity) AS units,
               sum(quantity * unit_price) AS gross, max(paid_at) AS last_order_at
        FROM staging.stg_orders
        WHERE listing_id IN (SELECT listing_id FROM _lead_listings)
        GROUP BY listing_id
        """
    )
    # A report names a seller, a listing or both; it counts for the seller it names, else for
    # the seller of its listing.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_reports AS
        SELECT r.report_id, coalesce(r.seller_id, l.seller_id) AS seller_id, r.listing_id,
               r.reporter_type, r.reason, r.text, r.created_at
        FROM staging.stg_reports r LEFT JOIN _lead_listings l ON l.listing_id = r.listing_id
        WHERE coalesce(r.seller_id, l.seller_id) IN (SELECT seller_id FROM _lead_sellers)
        """
    )
    # Every outcome about a candidate seller or its listings; ``is_latest`` marks the one that
    # holds for its entity (a later decision overrides an earlier one).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_outcomes AS
        SELECT o.case_ref, o.entity_type, o.entity_id, o.outcome, o.source, o.decided_at,
               CASE WHEN o.entity_type = 'seller' THEN o.entity_id ELSE l.seller_id END
                   AS seller_id,
               row_number() OVER (PARTITION BY o.entity_type, o.entity_id
                                  ORDER BY o.decided_at DESC, o.case_ref DESC) = 1 AS is_latest
        FROM staging.stg_enforcement_outcomes o
        LEFT JOIN _lead_listings l ON o.entity_type = 'listing' AND l.listing_id = o.entity_id
        WHERE (CASE WHEN o.entity_type = 'seller' THEN o.entity_id ELSE l.seller_id END)
              IN (SELECT seller_id FROM _lead_sellers)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_seller_stats AS
        WITH lst AS (
            SELECT l.seller_id, count(*) AS n_listings,
                   count(*) FILTER (WHERE l.counterfeit_score >= $high_risk)
                       AS n_high_risk_listings,
                   min(l.created_at) AS first_listing_at, max(l.created_at) AS last_listing_at,
                   sum(coalesce(o.gross, 0) * l.counterfeit_score) AS est_value,
                   sum(coalesce(o.gross, 0)) AS gross, sum(coalesce(o.n_orders, 0)) AS n_orders,
                   max(o.last_order_at) AS last_order_at
            FROM _lead_listings l LEFT JOIN _lead_listing_orders o USING (listing_id)
            GROUP BY l.seller_id
        ),
        rep AS (
            SELECT seller_id,
                   count(*) FILTER (WHERE reporter_type = 'consumer') AS n_reports_consumer,
                   count(*) FILTER (WHERE reporter_type = 'rights_holder')
                       AS n_reports_rights_holder,
                   count(*) FILTER (WHERE reporter_type = 'platform_patrol')
                       AS n_reports_platform_patrol,
                   min(created_at) AS first_report_at, max(created_at) AS last_report_at
            FROM _lead_reports GROUP BY seller_id
        ),
        outc AS (
            SELECT seller_id,
                   count(*) FILTER (WHERE outcome = 'counterfeit_confirmed')
                       AS n_counterfeit_confirmed,
                   count(*) FILTER (WHERE outcome = 'genuine_confirmed') AS n_genuine_confirmed,
                   max(decided_at) AS last_outcome_at
            FROM _lead_outcomes WHERE is_latest GROUP BY seller_id
        ),
        shp AS (
            SELECT seller_id, count(*) AS n_shipments, min(received_at) AS first_shipment_at,
                   max(received_at) AS last_shipment_at
            FROM staging.stg_inbound_shipments
            WHERE seller_id IN (SELECT seller_id FROM _lead_sellers)
            GROUP BY seller_id
        )
        SELECT c.seller_id,
               coalesce(n_listings, 0) AS n_listings,
               coalesce(n_high_risk_listings, 0) AS n_high_risk_listings,
               first_listing_at, last_listing_at,
               coalesce(est_value, 0.0) AS est_value, coalesce(gross, 0.0) AS gross,
               coalesce(n_orders, 0) AS n_orders, last_order_at,
               coalesce(n_reports_consumer, 0) AS n_reports_consumer,
               coalesce(n_reports_rights_holder, 0) AS n_reports_rights_holder,
               coalesce(n_reports_platform_patrol, 0) AS n_reports_platform_patrol,
               first_report_at, last_report_at,
               coalesce(n_counterfeit_confirmed, 0) AS n_counterfeit_confirmed,
               coalesce(n_genuine_confirmed, 0) AS n_genuine_confirmed, last_outcome_at,
               coalesce(n_shipments, 0) AS n_shipments, first_shipment_at, last_shipment_at
        FROM _lead_sellers c
        LEFT JOIN lst USING (seller_id) LEFT JOIN rep USING (seller_id)
        LEFT JOIN outc USING (seller_id) LEFT JOIN shp USING (seller_id)
        """,
        {"high_risk": config.high_risk_listing},
    )


def _candidates(con: duckdb.DuckDBPyConnection, as_of: datetime, config: LeadConfig) -> None:
    components = component_sql(config)
    component_cols = ",\n".join(f"{components[c]} AS {c}_component" for c in COMPONENTS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _lead_candidates AS
        WITH per_lead AS (
            SELECT m.lead_key, any_value(m.kind) AS kind, any_value(m.anchor_id) AS anchor_id,
                   any_value(m.ring_id) AS ring_id,
                   list_sort(list(DISTINCT m.seller_id)) AS seller_ids,
                   count(DISTINCT m.seller_id) AS n_sellers,
                   max(coalesce(sc.risk_score, 0)) AS max_seller_risk,
                   avg(coalesce(sc.risk_score, 0)) AS mean_seller_risk,
                   round(sum(coalesce(st.est_value, 0)), 2) AS est_counterfeit_value,
                   round(sum(coalesce(st.gross, 0)), 2) AS gross_sales,
                   sum(coalesce(st.n_listings, 0)) AS n_listings,
                   sum(coalesce(st.n_high_risk_listings, 0)) AS n_high_risk_listings,
                   sum(coalesce(st.n_reports_consumer, 0)) AS n_reports_consumer,
                   sum(coalesce(st.n_reports_rights_holder, 0)) AS n_reports_rights_holder,
                   sum(coalesce(st.n_reports_platform_patrol, 0)) AS n_reports_platform_patrol,
                   sum(coalesce(st.n_counterfeit_confirmed, 0)) AS n_counterfeit_confirmed,
                   sum(coalesce(st.n_genuine_confirmed, 0)) AS n_genuine_confirmed,
                   min(st.first_listing_at) AS first_listing_at,
                   min(st.first_report_at) AS first_report_at,
                   min(st.first_shipment_at) AS first_shipment_at,
                   max(st.last_shipment_at) AS last_shipment_at,
                   max(st.last_order_at) AS last_order_at,
                   max(greatest(st.last_listing_at, st.last_order_at, st.last_report_at,
                                st.last_shipment_at)) AS last_activity_at
            FROM (SELECT DISTINCT lead_key, kind, anchor_id, ring_id, seller_id
                  FROM _lead_members) m
            LEFT JOIN main.seller_scores sc USING (seller_id)
            LEFT JOIN _lead_seller_stats st USING (seller_id)
            GROUP BY m.lead_key
        ),
        src AS (
            SELECT ls.lead_key, list_sort(list(DISTINCT ls.source_id)) AS source_ids,
                   count(DISTINCT ls.source_id) AS n_sources, max(so.risk_score) AS max_source_risk
            FROM _lead_sources ls LEFT JOIN main.sources so USING (source_id)
            GROUP BY ls.lead_key
        ),
        brands AS (
            SELECT m.lead_key, count(DISTINCT l.brand) AS n_brands
            FROM (SELECT DISTINCT lead_key, seller_id FROM _lead_members) m
            JOIN _lead_listings l USING (seller_id)
            WHERE l.brand IS NOT NULL
            GROUP BY m.lead_key
        ),
        base AS (
            SELECT p.*, coalesce(src.source_ids, []::VARCHAR[]) AS source_ids,
                   coalesce(src.n_sources, 0) AS n_sources, src.max_source_risk,
                   coalesce(brands.n_brands, 0) AS n_brands, $as_of::TIMESTAMP AS as_of
            FROM per_lead p LEFT JOIN src USING (lead_key) LEFT JOIN brands USING (lead_key)
        ),
        scored AS (SELECT *, {component_cols} FROM base)
        SELECT *, {priority_sql(config)} AS priority_score FROM scored
        """,
        {"as_of": as_of},
    )


def select_top(con: duckdb.DuckDBPyConnection, config: LeadConfig) -> int:
    """Keep the best ``max_leads`` candidates in ``_lead_top`` (with their place); return count."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_top AS
        SELECT * FROM (
            SELECT row_number() OVER (ORDER BY priority_score DESC, lead_key) AS candidate_rank, *
            FROM _lead_candidates)
        WHERE candidate_rank <= $n
        """,
        {"n": int(config.max_leads)},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_top_members AS
        SELECT DISTINCT m.lead_key, m.seller_id
        FROM _lead_members m JOIN _lead_top t USING (lead_key)
        """
    )
    _jurisdiction(con)
    return int(con.execute("SELECT count(*) FROM _lead_top").fetchone()[0])


def _jurisdiction(con: duckdb.DuckDBPyConnection) -> None:
    """Province and city of each top lead: the most common place of its sellers and sources.

    Each seller votes its (province, city), each source its sender_city; a source's province is
    the usual province of sellers registered in that city. Ties go to the alphabetically first
    city, and a city with a known province wins over the same city without one.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_place AS
        WITH city_province AS (
            SELECT city_key, province FROM (
                SELECT lower(trim(city)) AS city_key, province, count(*) AS n
                FROM staging.stg_sellers GROUP BY ALL)
            QUALIFY row_number() OVER (PARTITION BY city_key ORDER BY n DESC, province) = 1
        ),
        votes AS (
            SELECT m.lead_key, s.city, s.province
            FROM _lead_top_members m JOIN staging.stg_sellers s USING (seller_id)
            UNION ALL
            SELECT ls.lead_key, so.sender_city, cp.province
            FROM _lead_sources ls JOIN _lead_top t USING (lead_key)
            JOIN main.sources so USING (source_id)
            LEFT JOIN city_province cp ON cp.city_key = lower(trim(so.sender_city))
        ),
        city_pick AS (
            SELECT lead_key, city_key FROM (
                SELECT lead_key, lower(trim(city)) AS city_key, count(*) AS n
                FROM votes WHERE city IS NOT NULL GROUP BY ALL)
            QUALIFY row_number() OVER (PARTITION BY lead_key ORDER BY n DESC, city_key) = 1
        )
        SELECT lead_key, province, city FROM (
            SELECT v.lead_key, v.province, v.city, count(*) AS n
            FROM votes v JOIN city_pick c
              ON c.lead_key = v.lead_key AND lower(trim(v.city)) = c.city_key
            GROUP BY ALL)
        QUALIFY row_number() OVER (
            PARTITION BY lead_key ORDER BY province IS NULL, n DESC, province, city) = 1
        """
    )
