"""pandera schemas for every stage boundary: raw input tables, staging, feature marts, training
sets, and the contract's outputs (scores, network outputs, leads).

Input and staging schemas are built from ``ml.contract`` (the same spec ingestion validates
against in SQL); feature schemas follow the naming scheme of the dbt marts (family prefixes
``prod_``/``cons_``/``rep_``/``sell_``; ``_share``/``_rate`` words are shares in [0, 1]); output
schemas follow the Outputs section of the data contract. ``STAGE_SCHEMAS`` maps
``"<schema>.<table>"`` to a schema factory; ``validate_table`` runs one against a warehouse table
without loading it whole (see there) and returns the failure cases, for asset checks and tests.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from ml.contract import BATCH_ID_PATTERN, BOOL, FLOAT, INT, STR, TABLES, TIMESTAMP, Column

_DTYPES = {
    STR: "string",
    FLOAT: "float64",
    INT: "int64",
    BOOL: "boolean",
    TIMESTAMP: "datetime64[ns]",
}


def _input_column(column: Column) -> pa.Column:
    checks = []
    if column.enum:
        checks.append(pa.Check.isin(column.enum))
    if column.gt is not None:
        checks.append(pa.Check.gt(column.gt))
    if column.ge is not None:
        checks.append(pa.Check.ge(column.ge))
    if column.le is not None:
        checks.append(pa.Check.le(column.le))
    if column.pattern:
        checks.append(pa.Check.str_matches(rf"(?:{column.pattern})\Z"))
    return pa.Column(_DTYPES[column.type], checks=checks, nullable=column.nullable, coerce=True)


def input_schema(table: str) -> pa.DataFrameSchema:
    """The contract schema of one input table (extra columns allowed, as the contract says)."""
    spec = TABLES[table]
    return pa.DataFrameSchema(
        {c.name: _input_column(c) for c in spec.columns},
        unique=list(spec.key),
        strict=False,
        name=table,
    )


def raw_schema(table: str) -> pa.DataFrameSchema:
    """``raw.<table>``: contract rows plus ingestion's columns. Entity tables keep every version
    sent, so their key is unique within a batch only."""
    spec = TABLES[table]
    batch_id = BATCH_ID_PATTERN.pattern.strip("^$")
    return pa.DataFrameSchema(
        {
            **{c.name: _input_column(c) for c in spec.columns},
            "_batch_id": pa.Column(
                "string", pa.Check.str_matches(rf"(?:{batch_id})\Z"), coerce=True
            ),
            "_row_number": pa.Column("int64", pa.Check.ge(1), coerce=True),
            "_ingested_at": pa.Column("datetime64[ns]", coerce=True),
        },
        unique=[*spec.key, "_batch_id"] if spec.entity else list(spec.key),
        name=f"raw.{table}",
    )


def staging_schema(table: str) -> pa.DataFrameSchema:
    """``staging.stg_<table>``: exactly the contract columns, typed, one row per key, and the
    batch each row came from (incremental builds read only batches not yet staged)."""
    spec = TABLES[table]
    return pa.DataFrameSchema(
        {
            **{c.name: _input_column(c) for c in spec.columns},
            "_batch_id": pa.Column(str, nullable=False, coerce=True),
        },
        unique=list(spec.key),
        strict=True,
        name=f"stg_{table}",
    )


# --- feature marts ---------------------------------------------------------------------------
#: A feature column: family prefix, then the metric name (see dbt_project/models/marts YAML).
FEATURE = r"^(prod|cons|rep|sell)_.+"
#: Shares, rates and concentration indices lie in [0, 1] (a "_share" word, not "_shared").
SHARE = r"^(prod|cons|rep|sell)_.*(_share(_.*)?|_rate(_.*)?|_hhi|_pct)$"
#: Everything else is a count, amount, duration or ratio, so >= 0, except signed metrics.
NON_NEGATIVE = r"^(?!.*(_z_|_z$|_log|_diff|_growth))(prod|cons|rep|sell)_.+"


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def _finite_or_null(series: pd.Series) -> pd.Series:
    if not _numeric(series):
        return pd.Series(False, index=series.index)
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(np.isnan(values) | np.isfinite(values), index=series.index)


def _feature_columns() -> dict[str, pa.Column]:
    return {
        FEATURE: pa.Column(
            nullable=True,
            regex=True,
            checks=[
                pa.Check(_numeric, name="numeric"),
                pa.Check(_finite_or_null, name="finite_or_null"),
            ],
        ),
        SHARE: pa.Column(nullable=True, regex=True, checks=pa.Check.in_range(0.0, 1.0)),
        NON_NEGATIVE: pa.Column(nullable=True, regex=True, checks=pa.Check.ge(0)),
    }


def _key(unique: bool = False) -> pa.Column:
    return pa.Column("string", unique=unique, coerce=True)


def _label_columns() -> dict[str, pa.Column]:
    return {
        "label_decided_at": pa.Column("datetime64[ns]", coerce=True),
        "label": pa.Column("int64", pa.Check.isin([0, 1]), coerce=True),
    }


def _as_of_not_after_label(frame: pd.DataFrame) -> pd.Series | bool:
    """Point in time: features are computed as of the label's decision, never later."""
    if "features_as_of" not in frame or "label_decided_at" not in frame:
        return True
    return frame["features_as_of"].isna() | (frame["features_as_of"] <= frame["label_decided_at"])


