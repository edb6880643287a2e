"""The dbt project on a hand-made raw warehouse: it builds with all its tests, features have the
values worked out by hand below, and training rows are point-in-time correct.

The raw fixture mirrors what ``ml/ingest.py`` writes: one ``raw.<table>`` per contract table,
typed per ``ml/contract.py``, plus ``_batch_id``, ``_row_number`` and ``_ingested_at``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ml.contract import INGEST_ORDER, TABLES

CHECKOUT = Path(__file__).resolve().parent.parent
DBT_PROJECT = CHECKOUT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")

T = datetime.fromisoformat

# --- the hand-made marketplace ------------------------------------------------------------------
# S1 is an authorized Nike seller. S2 and S3 are one counterfeit operation: they share a device
# and a payment account, reuse one product image (phash ab..) and receive goods from the same
# sender under two spellings of its address. L2 is labelled counterfeit at LABEL_L2; everything
# after that moment must not reach its training row.
LABEL_L2 = T("2024-06-10 12:00:00")
PHASH = "abcdef0123456789"

BATCH_1: dict[str, list[dict[str, Any]]] = {
    "brands": [
        {
            "brand": "Nike",
            "category": "shoes",
            "reference_price": 800.0,
            "rights_holder": "Nike Inc",
        },
        {
            "brand": "Gucci",
            "category": "bags",
            "reference_price": 10000.0,
            "rights_holder": "Kering",
        },
    ],
    "sellers": [
        {
            "seller_id": "S1",
            "shop_name": "Old name",
            "registered_at": T("2023-01-01"),
            "province": "Shanghai",
            "city": "Shanghai",
            "business_license": "BL-1",
            "phone": "13800000001",
            "email": "s1@example.com",
            "id_document_hash": "id1",
        },
        {
            "seller_id": "S2",
            "shop_name": "Factory outlet 1:1",
            "registered_at": T("2024-05-01"),
            "province": "Guangdong",
            "city": "Guangzhou",
            "business_license": None,
            "phone": "138-0000-0002",
            "email": None,
            "id_document_hash": None,
        },
        {
            "seller_id": "S3",
            "shop_name": "Best bags",
            "registered_at": T("2024-05-02"),
            "province": "Fujian",
            "city": "Putian",
            "business_license": None,
            "phone": "13800000003",
            "email": None,
            "id_document_hash": "id3",
        },
    ],
    "brand_authorizations": [
        {"brand": "Nike", "seller_id": "S1", "authorized_since": T("2023-02-01")},
    ],
    "seller_payment_accounts": [
        {
            "seller_id": "S2",
            "account_type": "alipay",
            "account_ref": "pay-777",
            "bank_name": None,
            "holder_name": "Li Si",
            "first_seen_at": T("2024-05-01"),
        },
        {
            "seller_id": "S3",
            "account_type": "alipay",
            "account_ref": "PAY 777",
            "bank_name": None,
            "holder_name": "Li Si",
            "first_seen_at": T("2024-05-03"),
        },
        {
            "seller_id": "S1",
            "account_type": "bank_account",
            "account_ref": "6222-1",
            "bank_name": "ICBC",
            "holder_name": "Shop One Ltd",
            "first_seen_at": T("2023-01-01"),
        },
    ],
    "seller_logins": [
        {
            "seller_id": "S2",
            "device_id": "dev-X",
            "ip": "10.0.0.2",
            "logged_in_at": T("2024-06-01"),
        },
        {
            "seller_id": "S3",
            "device_id": "dev-X",
            "ip": "10.0.0.3",
            "logged_in_at": T("2024-06-02"),
        },
        {
            "seller_id": "S1",
            "device_id": "dev-1",
            "ip": "10.0.0.1",
            "logged_in_at": T("2024-06-01"),
        },
    ],
    "listings": [
        {
            "listing_id": "L1",
            "seller_id": "S1",
            "brand": "Nike",
            "category": "shoes",
            "title": "Nike Air Zoom running shoe",
            "description": "Official store, genuine product.",
            "price": 799.0,
            "created_at": T("2023-03-01"),
            "image_phash": "0000000000000001",
            "ship_from_city": "Shanghai",
            "ship_from_address": "1 Nanjing Rd",
            "status": "active",
        },
        {
            "listing_id": "L2",
            "seller_id": "S2",
            "brand": "Nike",
            "category": "shoes",
            "title": "Nike AAA 1:1 shoes",
            "description": "replica, mirror quality",
            "price": 200.0,
            "created_at": T("2024-05-05"),
            "image_phash": PHASH,
            "ship_from_city": "Putian",
            "ship_from_address": None,
            "status": "active",
        },
        {
            "listing_id": "L3",
            "seller_id": "S3",
            "brand": "Gucci",
            "category": "bags",
            "title": "G bag",
            "description": None,
            "price": 900.0,
            "created_at": T("2024-05-06"),
            "image_phash": PHASH,
            "ship_from_city": "Putian",
            "ship_from_address": "x",
            "status": "active",
        },
    ],
    "orders": [
        # L2: two orders before the label, by the same buyer; B2 asks a refund.
        {
            "order_id": "O1",
            "listing_id": "L2",
            "buyer_id": "B1",
            "quantity": 2,
            "unit_price": 150.0,
            "paid_at": T("2024-05-20"),
            "buyer_province": "Hebei",
            "buyer_city": "Baoding",
            "refund_requested": False,
        },
        {
            "order_id": "O2",
            "listing_id": "L2",
            "buyer_id": "B1",
            "quantity": 1,
            "unit_price": 150.0,
            "paid_at": T("2024-06-05"),
            "buyer_province": "Hebei",
            "buyer_city": "Baoding",
            "refund_requested": False,
        },
        {
            "order_id": "O3",
            "listing_id": "L2",
            "buyer_id": "B2",
            "quantity": 1,
            "unit_price": 150.0,
            "paid_at": T("2024-06-08"),
            "buyer_province": "Hunan",
            "buyer_city": "Changsha",
            "refund_requested": True,
        },
        {
            "order_id": "O4",
            "listing_id": "L1",
            "buyer_id": "B3",
            "quantity": 1,
            "unit_price": 799.0,
            "paid_at": T("2024-06-01"),
            "buyer_province": "Jiangsu",
            "buyer_city": "Nanjing",
            "refund_requested": False,
        },
    ],
    "reviews": [
        {
            "review_id": "R1",
            "listing_id": "L2",
            "buyer_id": "B1",
            "rating": 1,
            "text": "Fake! not original, bad smell",
            "created_at": T("2024-05-25"),
        },
        {
            "review_id": "R2",
            "listing_id": "L2",
            "buyer_id": "B9",
            "rating": 5,
            "text": None,
            "created_at": T("2024-06-06"),
        },
        {
            "review_id": "R3",
            "listing_id": "L3",
            "buyer_id": "B9",
            "rating": 5,
            "text": "good",
            "created_at": T("2024-06-06"),
        },
        {
            "review_id": "R4",
            "listing_id": "L1",
            "buyer_id": "B3",
            "rating": 4,
            "text": "ok",
            "created_at": T("2024-06-03"),
        },
    ],
    "reports": [
        {
            "report_id": "P1",
            "listing_id": "L2",
            "seller_id": None,
            "reporter_type": "consumer",
            "reason": "counterfeit",
            "text": "fake",
            "created_at": T("2024-06-07"),
        },
        {
            "report_id": "P2",
            "listing_id": "L2",
            "seller_id": "S2",
            "reporter_type": "rights_holder",
            "reason": "ip_infringement",
            "text": None,
            "created_at": T("2024-05-15"),
        },
        {
            "report_id": "P3",
            "listing_id": None,
            "seller_id": "S3",
            "reporter_type": "platform_patrol",
            "reason": "other",
            "text": None,
            "created_at": T("2024-06-01"),
        },
    ],
    "inbound_shipments": [
        {
            "shipment_id": "H1",
            "seller_id": "S2",
            "sender_name": None,
            "sender_address": "No. 8 Shoe Factory Rd, Putian",
            "sender_city": "Putian",
            "sender_phone": None,
            "weight_kg": 12.5,
            "declared_category": None,
            "received_at": T("2024-05-10"),
        },
        {
            "shipment_id": "H2",
            "seller_id": "S3",
            "sender_name": "Chen",
            "sender_address": "no 8 shoe factory rd putian",
            "sender_city": "Putian",
            "sender_phone": "0594-1234",
            "weight_kg": 7.5,
            "declared_category": "bags",
            "received_at": T("2024-05-12"),
        },
    ],
    "enforcement_outcomes": [],
}

BATCH_2: dict[str, list[dict[str, Any]]] = {
    # New versions: S1 renamed its shop; L2's price was cut (the latest batch wins).
    "sellers": [dict(BATCH_1["sellers"][0], shop_name="Shop One")],
    "listings": [
        dict(BATCH_1["listings"][1], price=150.0),
        {
            "listing_id": "L4",
            "seller_id": "S3",
            "brand": "Nike",
            "category": "bags",
            "title": "Nike r3plica bag",
            "description": "top-grade copy",
            "price": 120.0,
            "created_at": T("2024-06-01"),
            "image_phash": PHASH,
            "ship_from_city": "Putian",
            "ship_from_address": "x",
            "status": "removed",
        },
    ],
    "orders": [
        # After the label of L2: must not reach its training row.
        {
            "order_id": "O5",
            "listing_id": "L2",
            "buyer_id": "B4",
            "quantity": 5,
            "unit_price": 150.0,
            "paid_at": T("2024-06-20"),
            "buyer_province": "Hebei",
            "buyer_city": "Baoding",
            "refund_requested": True,
        },
        # A duplicate of O1 with other values: the first occurrence wins.
        dict(BATCH_1["orders"][0], quantity=9),
    ],
    "enforcement_outcomes": [
        {
            "case_ref": "C1",
            "entity_type": "listing",
            "entity_id": "L2",
            "outcome": "counterfeit_confirmed",
            "source": "test_purchase",
            "decided_at": LABEL_L2,
        },
        {
            "case_ref": "C2",
            "entity_type": "listing",
            "entity_id": "L1",
            "outcome": "genuine_confirmed",
            "source": "rights_holder_verification",
            "decided_at": T("2024-06-15"),
        },
        # L4: confirmed counterfeit, then overturned on appeal: the later outcome wins.
        {
            "case_ref": "C3",
            "entity_type": "listing",
            "entity_id": "L4",
            "outcome": "counterfeit_confirmed",
            "source": "test_purchase",
            "decided_at": T("2024-06-12"),
        },
        {
            "case_ref": "C4",
            "entity_type": "listing",
            "entity_id": "L4",
            "outcome": "genuine_confirmed",
            "source": "appeal",
            "decided_at": T("2024-06-25"),
        },
        # A seller-level outcome labels no listing.
        {
            "case_ref": "C5",
            "entity_type": "seller",
            "entity_id": "S3",
            "outcome": "counterfeit_confirmed",
            "source": "police_raid",
            "decided_at": T("2024-06-26"),
        },
    ],
}

# Events of every kind about L2 and its seller after LABEL_L2 (and one exactly at it).
LATE_EVENTS: dict[str, list[dict[str, Any]]] = {
    "orders": [
        {
            "order_id": "O9",
            "listing_id": "L2",
            "buyer_id": "B7",
            "quantity": 3,
            "unit_price": 150.0,
            "paid_at": LABEL_L2,
            "buyer_province": "Hebei",
            "buyer_city": "Baoding",
            "refund_requested": True,
        },
    ],
    "reviews": [
        {
            "review_id": "R9",
            "listing_id": "L2",
            "buyer_id": "B7",
            "rating": 1,
            "text": "fake",
            "created_at": T("2024-06-11"),
        },
    ],
    "reports": [
        {
            "report_id": "P9",
            "listing_id": "L2",
            "seller_id": None,
            "reporter_type": "consumer",
            "reason": "counterfeit",
            "text": None,
            "created_at": T("2024-06-11"),
        },
    ],
    "seller_logins": [
        {
            "seller_id": "S2",
            "device_id": "dev-Y",
            "ip": "10.0.0.9",
            "logged_in_at": T("2024-06-11"),
        },
        {
            "seller_id": "S1",
            "device_id": "dev-Y",
            "ip": "10.0.0.9",
            "logged_in_at": T("2024-06-11"),
        },
    ],
    "seller_payment_accounts": [
        {
            "seller_id": "S2",
            "account_type": "bank_card",
            "account_ref": "9",
            "bank_name": None,
            "holder_name": None,
            "first_seen_at": T("2024-06-11"),
        },
    ],
    "inbound_shipments": [
        {
            "shipment_id": "H9",
            "seller_id": "S2",
            "sender_name": None,
            "sender_address": "No. 8 Shoe Factory Rd, Putian",
            "sender_city": "Putian",
            "sender_phone": None,
            "weight_kg": 50.0,
            "declared_category": None,
            "received_at": T("2024-06-11"),
        },
    ],
    "brand_authorizations": [
        {"brand": "Nike", "seller_id": "S2", "authorized_since": T("2024-06-11")},
    ],
    "listings": [
        # Another seller starts using L2's image after the label.
        {
            "listing_id": "L7",
            "seller_id": "S1",
            "brand": "Nike",
            "category": "shoes",
            "title": "Nike AAA 1:1 shoes",
            "description": None,
            "price": 10.0,
            "created_at": T("2024-06-11"),
            "image_phash": PHASH,
            "ship_from_city": "Shanghai",
            "ship_from_address": None,
            "status": "active",
        },
    ],
}


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """All 11 raw tables, empty, exactly as ingestion creates them."""
    con.execute("create schema if not exists raw")
    for name in INGEST_ORDER:
        columns = [f"{c.name} {c.duckdb_type}" for c in TABLES[name].columns]
        columns += ["_batch_id VARCHAR", "_row_number BIGINT", "_ingested_at TIMESTAMP"]
        con.execute(f"create table if not exists raw.{name} ({', '.join(columns)})")


def append_batch(
    con: duckdb.DuckDBPyConnection, batch_id: str, tables: dict[str, list[dict[str, Any]]]
) -> None:
    """Append one batch's rows, numbering them 1.. per table like rows of a file."""
    for name, rows in tables.items():
        names = TABLES[name].column_names
        for row_number, row in enumerate(rows, start=1):
            values = [row[c] for c in names] + [batch_id, row_number, T("2024-07-01")]
            marks = ", ".join("?" for _ in values)
            con.execute(f"insert into raw.{name} values ({marks})", values)


def make_warehouse(home: Path, batches: Iterable[tuple[str, dict]]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        create_raw_tables(con)
        for batch_id, tables in batches:
            append_batch(con, batch_id, tables)


def run_dbt(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CLOUDSWORD_HOME=str(home), CLOUDSWORD_DUCKDB_MEMORY_LIMIT="2GB")
    # Each home gets its own target folder so tests never touch the checkout's manifest.
    cmd = [
        str(DBT),
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(home / "dbt_target"),
        "--log-path",
        str(home / "dbt_logs"),
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-6000:]}"
    return result


def fetch(home: Path, sql: str, params: list | None = None) -> list[dict[str, Any]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(home: Path, sql: str, params: list | None = None) -> dict[str, Any]:
    rows = fetch(home, sql, params)
    assert len(rows) == 1, rows
    return rows[0]


@pytest.fixture(scope="module")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose warehouse holds the fixture and everything `dbt build` made of it."""
    home = tmp_path_factory.mktemp("dbt_home")
    make_warehouse(home, [("b1", BATCH_1), ("b2", BATCH_2)])
    run_dbt(home, "build")
    return home
