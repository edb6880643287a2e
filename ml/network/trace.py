"""``trace_network``: identifiers -> graph -> rings, propagated seller risk, sources, stable ids.

Everything is computed into temp tables of one connection; the changes to the outputs
(``main.rings``, ``main.ring_links``, ``main.sources``, ``main.seller_scores``), the registries
(``cloudsword.ring_registry``, ``cloudsword.source_registry``) and the state of the inputs
(``ml.network.state``) are then applied in one transaction, so readers see either the previous
run's network or this one, never a mix.

A run is incremental when the last one left its state: it recomputes only what the changed
sellers reach (see ``compute_network`` and ``ml.network.state``) and writes only the output
rows that changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ml.network.config import INPUTS, NetworkConfig
from ml.network.graph import (
    build_address_maps,
    build_edge_table,
    build_identifiers,
    build_link_table,
    build_seller_identifiers,
    input_relation,
    seller_graph,
)
from ml.network.propagate import build_seller_attrs, propagate_risk
from ml.network.registry import assign_ids, ensure_registry
from ml.network.rings import (
    build_ring_tables,
    detect_rings,
    drop_declared_operator_groups,
    write_ring_members,
)
from ml.network.sources import build_sources, write_source_groups
from ml.network.sql import scalar, table_exists, temp_table_from_arrow
from ml.network.state import OUTPUTS, ensure_state, find_changes, state_usable, write_state
from ml.warehouse import connect

RING_PREFIX, SOURCE_PREFIX = "R", "S"

#: Two risks closer than this are one risk (DuckDB sums in no fixed order, so a recomputed value
#: may differ in its last bits): such a row is left as it is, with its ``scored_at``.
RISK_TOLERANCE = 1e-12


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
    #: Whether the run started from the last run's state (False: everything recomputed).
    incremental: bool = False
    #: Sellers whose links may have changed; sellers whose components were clustered again;
    #: sellers whose risk was computed again.
    n_sellers_touched: int = 0
    n_sellers_reclustered: int = 0
    n_sellers_repropagated: int = 0
    #: Output rows written: rings (ids), sources, seller_scores (rows).
    written: dict[str, int] = field(default_factory=dict)

    def _work(self) -> dict[str, Any]:
        return {
            "incremental": self.incremental,
            "n_sellers_touched": self.n_sellers_touched,
            "n_sellers_reclustered": self.n_sellers_reclustered,
            "n_sellers_repropagated": self.n_sellers_repropagated,
        }

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
            "rings_written": self.written.get("rings", 0),
            **self._work(),
            "seconds": round(self.seconds, 2),
        }

    def sources_metadata(self) -> dict[str, Any]:
        return {
            "n_sources": self.n_sources,
            "top_sources": ", ".join(f"{s} ({r:.2f})" for s, r in self.top_sources) or "none",
            "sources_written": self.written.get("sources", 0),
        }

    def seller_metadata(self) -> dict[str, Any]:
        return {
            "n_sellers": self.n_sellers,
            "n_sellers_raised": self.n_sellers_raised,
            "mean_risk": round(self.mean_risk, 4),
            "seller_scores_written": self.written.get("seller_scores", 0),
            "n_sellers_repropagated": self.n_sellers_repropagated,
        }


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _temp_ids(con: duckdb.DuckDBPyConnection, name: str, ids: set[str]) -> None:
    temp_table_from_arrow(con, name, pa.table({"seller_id": pa.array(sorted(ids), pa.string())}))


KEPT_RISK_SQL = """
UNION ALL
SELECT a.seller_id, a.base_risk, o.risk_score, a.outcome IS NOT NULL AS pinned
FROM _net_seller_attrs a JOIN main.seller_scores o USING (seller_id)
WHERE a.seller_id NOT IN (SELECT seller_id FROM _net_seller_risk_new)
"""


def compute_network(
    con: duckdb.DuckDBPyConnection,
    scored_at: datetime,
    config: NetworkConfig,
    incremental: bool = True,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Build every ``_net_*`` temp table of a run; returns seconds per step and what was
    recomputed.

    Incremental (the default, when the last run left its state, ``ml.network.state``): only the
    edges of touched sellers are recomputed, only the strongly tied components holding a changed
    seller are clustered again, only the link components holding one get new risks; every other
    ring and risk is the last run's. ``_net_rings``, ``_net_ring_links``, ``_net_seller_risk``
    and ``_net_sources`` always hold the whole result, as a full run would.
    """
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
    build_seller_attrs(con, rel)
    build_identifiers(con, config)
    full = not (incremental and state_usable(con, config))
    if full:
        build_link_table(con, "_net_links")
        build_edge_table(con, "_net_links", "_net_edges")
    else:
        find_changes(con)
        # Only edges between two touched sellers can differ from the last run's.
        build_link_table(con, "_net_links_new", sellers="_net_touched")
        build_edge_table(con, "_net_links_new", "_net_edges_new")
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _net_edges AS
            SELECT seller_a, seller_b, weight, kinds FROM cloudsword.net_state_edges
            WHERE seller_a NOT IN (SELECT seller_id FROM _net_touched)
              AND seller_b NOT IN (SELECT seller_id FROM _net_touched)
            UNION ALL
            SELECT seller_a, seller_b, weight, kinds FROM _net_edges_new
            """
        )
    lap("graph")

    graph, _ = seller_graph(con, config.strong_tie)
    seeds = (
        None
        if full
        else {s for (s,) in con.execute("SELECT seller_id FROM _net_ring_seeds").fetchall()}
    )
    rings, covered = detect_rings(graph, config, only=seeds)
    write_ring_members(con, rings)
    drop_declared_operator_groups(con, rel, config)
    # Sellers whose ring membership is decided in this run: every ring with a member among them
    # is replaced; every other ring (its component untouched) is kept with its rows.
    _temp_ids(con, "_net_affected", covered | (seeds or set()))
    if full:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _net_kept_rings "
            "(ring_id VARCHAR, seller_id VARCHAR, group_key VARCHAR)"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _net_declared_all AS SELECT * FROM _net_declared_members"
        )
    else:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _net_kept_rings AS
            SELECT ring_id, seller_id, min(seller_id) OVER (PARTITION BY ring_id) AS group_key
            FROM main.rings
            WHERE ring_id NOT IN (SELECT ring_id FROM main.rings
                                  WHERE seller_id IN (SELECT seller_id FROM _net_affected))
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _net_declared_all AS
            SELECT group_key, seller_id FROM cloudsword.net_state_declared
            WHERE group_key NOT IN (
                SELECT group_key FROM cloudsword.net_state_declared
                WHERE seller_id IN (SELECT seller_id FROM _net_affected))
            UNION ALL SELECT group_key, seller_id FROM _net_declared_members
            """
        )
    # Ids are assigned over every ring, kept ones included, exactly as a full run assigns them:
    # a kept ring matches its own registry entry member for member and keeps its id.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_ring_groups AS
        SELECT group_key, member FROM _net_ring_members
        UNION ALL SELECT group_key, seller_id FROM _net_kept_rings
        """
    )
    assign_ids(
        con,
        groups="_net_ring_groups",
        registry="ring_registry",
        id_column="ring_id",
        prefix=RING_PREFIX,
        run_at=scored_at,
        min_overlap=config.min_id_overlap,
        out="_net_ring_ids",
    )
    if full:
        links = "_net_links"
    else:
        # Evidence of the re-clustered rings only: links between two of their members.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _net_new_ring_sellers AS "
            "SELECT DISTINCT member AS seller_id FROM _net_ring_members"
        )
        links = "_net_links_rings"
        build_link_table(con, links, sellers="_net_new_ring_sellers", both=True)
    build_ring_tables(con, "_net_ring_ids", links)
    if not full:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _net_kept_ids AS
            SELECT DISTINCT k.ring_id AS old_id, i.id AS ring_id
            FROM _net_kept_rings k JOIN _net_ring_ids i USING (group_key)
            """
        )
        con.execute(
            "INSERT INTO _net_ring_seller SELECT i.ring_id, k.seller_id FROM _net_kept_rings k "
            "JOIN _net_kept_ids i ON i.old_id = k.ring_id"
        )
        con.execute(
            "INSERT INTO _net_ring_links "
            "SELECT i.ring_id, l.seller_id, l.other_seller_id, l.kind, l.identifier "
            "FROM main.ring_links l JOIN _net_kept_ids i ON i.old_id = l.ring_id"
        )
        con.execute(
            "INSERT INTO _net_rings SELECT i.ring_id, r.seller_id, r.linked_by "
            "FROM main.rings r JOIN _net_kept_ids i ON i.old_id = r.ring_id"
        )
    lap("rings")

    n_risk = propagate_risk(con, config, None if full else "_net_risk_seeds")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _net_seller_risk AS "
        "SELECT seller_id, base_risk, risk_score, pinned FROM _net_seller_risk_new"
        + ("" if full else KEPT_RISK_SQL)
    )
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
    work = {
        "incremental": not full,
        "n_sellers_touched": int(
            scalar(con, f"SELECT count(*) FROM {'_net_seller_attrs' if full else '_net_touched'}")
        ),
        "n_sellers_reclustered": int(
            scalar(con, "SELECT count(*) FROM _net_affected") if not full else graph.vcount()
        ),
        "n_sellers_repropagated": n_risk,
    }
    return timings, work


