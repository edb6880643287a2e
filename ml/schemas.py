"""pandera schemas for the stage boundaries: raw input tables and the contract's outputs.

Input schemas are built from ``ml.contract`` (the same spec ingestion validates against in SQL);
output schemas follow the Outputs section of the data contract. ``validate_table`` runs one
against a warehouse table and returns the failure cases, for asset checks and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import pandera.pandas as pa

from ml.contract import BOOL, FLOAT, INT, STR, TABLES, TIMESTAMP, Column

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
        checks.append(pa.Check.str_fullmatch(column.pattern))
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
            "rank": pa.Column(int, pa.Check.ge(1), unique=True),
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
        return err.failure_cases
    return pd.DataFrame(columns=["column", "check", "failure_case", "index"])


def validate_table(
    con: duckdb.DuckDBPyConnection, table: str, qualified_name: str | None = None
) -> ValidationReport:
    """Validate the warehouse table of an output (``main.<table>`` by default)."""
    frame = con.execute(f"SELECT * FROM {qualified_name or 'main.' + table}").df()
    return ValidationReport(table, len(frame), validate_frame(frame, OUTPUT_SCHEMAS[table]))
