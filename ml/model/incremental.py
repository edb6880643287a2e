"""Which listings need a new score, and writing only those (plus their sellers) in one transaction.

Each scored listing has a row in ``cloudsword.listing_score_state``: a hash of its scoring input
(computed inside DuckDB), the key of the model that scored it, and whether its reasons were
computed. The contract's ``main.listing_scores`` keeps exactly its columns; the state lives
beside it so readers of the contract output never see bookkeeping.

A listing is rescored when it is new, its input hash changed, the model key changed (new
champion, calibration or scoring settings), or its ``listing_scores`` row is missing or was
written by another model version (e.g. the leads stand-in replaced the table). Listings that
left ``listing_features`` or became inactive are deleted, as the full rewrite did before.
"""

from __future__ import annotations

import duckdb

from ml.model.data import INACTIVE_STATUSES, LISTING_TABLE, feature_columns
from ml.warehouse import table_exists

STATE_TABLE = "cloudsword.listing_score_state"
HIGH_RISK = 0.5
#: A seller's base risk combines its riskiest few listings (noisy-or), see SELLER_SQL.
SELLER_TOP_LISTINGS = 3

LISTING_COLUMNS = (
    "listing_id",
    "seller_id",
    "brand",
    "category",
    "counterfeit_score",
    "model_version",
    "scored_at",
    "top_reasons",
)
LISTING_DDL = """
CREATE OR REPLACE TABLE main.listing_scores (
    listing_id VARCHAR PRIMARY KEY, seller_id VARCHAR, brand VARCHAR, category VARCHAR,
    counterfeit_score DOUBLE, model_version VARCHAR, scored_at TIMESTAMP, top_reasons VARCHAR[])
"""
STATE_DDL = f"""
CREATE OR REPLACE TABLE {STATE_TABLE} (
    listing_id VARCHAR PRIMARY KEY, input_hash UBIGINT, model_key VARCHAR, explained BOOLEAN)
"""
SELLER_DDL = """
CREATE OR REPLACE TABLE main.seller_base_scores (
    seller_id VARCHAR PRIMARY KEY, base_risk_score DOUBLE, n_listings_scored BIGINT,
    n_high_risk_listings BIGINT, max_listing_score DOUBLE, model_version VARCHAR,
    scored_at TIMESTAMP)
"""
# Base risk = 1 - prod(1 - p) over the seller's top listings: the chance that at least one of
# its riskiest listings is counterfeit (independence assumed). Top few only, so a large honest
# shop is not pushed up by many small scores. Sellers without active listings get 0.
# Only the sellers in _seller_todo are computed; a seller's row depends on its listings only,
# so computing a subset gives the same rows as computing everyone.
SELLER_SQL = f"""
INSERT INTO main.seller_base_scores
WITH ranked AS (
    SELECT seller_id, counterfeit_score AS s,
           row_number() OVER (PARTITION BY seller_id ORDER BY counterfeit_score DESC) AS rn
    FROM main.listing_scores SEMI JOIN _seller_todo USING (seller_id)),
agg AS (
    SELECT seller_id, 1 - product(1 - s) FILTER (WHERE rn <= {SELLER_TOP_LISTINGS}) AS risk,
           count(*) AS n, count(*) FILTER (WHERE s >= {HIGH_RISK}) AS high, max(s) AS top
    FROM ranked GROUP BY seller_id)
SELECT s.seller_id, coalesce(a.risk, 0.0), coalesce(a.n, 0), coalesce(a.high, 0), a.top, ?, ?
FROM _seller_todo s LEFT JOIN agg a USING (seller_id)
"""


def active_filter() -> str:
    inactive = ", ".join(f"'{s}'" for s in INACTIVE_STATUSES)
    return f"coalesce(status, '') NOT IN ({inactive})"


def hash_sql(con: duckdb.DuckDBPyConnection, features: list[str]) -> str:
    """A hash of everything that decides a listing's score: seller, categoricals, status and the
    model's features. Features are hashed at FLOAT precision (~7 digits): DuckDB's parallel sums
    differ in the last bits of a DOUBLE from one dbt build to the next, and a hash of the exact
    bits would rescore (and re-stamp) those listings for no change in their data."""
    present = set(feature_columns(con, LISTING_TABLE))
    cols = [f'TRY_CAST("{f}" AS FLOAT)' for f in features if f in present]
    return f"hash(seller_id, brand, category, status, {', '.join(cols) or 'NULL'})"


def _has_columns(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...]) -> bool:
    schema, name = table.split(".")
    if not table_exists(con, schema, name):
        return False
    have = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
    ]
    return tuple(have) == columns