def listing_features_schema() -> pa.DataFrameSchema:
    """``main.listing_features``: one row per listing, then numeric features."""
    return pa.DataFrameSchema(
        {
            "listing_id": _key(unique=True),
            "seller_id": _key(),
            "status": pa.Column("string", pa.Check.isin(["active", "removed"]), coerce=True),
            "features_as_of": pa.Column("datetime64[ns]", coerce=True),
            **_feature_columns(),
        },
        name="listing_features",
    )


def seller_features_schema() -> pa.DataFrameSchema:
    """``main.seller_features``: one row per seller, then numeric features."""
    return pa.DataFrameSchema(
        {
            "seller_id": _key(unique=True),
            "features_as_of": pa.Column("datetime64[ns]", coerce=True),
            **_feature_columns(),
        },
        name="seller_features",
    )


def training_set_schema() -> pa.DataFrameSchema:
    """``main.training_set``: one labelled row per listing, features as of the label time."""
    return pa.DataFrameSchema(
        {
            "listing_id": _key(unique=True),
            "seller_id": _key(),
            **_label_columns(),
            **_feature_columns(),
        },
        checks=pa.Check(_as_of_not_after_label, name="features_as_of <= label_decided_at"),
        name="training_set",
    )


def seller_training_set_schema() -> pa.DataFrameSchema:
    """``main.seller_training_set``: one labelled row per seller, features as of the label."""
    return pa.DataFrameSchema(
        {
            "seller_id": _key(unique=True),
            **_label_columns(),
            "label_origin": pa.Column(
                "string", pa.Check.isin(["enforcement_outcomes", "lead_decision"]), coerce=True
            ),
            **_feature_columns(),
        },
        checks=pa.Check(_as_of_not_after_label, name="features_as_of <= label_decided_at"),
        name="seller_training_set",
    )


def lead_status_history_schema() -> pa.DataFrameSchema:
    """``staging.stg_lead_status_history``: investigators' decisions (seller labels)."""
    statuses = ["new", "exported", "accepted", "rejected", "closed"]
    return pa.DataFrameSchema(
        {
            "lead_id": _key(),
            "status": pa.Column("string", pa.Check.isin(statuses), coerce=True),
            "changed_at": pa.Column("datetime64[ns]", coerce=True),
            "note": pa.Column("string", nullable=True, coerce=True),
            "seller_ids": pa.Column(object, nullable=True),
        },
        name="stg_lead_status_history",
    )


def _unit_interval(nullable: bool = False) -> pa.Column:
    return pa.Column(float, pa.Check.in_range(0.0, 1.0), nullable=nullable)


