"""Read complete landing batches into the warehouse, per the data contract.

A batch is ingested in one DuckDB transaction: either every table of it lands (good rows in
``raw.<table>``, bad rows in ``cloudsword.quarantine`` with their reason) or, when a file cannot
be read at all, nothing of it does and the batch is recorded as failed with a message naming the
file and the problem. Validation is SQL generated from ``ml.contract``, so it streams at any size.
Ingesting a batch that is already in is a no-op.
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ml.contract import (
    INGEST_ORDER,
    INT,
    STR,
    SUCCESS_MARKER,
    TABLES,
    TIMESTAMP,
    Column,
    Table,
    holds_personal_data,
    is_valid_batch_id,
)
from ml.warehouse import connect, table_exists

log = logging.getLogger(__name__)

META_COLUMNS = ("_batch_id", "_row_number", "_ingested_at")


class BatchError(Exception):
    """A batch that cannot be ingested; the message names the file and the problem."""


@dataclass(frozen=True)
class LandingScan:
    """What the landing zone holds, in processing (lexical) order."""

    complete: list[str]
    incomplete: list[str]
    invalid: list[str]


@dataclass
class TableResult:
    table: str
    file: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class BatchResult:
    batch_id: str
    status: str  # "ingested" or "already_ingested"
    tables: dict[str, TableResult] = field(default_factory=dict)
    #: An earlier batch id than one already ingested: it arrived late.
    out_of_order: bool = False
    #: Files in the batch folder that are no contract table (misnamed, e.g. `Orders.parquet`).
    unknown_files: list[str] = field(default_factory=list)
    #: Rows of other batches held for a missing reference that this batch supplied:
    #: {(batch_id, table): rows now loaded}.
    admitted: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables.values())


def scan_landing(landing: Path) -> LandingScan:
    """Sort the batch folders under ``landing`` into complete, incomplete and invalid."""
    complete, incomplete, invalid = [], [], []
    if landing.is_dir():
        for entry in sorted(landing.iterdir(), key=lambda p: p.name):
            if not entry.is_dir():
                continue
            # A linked folder could point anywhere: only real folders in landing are batches.
            if not is_valid_batch_id(entry.name) or entry.is_symlink():
                invalid.append(entry.name)
            elif (entry / SUCCESS_MARKER).is_file():
                complete.append(entry.name)
            else:
                incomplete.append(entry.name)
    return LandingScan(complete, incomplete, invalid)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables and the bookkeeping tables if they are missing."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS cloudsword")
    for table in TABLES.values():
        cols = ", ".join(f'"{c.name}" {c.duckdb_type}' for c in table.columns)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS raw.{table.name} ({cols}, "
            "_batch_id VARCHAR NOT NULL, _row_number BIGINT NOT NULL, "
            "_ingested_at TIMESTAMP NOT NULL)"
        )
    con.execute(
        """CREATE TABLE IF NOT EXISTS cloudsword.batches (
            batch_id VARCHAR PRIMARY KEY, status VARCHAR NOT NULL, rows_loaded BIGINT,
            rows_quarantined BIGINT, ingested_at TIMESTAMP, error VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS cloudsword.quarantine (
            batch_id VARCHAR NOT NULL, table_name VARCHAR NOT NULL, row_number BIGINT NOT NULL,
            reason VARCHAR NOT NULL, row_json VARCHAR,
            pending BOOLEAN NOT NULL DEFAULT false)"""
    )
    # Homes made before late references were held (issue 18).
    con.execute(
        "ALTER TABLE cloudsword.quarantine ADD COLUMN IF NOT EXISTS pending BOOLEAN DEFAULT false"
    )


def ingested_batches(warehouse: Path) -> set[str]:
    """Batch ids already ingested into the warehouse at ``warehouse``."""
    if not warehouse.exists():
        return set()
    with connect(warehouse) as con:
        ensure_schema(con)
        rows = con.execute(
            "SELECT batch_id FROM cloudsword.batches WHERE status = 'ingested'"
        ).fetchall()
    return {r[0] for r in rows}


def last_ingested_at(warehouse: Path) -> datetime | None:
    """When the newest successfully ingested batch went in (None if none has)."""
    if not warehouse.exists():
        return None
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "cloudsword", "batches"):
            return None
        return con.execute(
            "SELECT max(ingested_at) FROM cloudsword.batches WHERE status = 'ingested'"
        ).fetchone()[0]


def ingest_batch(warehouse: Path, landing: Path, batch_id: str) -> BatchResult:
    """Ingest one complete batch; raise :class:`BatchError` if it cannot be read."""
    batch_dir = _checked_batch_dir(landing, batch_id)
    with connect(warehouse) as con:
        ensure_schema(con)
        done = con.execute(
            "SELECT status FROM cloudsword.batches WHERE batch_id = ?", [batch_id]
        ).fetchone()
        if done and done[0] == "ingested":
            return BatchResult(batch_id, "already_ingested")
        now = datetime.now(UTC).replace(tzinfo=None)
        newest = con.execute(
            "SELECT max(batch_id) FROM cloudsword.batches WHERE status = 'ingested'"
        ).fetchone()[0]
        con.execute("BEGIN TRANSACTION")
        try:
            result = BatchResult(
                batch_id,
                "ingested",
                out_of_order=bool(newest and newest > batch_id),
                unknown_files=_unknown_files(batch_dir),
            )
            for name in INGEST_ORDER:
                result.tables[name] = _ingest_table(con, TABLES[name], batch_dir, batch_id, now)
            _record_batch(con, batch_id, "ingested", result, now, None)
            result.admitted = _admit_held_rows(con, now)
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            if isinstance(exc, BatchError):
                _record_batch(con, batch_id, "failed", None, now, str(exc))
            raise
    return result


def _admit_held_rows(con: duckdb.DuckDBPyConnection, now: datetime) -> dict[tuple[str, str], int]:
    """Load the held rows (quarantined only for a reference that had not arrived) whose
    references exist now, under their own batch id and row number, as if they had been in order.

    Late batches are normal in real feeds: B4's orders may name listings that only B2, sent
    after B4, brings. Tables go in contract order, so a listing admitted here makes its orders
    admissible in the same pass. Rows still missing a reference stay held, with their reason.
    """
    admitted: dict[tuple[str, str], int] = {}
    for name in INGEST_ORDER:
        table = TABLES[name]
        held = con.execute(
            "SELECT DISTINCT batch_id FROM cloudsword.quarantine "
            "WHERE pending AND table_name = ? ORDER BY batch_id",
            [name],
        ).fetchall()
        for (batch_id,) in held:
            cols = ", ".join(
                f'json_extract_string(row_json, {_quoted("$." + json.dumps(c))}) AS "{c}"'
                for c in table.column_names
            )
            con.execute(
                f"CREATE TEMP TABLE _source AS SELECT {cols}, row_number AS _row_number "
                "FROM cloudsword.quarantine WHERE pending AND table_name = ? AND batch_id = ?",
                [name, batch_id],
            )
            con.execute(_validate_sql(table, dict.fromkeys(table.column_names, "VARCHAR")))
            names = ", ".join(f'"{c}"' for c in table.column_names)
            n = con.execute(
                f"INSERT INTO raw.{name} ({names}, _batch_id, _row_number, _ingested_at) "
                f"SELECT {names}, ?, _row_number, ? FROM _checked WHERE len(_reasons) = 0 "
                "ORDER BY _row_number",
                [batch_id, now],
            ).fetchone()[0]
            if n:
                con.execute(
                    "DELETE FROM cloudsword.quarantine WHERE pending AND table_name = ? "
                    "AND batch_id = ? AND row_number IN "
                    "(SELECT _row_number FROM _checked WHERE len(_reasons) = 0)",
                    [name, batch_id],
                )
                con.execute(
                    "UPDATE cloudsword.batches SET rows_loaded = rows_loaded + ?, "
                    "rows_quarantined = rows_quarantined - ? WHERE batch_id = ?",
                    [n, n, batch_id],
                )
                admitted[(batch_id, name)] = n
                log.warning(
                    "%s/%s: %d held rows admitted; their references arrived", batch_id, name, n
                )
            con.execute("DROP TABLE _source; DROP TABLE _checked")
    return admitted


def _checked_batch_dir(landing: Path, batch_id: str) -> Path:
    if not is_valid_batch_id(batch_id):
        raise BatchError(
            f"invalid batch id {batch_id!r}: batch ids match ^[A-Za-z0-9][A-Za-z0-9_.-]{{0,63}}$"
        )
    batch_dir = landing / batch_id
    if batch_dir.is_symlink() or (
        batch_dir.exists() and batch_dir.resolve().parent != landing.resolve()
    ):
        raise BatchError(f"{batch_dir}: is a link; batches must be real folders in {landing}")
    if not (batch_dir / SUCCESS_MARKER).is_file():
        raise BatchError(f"batch {batch_id!r} is not complete: {batch_dir}/_SUCCESS is missing")
    return batch_dir


def _unknown_files(batch_dir: Path) -> list[str]:
    """Names in the batch folder that are neither a table file nor the marker: most likely a
    misnamed table (`Orders.parquet`, `refunds.parquet`), which would otherwise be skipped
    without a word."""
    expected = {f"{t}.{ext}" for t in TABLES for ext in ("parquet", "csv")} | {SUCCESS_MARKER}
    unknown = sorted(p.name for p in batch_dir.iterdir() if p.name not in expected)
    if unknown:
        log.warning(
            "%s: %d file(s) are no contract table and were not read: %s",
            batch_dir.name,
            len(unknown),
            ", ".join(unknown[:10]),
        )
    return unknown


def _table_file(batch_dir: Path, table: str) -> Path | None:
    # A dangling link does not "exist" but must not pass as an absent table either.
    candidates = (batch_dir / f"{table}.parquet", batch_dir / f"{table}.csv")
    found = [p for p in candidates if p.exists() or p.is_symlink()]
    if len(found) > 1:
        raise BatchError(f"{batch_dir}: both {table}.parquet and {table}.csv exist; send one")
    if not found:
        return None
    path = found[0]
    # A table file must be a real file inside its batch: never follow a link out of landing.
    if path.is_symlink() or not path.resolve().is_relative_to(batch_dir.resolve()):
        raise BatchError(f"{path}: is a link; table files must be regular files in their batch")
    if not path.is_file():
        raise BatchError(f"{path}: is not a regular file")
    if path.stat().st_nlink > 1:
        # A hard link may share its bytes with any file on the disk (a hard link is what a
        # symlink ban leaves open): only files that belong to the batch alone are read.
        raise BatchError(
            f"{path}: has {path.stat().st_nlink} hard links; copy the file into the batch instead"
        )
    if path.stat().st_size == 0:
        raise BatchError(f"{path}: file is empty (expected Parquet, or CSV with a header row)")
    return path


def _ingest_table(
    con: duckdb.DuckDBPyConnection, table: Table, batch_dir: Path, batch_id: str, now: datetime
) -> TableResult:
    path = _table_file(batch_dir, table.name)
    if path is None:
        return TableResult(table.name, None)
    types = _load_source(con, path, table)
    try:
        con.execute(_validate_sql(table, types))
    except duckdb.Error as exc:
        # A readable file that still defeats validation fails the batch with its name.
        raise BatchError(f"{path}: cannot be validated: {_problem(exc)}") from None
    loaded, quarantined, read = con.execute(
        "SELECT count(*) FILTER (len(_reasons) = 0), count(*) FILTER (len(_reasons) > 0), "
        "count(*) FROM _checked"
    ).fetchone()
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    con.execute(
        f"INSERT INTO raw.{table.name} ({cols}, _batch_id, _row_number, _ingested_at) "
        f"SELECT {cols}, ?, _row_number, ? FROM _checked WHERE len(_reasons) = 0 "
        "ORDER BY _row_number",
        [batch_id, now],
    )
    con.execute(
        "INSERT INTO cloudsword.quarantine "
        "SELECT ?, ?, _row_number, array_to_string(_reasons, '; '), to_json(_original), "
        # Held, not lost: a row whose only fault is a reference that has not arrived yet.
        "len(_reasons) = _missing_references "
        "FROM _checked WHERE len(_reasons) > 0 ORDER BY _row_number",
        [batch_id, table.name],
    )
    reasons = con.execute(
        "SELECT r, count(*) AS n FROM (SELECT unnest(_reasons) AS r FROM _checked) "
        "GROUP BY r ORDER BY n DESC, r LIMIT 5"
    ).fetchall()
    con.execute("DROP TABLE _source; DROP TABLE _checked")
    if quarantined:
        log.warning("%s/%s: %d rows quarantined", batch_id, path.name, quarantined)
    return TableResult(table.name, path.name, read, loaded, quarantined, reasons)


def _load_source(con: duckdb.DuckDBPyConnection, path: Path, table: Table) -> dict[str, str]:
    """Stage the file as ``_source`` with a 1-based ``_row_number``; return its column types.

    Columns are matched by their exact name (DuckDB folds case, so ``Price`` beside ``price``
    would otherwise be read for it); extra columns are ignored and an absent nullable column is
    read as NULLs, as the contract says. Raises :class:`BatchError` for an unreadable file, a
    missing required column, a column named twice, or a nested column.
    """
    if path.suffix == ".parquet":
        kind, reader, names = "Parquet", f"read_parquet('{_sql_path(path)}')", None
    else:
        kind = "CSV (UTF-8, header row, RFC 4180)"
        reader, names = _csv_reader(path, table)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
        if names is None:
            names = _parquet_names(path)
        duplicated = sorted({n for n in names if n in table.column_names and names.count(n) > 1})
        if duplicated:
            raise BatchError(f"{path}: column(s) named more than once: {', '.join(duplicated)}")
        # DuckDB renames clashing names (`price_1`); positions are what both sides agree on.
        by_name = {n: (r[0], r[1]) for n, r in zip(names, described, strict=True)}
        missing = [c.name for c in table.columns if c.name not in by_name and not c.nullable]
        if missing:
            raise BatchError(
                f"{path}: required column(s) missing: {', '.join(missing)} "
                f"({_found_columns(names, table)})"
            )
        nested = [
            f"{c} ({by_name[c][1]})"
            for c in table.column_names
            if c in by_name and _is_nested(by_name[c][1])
        ]
        if nested:
            raise BatchError(f"{path}: column(s) hold lists or records, not values: {nested}")
        cols = ", ".join(
            f'"{by_name[c][0]}" AS "{c}"' if c in by_name else f'NULL::VARCHAR AS "{c}"'
            for c in table.column_names
        )
        con.execute(
            f"CREATE TEMP TABLE _source AS SELECT {cols}, row_number() OVER () AS _row_number "
            f"FROM {reader}"
        )
    except duckdb.Error as exc:
        raise BatchError(f"{path}: cannot be read as {kind}: {_problem(exc)}") from None
    return {c: by_name[c][1] if c in by_name else "VARCHAR" for c in table.column_names}


def _parquet_names(path: Path) -> list[str]:
    """The file's top-level column names as written (DuckDB renames duplicates on read)."""
    try:
        return pq.ParquetFile(path).schema_arrow.names
    except (pa.ArrowException, OSError) as exc:
        raise BatchError(f"{path}: cannot be read as Parquet: {type(exc).__name__}") from None


def _found_columns(names: list[str], table: Table) -> str:
    """What was found instead, for the error. A header-less file's "names" are its first row,
    so for tables with personal data only names the contract knows are quoted."""
    if not holds_personal_data(table):
        return "found: " + ", ".join(names[:20])
    known = {c for t in TABLES.values() for c in t.column_names}
    shown = [n for n in names if n in known]
    hint = "" if shown else "; is the header row missing?"
    return f"found {len(names)} column(s){': ' + ', '.join(shown) if shown else ''}{hint}"


#: DuckDB's default (2 MB) would fail a whole batch on one long description; rows this long are
#: read, and the contract's rules then judge them like any other.
MAX_CSV_LINE_BYTES = 1 << 30


def _csv_reader(path: Path, table: Table) -> tuple[str, list[str]]:
    """A ``read_csv`` call with every column text and nothing sniffed, and the header's names.

    The header is parsed here so that DuckDB's dialect sniffer never guesses: a broken row then
    fails with its line number and problem instead of "could not detect the dialect", and every
    value stays text, so a bad value becomes a quarantined row rather than a failed file. Columns
    the contract does not name are read under positional names, so a name that differs from
    ours only in case cannot clash with it.
    """
    with open(path, "rb") as handle:
        first = handle.readline(1 << 20)
    try:
        header = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise BatchError(
            f"{path}: header row is not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    names = next(csv.reader([header]), [])
    if not set(names) & set(table.column_names):
        # Most likely a file without its header row; its first row may be personal data.
        required = [c.name for c in table.columns if not c.nullable]
        raise BatchError(
            f"{path}: required column(s) missing: {', '.join(required)} "
            f"({_found_columns(names, table)})"
        )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates or "" in names:
        raise BatchError(f"{path}: header row has duplicate or empty column names {duplicates}")
    read_as = [n if n in table.column_names else f"_extra_{i}" for i, n in enumerate(names)]
    columns = ", ".join(f"{_quoted(n)}: 'VARCHAR'" for n in read_as)
    reader = (
        f"read_csv('{_sql_path(path)}', header = true, auto_detect = false, "
        f"columns = {{{columns}}}, delim = ',', quote = '\"', escape = '\"', "
        f"strict_mode = true, encoding = 'utf-8', max_line_size = {MAX_CSV_LINE_BYTES})"
    )
    return reader, read_as


def _is_nested(duckdb_type: str) -> bool:
    return duckdb_type.endswith("]") or duckdb_type.startswith(("STRUCT", "MAP", "UNION"))


def _problem(exc: duckdb.Error) -> str:
    """DuckDB's message cut to what states the problem: its first line and its last statement.

    What lies between is the offending line's text (it may carry personal data into logs and
    Dagster), and what follows is the query echo and advice about DuckDB's own options.
    """
    lines = []
    for line in str(exc).strip().splitlines():
        line = line.strip()
        if line.startswith(("Possible", "LINE ", "file =", "The search space")):
            break
        if line:
            lines.append(line)
    if not lines:
        return type(exc).__name__
    kept = lines[:1] + [lines[-1]] if len(lines) > 1 else lines
    if kept[-1].startswith("Original Line"):
        kept = kept[:1]
    text = "; ".join(kept)
    return text if len(text) <= 300 else text[:297] + "..."


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _typed(column: Column, source_type: str) -> str:
    src = f'_source."{column.name}"'
    if column.type == TIMESTAMP:
        # ISO 8601 only: DuckDB would also take 'infinity' or 'epoch'. Offsets are converted to
        # UTC; a timestamp without one is UTC (session time zone).
        text = f"TRY_CAST({src} AS VARCHAR)"
        return (
            f"CASE WHEN regexp_matches({text}, '^\\s*[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
            f"AND isfinite(TRY_CAST({text} AS TIMESTAMPTZ)) "
            f"THEN TRY_CAST({text} AS TIMESTAMPTZ)::TIMESTAMP END"
        )
    if column.type == INT:
        # Whole numbers only: a plain cast would round 2.5 to 3; TRY_CAST keeps 1e20 a bad value.
        as_double = f"TRY_CAST({src} AS DOUBLE)"
        return (
            f"CASE WHEN {as_double} = floor({as_double}) THEN TRY_CAST({as_double} AS BIGINT) END"
        )
    if column.type == STR and source_type == "BLOB":
        # Parquet strings written without the UTF8 annotation: decode them, never escape them.
        return f"TRY(decode({src}))"
    return f"TRY_CAST({src} AS {column.duckdb_type})"


def _as_text(column: Column, source_type: str) -> str:
    """The value as the file wrote it, for the quarantine's row_json (from which held rows are
    read again): Parquet strings without the UTF8 annotation are decoded where they can be."""
    src = f'_source."{column.name}"'
    if source_type == "BLOB":
        return f"coalesce(TRY(decode({src})), TRY_CAST({src} AS VARCHAR))"
    return f"TRY_CAST({src} AS VARCHAR)"


def _quoted(sql_text: str) -> str:
    return "'" + sql_text.replace("'", "''") + "'"


def _shown(table: Table, value_sql: str) -> str:
    """How a bad value appears in its reason. Reasons are counted into Dagster metadata and logs,
    so no value of a table with personal data is quoted (a phone typed into a date column is
    still a phone); the reason names the column, the row number sits beside it, and the row
    itself stays in ``cloudsword.quarantine`` for whoever may see the warehouse."""
    if holds_personal_data(table):
        return "'<value hidden>'"
    return f"left({value_sql}, 60)"


def _validate_sql(table: Table, types: dict[str, str]) -> str:
    """SQL that types every row of ``_source`` and lists its contract violations."""
    typed = ", ".join(f'{_typed(c, types[c.name])} AS "{c.name}"' for c in table.columns)
    original = ", ".join(f'"{c.name}" := {_as_text(c, types[c.name])}' for c in table.columns)
    checks: list[str] = []
    for c in table.columns:
        raw = f'_original."{c.name}"'
        val = f't."{c.name}"'
        checks.append(
            f"CASE WHEN {raw} IS NOT NULL AND {val} IS NULL THEN "
            f"{_quoted(c.name + ': cannot parse ')} || {_shown(table, raw)} || "
            f"{_quoted(' as ' + c.type)} END"
        )
        if not c.nullable:
            checks.append(
                f"CASE WHEN {raw} IS NULL THEN {_quoted(c.name + ': required value missing')} END"
            )
        if c.name in table.key and c.type == STR:
            # A blank key is a missing key: it would match nothing and collide with other blanks.
            checks.append(
                f"CASE WHEN trim({raw}) = '' THEN {_quoted(c.name + ': key is blank')} END"
            )
        if c.enum:
            allowed = ", ".join(_quoted(v) for v in c.enum)
            checks.append(
                f"CASE WHEN {val} NOT IN ({allowed}) THEN {_quoted(c.name + ': unknown value ')}"
                f" || {_shown(table, val)}"
                f" || {_quoted(' (expected ' + ' | '.join(c.enum) + ')')} END"
            )
        rule = c.rule()
        if rule:
            cond, wording = rule
            predicate = cond.replace("{col}", val)
            checks.append(
                f"CASE WHEN {val} IS NOT NULL AND NOT ({predicate}) THEN "
                f"{_quoted(c.name + ': ' + wording + ' (got ')} || "
                f"{_shown(table, f'CAST({val} AS VARCHAR)')} || ')' END"
            )
    for predicate, reason in table.row_checks:
        cond = predicate
        for name in table.column_names:
            cond = cond.replace(name, f't."{name}"')
        checks.append(f"CASE WHEN NOT ({cond}) THEN {_quoted(reason)} END")

    joins: list[str] = []
    reference_checks: list[str] = []
    for i, fk in enumerate(table.foreign_keys):
        alias = f"fk{i}"
        on = " AND ".join(
            f't."{c}" = {alias}."{r}"' for c, r in zip(fk.columns, fk.ref_columns, strict=True)
        )
        ref_cols = ", ".join(f'"{r}"' for r in fk.ref_columns)
        joins.append(f"LEFT JOIN (SELECT DISTINCT {ref_cols} FROM raw.{fk.table}) {alias} ON {on}")
        applies = " AND ".join(f't."{c}" IS NOT NULL' for c in fk.columns)
        if fk.when:
            applies += f" AND t.{fk.when}"
        shown = _shown(table, " || ',' || ".join(f't."{c}"' for c in fk.columns))
        reference_checks.append(
            f'CASE WHEN {applies} AND {alias}."{fk.ref_columns[0]}" IS NULL THEN '
            f"{_quoted(', '.join(fk.columns) + ': ')} || {shown} || "
            f"{_quoted(' not found in ' + fk.table)} END"
        )

    key = ", ".join(f't."{c}"' for c in table.key)
    checks.append(
        f"CASE WHEN row_number() OVER (PARTITION BY {key} ORDER BY t._row_number) > 1 "
        f"THEN 'duplicate key within batch (first at row ' || "
        f"first_value(t._row_number) OVER (PARTITION BY {key} ORDER BY t._row_number) || ')' END"
    )
    if not table.entity:
        # Event tables are append-only: a key already ingested from an earlier batch is a
        # duplicate, not an update.
        on = " AND ".join(f't."{c}" = seen."{c}"' for c in table.key)
        key_cols = ", ".join(f'"{c}"' for c in table.key)
        joins.append(
            f"LEFT JOIN (SELECT {key_cols}, min(_batch_id) AS _seen_in FROM raw.{table.name} "
            f"GROUP BY ALL) seen ON {on}"
        )
        checks.append(
            "CASE WHEN seen._seen_in IS NOT NULL THEN "
            "'duplicate key: already ingested in batch ' || seen._seen_in END"
        )

    return f"""
        CREATE TEMP TABLE _checked AS
        WITH t AS (
            SELECT _source._row_number, {typed}, struct_pack({original}) AS _original
            FROM _source
        )
        SELECT t.*, list_filter([{", ".join(checks + reference_checks)}], lambda x: x IS NOT NULL)
                AS _reasons,
            len(list_filter([{", ".join(reference_checks) or "NULL"}], lambda x: x IS NOT NULL))
                AS _missing_references
        FROM t {" ".join(joins)}
    """


def _record_batch(
    con: duckdb.DuckDBPyConnection,
    batch_id: str,
    status: str,
    result: BatchResult | None,
    now: datetime,
    error: str | None,
) -> None:
    con.execute(
        "INSERT OR REPLACE INTO cloudsword.batches VALUES (?, ?, ?, ?, ?, ?)",
        [
            batch_id,
            status,
            result.rows_loaded if result else 0,
            result.rows_quarantined if result else 0,
            now,
            error,
        ],
    )