def plan(con: duckdb.DuckDBPyConnection, features: list[str], model_key: str, version: str) -> bool:
    """Fill temp tables ``_current`` (every active listing, its seller and input hash) and
    ``_todo`` (listings to score now). Returns True when everything is rescored (no usable
    previous state, or another model key)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _current AS SELECT listing_id, seller_id, "
        f"{hash_sql(con, features)} AS input_hash FROM {LISTING_TABLE} WHERE {active_filter()}"
    )
    usable = (
        _has_columns(con, "main.listing_scores", LISTING_COLUMNS)
        and _has_columns(con, STATE_TABLE, ("listing_id", "input_hash", "model_key", "explained"))
        and table_exists(con, "main", "seller_base_scores")
    )
    full = not usable or bool(
        con.execute(
            f"SELECT count(*) = 0 OR bool_or(model_key <> $key) FROM {STATE_TABLE}",
            {"key": model_key},
        ).fetchall()[0][0]
    )
    if full:
        con.execute("CREATE OR REPLACE TEMP TABLE _todo AS SELECT listing_id FROM _current")
    else:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _todo AS
            SELECT c.listing_id FROM _current c
            LEFT JOIN {STATE_TABLE} st USING (listing_id)
            LEFT JOIN main.listing_scores ls USING (listing_id)
            WHERE st.listing_id IS NULL OR ls.listing_id IS NULL
               OR st.input_hash IS DISTINCT FROM c.input_hash OR st.model_key <> $key
               OR ls.model_version IS DISTINCT FROM $version
            """,
            {"key": model_key, "version": version},
        )
    return full


def _seller_universe(con: duckdb.DuckDBPyConnection) -> str:
    sellers = f"SELECT seller_id FROM {LISTING_TABLE}"
    if table_exists(con, "main", "seller_features"):
        sellers += " UNION SELECT seller_id FROM main.seller_features"
    return sellers


def write(
    con: duckdb.DuckDBPyConnection,
    scored: str,
    full: bool,
    model_key: str,
    version: str,
    scored_at: object,
) -> int:
    """Apply the new scores (registered relation ``scored``: listing_id, seller_id, brand,
    category, counterfeit_score, top_reasons, explained) in the caller's transaction: replace
    rescored rows, drop listings no longer active, recompute the affected sellers. Returns how
    many sellers were recomputed."""
    con.execute("CREATE SCHEMA IF NOT EXISTS cloudsword")
    if full:
        con.execute(LISTING_DDL)
        con.execute(STATE_DDL)
        con.execute(SELLER_DDL)
    # Rows to replace or drop: rescored now, or no longer an active listing.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _gone AS
        SELECT listing_id, seller_id FROM main.listing_scores
        WHERE listing_id IN (SELECT listing_id FROM _todo)
           OR listing_id NOT IN (SELECT listing_id FROM _current)
        """
    )
    # Sellers whose listing scores change: old owners of replaced/dropped rows, new owners of
    # rescored rows, and sellers that have no base score yet; all of them on a full run.
    universe = _seller_universe(con)
    if full:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _seller_todo AS {universe}")
    else:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _seller_todo AS
            WITH universe AS ({universe}),
            touched AS (
                SELECT seller_id FROM _gone UNION SELECT seller_id FROM {scored}
                UNION (SELECT seller_id FROM universe
                       EXCEPT SELECT seller_id FROM main.seller_base_scores))
            SELECT seller_id FROM touched SEMI JOIN universe USING (seller_id)
            """
        )
    for table in ("main.listing_scores", STATE_TABLE):
        con.execute(f"DELETE FROM {table} WHERE listing_id IN (SELECT listing_id FROM _gone)")
    # State rows may outlive their score row (if another writer replaced listing_scores).
    con.execute(
        f"DELETE FROM {STATE_TABLE} WHERE listing_id IN (SELECT listing_id FROM _todo) "
        f"OR listing_id NOT IN (SELECT listing_id FROM _current)"
    )
    con.execute(
        f"INSERT INTO main.listing_scores SELECT listing_id, seller_id, brand, category, "
        f"counterfeit_score, $version, $at, top_reasons FROM {scored}",
        {"version": version, "at": scored_at},
    )
    con.execute(
        f"INSERT INTO {STATE_TABLE} SELECT s.listing_id, c.input_hash, $key, s.explained "
        f"FROM {scored} s JOIN _current c USING (listing_id)",
        {"key": model_key},
    )
    con.execute(
        "DELETE FROM main.seller_base_scores WHERE seller_id IN (SELECT seller_id FROM "
        "_seller_todo UNION SELECT seller_id FROM main.seller_base_scores "
        f"ANTI JOIN ({universe}) u USING (seller_id))"
    )
    con.execute(SELLER_SQL, [version, scored_at])
    return int(con.execute("SELECT count(*) FROM _seller_todo").fetchall()[0][0])