OUTPUT_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "listing_scores": pa.DataFrameSchema(
        {
            "listing_id": pa.Column(str, unique=True),
            "seller_id": pa.Column(str),
            "counterfeit_score": _unit_interval(),
            "model_version": pa.Column(str),
            "scored_at": pa.Column("datetime64[ns]"),
            "top_reasons": pa.Column(object),
        },
        name="listing_scores",
    ),
    "seller_scores": pa.DataFrameSchema(
        {
            "seller_id": pa.Column(str, unique=True),
            "risk_score": _unit_interval(),
            "ring_id": pa.Column(str, nullable=True),
            "scored_at": pa.Column("datetime64[ns]"),
        },
        name="seller_scores",
    ),
    "rings": pa.DataFrameSchema(
        {
            "ring_id": pa.Column(str),
            "seller_id": pa.Column(str),
            "linked_by": pa.Column(object),
        },
        unique=["ring_id", "seller_id"],
        name="rings",
    ),
    "sources": pa.DataFrameSchema(
        {
            "source_id": pa.Column(str, unique=True),
            "sender_address": pa.Column(str),
            "sender_city": pa.Column(str),
            "linked_sellers": pa.Column(object),
            "risk_score": _unit_interval(),
            "est_counterfeit_value": pa.Column(float, pa.Check.ge(0)),
        },
        name="sources",
    ),
    "leads": pa.DataFrameSchema(
        {
            "lead_id": pa.Column(str, unique=True),
            "rank": pa.Column(int, pa.Check.ge(1), unique=True, coerce=True),
            "priority_score": pa.Column(float),
            "status": pa.Column(
                str, pa.Check.isin(["new", "exported", "accepted", "rejected", "closed"])
            ),
            "province": pa.Column(str, nullable=True),
            "city": pa.Column(str, nullable=True),
            "ring_id": pa.Column(str, nullable=True),
            "seller_ids": pa.Column(object),
            "source_ids": pa.Column(object),
            "est_counterfeit_value": pa.Column(float, pa.Check.ge(0)),
            "evidence_summary": pa.Column(str),
            "first_exported_at": pa.Column("datetime64[ns]", nullable=True),
            "updated_at": pa.Column("datetime64[ns]"),
        },
        name="leads",
    ),
}


def _output(name: str) -> Callable[[], pa.DataFrameSchema]:
    return lambda: OUTPUT_SCHEMAS[name]


#: Every stage boundary: "<schema>.<table>" -> a function building its schema. The Dagster layer
#: turns each into an asset check (see validate_table).
STAGE_SCHEMAS: dict[str, Callable[[], pa.DataFrameSchema]] = {
    **{f"raw.{t}": (lambda t=t: raw_schema(t)) for t in TABLES},
    **{f"staging.stg_{t}": (lambda t=t: staging_schema(t)) for t in TABLES},
    "staging.stg_lead_status_history": lead_status_history_schema,
    "main.listing_features": listing_features_schema,
    "main.seller_features": seller_features_schema,
    "main.training_set": training_set_schema,
    "main.seller_training_set": seller_training_set_schema,
    **{f"main.{name}": _output(name) for name in OUTPUT_SCHEMAS},
}


@dataclass(frozen=True)
class ValidationReport:
    table: str
    rows: int
    failures: pd.DataFrame  # pandera's failure_cases: column, check, failure_case, index

    @property
    def passed(self) -> bool:
        return self.failures.empty