def _diff_outputs(con: duckdb.DuckDBPyConnection) -> None:
    """``_net_changed_rings`` / ``_sources`` / ``_scores``: keys of output rows that differ
    from the published ones (new, changed or gone)."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_changed_rings AS
        SELECT DISTINCT ring_id FROM (
            (SELECT ring_id, seller_id, linked_by FROM _net_rings
             EXCEPT SELECT ring_id, seller_id, linked_by FROM main.rings)
            UNION ALL
            (SELECT ring_id, seller_id, linked_by FROM main.rings
             EXCEPT SELECT ring_id, seller_id, linked_by FROM _net_rings)
        )
        UNION
        SELECT DISTINCT ring_id FROM (
            (SELECT ring_id, seller_id, other_seller_id, kind, identifier FROM _net_ring_links
             EXCEPT SELECT ring_id, seller_id, other_seller_id, kind, identifier
             FROM main.ring_links)
            UNION ALL
            (SELECT ring_id, seller_id, other_seller_id, kind, identifier FROM main.ring_links
             EXCEPT SELECT ring_id, seller_id, other_seller_id, kind, identifier
             FROM _net_ring_links)
        )
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _net_changed_sources AS
        SELECT coalesce(n.source_id, o.source_id) AS source_id
        FROM _net_sources n FULL JOIN main.sources o USING (source_id)
        WHERE n.source_id IS NULL OR o.source_id IS NULL
           OR n.sender_address IS DISTINCT FROM o.sender_address
           OR n.sender_city IS DISTINCT FROM o.sender_city
           OR n.linked_sellers IS DISTINCT FROM o.linked_sellers
           OR NOT (abs(n.risk_score - o.risk_score) <= {RISK_TOLERANCE})
           OR n.est_counterfeit_value IS DISTINCT FROM o.est_counterfeit_value
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _net_changed_scores AS
        SELECT coalesce(n.seller_id, o.seller_id) AS seller_id
        FROM _net_scores n FULL JOIN main.seller_scores o USING (seller_id)
        WHERE n.seller_id IS NULL OR o.seller_id IS NULL
           OR n.ring_id IS DISTINCT FROM o.ring_id
           OR NOT (abs(n.risk_score - o.risk_score) <= {RISK_TOLERANCE})
        """
    )


