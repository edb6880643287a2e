"""The seller-identifier graph and its seller-seller projection, built in DuckDB SQL.

Temp tables made here (one connection, one run):

* ``_net_sender_map`` / ``_net_shipfrom_map``: (city, address) as written -> resolved place.
* ``_net_seller_ids``: seller_id, kind, identifier (normalized; for addresses the resolved place).
* ``_net_identifiers``: kind, identifier, n_sellers, weight (hubs dropped, IDF-style weights).
* ``_net_links``: seller_a < seller_b sharing one kept identifier: kind, identifier, weight.
* ``_net_edges``: seller_a < seller_b, weight (sum over kinds of the strongest shared identifier
  of that kind), kinds (VARCHAR[]).

Edges come from a self-join of ``_net_seller_ids`` on the identifier, so the work is one hash
join whose size is bounded by the hub guard (at most ``max_sellers``^2 pairs per identifier).
"""

from __future__ import annotations

import contextlib

import duckdb
import igraph as ig
import pyarrow as pa

from ml.contract import TABLES
from ml.network.config import NetworkConfig
from ml.network.identifiers import (
    normalize_account_ref,
    normalize_email,
    normalize_license,
    normalize_phone,
    resolve_addresses,
)
from ml.network.sql import arrow, table_exists, temp_table_from_arrow