def validate_frame(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """All failure cases of ``frame`` against ``schema`` (empty when it conforms)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        failures = err.failure_cases.copy()
        # pandera names the schema for a missing or unexpected column; name the column itself.
        missing = failures["check"].isin(["column_in_dataframe", "column_in_schema"])
        failures.loc[missing, "column"] = failures.loc[missing, "failure_case"]
        return failures
    return pd.DataFrame(columns=["column", "check", "failure_case", "index"])


#: Rows pandera sees at most per table (a repeatable sample beyond it): a 1M x 364 mart never
#: sits in pandas whole. Keys and non-finite floats are checked in SQL over every row.
SAMPLE_ROWS = 100_000
#: DuckDB vectors (2,048 rows each) per pandas chunk.
CHUNK_VECTORS = 10
_FAILURE_COLUMNS = ["schema_context", "column", "check", "check_number", "failure_case", "index"]


def _key_columns(schema: pa.DataFrameSchema) -> list[list[str]]:
    keys = [[name] for name, col in schema.columns.items() if col.unique and not col.regex]
    if schema.unique:
        keys.append(list(schema.unique))
    return keys


def _without_uniqueness(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    """Uniqueness within one chunk says nothing about the table: SQL checks it instead."""
    unique = {name: {"unique": False} for name, col in schema.columns.items() if col.unique}
    out = schema.update_columns(unique) if unique else copy.deepcopy(schema)
    out.unique = None
    return out


def _failure(column: str, check: str, case: object) -> dict[str, object]:
    return dict(zip(_FAILURE_COLUMNS, ["SQL", column, check, None, case, None], strict=True))


def _sql_failures(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    keys: list[list[str]],
    key_relation: str | None = None,
) -> list[dict[str, object]]:
    """Key uniqueness / presence over ``key_relation`` (default: ``relation``, the whole table)
    and non-finite floats over ``relation``, in a few scans."""
    out = []
    key_relation = key_relation or relation
    for key in keys:
        cols = ", ".join(f'"{c}"' for c in key)
        present = " AND ".join(f'"{c}" IS NOT NULL' for c in key)
        dup, example = con.execute(
            f"SELECT count(*), any_value(k) FROM (SELECT ({cols})::VARCHAR AS k "
            f"FROM {key_relation} WHERE {present} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
        if dup:
            out.append(_failure(", ".join(key), "unique (all rows)", f"{dup} keys, e.g. {example}"))
        nulls = con.execute(
            f"SELECT count(*) FROM {key_relation} WHERE NOT ({present})"
        ).fetchone()[0]
        if nulls:
            out.append(_failure(", ".join(key), "key not null (all rows)", f"{nulls} rows"))
    described = con.execute(f"DESCRIBE {relation}").fetchall()
    floats = [row[0] for row in described if row[1] in ("DOUBLE", "FLOAT")]
    if floats:
        counts = con.execute(
            "SELECT "
            + ", ".join(f'count_if(NOT isfinite("{c}"))' for c in floats)
            + f" FROM {relation}"
        ).fetchone()
        out += [
            _failure(c, "finite (all rows)", f"{n} NaN/infinite values")
            for c, n in zip(floats, counts, strict=True)
            if n
        ]
    return out


def schema_for(table: str) -> tuple[str, pa.DataFrameSchema]:
    """(relation, schema) of ``"<schema>.<table>"`` or of a bare output name (``main.<name>``)."""
    if "." in table:
        return table, STAGE_SCHEMAS[table]()
    return f"main.{table}", OUTPUT_SCHEMAS[table]


def validate_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    qualified_name: str | None = None,
    max_rows: int | None = SAMPLE_ROWS,
    key_relation: str | None = None,
) -> ValidationReport:
    """Validate a warehouse table against its stage schema.

    ``table`` is a ``STAGE_SCHEMAS`` key (``"main.listing_features"``) or an output name
    (``"listing_scores"``, read from ``main``); ``qualified_name`` overrides where it is read.
    pandera checks values chunk by chunk over at most ``max_rows`` rows (a repeatable sample of
    bigger tables; ``None`` = all rows); keys and non-finite floats are checked in SQL over all
    rows (of ``key_relation`` when given: the whole table when ``qualified_name`` holds only
    some of its rows). Failure ``index`` values are row positions in what pandera read.
    """
    relation, schema = schema_for(table)
    relation = qualified_name or relation
    rows = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    sample = ""
    if max_rows is not None and rows > max_rows:
        sample = f" USING SAMPLE reservoir({int(max_rows)} ROWS) REPEATABLE (7)"
    chunk_schema = _without_uniqueness(schema)
    failures: list[pd.DataFrame] = []
    cursor = con.execute(f"SELECT * FROM {relation}{sample}")
    offset = 0
    while True:
        chunk = cursor.fetch_df_chunk(CHUNK_VECTORS)
        if chunk.empty and offset > 0:
            break
        # An empty table is validated once, so it still has to have the right columns.
        chunk.index = pd.RangeIndex(offset, offset + len(chunk))
        failures.append(validate_frame(chunk, chunk_schema))
        offset += len(chunk)
        if chunk.empty:
            break
    failures.append(pd.DataFrame(_sql_failures(con, relation, _key_columns(schema), key_relation)))
    failures = [f for f in failures if not f.empty]
    frame = (
        pd.concat(failures, ignore_index=True)
        if failures
        else pd.DataFrame(columns=_FAILURE_COLUMNS)
    )
    return ValidationReport(table, rows, frame)


#: Content hashes of rows that passed their check, per relation (``validate_changed``).
CHECKED_ROWS = "cloudsword.checked_rows"
CHECKED_SIGNATURES = "cloudsword.checked_signatures"


@dataclass(frozen=True)
class ChangedValidation:
    """``validate_changed``'s result: the report over the rows it validated, and how many."""

    report: ValidationReport
    #: Rows in the table; rows validated (new or changed since the last passing check).
    total_rows: int
    checked_rows: int
    full: bool

    @property
    def passed(self) -> bool:
        return self.report.passed


def _signature(con: duckdb.DuckDBPyConnection, relation: str, schema: pa.DataFrameSchema) -> str:
    """What a passing check vouched for: the table's columns and types and the schema's
    checks. Another signature (a migrated table, an edited schema) re-validates every row."""
    described = con.execute(f"DESCRIBE {relation}").fetchall()
    checks = {
        name: [str(check) for check in column.checks] + [str(column.dtype), str(column.nullable)]
        for name, column in schema.columns.items()
    }
    text = json.dumps([[list(map(str, row[:2])) for row in described], checks], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def validate_changed(
    con: duckdb.DuckDBPyConnection,
    table: str,
    full: bool = False,
    max_rows: int | None = SAMPLE_ROWS,
) -> ChangedValidation:
    """Validate the rows of ``table`` that no earlier passing check saw; remember them on a pass.

    Change is found by content, not by trusting a timestamp: each row's ``hash`` (DuckDB, over
    every column) is compared with the hashes stored in ``cloudsword.checked_rows`` when the
    table last passed, so a row that a run wrote or changed is validated and an untouched one
    is not. Keys stay unique and present over the whole table (a changed row may collide with
    an unchanged one). A failing check stores nothing, so the bad rows are validated (and fail)
    again on the next run; ``full=True`` validates every row, as ``validate_table`` does.
    Needs a writable connection (it stores the hashes).
    """
    relation, schema = schema_for(table)
    con.execute("CREATE SCHEMA IF NOT EXISTS cloudsword")
    con.execute(f"CREATE TABLE IF NOT EXISTS {CHECKED_ROWS} (relation VARCHAR, row_hash UBIGINT)")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {CHECKED_SIGNATURES} "
        "(relation VARCHAR PRIMARY KEY, signature VARCHAR)"
    )
    signature = _signature(con, relation, schema)
    stored = con.execute(
        f"SELECT signature FROM {CHECKED_SIGNATURES} WHERE relation = ?", [relation]
    ).fetchall()
    full = full or not stored or stored[0][0] != signature
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _chk_all AS SELECT DISTINCT hash(t) AS h FROM {relation} t"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _chk_new AS
        SELECT h FROM _chk_all
        {"" if full else f"EXCEPT SELECT row_hash FROM {CHECKED_ROWS} WHERE relation = $r"}
        """,
        {} if full else {"r": relation},
    )
    total = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    n_new, n_all = con.execute(
        "SELECT (SELECT count(*) FROM _chk_new), (SELECT count(*) FROM _chk_all)"
    ).fetchone()
    if full or n_new == n_all:
        # Every row is new (a table rewritten with new values): read it directly rather than
        # through the hash join.
        changed = relation
    else:
        # The changed rows, once: validation reads them several times (count, chunks, SQL).
        changed = "_chk_changed"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {changed} AS "
            f"SELECT t.* FROM {relation} t SEMI JOIN _chk_new n ON hash(t) = n.h"
        )
    if n_new or full:
        report = validate_table(
            con, table, qualified_name=changed, max_rows=max_rows, key_relation=relation
        )
    else:
        # No row changed: its columns are those a passing check saw (same signature) and every
        # row passed, so only the whole-table key checks can still fail (they are cheap SQL).
        con.execute(f"CREATE OR REPLACE TEMP TABLE _chk_changed AS FROM {relation} LIMIT 0")
        sql = _sql_failures(con, "_chk_changed", _key_columns(schema), relation)
        failures = pd.DataFrame(sql) if sql else pd.DataFrame(columns=_FAILURE_COLUMNS)
        report = ValidationReport(table, 0, failures)
    if report.passed:
        con.execute("BEGIN")
        try:
            con.execute(
                f"DELETE FROM {CHECKED_ROWS} WHERE relation = $r "
                "AND row_hash NOT IN (SELECT h FROM _chk_all)"
                if not full
                else f"DELETE FROM {CHECKED_ROWS} WHERE relation = $r",
                {"r": relation},
            )
            con.execute(
                f"INSERT INTO {CHECKED_ROWS} SELECT $r, h FROM _chk_new"
                if not full
                else f"INSERT INTO {CHECKED_ROWS} SELECT $r, h FROM _chk_all",
                {"r": relation},
            )
            con.execute(
                f"INSERT OR REPLACE INTO {CHECKED_SIGNATURES} VALUES (?, ?)", [relation, signature]
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return ChangedValidation(report, total_rows=int(total), checked_rows=report.rows, full=full)