def _replace_outputs(con: duckdb.DuckDBPyConnection, scored_at: datetime) -> None:
    con.execute(
        "CREATE OR REPLACE TABLE main.rings AS SELECT ring_id, seller_id, linked_by "
        "FROM _net_rings ORDER BY ring_id, seller_id"
    )
    con.execute(
        "CREATE OR REPLACE TABLE main.ring_links AS "
        "SELECT ring_id, seller_id, other_seller_id, kind, identifier FROM _net_ring_links "
        "ORDER BY ring_id, seller_id, other_seller_id, kind, identifier"
    )
    con.execute(
        "CREATE OR REPLACE TABLE main.sources AS "
        "SELECT source_id, sender_address, sender_city, linked_sellers, risk_score, "
        "est_counterfeit_value FROM _net_sources ORDER BY risk_score DESC, source_id"
    )
    con.execute(
        "CREATE OR REPLACE TABLE main.seller_scores AS SELECT seller_id, risk_score, ring_id, "
        "$scored_at::TIMESTAMP AS scored_at FROM _net_scores ORDER BY seller_id",
        {"scored_at": scored_at},
    )


def _apply_changes(con: duckdb.DuckDBPyConnection, scored_at: datetime) -> None:
    """Delete the changed keys' rows and insert their new ones; every other row stays."""
    for table, key, changed, new, columns in (
        ("rings", "ring_id", "_net_changed_rings", "_net_rings", "ring_id, seller_id, linked_by"),
        (
            "ring_links",
            "ring_id",
            "_net_changed_rings",
            "_net_ring_links",
            "ring_id, seller_id, other_seller_id, kind, identifier",
        ),
        (
            "sources",
            "source_id",
            "_net_changed_sources",
            "_net_sources",
            "source_id, sender_address, sender_city, linked_sellers, risk_score, "
            "est_counterfeit_value",
        ),
        (
            "seller_scores",
            "seller_id",
            "_net_changed_scores",
            "_net_scores",
            "seller_id, risk_score, ring_id, $scored_at::TIMESTAMP",
        ),
    ):
        con.execute(f"DELETE FROM main.{table} WHERE {key} IN (SELECT {key} FROM {changed})")
        con.execute(
            f"INSERT INTO main.{table} SELECT {columns} FROM {new} "
            f"WHERE {key} IN (SELECT {key} FROM {changed}) ORDER BY ALL",
            {"scored_at": scored_at} if "$scored_at" in columns else None,
        )


