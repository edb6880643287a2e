"""Rings: groups of sellers tied together by what they share.

1. Keep the strong ties (edge weight >= ``strong_tie``: one hard identifier outside a hub, or
   several soft ones together) and take connected components.
2. A component of at most ``leiden_min_component`` sellers is one ring. A bigger one may be two
   rings touching through a weak bridge, so it is split by Leiden (``leidenalg``, modularity or
   CPM on the weighted component, fixed seed, iterated until stable).
3. Rings are the communities with at least ``min_ring_size`` sellers (3 by default: two shops of
   one owner are common and legitimate).
4. A declared operator group is not a ring: when every member is registered under one and the
   same business licence, a company runs several shops openly (sharing its licence, company
   account and office devices is then expected). Counterfeit rings hide the common owner behind
   nominees. Such a group is still a ring when one of its members is confirmed counterfeit
   (``declared_group_needs_confirmation``).

Leiden runs per component rather than on the whole graph: modularity's resolution limit would
otherwise keep weakly bridged groups together in a big graph, and per component the result of one
component does not depend on the rest of the data.
"""

from __future__ import annotations

import duckdb
import igraph as ig
import leidenalg
import pyarrow as pa

from ml.network.config import NetworkConfig
from ml.network.sql import temp_table_from_arrow


def _split(component: ig.Graph, config: NetworkConfig) -> list[list[int]]:
    if config.leiden_objective.lower() == "cpm":
        partition_type = leidenalg.CPMVertexPartition
    else:
        partition_type = leidenalg.RBConfigurationVertexPartition
    partition = leidenalg.find_partition(
        component,
        partition_type,
        weights="weight",
        resolution_parameter=config.leiden_resolution,
        n_iterations=-1,
        seed=config.leiden_seed,
    )
    return [list(c) for c in partition]


def detect_rings(
    graph: ig.Graph, config: NetworkConfig, only: set[str] | None = None
) -> tuple[list[list[str]], set[str]]:
    """Rings as sorted lists of seller ids, ordered by their smallest member; and the sellers
    of the components that were clustered.

    With ``only`` (seller ids), only the connected components holding one of them are clustered:
    each component is split on its own (``graph.subgraph``, the same call as for every
    component), so the rings of a component do not depend on whether others were skipped.
    """
    rings: list[list[str]] = []
    covered: set[str] = set()
    for component in graph.connected_components():
        names = [graph.vs[v]["name"] for v in component]
        if only is not None and only.isdisjoint(names):
            continue
        covered.update(names)
        if len(component) < config.min_ring_size:
            continue
        if len(component) <= config.leiden_min_component:
            groups = [list(range(len(component)))]
        else:
            groups = _split(graph.subgraph(component), config)
        for group in groups:
            if len(group) >= config.min_ring_size:
                rings.append(sorted(names[i] for i in group))
    return sorted(rings), covered


def write_ring_members(con: duckdb.DuckDBPyConnection, rings: list[list[str]]) -> None:
    """``_net_ring_members``: group_key, member.

    A ring's key is its smallest member (rings are disjoint, so it is unique): the same ring
    gets the same key whether it was found by a full run or by an incremental one, and id
    assignment breaks ties by key, so both give it the same id.
    """
    keys = [ring[0] for ring in rings for _ in ring]
    members = [s for ring in rings for s in ring]
    table = pa.table(
        {"group_key": pa.array(keys, pa.string()), "member": pa.array(members, pa.string())}
    )
    temp_table_from_arrow(con, "_net_ring_members", table)


