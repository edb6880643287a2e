"""The pandera contracts of ml/schemas.py: good frames pass, planted bad values fail naming the
column, and validate_table checks big tables in chunks with keys checked over every row."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.contract import TABLES
from ml.schemas import (
    CHUNK_VECTORS,
    OUTPUT_SCHEMAS,
    STAGE_SCHEMAS,
    listing_features_schema,
    raw_schema,
    seller_training_set_schema,
    staging_schema,
    training_set_schema,
    validate_frame,
    validate_table,
)

T = datetime.fromisoformat


def listing_frame(n: int = 3) -> pd.DataFrame:
    """A conforming listing_features frame with a few features of each kind."""
    return pd.DataFrame(
        {
            "listing_id": [f"L{i}" for i in range(n)],
            "seller_id": ["S1"] * n,
            "brand": ["Nike"] * n,
            "category": ["shoes"] * n,
            "status": ["active"] * n,
            "created_at": [T("2024-01-01")] * n,
            "features_as_of": [T("2024-06-01")] * n,
            "prod_price": np.linspace(10.0, 20.0, n),
            "prod_price_z_brand": np.linspace(-2.0, 2.0, n),  # signed: may be negative
            "prod_log_price_to_ref": [-1.5] * n,
            "cons_orders_all": np.arange(n, dtype="int64"),
            "cons_refund_rate_7d": [0.0, np.nan, 1.0] * (n // 3) + [0.5] * (n % 3),
            "cons_rating_mean_all": [np.nan] * n,  # no reviews: null
            "sell_shared_device_sellers_n": [4] * n,  # a count, not a share
            "sell_registration_completeness_share": [0.25] * n,
            "rep_consumer_per_order_90d": [2.0] * n,
        }
    )


def failed(failures: pd.DataFrame) -> set[str]:
    return {str(c) for c in failures["column"]}


def test_good_feature_frame_passes() -> None:
    assert validate_frame(listing_frame(), listing_features_schema()).empty


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("cons_refund_rate_7d", 1.5),  # a rate above 1
        ("sell_registration_completeness_share", -0.1),
        ("cons_orders_all", -1),  # a negative count
        ("prod_price", np.inf),  # not finite
        ("rep_consumer_per_order_90d", -np.inf),
    ],
)
def test_planted_bad_feature_value_fails_naming_the_column(column: str, value: object) -> None:
    frame = listing_frame()
    frame[column] = frame[column].astype(float)
    frame.loc[1, column] = value
    failures = validate_frame(frame, listing_features_schema())
    assert failed(failures) == {column}
    assert list(failures["index"]) == [1] * len(failures)


def test_non_numeric_feature_and_bad_keys_fail() -> None:
    frame = listing_frame()
    frame["prod_title"] = "a title"  # text has no place among the features
    frame.loc[2, "listing_id"] = "L0"
    frame.loc[0, "status"] = "deleted"
    failures = validate_frame(frame, listing_features_schema())
    assert failed(failures) == {"prod_title", "listing_id", "status"}


def training_frame() -> pd.DataFrame:
    frame = listing_frame().drop(columns=["status", "created_at", "features_as_of"])
    frame["label_decided_at"] = [T("2024-06-01"), T("2024-06-02"), T("2024-06-03")]
    frame["label"] = [1, 0, 1]
    return frame


def test_training_set_labels_and_point_in_time() -> None:
    schema = training_set_schema()
    assert validate_frame(training_frame(), schema).empty  # no features_as_of column: fine
    bad = training_frame()
    bad.loc[0, "label"] = 2
    assert failed(validate_frame(bad, schema)) == {"label"}
    late = training_frame()
    late["features_as_of"] = late["label_decided_at"]
    assert validate_frame(late, schema).empty
    late.loc[1, "features_as_of"] = T("2024-06-05")  # computed after the label: a leak
    failures = validate_frame(late, schema)
    assert set(failures["check"]) == {"features_as_of <= label_decided_at"}
    assert set(failures["index"]) == {1}
    seller = training_frame().drop(columns=["listing_id"]).assign(seller_id=["S1", "S2", "S3"])
    seller["label_origin"] = ["lead_decision", "enforcement_outcomes", "guess"]
    assert failed(validate_frame(seller, seller_training_set_schema())) == {"label_origin"}


def accounts(rows: list[tuple]) -> pd.DataFrame:
    names = TABLES["seller_payment_accounts"].column_names
    return pd.DataFrame(rows, columns=names).assign(_batch_id="b1")


def test_staging_schema_is_the_contract_deduplicated() -> None:
    rows = [
        ("S1", "alipay", "a-1", None, "Li", T("2024-01-01")),
        ("S1", "bank_card", "a-1", "ICBC", None, T("2024-01-02")),
    ]
    good = accounts(rows)
    schema = staging_schema("seller_payment_accounts")
    assert validate_frame(good, schema).empty
    bad = accounts([*rows, ("S1", "paypal", "a-1", None, None, None)])
    assert failed(validate_frame(bad, schema)) == {"account_type", "first_seen_at"}
    dup = pd.concat([good, good.iloc[[0]]], ignore_index=True)
    assert not validate_frame(dup, schema).empty
    extra = good.assign(_row_number=1)  # staging keeps the contract columns and the batch only
    assert "_row_number" in failed(validate_frame(extra, schema))
    assert "_batch_id" in failed(validate_frame(good.drop(columns="_batch_id"), schema))


def test_raw_entity_versions_are_unique_per_batch_only() -> None:
    names = TABLES["brands"].column_names
    rows = [("Nike", "shoes", 800.0, "Nike Inc"), ("Nike", "shoes", 900.0, "Nike Inc")]
    frame = pd.DataFrame(rows, columns=names)
    frame["_row_number"] = [1, 1]
    frame["_ingested_at"] = [T("2024-07-01")] * 2
    assert validate_frame(frame.assign(_batch_id=["b1", "b2"]), raw_schema("brands")).empty
    same_batch = validate_frame(frame.assign(_batch_id=["b1", "b1"]), raw_schema("brands"))
    assert not same_batch.empty
    bad_id = validate_frame(frame.assign(_batch_id=["b1", "../x"]), raw_schema("brands"))
    assert failed(bad_id) == {"_batch_id"}


def test_every_stage_has_a_schema() -> None:
    expected = {f"raw.{t}" for t in TABLES} | {f"staging.stg_{t}" for t in TABLES}
    expected |= {f"main.{t}" for t in ("listing_features", "seller_features", "training_set")}
    expected |= {f"main.{t}" for t in OUTPUT_SCHEMAS}
    assert expected <= set(STAGE_SCHEMAS)
    for factory in STAGE_SCHEMAS.values():
        assert factory().columns  # each builds


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("CREATE SCHEMA staging")
    yield con
    con.close()


def test_validate_table_chunks_and_checks_keys_over_all_rows(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    n = CHUNK_VECTORS * 2048 * 2 + 100  # several chunks
    frame = listing_frame(n)
    warehouse.register("frame", frame)
    warehouse.execute("CREATE TABLE main.listing_features AS SELECT * FROM frame")
    report = validate_table(warehouse, "main.listing_features", max_rows=None)
    assert report.passed and report.rows == n

    # A duplicate key two chunks apart, a NaN (pandas would read it as a null) and a bad share.
    warehouse.execute(
        "UPDATE main.listing_features SET listing_id = 'L5' WHERE listing_id = ?", [f"L{n - 1}"]
    )
    warehouse.execute(
        "UPDATE main.listing_features SET prod_price = 'NaN'::DOUBLE WHERE listing_id = 'L7'"
    )
    warehouse.execute(
        "UPDATE main.listing_features SET sell_registration_completeness_share = 3 WHERE listing_id = 'L9'"
    )
    report = validate_table(warehouse, "main.listing_features", max_rows=None)
    assert failed(report.failures) == {
        "listing_id",
        "prod_price",
        "sell_registration_completeness_share",
    }
    checks = set(report.failures["check"])
    assert {"unique (all rows)", "finite (all rows)"} <= checks

    # Sampled: pandera reads 1,000 rows, the SQL checks still see every row.
    sampled = validate_table(warehouse, "main.listing_features", max_rows=1000)
    assert sampled.rows == n
    assert {"listing_id", "prod_price"} <= failed(sampled.failures)


def test_validate_table_empty_staging_and_outputs(warehouse: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f"{c.name} {c.duckdb_type}" for c in TABLES["orders"].columns)
    warehouse.execute(f"CREATE TABLE staging.stg_orders ({columns}, _batch_id VARCHAR)")
    assert validate_table(warehouse, "staging.stg_orders").passed  # empty is fine
    warehouse.execute("ALTER TABLE staging.stg_orders DROP COLUMN buyer_id")
    assert "buyer_id" in failed(validate_table(warehouse, "staging.stg_orders").failures)
    # Bare output names keep reading main.<name> (the contract outputs' asset checks).
    warehouse.execute(
        "CREATE TABLE main.seller_scores AS SELECT 'S1' AS seller_id, 0.5 AS risk_score,"
        " NULL::VARCHAR AS ring_id, TIMESTAMP '2024-01-01' AS scored_at"
    )
    assert validate_table(warehouse, "seller_scores").passed
    warehouse.execute("UPDATE main.seller_scores SET risk_score = 1.5")
    assert failed(validate_table(warehouse, "seller_scores").failures) == {"risk_score"}
