"""Small DuckDB helpers that always finish their results.

DuckDB 2.0 refuses ``register``/``sql`` while a result from ``execute`` is unfinished (a
``fetchone`` leaves it so), so these helpers fetch everything or read through relations.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def arrow(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> pa.Table:
    return con.sql(sql, params=params or None).to_arrow_table()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        scalar(
            con,
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        )
    )


def temp_table_from_arrow(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Create (or replace) temp table ``name`` holding ``table``."""
    view = f"{name}__arrow"
    con.register(view, table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)