def drop_declared_operator_groups(
    con: duckdb.DuckDBPyConnection, rel: dict[str, str], config: NetworkConfig
) -> int:
    """Move declared operator groups out of ``_net_ring_members``; returns how many.

    Their keys stay in temp table ``_net_declared_groups`` (counted in the run summary).
    """
    if not config.declared_group_needs_confirmation:
        con.execute("CREATE OR REPLACE TEMP TABLE _net_declared_groups (group_key VARCHAR)")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _net_declared_members "
            "(group_key VARCHAR, seller_id VARCHAR)"
        )
        return 0
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _net_declared_groups AS
        WITH sizes AS (SELECT group_key, count(*) AS n FROM _net_ring_members GROUP BY ALL),
        licence AS (
            SELECT m.group_key, i.identifier, count(*) AS n_holders
            FROM _net_ring_members m
            JOIN _net_seller_ids i ON i.seller_id = m.member AND i.kind = 'business_license'
            GROUP BY ALL
        ),
        outcomes AS (
            SELECT entity_type, entity_id, outcome FROM {rel["enforcement_outcomes"]}
            QUALIFY row_number() OVER (PARTITION BY entity_type, entity_id
                                       ORDER BY decided_at DESC, case_ref DESC) = 1
        ),
        confirmed AS (
            SELECT entity_id AS seller_id FROM outcomes
            WHERE entity_type = 'seller' AND outcome = 'counterfeit_confirmed'
            UNION
            SELECT l.seller_id
            FROM outcomes o JOIN {rel["listings"]} l ON l.listing_id = o.entity_id
            WHERE o.entity_type = 'listing' AND o.outcome = 'counterfeit_confirmed'
        )
        SELECT DISTINCT l.group_key
        FROM licence l JOIN sizes s USING (group_key)
        WHERE l.n_holders = s.n
          AND NOT EXISTS (SELECT 1 FROM _net_ring_members m JOIN confirmed c
                          ON c.seller_id = m.member WHERE m.group_key = l.group_key)
        """
    )
    dropped = con.execute("SELECT count(*) FROM _net_declared_groups").fetchall()[0][0]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _net_declared_members AS "
        "SELECT group_key, member AS seller_id FROM _net_ring_members "
        "WHERE group_key IN (SELECT group_key FROM _net_declared_groups)"
    )
    con.execute(
        "DELETE FROM _net_ring_members "
        "WHERE group_key IN (SELECT group_key FROM _net_declared_groups)"
    )
    return int(dropped)


def build_ring_tables(
    con: duckdb.DuckDBPyConnection, ring_ids: str, links: str = "_net_links"
) -> None:
    """``_net_rings`` and ``_net_ring_links`` from the members and their assigned ids.

    ``ring_ids`` is a temp table (group_key, id); ``links`` holds (at least) every link between
    two members. Links are every kept identifier shared by two
    members of one ring, once in each direction, so ``WHERE seller_id = ?`` finds all of a
    seller's links; ``linked_by`` lists the kinds of a member's links.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _net_ring_seller AS
        SELECT i.id AS ring_id, m.member AS seller_id
        FROM _net_ring_members m JOIN {ring_ids} i USING (group_key)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _net_ring_links AS
        WITH inner_links AS (
            SELECT ra.ring_id, l.seller_a, l.seller_b, l.kind, l.identifier
            FROM {links} l
            JOIN _net_ring_seller ra ON ra.seller_id = l.seller_a
            JOIN _net_ring_seller rb ON rb.seller_id = l.seller_b AND rb.ring_id = ra.ring_id
        )
        SELECT ring_id, seller_a AS seller_id, seller_b AS other_seller_id, kind, identifier
        FROM inner_links
        UNION ALL
        SELECT ring_id, seller_b, seller_a, kind, identifier FROM inner_links
        ORDER BY ring_id, seller_id, other_seller_id, kind, identifier
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_rings AS
        SELECT r.ring_id, r.seller_id,
               coalesce(k.linked_by, []::VARCHAR[]) AS linked_by
        FROM _net_ring_seller r
        LEFT JOIN (SELECT ring_id, seller_id, list_sort(list(DISTINCT kind)) AS linked_by
                   FROM _net_ring_links GROUP BY ALL) k USING (ring_id, seller_id)
        ORDER BY r.ring_id, r.seller_id
        """
    )
