"""What the last trace read, kept so that the next one recomputes only what changed.

Tables in schema ``cloudsword`` (written in the transaction that publishes the outputs, so they
always describe exactly the published network):

* ``net_state_ids``: seller_id, kind, identifier: every identifier of every seller as traced;
* ``net_state_sellers``: seller_id, base_risk, outcome, listing_confirmed: what propagation and
  the declared-group rule read about each seller besides its links;
* ``net_state_edges``: seller_a, seller_b, weight, kinds: the whole seller-seller projection;
* ``net_state_declared``: group_key, seller_id: declared operator groups (tied like a ring, kept
  out of the rings), for the run's counts;
* ``net_state_meta``: key, value: the fingerprint of the ``NetworkConfig`` the state was made
  with (another configuration means a full run).

Change is detected from the network's own inputs, not from upstream bookkeeping (batch ids,
``scored_at``): the identifiers and seller attributes are recomputed from staging and compared
with this state, so any upstream change, incremental or a full rebuild, is seen the same way.

Why the changed set is exact (see ``docs/network.md``, "Incremental tracing"):

* an identifier whose holders changed (a seller gained or lost it) changes its seller count, so
  its hub status and weight may change: every holder, old or new, is *touched*;
* an edge's weight is a function of the identifiers its two ends share, so only edges between
  two touched sellers can change; every other edge is kept from ``net_state_edges``;
* a connected component (strong ties for rings, any link for propagation) without a touched or
  otherwise changed seller has the same vertices and edges as in the last run, so its rings and
  risks are the last run's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import duckdb

from ml.network.config import NetworkConfig
from ml.network.sql import scalar, table_exists

STATE_TABLES = {
    "net_state_ids": "seller_id VARCHAR, kind VARCHAR, identifier VARCHAR",
    "net_state_sellers": (
        "seller_id VARCHAR, base_risk DOUBLE, outcome VARCHAR, listing_confirmed BOOLEAN"
    ),
    "net_state_edges": "seller_a VARCHAR, seller_b VARCHAR, weight DOUBLE, kinds VARCHAR[]",
    "net_state_declared": "group_key VARCHAR, seller_id VARCHAR",
    "net_state_meta": "key VARCHAR PRIMARY KEY, value VARCHAR",
}
#: Outputs an incremental run keeps rows of; without any of them the run is a full one.
OUTPUTS = ("rings", "ring_links", "sources", "seller_scores")


def config_fingerprint(config: NetworkConfig) -> str:
    return hashlib.sha256(
        json.dumps(asdict(config), sort_keys=True, default=str).encode()
    ).hexdigest()


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS cloudsword")
    for name, columns in STATE_TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS cloudsword.{name} ({columns})")


def state_usable(con: duckdb.DuckDBPyConnection, config: NetworkConfig) -> bool:
    """True when the last run left a state made with this configuration, and its outputs."""
    if not all(table_exists(con, "cloudsword", name) for name in STATE_TABLES):
        return False
    if not all(table_exists(con, "main", name) for name in OUTPUTS):
        return False
    stored = scalar(con, "SELECT value FROM cloudsword.net_state_meta WHERE key = 'config'")
    return stored == config_fingerprint(config)


def find_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Temp tables of what changed since the state (reads ``_net_seller_ids`` and
    ``_net_seller_attrs``):

    * ``_net_ids_changed_sellers``: sellers whose identifier set changed;
    * ``_net_touched``: every holder (now or then) of an identifier whose holders changed: the
      sellers whose edges may have changed;
    * ``_net_attrs_changed``: sellers whose attributes changed, new sellers and gone ones;
    * ``_net_confirm_changed``: of those, the ones whose confirmation changed (declared groups);
    * ``_net_ring_seeds`` / ``_net_risk_seeds``: where rings / risks must be recomputed.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_ids_diff AS
        (SELECT seller_id, kind, identifier FROM _net_seller_ids
         EXCEPT SELECT seller_id, kind, identifier FROM cloudsword.net_state_ids)
        UNION ALL
        (SELECT seller_id, kind, identifier FROM cloudsword.net_state_ids
         EXCEPT SELECT seller_id, kind, identifier FROM _net_seller_ids)
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _net_ids_changed_sellers AS "
        "SELECT DISTINCT seller_id FROM _net_ids_diff"
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_touched AS
        WITH changed AS (SELECT DISTINCT kind, identifier FROM _net_ids_diff)
        SELECT seller_id FROM _net_seller_ids JOIN changed USING (kind, identifier)
        UNION
        SELECT seller_id FROM _net_ids_diff
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _net_attrs_diff AS
        SELECT coalesce(n.seller_id, o.seller_id) AS seller_id,
               n.seller_id IS NULL OR o.seller_id IS NULL
                 OR n.outcome IS DISTINCT FROM o.outcome
                 OR n.listing_confirmed IS DISTINCT FROM o.listing_confirmed AS confirm_changed
        FROM _net_seller_attrs n FULL JOIN cloudsword.net_state_sellers o USING (seller_id)
        WHERE n.seller_id IS NULL OR o.seller_id IS NULL
           OR n.base_risk IS DISTINCT FROM o.base_risk
           OR n.outcome IS DISTINCT FROM o.outcome
           OR n.listing_confirmed IS DISTINCT FROM o.listing_confirmed
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _net_ring_seeds AS "
        "SELECT seller_id FROM _net_touched "
        "UNION SELECT seller_id FROM _net_attrs_diff WHERE confirm_changed"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _net_risk_seeds AS "
        "SELECT seller_id FROM _net_touched UNION SELECT seller_id FROM _net_attrs_diff"
    )


def write_state(con: duckdb.DuckDBPyConnection, config: NetworkConfig, full: bool) -> None:
    """Bring the state up to this run (inside the caller's transaction).

    A full run replaces it; an incremental one rewrites only the rows of changed sellers and
    the edges of touched ones (``_net_edges_new``).
    """
    ensure_state(con)
    if full:
        con.execute("DELETE FROM cloudsword.net_state_ids")
        con.execute(
            "INSERT INTO cloudsword.net_state_ids SELECT seller_id, kind, identifier "
            "FROM _net_seller_ids"
        )
        con.execute("DELETE FROM cloudsword.net_state_sellers")
        con.execute(
            "INSERT INTO cloudsword.net_state_sellers "
            "SELECT seller_id, base_risk, outcome, listing_confirmed FROM _net_seller_attrs"
        )
        con.execute("DELETE FROM cloudsword.net_state_edges")
        con.execute(
            "INSERT INTO cloudsword.net_state_edges "
            "SELECT seller_a, seller_b, weight, kinds FROM _net_edges"
        )
    else:
        con.execute(
            "DELETE FROM cloudsword.net_state_ids "
            "WHERE seller_id IN (SELECT seller_id FROM _net_ids_changed_sellers)"
        )
        con.execute(
            "INSERT INTO cloudsword.net_state_ids SELECT seller_id, kind, identifier "
            "FROM _net_seller_ids "
            "WHERE seller_id IN (SELECT seller_id FROM _net_ids_changed_sellers)"
        )
        con.execute(
            "DELETE FROM cloudsword.net_state_sellers "
            "WHERE seller_id IN (SELECT seller_id FROM _net_attrs_diff)"
        )
        con.execute(
            "INSERT INTO cloudsword.net_state_sellers "
            "SELECT seller_id, base_risk, outcome, listing_confirmed FROM _net_seller_attrs "
            "WHERE seller_id IN (SELECT seller_id FROM _net_attrs_diff)"
        )
        con.execute(
            "DELETE FROM cloudsword.net_state_edges "
            "WHERE seller_a IN (SELECT seller_id FROM _net_touched) "
            "   OR seller_b IN (SELECT seller_id FROM _net_touched)"
        )
        con.execute(
            "INSERT INTO cloudsword.net_state_edges "
            "SELECT seller_a, seller_b, weight, kinds FROM _net_edges_new"
        )
    con.execute("DELETE FROM cloudsword.net_state_declared")
    con.execute(
        "INSERT INTO cloudsword.net_state_declared SELECT group_key, seller_id "
        "FROM _net_declared_all"
    )
    con.execute(
        "INSERT OR REPLACE INTO cloudsword.net_state_meta VALUES ('config', ?)",
        [config_fingerprint(config)],
    )
