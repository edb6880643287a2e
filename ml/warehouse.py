"""Short-lived DuckDB connections to a home's warehouse.

DuckDB allows one writing process per file, so nothing in cloudsword holds a connection across
stages: each step opens one, does its work and closes it (see docs/architecture.md, "One writer").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse open for writing for longer than we would wait."""


@contextmanager
def connect(
    path: Path, *, read_only: bool = False, wait_s: float = 120.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse at ``path`` with UTC timestamps; close it on exit.

    While another process writes, DuckDB refuses to open the file (even read-only). Writes are
    short transactions or single steps, so we wait up to ``wait_s`` and then fail clearly.
    """
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `cloudsword run` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{path} is being written by another process (a pipeline step?) and stayed "
                    f"busy for {wait_s:.0f} s; try again when it finishes"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    # fetchall, not fetchone: DuckDB 2 refuses con.sql() while a fetchone() result is still open
    # on the connection.
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def row_count(con: duckdb.DuckDBPyConnection, qualified_table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {qualified_table}").fetchone()[0])


@contextmanager
def writer_lock(path: Path, *, timeout_s: float = 3600.0) -> Iterator[None]:
    """Hold the warehouse's writer lock: one writing step at a time across processes.

    DuckDB itself refuses a second writing process with an obscure error; this lock makes a
    second writer (a manual run during a sensor-triggered one, say) wait its turn instead.
    """
    import fcntl
    import time

    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another run has held {lock_path} for {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def utc_now() -> datetime:
    """Now, as the warehouse stores timestamps: naive UTC, whole seconds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
