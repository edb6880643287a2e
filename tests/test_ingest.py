"""Ingestion per the contract: upserts, appends, duplicates, quarantine, failures, re-runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ml.ingest import BatchError, ingest_batch, ingested_batches, scan_landing

SELLERS = [
    {
        "seller_id": "s1",
        "shop_name": "Alpha Store",
        "registered_at": "2026-01-01T00:00:00Z",
        "province": "Fujian",
        "city": "Putian",
        "business_license": None,
        "phone": "13800000001",
        "email": None,
        "id_document_hash": None,
    },
    {
        "seller_id": "s2",
        "shop_name": "Beta Store",
        "registered_at": "2026-01-02T08:00:00+08:00",
        "province": "Zhejiang",
        "city": "Yiwu",
        "business_license": "BL2",
        "phone": None,
        "email": "b@example.com",
        "id_document_hash": None,
    },
]


def listing(listing_id: str, seller_id: str = "s1", price: object = 99.0, **extra) -> dict:
    row = {
        "listing_id": listing_id,
        "seller_id": seller_id,
        "brand": None,
        "category": "shoes",
        "title": f"title {listing_id}",
        "description": None,
        "price": price,
        "created_at": "2026-01-03T00:00:00",
        "image_phash": "0123456789abcdef",
        "ship_from_city": "Putian",
        "ship_from_address": None,
        "status": "active",
    }
    row.update(extra)
    return row


def write_batch(landing: Path, batch_id: str, tables: dict[str, list[dict]], csv=()) -> Path:
    batch = landing / batch_id
    batch.mkdir(parents=True)
    for name, rows in tables.items():
        frame = pd.DataFrame(rows)
        if name in csv:
            frame.to_csv(batch / f"{name}.csv", index=False)
        else:
            frame.to_parquet(batch / f"{name}.parquet", index=False)
    (batch / "_SUCCESS").touch()
    return batch


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def home(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "warehouse.duckdb", tmp_path / "landing"


def test_scan_sorts_complete_incomplete_and_invalid(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_batch(landing, "2026-01-02", {})
    write_batch(landing, "2026-01-01", {})
    (landing / "2026-01-03").mkdir()
    (landing / "bad name!").mkdir()
    scan = scan_landing(landing)
    assert scan.complete == ["2026-01-01", "2026-01-02"]
    assert scan.incomplete == ["2026-01-03"]
    assert scan.invalid == ["bad name!"]


def test_good_rows_load_and_bad_rows_are_quarantined_with_reasons(home) -> None:
    warehouse, landing = home
    write_batch(
        landing,
        "b1",
        {
            "sellers": SELLERS,
            "listings": [
                listing("l1"),
                listing("l2", price=-5),
                listing("l3", seller_id="nobody"),
                listing("l4", status="deleted"),
                listing("l5", created_at="yesterday"),
                listing("l1", title="same key again"),
                listing("l6", price="nan"),
            ],
        },
        csv=("listings",),
    )
    result = ingest_batch(warehouse, landing, "b1")
    assert result.tables["sellers"].rows_loaded == 2
    assert result.tables["listings"].rows_loaded == 1
    assert result.tables["listings"].rows_quarantined == 6

    reasons = dict(query(warehouse, "SELECT row_number, reason FROM cloudsword.quarantine"))
    assert "price: must be > 0 (got -5.0)" in reasons[2]
    assert "seller_id: nobody not found in sellers" in reasons[3]
    assert "status: unknown value deleted" in reasons[4]
    assert "created_at: cannot parse yesterday as timestamp" in reasons[5]
    assert "duplicate key within batch (first at row 1)" in reasons[6]
    assert "price: must be > 0" in reasons[7]
    # The offset is converted to UTC.
    assert (
        query(warehouse, "SELECT registered_at FROM raw.sellers WHERE seller_id = 's2'")[0][
            0
        ].isoformat()
        == "2026-01-02T00:00:00"
    )


def test_entity_upserts_keep_every_version_and_events_reject_repeats(home) -> None:
    warehouse, landing = home
    order = {
        "order_id": "o1",
        "listing_id": "l1",
        "buyer_id": "u1",
        "quantity": 1,
        "unit_price": 99.0,
        "paid_at": "2026-01-04T00:00:00Z",
        "buyer_province": "Fujian",
        "buyer_city": "Putian",
        "refund_requested": False,
    }
    write_batch(landing, "b1", {"sellers": SELLERS, "listings": [listing("l1")], "orders": [order]})
    write_batch(
        landing,
        "b2",
        {
            "listings": [listing("l1", price=79.0, status="removed")],
            "orders": [order, {**order, "order_id": "o2", "quantity": 2.5}],
        },
    )
    ingest_batch(warehouse, landing, "b1")
    second = ingest_batch(warehouse, landing, "b2")
    assert second.tables["listings"].rows_loaded == 1
    assert query(warehouse, "SELECT _batch_id, price FROM raw.listings ORDER BY _batch_id") == [
        ("b1", 99.0),
        ("b2", 79.0),
    ]
    assert second.tables["orders"].rows_loaded == 0
    reasons = sorted(r[0] for r in query(warehouse, "SELECT reason FROM cloudsword.quarantine"))
    assert reasons == [
        "duplicate key: already ingested in batch b1",
        "quantity: cannot parse 2.5 as int",
    ]


def test_reingesting_a_batch_changes_nothing(home) -> None:
    warehouse, landing = home
    write_batch(
        landing, "b1", {"sellers": SELLERS, "listings": [listing("l1"), listing("l2", price=0)]}
    )
    first = ingest_batch(warehouse, landing, "b1")
    snapshot = query(warehouse, "SELECT * EXCLUDE (_ingested_at) FROM raw.listings ORDER BY ALL")
    again = ingest_batch(warehouse, landing, "b1")
    assert first.status == "ingested" and again.status == "already_ingested"
    assert (
        query(warehouse, "SELECT * EXCLUDE (_ingested_at) FROM raw.listings ORDER BY ALL")
        == snapshot
    )
    assert query(warehouse, "SELECT count(*) FROM cloudsword.quarantine") == [(1,)]
    assert ingested_batches(warehouse) == {"b1"}


def test_unreadable_file_fails_the_batch_and_leaves_published_data_untouched(home) -> None:
    warehouse, landing = home
    write_batch(landing, "b1", {"sellers": SELLERS})
    ingest_batch(warehouse, landing, "b1")
    batch = write_batch(landing, "b2", {"listings": [listing("l1")]})
    (batch / "sellers.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(BatchError, match=r"sellers\.parquet: cannot be read as Parquet"):
        ingest_batch(warehouse, landing, "b2")
    assert query(warehouse, "SELECT count(*) FROM raw.listings") == [(0,)]
    assert query(warehouse, "SELECT count(*) FROM raw.sellers") == [(2,)]
    assert query(warehouse, "SELECT status FROM cloudsword.batches WHERE batch_id = 'b2'") == [
        ("failed",)
    ]


def test_missing_required_column_names_the_file_and_columns(home) -> None:
    warehouse, landing = home
    rows = [{k: v for k, v in s.items() if k != "city"} for s in SELLERS]
    write_batch(landing, "b1", {"sellers": rows})
    with pytest.raises(BatchError, match=r"sellers\.parquet: required column\(s\) missing: city"):
        ingest_batch(warehouse, landing, "b1")


def test_extra_columns_are_ignored_and_csv_quoting_is_rfc4180(home) -> None:
    warehouse, landing = home
    sellers = [{**s, "loyalty_tier": "gold"} for s in SELLERS]
    sellers[0]["shop_name"] = 'The "Best", Store\nSecond line'
    write_batch(landing, "b1", {"sellers": sellers}, csv=("sellers",))
    ingest_batch(warehouse, landing, "b1")
    assert query(warehouse, "SELECT shop_name FROM raw.sellers WHERE seller_id = 's1'") == [
        ('The "Best", Store\nSecond line',)
    ]


def test_incomplete_and_invalid_batches_are_never_read(home) -> None:
    warehouse, landing = home
    (landing / "b1").mkdir(parents=True)
    with pytest.raises(BatchError, match="not complete"):
        ingest_batch(warehouse, landing, "b1")
    with pytest.raises(BatchError, match="invalid batch id"):
        ingest_batch(warehouse, landing, "../etc")


def test_file_errors_name_the_line_but_never_echo_its_content(home) -> None:
    # The failure message goes to the batches table, logs and Dagster: no row text in it.
    warehouse, landing = home
    batch = write_batch(landing, "b1", {"sellers": SELLERS}, csv=("sellers",))
    path = batch / "sellers.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("13800000001", '"13800000001')  # opens a quote, never closed
    lines[2] = lines[2] + ',"13912345678 extra'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BatchError, match=r"sellers\.csv: cannot be read as CSV.*Line") as caught:
        ingest_batch(warehouse, landing, "b1")
    assert "1391234" not in str(caught.value) and "Beta Store" not in str(caught.value)


def test_scan_lists_hidden_and_linked_folders_as_invalid(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_batch(landing, "b1", {})
    write_batch(tmp_path / "elsewhere", "b2", {})
    (landing / "b2").symlink_to(tmp_path / "elsewhere" / "b2", target_is_directory=True)
    write_batch(landing, ".b3", {})
    scan = scan_landing(landing)
    assert (scan.complete, scan.invalid) == (["b1"], [".b3", "b2"])
