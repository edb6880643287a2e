"""Risk propagation: a seller tied to risky sellers becomes riskier.

Start: each seller's base risk (``main.seller_base_scores.base_risk_score``; 0 if unscored).
Pins: the latest enforcement outcome per entity wins; a seller confirmed counterfeit is pinned at
``confirmed_counterfeit_score``, one confirmed genuine at ``confirmed_genuine_score``, and a
seller with a listing confirmed counterfeit is raised to at least
``confirmed_listing_seller_score``.

Propagation is a documented weighted neighbour aggregation over the seller-seller projection of
the seller-identifier-source graph (``_net_edges``: shared payment accounts, phones, devices,
addresses and upstream senders, hubs dropped, IDF-weighted), iterated to a fixed point:

    r_i <- max(b_i, damping * sum_j w_ij r_j / (sum_j w_ij + prior))

The pseudo-weight ``prior`` (a virtual neighbour of risk 0) keeps one weak link from passing much
risk, and the average over all neighbours keeps a hub member from inheriting the worst risk of the
hub. The update is monotone and bounded, so it converges; ``max`` with the base means propagation
only raises risk (the contract: base risk raised through the network). Pinned sellers keep their
pin and pass it on.

Unlike personalized PageRank the result is on the same 0..1 scale as the base risk, so it needs
no rescaling and does not depend on the size of the graph.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from ml.network.config import NetworkConfig
from ml.network.sql import arrow, table_exists, temp_table_from_arrow


def build_seller_attrs(con: duckdb.DuckDBPyConnection, rel: dict[str, str]) -> None:
    """``_net_seller_attrs``: seller_id, base_risk, outcome, listing_confirmed (every seller).

    Everything propagation and the declared-group rule read about a seller besides its links;
    the incremental trace compares it with the state of the last run to find changed sellers.
    """
    base_sql = (
        "SELECT seller_id, base_risk_score FROM main.seller_base_scores"
        if table_exists(con, "main", "seller_base_scores")
        else "SELECT NULL::VARCHAR AS seller_id, NULL::DOUBLE AS base_risk_score WHERE false"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _net_seller_attrs AS
        WITH outcomes AS (
            SELECT entity_type, entity_id, outcome FROM {rel["enforcement_outcomes"]}
            QUALIFY row_number() OVER (PARTITION BY entity_type, entity_id
                                       ORDER BY decided_at DESC, case_ref DESC) = 1
        ),
        seller_outcome AS (
            SELECT entity_id AS seller_id, outcome FROM outcomes WHERE entity_type = 'seller'
        ),
        listing_confirmed AS (
            SELECT DISTINCT l.seller_id FROM outcomes o
            JOIN {rel["listings"]} l ON l.listing_id = o.entity_id
            WHERE o.entity_type = 'listing' AND o.outcome = 'counterfeit_confirmed'
        ),
        base AS (SELECT seller_id, max(base_risk_score) AS base_risk
                 FROM ({base_sql}) GROUP BY ALL)
        SELECT s.seller_id,
               least(greatest(coalesce(b.base_risk, 0.0), 0.0), 1.0) AS base_risk,
               so.outcome, lc.seller_id IS NOT NULL AS listing_confirmed
        FROM (SELECT DISTINCT seller_id FROM {rel["sellers"]}) s
        LEFT JOIN base b USING (seller_id)
        LEFT JOIN seller_outcome so USING (seller_id)
        LEFT JOIN listing_confirmed lc USING (seller_id)
        """
    )


