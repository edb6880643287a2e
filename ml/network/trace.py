"""``trace_network``: identifiers -> graph -> rings, propagated seller risk, sources, stable ids.

Everything is computed into temp tables of one connection; the outputs (``main.rings``,
``main.ring_links``, ``main.sources``, ``main.seller_scores``) and the registries
(``cloudsword.ring_registry``, ``cloudsword.source_registry``) are then replaced in one
transaction, so readers see either the previous run's network or this one, never a mix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ml.network.config import NetworkConfig
from ml.network.graph import (
    INPUTS,
    build_address_maps,
    build_links,
    build_seller_identifiers,
    input_relation,
    seller_graph,
)
from ml.network.propagate import propagate_risk
from ml.network.registry import assign_ids, ensure_registry
from ml.network.rings import (
    build_ring_tables,
    detect_rings,
    drop_declared_operator_groups,
    write_ring_members,
)
from ml.network.sources import build_sources, write_source_groups
from ml.network.sql import scalar
from ml.warehouse import connect

RING_PREFIX, SOURCE_PREFIX = "R", "S"


@dataclass(frozen=True)
class NetworkSummary:
    """Counts of one tracing run (plain values, fit for Dagster metadata and logs)."""

    n_sellers: int
    n_identifiers_linking: int
    n_hub_identifiers_dropped: int
    n_seller_edges: int
    n_strong_edges: int
    n_rings: int
    n_ring_sellers: int
    largest_rings: list[tuple[str, int]]
    n_sources: int
    top_sources: list[tuple[str, float]]
    n_sellers_raised: int
    mean_risk: float
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    #: Groups tied like a ring but registered openly under one business licence (not rings).
    n_declared_operator_groups: int = 0

    def rings_metadata(self) -> dict[str, Any]:
        return {
            "n_rings": self.n_rings,
            "n_ring_sellers": self.n_ring_sellers,
            "largest_rings": ", ".join(f"{r} ({n})" for r, n in self.largest_rings) or "none",
            "n_identifiers_linking": self.n_identifiers_linking,
            "n_hub_identifiers_dropped": self.n_hub_identifiers_dropped,
            "n_seller_edges": self.n_seller_edges,
            "n_strong_edges": self.n_strong_edges,
            "n_declared_operator_groups": self.n_declared_operator_groups,
            "seconds": round(self.seconds, 2),
        }

    def sources_metadata(self) -> dict[str, Any]:
        return {
            "n_sources": self.n_sources,
            "top_sources": ", ".join(f"{s} ({r:.2f})" for s, r in self.top_sources) or "none",
        }

    def seller_metadata(self) -> dict[str, Any]:
        return {
            "n_sellers": self.n_sellers,
            "n_sellers_raised": self.n_sellers_raised,
            "mean_risk": round(self.mean_risk, 4),
        }


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def compute_network(
    con: duckdb.DuckDBPyConnection, scored_at: datetime, config: NetworkConfig
) -> dict[str, float]:
    """Build every ``_net_*`` temp table of a run; returns seconds per step."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(now - clock, 3)
        clock = now

    rel = {table: input_relation(con, table) for table in INPUTS}
    build_address_maps(con, rel, config)
    lap("resolve_addresses")
    build_seller_identifiers(con, rel)
    build_links(con, config)
    lap("graph")
    graph, _ = seller_graph(con, config.strong_tie)
    rings = detect_rings(graph, config)
    write_ring_members(con, rings)
    drop_declared_operator_groups(con, rel, config)
    lap("rings")
    assign_ids(
        con,
        groups="_net_ring_members",
        registry="ring_registry",
        id_column="ring_id",
        prefix=RING_PREFIX,
        run_at=scored_at,
        min_overlap=config.min_id_overlap,
        out="_net_ring_ids",
    )
    build_ring_tables(con, "_net_ring_ids")
    lap("ring_ids")
    propagate_risk(con, rel, config)
    lap("propagate")
    write_source_groups(con)
    assign_ids(
        con,
        groups="_net_source_groups",
        registry="source_registry",
        id_column="source_id",
        prefix=SOURCE_PREFIX,
        run_at=scored_at,
        min_overlap=config.min_id_overlap,
        out="_net_source_ids",
    )
    build_sources(con, rel, "_net_source_ids", config)
    lap("sources")
    return timings


