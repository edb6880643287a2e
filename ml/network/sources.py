"""Upstream sources: the senders of inbound shipments, resolved across spellings.

A source is one resolved sender place (``_net_sender_map.place``: the canonical normalized
address and city of a cluster of spelling variants). For each source and receiving seller r:

* ``n_sr`` = shipments from the source to r, ``share_r = n_sr / shipments r received`` (how much
  of r's supply this source is);
* ``p_r`` = r's propagated risk (``_net_seller_risk``).

Risk of a source = mean receiver risk x breadth:

* mean risk = sum n_sr p_r / (sum n_sr + prior): shipment-weighted, shrunk toward 0 for tiny
  sources, so a brand's warehouse or a logistics hub serving mostly genuine shops stays low;
* breadth = 1 - exp(-sum_r p_r share_r / scale): the expected number of risky receivers that
  depend on it, saturating; a source feeding several risky sellers or rings ranks above one that
  feeds a single shop.

Estimated counterfeit value (CNY) = sum_r share_r x sum over r's orders of
quantity x unit_price x counterfeit_score of the listing: receivers' counterfeit sales attributed
to the source by its share of their supply, so a seller's sales are not counted twice.
"""

from __future__ import annotations

import duckdb

from ml.network.config import NetworkConfig
from ml.network.sql import table_exists


def write_source_groups(con: duckdb.DuckDBPyConnection) -> None:
    """``_net_source_groups``: group_key (place), member (``city|normalized`` variant)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_source_groups AS
        SELECT DISTINCT place AS group_key, city_key || '|' || normalized AS member
        FROM _net_sender_map WHERE place <> ''
        """
    )


def build_sources(
    con: duckdb.DuckDBPyConnection, rel: dict[str, str], source_ids: str, config: NetworkConfig
) -> None:
    """``_net_sources`` in the contract's shape; ``source_ids`` is (group_key, id)."""
    listing_scores = (
        "main.listing_scores"
        if table_exists(con, "main", "listing_scores")
        else "(SELECT NULL::VARCHAR AS listing_id, NULL::DOUBLE AS counterfeit_score WHERE false)"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _net_sources AS
        WITH shipments AS (
            SELECT m.place, s.seller_id, count(*) AS n_shipments
            FROM {rel["inbound_shipments"]} s
            JOIN _net_sender_map m
              ON m.city IS NOT DISTINCT FROM s.sender_city AND m.address = s.sender_address
            WHERE m.place <> ''
            GROUP BY ALL
        ),
        received AS (SELECT seller_id, sum(n_shipments) AS n_received
                     FROM shipments GROUP BY ALL),
        seller_value AS (
            SELECT l.seller_id,
                   sum(o.quantity * o.unit_price * coalesce(ls.counterfeit_score, 0)) AS value
            FROM {rel["orders"]} o
            JOIN {rel["listings"]} l USING (listing_id)
            LEFT JOIN {listing_scores} ls USING (listing_id)
            WHERE l.seller_id IN (SELECT seller_id FROM received)
            GROUP BY ALL
        ),
        receivers AS (
            SELECT s.place, s.seller_id, s.n_shipments,
                   s.n_shipments / r.n_received AS share,
                   coalesce(k.risk_score, 0.0) AS risk,
                   coalesce(v.value, 0.0) AS value
            FROM shipments s
            JOIN received r USING (seller_id)
            LEFT JOIN _net_seller_risk k USING (seller_id)
            LEFT JOIN seller_value v USING (seller_id)
        ),
        per_source AS (
            SELECT place,
                   list_sort(list(DISTINCT seller_id)) AS linked_sellers,
                   sum(n_shipments * risk) / (sum(n_shipments) + $prior) AS mean_risk,
                   1 - exp(-sum(risk * share) / $scale) AS breadth,
                   sum(share * value) AS est_counterfeit_value
            FROM receivers GROUP BY ALL
        ),
        city AS (
            SELECT place, first(city ORDER BY n DESC, city) AS sender_city,
                   any_value(canonical) AS canonical
            FROM (SELECT place, city, any_value(canonical) AS canonical, sum(n) AS n
                  FROM _net_sender_map WHERE place <> '' GROUP BY ALL)
            GROUP BY ALL
        )
        SELECT i.id AS source_id, c.canonical AS sender_address, c.sender_city,
               p.linked_sellers,
               least(greatest(p.mean_risk * p.breadth, 0.0), 1.0) AS risk_score,
               round(p.est_counterfeit_value, 2) AS est_counterfeit_value
        FROM per_source p
        JOIN city c USING (place)
        JOIN {source_ids} i ON i.group_key = p.place
        ORDER BY risk_score DESC, source_id
        """,
        {"prior": config.source_prior_shipments, "scale": config.source_breadth_scale},
    )