def _iterate(
    weights: csr_matrix,
    floor: np.ndarray,
    pinned: np.ndarray,
    component: np.ndarray,
    config: NetworkConfig,
) -> np.ndarray:
    """The fixed-point iteration, converged per connected component.

    A component stops when its own largest change is below the tolerance, never because of
    another component: a seller's result then depends on its component only, which is what
    lets an incremental run recompute just the components a batch touched and keep the rest.
    """
    is_pinned = ~np.isnan(pinned)
    denominator = np.asarray(weights.sum(axis=1)).ravel() + config.propagation_prior_weight
    risk = np.where(is_pinned, pinned, floor)
    n_components = int(component.max()) + 1 if len(component) else 0
    active = np.ones(n_components, dtype=bool)
    for _ in range(config.propagation_iterations):
        spread = config.propagation_damping * (weights @ risk) / denominator
        updated = np.where(is_pinned, pinned, np.maximum(floor, spread))
        moving = active[component]
        change = np.where(moving, np.abs(updated - risk), 0.0)
        risk = np.where(moving, updated, risk)
        largest = np.zeros(n_components)
        np.maximum.at(largest, component, change)
        active &= largest >= 1e-6
        if not active.any():
            break
    return risk


def propagate_risk(
    con: duckdb.DuckDBPyConnection, config: NetworkConfig, seeds: str | None = None
) -> int:
    """``_net_seller_risk_new``: seller_id, base_risk, risk_score, pinned.

    Reads ``_net_seller_attrs`` and ``_net_edges`` (every kept link, any weight). With ``seeds``
    (a temp table of seller_id) only the connected components of the link graph that contain a
    seed are computed (their sellers are the rows written); without, every seller. Returns how
    many sellers were computed.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_seller_index AS
        SELECT *, (row_number() OVER (ORDER BY seller_id)) - 1 AS i FROM _net_seller_attrs
        """
    )
    nodes = arrow(
        con,
        "SELECT seller_id, base_risk, outcome, listing_confirmed FROM _net_seller_index ORDER BY i",
    )
    n = nodes.num_rows
    edges = arrow(
        con,
        """
        SELECT a.i AS a, b.i AS b, e.weight
        FROM _net_edges e
        JOIN _net_seller_index a ON a.seller_id = e.seller_a
        JOIN _net_seller_index b ON b.seller_id = e.seller_b
        ORDER BY a, b
        """,
    )
    a = edges.column("a").to_numpy()
    b = edges.column("b").to_numpy()
    w = edges.column("weight").to_numpy()
    weights = coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
    ).tocsr()
    weights.sort_indices()  # a fixed summation order: the same component sums the same way
    _, component = connected_components(weights, directed=False)

    if seeds is None:
        chosen = np.arange(n)
    else:
        seed_index = np.asarray(
            [
                i
                for (i,) in con.execute(
                    f"SELECT x.i FROM _net_seller_index x JOIN {seeds} USING (seller_id)"
                ).fetchall()
            ],
            dtype=np.int64,
        )
        touched = np.zeros(int(component.max()) + 1 if n else 0, dtype=bool)
        touched[component[seed_index]] = True
        chosen = np.flatnonzero(touched[component]) if n else np.arange(0)

    base = np.asarray(nodes.column("base_risk").to_numpy(zero_copy_only=False), dtype=float)
    outcome = np.asarray(nodes.column("outcome").to_pylist(), dtype=object)
    listing_confirmed = np.asarray(nodes.column("listing_confirmed").to_pylist(), dtype=bool)
    floor = base.copy()
    floor[listing_confirmed] = np.maximum(
        floor[listing_confirmed], config.confirmed_listing_seller_score
    )
    pinned = np.full(n, np.nan)
    pinned[outcome == "counterfeit_confirmed"] = config.confirmed_counterfeit_score
    pinned[outcome == "genuine_confirmed"] = config.confirmed_genuine_score

    sub = weights[chosen][:, chosen]
    sub.sort_indices()
    _, sub_component = connected_components(sub, directed=False)
    risk = _iterate(sub, floor[chosen], pinned[chosen], sub_component, config)

    table = pa.table(
        {
            "seller_id": nodes.column("seller_id").take(pa.array(chosen, pa.int64())),
            "base_risk": pa.array(base[chosen]),
            "risk_score": pa.array(np.clip(risk, 0.0, 1.0)),
            "pinned": pa.array(~np.isnan(pinned[chosen])),
        }
    )
    temp_table_from_arrow(con, "_net_seller_risk_new", table)
    return len(chosen)