def publish(con: duckdb.DuckDBPyConnection, scored_at: datetime) -> None:
    """Swap this run's tables in, in one transaction."""
    ensure_registry(con, "ring_registry", "ring_id")
    ensure_registry(con, "source_registry", "source_id")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE OR REPLACE TABLE main.rings AS "
            "SELECT ring_id, seller_id, linked_by FROM _net_rings ORDER BY ring_id, seller_id"
        )
        con.execute(
            "CREATE OR REPLACE TABLE main.ring_links AS "
            "SELECT ring_id, seller_id, other_seller_id, kind, identifier FROM _net_ring_links"
        )
        con.execute(
            "CREATE OR REPLACE TABLE main.sources AS "
            "SELECT source_id, sender_address, sender_city, linked_sellers, risk_score, "
            "est_counterfeit_value FROM _net_sources"
        )
        con.execute(
            """
            CREATE OR REPLACE TABLE main.seller_scores AS
            SELECT r.seller_id, r.risk_score, rs.ring_id, $scored_at::TIMESTAMP AS scored_at
            FROM _net_seller_risk r LEFT JOIN _net_ring_seller rs USING (seller_id)
            ORDER BY r.seller_id
            """,
            {"scored_at": scored_at},
        )
        for registry, temp in (
            ("ring_registry", "_net_ring_ids_registry"),
            ("source_registry", "_net_source_ids_registry"),
        ):
            con.execute(f"DELETE FROM cloudsword.{registry}")
            con.execute(f"INSERT INTO cloudsword.{registry} SELECT * FROM {temp}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def summarize(con: duckdb.DuckDBPyConnection, config: NetworkConfig) -> dict[str, Any]:
    def one(sql: str, params: dict[str, Any] | None = None) -> Any:
        return scalar(con, sql, params)

    return {
        "n_sellers": one("SELECT count(*) FROM _net_seller_risk"),
        "n_identifiers_linking": one("SELECT count(*) FROM _net_identifiers"),
        "n_hub_identifiers_dropped": one(
            """SELECT count(*) FROM (SELECT kind, identifier, count(*) AS n
                                     FROM _net_seller_ids GROUP BY ALL) i
               JOIN _net_kinds k USING (kind) WHERE i.n > k.max_sellers"""
        ),
        "n_seller_edges": one("SELECT count(*) FROM _net_edges"),
        "n_strong_edges": one(
            "SELECT count(*) FROM _net_edges WHERE weight >= $w", {"w": config.strong_tie}
        ),
        "n_rings": one("SELECT count(DISTINCT ring_id) FROM _net_rings"),
        "n_declared_operator_groups": one("SELECT count(*) FROM _net_declared_groups"),
        "n_ring_sellers": one("SELECT count(DISTINCT seller_id) FROM _net_rings"),
        "largest_rings": [
            (r, int(n))
            for r, n in con.execute(
                "SELECT ring_id, count(*) AS n FROM _net_rings GROUP BY ALL "
                "ORDER BY n DESC, ring_id LIMIT 5"
            ).fetchall()
        ],
        "n_sources": one("SELECT count(*) FROM _net_sources"),
        "top_sources": [
            (s, float(r))
            for s, r in con.execute(
                "SELECT source_id, risk_score FROM _net_sources "
                "ORDER BY risk_score DESC, source_id LIMIT 5"
            ).fetchall()
        ],
        "n_sellers_raised": one(
            "SELECT count(*) FROM _net_seller_risk WHERE risk_score > base_risk + 1e-9"
        ),
        "mean_risk": float(one("SELECT coalesce(avg(risk_score), 0) FROM _net_seller_risk")),
    }


def trace_network(
    warehouse_path: Path, scored_at: datetime, config: NetworkConfig | None = None
) -> NetworkSummary:
    """Trace rings and sources in the warehouse and publish them (one connection, closed)."""
    config = config or NetworkConfig()
    scored_at = _naive_utc(scored_at)
    started = time.perf_counter()
    with connect(Path(warehouse_path)) as con:
        # No progress bar on stdout: this runs inside Dagster and behind JSON-printing CLIs.
        con.execute("SET enable_progress_bar = false")
        timings = compute_network(con, scored_at, config)
        counts = summarize(con, config)
        clock = time.perf_counter()
        publish(con, scored_at)
        timings["publish"] = round(time.perf_counter() - clock, 3)
    return NetworkSummary(**counts, seconds=time.perf_counter() - started, timings=timings)