def input_relation(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """``staging.stg_<table>``, or an empty temp table of the contract's shape if it is absent."""
    if table_exists(con, "staging", f"stg_{table}"):
        return f"staging.stg_{table}"
    empty = f"_net_empty_{table}"
    columns = ", ".join(f"{c.name} {c.duckdb_type}" for c in TABLES[table].columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {empty} ({columns})")
    return empty


def register_normalizers(con: duckdb.DuckDBPyConnection) -> None:
    """The Python normalizers as DuckDB scalar functions (applied to distinct values only)."""
    from duckdb.sqltypes import VARCHAR

    for name, fn in (
        ("net_phone", normalize_phone),
        ("net_email", normalize_email),
        ("net_account", normalize_account_ref),
        ("net_license", normalize_license),
    ):
        with contextlib.suppress(duckdb.InvalidInputException):  # not registered yet
            con.remove_function(name)
        con.create_function(name, fn, [VARCHAR], VARCHAR, side_effects=False)


def _address_map(
    con: duckdb.DuckDBPyConnection, sql: str, name: str, config: NetworkConfig
) -> None:
    """Resolve the distinct (city, address, n) rows of ``sql`` into temp table ``name``."""
    rows = arrow(con, sql)
    cities = rows.column("city").to_pylist()
    addresses = rows.column("address").to_pylist()
    counts = rows.column("n").to_pylist()
    resolved = resolve_addresses(
        list(zip(cities, addresses, strict=True)),
        weights=counts,
        threshold=config.address_match_threshold,
    )
    place = [
        f"{canon}, {city}" if canon else ""
        for canon, city in zip(resolved.canonical, resolved.city_key, strict=True)
    ]
    table = pa.table(
        {
            "city": pa.array(cities, pa.string()),
            "address": pa.array(addresses, pa.string()),
            "n": pa.array(counts, pa.int64()),
            "normalized": pa.array(resolved.normalized, pa.string()),
            "canonical": pa.array(resolved.canonical, pa.string()),
            "city_key": pa.array(resolved.city_key, pa.string()),
            # The place key: canonical spelling and city (one spelling can exist in two cities).
            "place": pa.array(place, pa.string()),
        }
    )
    temp_table_from_arrow(con, name, table)


def build_address_maps(
    con: duckdb.DuckDBPyConnection, rel: dict[str, str], config: NetworkConfig
) -> None:
    _address_map(
        con,
        f"""SELECT sender_city AS city, sender_address AS address, count(*) AS n
            FROM {rel["inbound_shipments"]} WHERE sender_address IS NOT NULL
            GROUP BY ALL ORDER BY city, address""",
        "_net_sender_map",
        config,
    )
    _address_map(
        con,
        f"""SELECT ship_from_city AS city, ship_from_address AS address, count(*) AS n
            FROM {rel["listings"]} WHERE ship_from_address IS NOT NULL
            GROUP BY ALL ORDER BY city, address""",
        "_net_shipfrom_map",
        config,
    )


def build_seller_identifiers(con: duckdb.DuckDBPyConnection, rel: dict[str, str]) -> None:
    """``_net_seller_ids``: every (seller, kind, normalized identifier) the data shows.

    Shop names, holder names and registered province/city are deliberately absent: nominee
    registration details must never link sellers.
    """
    register_normalizers(con)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _net_seller_ids AS
        SELECT DISTINCT seller_id, kind, identifier FROM (
            SELECT seller_id, 'phone' AS kind, net_phone(phone) AS identifier
            FROM {rel["sellers"]} WHERE phone IS NOT NULL
            UNION ALL
            SELECT seller_id, 'email', net_email(email)
            FROM {rel["sellers"]} WHERE email IS NOT NULL
            UNION ALL
            SELECT seller_id, 'id_document', lower(trim(id_document_hash))
            FROM {rel["sellers"]} WHERE id_document_hash IS NOT NULL
            UNION ALL
            SELECT seller_id, 'business_license', net_license(business_license)
            FROM {rel["sellers"]} WHERE business_license IS NOT NULL
            UNION ALL
            SELECT p.seller_id, p.account_type, a.identifier
            FROM {rel["seller_payment_accounts"]} p
            JOIN (SELECT account_ref, net_account(account_ref) AS identifier
                  FROM (SELECT DISTINCT account_ref FROM {rel["seller_payment_accounts"]})) a
              USING (account_ref)
            UNION ALL
            SELECT DISTINCT seller_id, 'device', lower(trim(device_id))
            FROM {rel["seller_logins"]}
            UNION ALL
            SELECT DISTINCT seller_id, 'ip', lower(trim(ip)) FROM {rel["seller_logins"]}
            UNION ALL
            SELECT DISTINCT seller_id, 'image_phash', lower(image_phash)
            FROM {rel["listings"]} WHERE image_phash IS NOT NULL
            UNION ALL
            SELECT DISTINCT l.seller_id, 'ship_from_address', m.place
            FROM {rel["listings"]} l
            JOIN _net_shipfrom_map m
              ON m.city IS NOT DISTINCT FROM l.ship_from_city
             AND m.address = l.ship_from_address
            UNION ALL
            SELECT DISTINCT s.seller_id, 'sender_address', m.place
            FROM {rel["inbound_shipments"]} s
            JOIN _net_sender_map m
              ON m.city IS NOT DISTINCT FROM s.sender_city AND m.address = s.sender_address
        )
        WHERE identifier IS NOT NULL AND identifier <> ''
        """
    )


def build_identifiers(con: duckdb.DuckDBPyConnection, config: NetworkConfig) -> None:
    """``_net_kinds`` and ``_net_identifiers`` (kept identifiers with their hub-guarded weight)."""
    kinds = pa.table(
        {
            "kind": list(config.kind_weights),
            "base_weight": [float(config.kind_weights[k]) for k in config.kind_weights],
            "max_sellers": [int(config.max_sellers.get(k, 10)) for k in config.kind_weights],
        }
    )
    temp_table_from_arrow(con, "_net_kinds", kinds)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_identifiers AS
        SELECT i.kind, i.identifier, i.n_sellers,
               k.base_weight / (1 + $decay * ln(greatest(i.n_sellers, 2) / 2.0)) AS weight
        FROM (SELECT kind, identifier, count(*) AS n_sellers
              FROM _net_seller_ids GROUP BY ALL) i
        JOIN _net_kinds k USING (kind)
        WHERE i.n_sellers >= 2 AND i.n_sellers <= k.max_sellers AND k.base_weight > 0
        """,
        {"decay": config.hub_decay},
    )


def build_link_table(
    con: duckdb.DuckDBPyConnection, out: str, sellers: str | None = None, both: bool = False
) -> None:
    """Temp table ``out``: seller_a < seller_b sharing one kept identifier (kind, identifier,
    weight).

    ``sellers`` (a temp table of seller_id) limits the self-join to identifiers those sellers
    hold and keeps the pairs with one end (``both``: both ends) among them; without it, every
    pair.
    """
    if sellers is None:
        scope, pairs = "", ""
    else:
        scope = f"""JOIN (SELECT DISTINCT kind, identifier FROM _net_seller_ids
                          WHERE seller_id IN (SELECT seller_id FROM {sellers}))
                     USING (kind, identifier)"""
        a_in = f"a.seller_id IN (SELECT seller_id FROM {sellers})"
        b_in = f"b.seller_id IN (SELECT seller_id FROM {sellers})"
        pairs = f"AND ({a_in} {'AND' if both else 'OR'} {b_in})"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {out} AS
        WITH kept AS (
            SELECT s.seller_id, s.kind, s.identifier, i.weight
            FROM _net_seller_ids s JOIN _net_identifiers i USING (kind, identifier)
            {scope}
        )
        SELECT a.seller_id AS seller_a, b.seller_id AS seller_b, a.kind, a.identifier, a.weight
        FROM kept a JOIN kept b
          ON a.kind = b.kind AND a.identifier = b.identifier AND a.seller_id < b.seller_id
        {pairs}
        """
    )


def build_edge_table(con: duckdb.DuckDBPyConnection, links: str, out: str) -> None:
    """Temp table ``out``: seller_a < seller_b, weight, kinds, from the link table ``links``.

    The weight is rounded to 12 decimals: DuckDB sums in no fixed order, and an edge computed in
    two runs (or in an incremental and a full run) must weigh exactly the same for Leiden and
    the strong-tie threshold to decide alike.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT seller_a, seller_b, round(sum(kind_weight), 12) AS weight,
               list_sort(list(kind)) AS kinds
        FROM (SELECT seller_a, seller_b, kind, max(weight) AS kind_weight
              FROM {links} GROUP BY ALL)
        GROUP BY ALL
        """
    )


def build_links(con: duckdb.DuckDBPyConnection, config: NetworkConfig) -> None:
    """``_net_identifiers``, ``_net_links`` and ``_net_edges`` over every seller."""
    build_identifiers(con, config)
    build_link_table(con, "_net_links")
    build_edge_table(con, "_net_links", "_net_edges")


def seller_graph(
    con: duckdb.DuckDBPyConnection, min_weight: float = 0.0
) -> tuple[ig.Graph, list[str]]:
    """Undirected weighted igraph of sellers tied by at least ``min_weight``.

    Vertices are the sellers that have such an edge, in sorted order (determinism); the vertex
    attribute ``name`` holds the seller id.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_nodes AS
        SELECT seller_id, (row_number() OVER (ORDER BY seller_id)) - 1 AS i
        FROM (SELECT seller_a AS seller_id FROM _net_edges WHERE weight >= $w
              UNION SELECT seller_b FROM _net_edges WHERE weight >= $w)
        """,
        {"w": min_weight},
    )
    names = [r[0] for r in con.execute("SELECT seller_id FROM _net_nodes ORDER BY i").fetchall()]
    edges = arrow(
        con,
        """
        SELECT a.i AS a, b.i AS b, e.weight
        FROM _net_edges e
        JOIN _net_nodes a ON a.seller_id = e.seller_a
        JOIN _net_nodes b ON b.seller_id = e.seller_b
        WHERE e.weight >= $w
        ORDER BY a, b
        """,
        {"w": min_weight},
    )
    graph = ig.Graph(
        n=len(names),
        edges=list(zip(edges.column("a").to_pylist(), edges.column("b").to_pylist(), strict=True)),
        directed=False,
    )
    graph.vs["name"] = names
    graph.es["weight"] = edges.column("weight").to_pylist()
    return graph, names