def publish(
    con: duckdb.DuckDBPyConnection,
    scored_at: datetime,
    config: NetworkConfig | None = None,
    full: bool = True,
) -> dict[str, int]:
    """Apply this run to the outputs, registries and state, in one transaction.

    Output rows that did not change are left as they are, so a seller's ``scored_at`` is the
    run that last changed its row (``ring_id`` or ``risk_score``), and downstream steps and
    checks can tell what a run changed. Returns how many ring ids, sources and seller rows
    were written (all of them when the outputs did not exist yet).
    """
    config = config or NetworkConfig()
    ensure_registry(con, "ring_registry", "ring_id")
    ensure_registry(con, "source_registry", "source_id")
    ensure_state(con)
    fresh = not all(table_exists(con, "main", t) for t in OUTPUTS)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_scores AS
        SELECT r.seller_id, r.risk_score, rs.ring_id
        FROM _net_seller_risk r LEFT JOIN _net_ring_seller rs USING (seller_id)
        """
    )
    if fresh:
        written = {
            "rings": scalar(con, "SELECT count(DISTINCT ring_id) FROM _net_rings"),
            "sources": scalar(con, "SELECT count(*) FROM _net_sources"),
            "seller_scores": scalar(con, "SELECT count(*) FROM _net_scores"),
        }
    else:
        _diff_outputs(con)
        written = {
            "rings": scalar(con, "SELECT count(*) FROM _net_changed_rings"),
            "sources": scalar(con, "SELECT count(*) FROM _net_changed_sources"),
            "seller_scores": scalar(con, "SELECT count(*) FROM _net_changed_scores"),
        }
    con.execute("BEGIN TRANSACTION")
    try:
        if fresh:
            _replace_outputs(con, scored_at)
        else:
            _apply_changes(con, scored_at)
        for registry, temp in (
            ("ring_registry", "_net_ring_ids_registry"),
            ("source_registry", "_net_source_ids_registry"),
        ):
            con.execute(f"DELETE FROM cloudsword.{registry}")
            con.execute(f"INSERT INTO cloudsword.{registry} SELECT * FROM {temp}")
        write_state(con, config, full)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {k: int(v) for k, v in written.items()}


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
        "n_declared_operator_groups": one(
            "SELECT count(DISTINCT group_key) FROM _net_declared_all"
        ),
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
    warehouse_path: Path,
    scored_at: datetime,
    config: NetworkConfig | None = None,
    incremental: bool = True,
) -> NetworkSummary:
    """Trace rings and sources in the warehouse and publish them (one connection, closed).

    ``incremental=False`` recomputes everything from the inputs (the result is the same; the
    incremental run only does less work), and so does a run without a usable state.
    """
    config = config or NetworkConfig()
    scored_at = _naive_utc(scored_at)
    started = time.perf_counter()
    with connect(Path(warehouse_path)) as con:
        # No progress bar on stdout: this runs inside Dagster and behind JSON-printing CLIs.
        con.execute("SET enable_progress_bar = false")
        timings, work = compute_network(con, scored_at, config, incremental)
        counts = summarize(con, config)
        clock = time.perf_counter()
        written = publish(con, scored_at, config, full=not work["incremental"])
        timings["publish"] = round(time.perf_counter() - clock, 3)
    return NetworkSummary(
        **counts,
        **work,
        written=written,
        seconds=time.perf_counter() - started,
        timings=timings,
    )
