"""Leads: assembly, stable ids, registry lifecycle, masked and safe exports (hand-made data)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ml.contract import TABLES
from ml.leads import (
    LEADS_COLUMNS,
    InvalidTransition,
    LeadConfig,
    UnknownLead,
    build_leads,
    export_leads,
    get_lead,
    list_leads,
    outcome_labels,
    set_status,
)
from ml.leads.files import atomic_write
from ml.leads.masking import mask_hash, mask_tail

NOW = datetime(2026, 3, 1, 12, 0, 0)
LATER = datetime(2026, 3, 2, 12, 0, 0)

# Planted sensitive values: none may appear in a masked export.
ACCOUNT = "6222021234565678"
ACCOUNT_LONE = "6217001122334455"
PHONE = "13812345678"
SENDER_PHONE = "+86 139-9876-5432"
ID_HASH = "sha256:ab12" + "c" * 60
# Numbers typed into free text that belong to nobody in the data: only their shape gives them away.
STRAY_PHONE = "13700001111"
STRAY_CARD = "6222000011112222"
SECRETS = [
    ACCOUNT,
    ACCOUNT_LONE,
    PHONE,
    SENDER_PHONE,
    "8613998765432",
    "13998765432",
    ID_HASH,
    STRAY_PHONE,
    STRAY_CARD,
]
SCRIPT_TITLE = "<script>alert('x')</script> Nike Air"
FORMULA_CITY = "=HYPERLINK(1)"


def seller(sid: str, shop: str, city: str = "Putian", province: str = "Fujian", **extra) -> dict:
    row = {
        "seller_id": sid,
        "shop_name": shop,
        "registered_at": "2025-06-01 00:00:00",
        "province": province,
        "city": city,
        "business_license": None,
        "phone": None,
        "email": None,
        "id_document_hash": None,
    }
    row.update(extra)
    return row


def listing(lid: str, sid: str, title: str | None = None, brand: str = "Nike") -> dict:
    return {
        "listing_id": lid,
        "seller_id": sid,
        "brand": brand,
        "category": "shoes",
        "title": title or f"title {lid}",
        "description": None,
        "price": 99.0,
        "created_at": "2026-01-05 00:00:00",
        "image_phash": None,
        "ship_from_city": "Putian",
        "ship_from_address": None,
        "status": "active",
    }


def base_data() -> dict[str, list[dict]]:
    """Ring R1 (s1-s3) supplied by SRC1; lone high-risk s4; low-risk s5; source SRC2 -> s6."""
    sellers = [
        seller("s1", "Alpha Shoes", phone=PHONE, id_document_hash=ID_HASH),
        seller("s2", "Beta Shoes"),
        seller("s3", "Gamma Shoes"),
        seller("s4", "Delta Bags", city=FORMULA_CITY, province="Zhejiang"),
        seller("s5", "Honest Store", city="Hangzhou", province="Zhejiang"),
        seller("s6", "Epsilon Watches", city="Yiwu", province="Zhejiang"),
    ]
    listings = [
        listing("l1", "s1", SCRIPT_TITLE),
        listing("l2", "s2"),
        listing("l3", "s3", brand="Adidas"),
        listing("l4", "s4", brand="Gucci"),
        listing("l5", "s5"),
        listing("l6", "s6", brand="Rolex"),
    ]
    orders = [
        {
            "order_id": f"o{i}",
            "listing_id": lid,
            "buyer_id": "b1",
            "quantity": 2,
            "unit_price": 100.0,
            "paid_at": "2026-02-01 00:00:00",
            "buyer_province": "Guangdong",
            "buyer_city": "Shenzhen",
            "refund_requested": False,
        }
        for i, lid in enumerate(["l1", "l2", "l3", "l4", "l5", "l6"])
    ]
    reports = [
        {
            "report_id": "r1",
            "listing_id": "l1",
            "seller_id": None,
            "reporter_type": "rights_holder",
            "reason": "counterfeit",
            "text": f"Fake. Call {PHONE}",
            "created_at": "2026-01-20 00:00:00",
        },
        {
            "report_id": "r2",
            "listing_id": None,
            "seller_id": "s4",
            "reporter_type": "consumer",
            "reason": "quality",
            "text": "bad",
            "created_at": "2026-01-21 00:00:00",
        },
    ]
    outcomes = [
        {
            "case_ref": "c1",
            "entity_type": "listing",
            "entity_id": "l2",
            "outcome": "counterfeit_confirmed",
            "source": "test_purchase",
            "decided_at": "2026-02-10 00:00:00",
        }
    ]
    shipments = [
        {
            "shipment_id": "sh1",
            "seller_id": "s1",
            "sender_name": "Putian Factory",
            "sender_address": "12 Shoe Rd",
            "sender_city": "Putian",
            "sender_phone": SENDER_PHONE,
            "weight_kg": 20.0,
            "declared_category": "shoes",
            "received_at": "2026-01-10 00:00:00",
        }
    ]
    accounts = [
        {
            "seller_id": sid,
            "account_type": "alipay",
            "account_ref": ACCOUNT,
            "bank_name": None,
            "holder_name": "Zhang",
            "first_seen_at": "2025-07-01 00:00:00",
        }
        for sid in ("s1", "s2")
    ] + [
        {
            "seller_id": "s4",
            "account_type": "bank_card",
            "account_ref": ACCOUNT_LONE,
            "bank_name": "ICBC",
            "holder_name": "Li",
            "first_seen_at": "2025-07-01 00:00:00",
        }
    ]
    brands = [
        {"brand": b, "category": "shoes", "reference_price": 800.0, "rights_holder": f"{b} Inc"}
        for b in ("Nike", "Adidas", "Gucci", "Rolex")
    ]
    scores = {"l1": 0.97, "l2": 0.9, "l3": 0.8, "l4": 0.92, "l5": 0.05, "l6": 0.6}
    listing_scores = [
        {
            "listing_id": lid,
            "seller_id": f"s{lid[1:]}",
            "counterfeit_score": s,
            "model_version": "m1",
            "scored_at": "2026-03-01 00:00:00",
            "top_reasons": ["price far below brand reference", "seller shares payment account"],
        }
        for lid, s in scores.items()
    ]
    risk = {"s1": 0.9, "s2": 0.8, "s3": 0.7, "s4": 0.85, "s5": 0.1, "s6": 0.4}
    seller_scores = [
        {
            "seller_id": sid,
            "risk_score": r,
            "ring_id": "R1" if sid in ("s1", "s2", "s3") else None,
            "scored_at": "2026-03-01 00:00:00",
        }
        for sid, r in risk.items()
    ]
    rings = [
        {"ring_id": "R1", "seller_id": s, "linked_by": ["payment_account"]}
        for s in ["s1", "s2", "s3"]
    ]
    ring_links = [
        {
            "ring_id": "R1",
            "seller_id": "s1",
            "other_seller_id": "s2",
            "kind": "payment_account",
            "identifier": ACCOUNT,
        },
        {
            "ring_id": "R1",
            "seller_id": "s1",
            "other_seller_id": "s3",
            "kind": "phone",
            "identifier": PHONE,
        },
        {
            "ring_id": "R1",
            "seller_id": "s2",
            "other_seller_id": "s3",
            "kind": "id_document_hash",
            "identifier": ID_HASH,
        },
    ]
    sources = [
        {
            "source_id": "SRC1",
            "sender_address": "12 shoe rd",
            "sender_city": "Putian",
            "linked_sellers": ["s1", "s2"],
            "risk_score": 0.8,
            "est_counterfeit_value": 500.0,
        },
        {
            "source_id": "SRC2",
            "sender_address": "9 watch st",
            "sender_city": "Yiwu",
            "linked_sellers": ["s6"],
            "risk_score": 0.9,
            "est_counterfeit_value": 100.0,
        },
    ]
    reviews = [
        {
            "review_id": "v1",
            "listing_id": "l1",
            "buyer_id": "b1",
            "rating": 1,
            "text": f"Fake! Seller said call {STRAY_PHONE} or pay card {STRAY_CARD}",
            "created_at": "2026-02-03 00:00:00",
        },
        {
            "review_id": "v2",
            "listing_id": "l2",
            "buyer_id": "b1",
            "rating": 5,
            "text": "great",
            "created_at": "2026-02-04 00:00:00",
        },
    ]
    return {
        "staging.stg_reviews": reviews,
        "staging.stg_sellers": sellers,
        "staging.stg_listings": listings,
        "staging.stg_orders": orders,
        "staging.stg_reports": reports,
        "staging.stg_enforcement_outcomes": outcomes,
        "staging.stg_inbound_shipments": shipments,
        "staging.stg_seller_payment_accounts": accounts,
        "staging.stg_brands": brands,
        "main.listing_scores": listing_scores,
        "main.seller_scores": seller_scores,
        "main.rings": rings,
        "main.ring_links": ring_links,
        "main.sources": sources,
    }


OUTPUT_TYPES = {
    "main.listing_scores": "listing_id VARCHAR, seller_id VARCHAR, counterfeit_score DOUBLE, "
    "model_version VARCHAR, scored_at TIMESTAMP, top_reasons VARCHAR[]",
    "main.seller_scores": "seller_id VARCHAR, risk_score DOUBLE, ring_id VARCHAR, "
    "scored_at TIMESTAMP",
    "main.rings": "ring_id VARCHAR, seller_id VARCHAR, linked_by VARCHAR[]",
    "main.ring_links": "ring_id VARCHAR, seller_id VARCHAR, other_seller_id VARCHAR, kind VARCHAR, "
    "identifier VARCHAR",
    "main.sources": "source_id VARCHAR, sender_address VARCHAR, sender_city VARCHAR, "
    "linked_sellers VARCHAR[], risk_score DOUBLE, est_counterfeit_value DOUBLE",
}


def write_warehouse(path: Path, data: dict[str, list[dict]]) -> Path:
    """(Re)create the input tables of the leads step with exactly these rows."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS staging")
        for name, rows in data.items():
            if name.startswith("staging."):
                table = TABLES[name.removeprefix("staging.stg_")]
                columns = ", ".join(f"{c.name} {c.duckdb_type}" for c in table.columns)
                names = table.column_names
            else:
                columns = OUTPUT_TYPES[name]
                names = [c.strip().split(" ")[0] for c in columns.split(",")]
            con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
            if rows:
                placeholders = ", ".join("?" for _ in names)
                con.executemany(
                    f"INSERT INTO {name} VALUES ({placeholders})",
                    [[r[n] for n in names] for r in rows],
                )
    return path


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    write_warehouse(tmp_path / "warehouse.duckdb", base_data())
    return tmp_path


def leads_table(warehouse: Path) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute("SELECT * FROM main.leads ORDER BY rank")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def registry_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT * FROM cloudsword.lead_registry ORDER BY lead_id").fetchall()


def export(home: Path, name: str = "exports", **kwargs):
    return export_leads(home / "warehouse.duckdb", home / name, home / "logs", **kwargs)


def warehouse_secrets(warehouse: Path) -> set[str]:
    """Every phone, account number and ID hash in the warehouse, as stored and as digits only."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        values = {
            v
            for sql in (
                "SELECT phone FROM staging.stg_sellers",
                "SELECT id_document_hash FROM staging.stg_sellers",
                "SELECT account_ref FROM staging.stg_seller_payment_accounts",
                "SELECT sender_phone FROM staging.stg_inbound_shipments",
            )
            for (v,) in con.execute(sql).fetchall()
            if v
        }
    digits = {"".join(ch for ch in v if ch.isdigit()) for v in values}
    return {v for v in values | digits if len(v) >= 8}


def all_export_bytes(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def test_leads_centre_on_rings_sources_and_lone_sellers(home: Path) -> None:
    summary = build_leads(home / "warehouse.duckdb", NOW)
    rows = leads_table(home / "warehouse.duckdb")
    assert list(rows[0]) == list(LEADS_COLUMNS)
    by_ring = {r["ring_id"]: r for r in rows}
    assert sorted(r["seller_ids"] for r in rows) == [["s1", "s2", "s3"], ["s4"], ["s6"]]
    ring = by_ring["R1"]
    assert ring["source_ids"] == ["SRC1"]
    assert (ring["province"], ring["city"]) == ("Fujian", "Putian")
    # 2 units * 100 CNY per listing, weighted by each listing's counterfeit score.
    assert ring["est_counterfeit_value"] == pytest.approx(200 * (0.97 + 0.9 + 0.8))
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert [r["priority_score"] for r in rows] == sorted(
        (r["priority_score"] for r in rows), reverse=True
    )
    assert all(r["status"] == "new" for r in rows)
    assert (summary.new, summary.updated, summary.unchanged) == (3, 0, 0)
    assert summary.by_province == {"Zhejiang": 2, "Fujian": 1}
    package = get_lead(home / "warehouse.duckdb", ring["lead_id"], unmasked=True)["package"]
    assert package["listings"][0]["title"] == SCRIPT_TITLE
    assert package["sellers"][0]["phone"] == PHONE
    masked = get_lead(home / "warehouse.duckdb", ring["lead_id"])["package"]
    assert masked["sellers"][0]["phone"] == "****5678"
    assert get_lead(home / "warehouse.duckdb", "L-999999") is None
    assert package["complaints"]["by_reporter_type"]["rights_holder"] == 1
    assert package["outcomes"]["counterfeit_confirmed"] == 1
    assert {i["kind"] for i in package["linked_identifiers"]} == {
        "payment_account",
        "phone",
        "id_document_hash",
    }
    assert [e["event"] for e in package["timeline"]][0] == "first_listing"


def test_same_data_twice_keeps_ids_and_rewrites_nothing(home: Path) -> None:
    warehouse = home / "warehouse.duckdb"
    build_leads(warehouse, NOW)
    first = export(home, now=NOW)
    assert first.marked_exported and len(first.written) == 2 * 3 + 3
    files_before = {
        p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in (home / "exports").rglob("*")
    }
    registry_before = registry_rows(warehouse)
    leads_before = leads_table(warehouse)

    again = build_leads(warehouse, LATER)
    second = export(home, now=LATER)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    assert registry_rows(warehouse) == registry_before
    assert leads_table(warehouse) == leads_before
    assert second.written == [] and second.marked_exported == []
    assert {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in (home / "exports").rglob("*")} == (
        files_before
    )
    ids = [r[0] for r in registry_before]
    assert len(ids) == len(set(ids)) == 3


def test_ring_that_gains_a_member_updates_its_lead(home: Path) -> None:
    warehouse = home / "warehouse.duckdb"
    build_leads(warehouse, NOW)
    ring_before = next(r for r in leads_table(warehouse) if r["ring_id"] == "R1")

    data = base_data()
    data["main.rings"].append({"ring_id": "R1", "seller_id": "s5", "linked_by": ["device_id"]})
    data["main.ring_links"].append(
        {
            "ring_id": "R1",
            "seller_id": "s5",
            "other_seller_id": "s1",
            "kind": "device_id",
            "identifier": "d9",
        }
    )
    write_warehouse(warehouse, data)
    summary = build_leads(warehouse, LATER)

    rows = leads_table(warehouse)
    ring_after = next(r for r in rows if r["ring_id"] == "R1")
    assert ring_after["lead_id"] == ring_before["lead_id"]
    assert ring_after["seller_ids"] == ["s1", "s2", "s3", "s5"]
    assert ring_after["updated_at"] == LATER
    assert (summary.new, summary.updated, summary.unchanged) == (0, 1, 2)
    assert len(registry_rows(warehouse)) == 3


def test_lone_seller_joining_a_ring_keeps_its_lead_id(home: Path) -> None:
    warehouse = home / "warehouse.duckdb"
    build_leads(warehouse, NOW)
    lone = next(r for r in leads_table(warehouse) if r["seller_ids"] == ["s4"])

    data = base_data()
    data["main.rings"] += [
        {"ring_id": "R2", "seller_id": s, "linked_by": ["phone"]} for s in ("s4", "s5")
    ]
    write_warehouse(warehouse, data)
    build_leads(warehouse, LATER)

    ring2 = next(r for r in leads_table(warehouse) if r["ring_id"] == "R2")
    assert ring2["lead_id"] == lone["lead_id"]
    assert len(registry_rows(warehouse)) == 3


def test_confirmed_outcomes_raise_priority(home: Path) -> None:
    warehouse = home / "warehouse.duckdb"
    build_leads(warehouse, NOW)
    before = next(r for r in leads_table(warehouse) if r["seller_ids"] == ["s4"])["priority_score"]
    data = base_data()
    data["staging.stg_enforcement_outcomes"].append(
        {
            "case_ref": "c2",
            "entity_type": "seller",
            "entity_id": "s4",
            "outcome": "counterfeit_confirmed",
            "source": "police_raid",
            "decided_at": "2026-02-11 00:00:00",
        }
    )
    write_warehouse(warehouse, data)
    build_leads(warehouse, NOW)
    after = next(r for r in leads_table(warehouse) if r["seller_ids"] == ["s4"])["priority_score"]
    assert after > before


def test_max_leads_limits_the_list(home: Path) -> None:
    summary = build_leads(home / "warehouse.duckdb", NOW, LeadConfig(max_leads=2))
    assert summary.n_candidates == 3 and summary.n_leads == 2
    assert len(leads_table(home / "warehouse.duckdb")) == 2


def test_masking_holds_in_every_export_file(home: Path) -> None:
    warehouse = home / "warehouse.duckdb"
    build_leads(warehouse, NOW)
    summary = export(home, now=NOW)
    assert not summary.unmasked
    files = all_export_bytes(home / "exports")
    assert {p.suffix for p in files} == {".csv", ".parquet", ".json", ".html"}
    secrets = set(SECRETS) | warehouse_secrets(warehouse)
    for path, data in files.items():
        for secret in secrets:
            assert secret.encode() not in data, f"{secret} leaked into {path.name}"
    for row in leads_table(warehouse):
        assert not any(secret in row["evidence_summary"] for secret in SECRETS)
    ring_id = next(r["lead_id"] for r in leads_table(warehouse) if r["ring_id"] == "R1")
    doc = json.loads((home / "exports" / "leads" / f"{ring_id}.json").read_text())
    assert doc["masked"] is True
    assert doc["sellers"][0]["phone"] == mask_tail(PHONE) == "****5678"
    assert doc["sellers"][0]["id_document_hash"] == mask_hash(ID_HASH) == "sha256:ab12…"
    assert doc["shipments"][0]["sender_phones"] == ["****5432"]
    assert "****5678" in doc["complaints"]["recent"][0]["text"]
    assert doc["low_rated_reviews"][0]["text"].endswith("call ****1111 or pay card ****2222")
    log = (home / "logs" / "exports.log").read_text()
    assert "masked" in log and "UNMASKED" not in log


def test_unmasked_export_is_explicit_and_logged(home: Path) -> None:
    build_leads(home / "warehouse.duckdb", NOW)
    summary = export(home, name="unmasked", unmasked=True, now=NOW)
    assert summary.unmasked and "UNMASKED" in summary.log_line
    assert "UNMASKED" in (home / "logs" / "exports.log").read_text()
    everything = b"".join(all_export_bytes(home / "unmasked").values())
    assert ACCOUNT.encode() in everything and PHONE.encode() in everything


def test_html_escapes_data_and_embeds_a_picture(home: Path) -> None:
    build_leads(home / "warehouse.duckdb", NOW)
    export(home, now=NOW)
    pages = list((home / "exports").rglob("*.html"))
    assert len(pages) == 4
    for page in pages:
        text = page.read_text()
        assert "<script" not in text.lower()
    ring_id = next(
        r["lead_id"] for r in leads_table(home / "warehouse.duckdb") if r["ring_id"] == "R1"
    )
    ring_page = (home / "exports" / "leads" / f"{ring_id}.html").read_text()
    assert "&lt;script&gt;" in ring_page
    assert "<svg" in ring_page and "Alpha Shoes" in ring_page
    index = (home / "exports" / "index.html").read_text()
    assert all(
        f"leads/{r['lead_id']}.html" in index for r in leads_table(home / "warehouse.duckdb")
    )


def test_csv_neutralises_formulas_and_matches_parquet(home: Path) -> None:
    build_leads(home / "warehouse.duckdb", NOW)
    export(home, now=NOW)
    with open(home / "exports" / "leads.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(LEADS_COLUMNS)
    assert "'" + FORMULA_CITY in {r["city"] for r in rows}
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())
    parquet = pq.read_table(home / "exports" / "leads.parquet")
    assert parquet.column_names == list(LEADS_COLUMNS)
    assert parquet.column("lead_id").to_pylist() == [r["lead_id"] for r in rows]
    assert parquet.column("rank").to_pylist() == [1, 2, 3]


def test_status_lifecycle(home: Path) -> None:
    warehouse = home / "warehouse.duckdb"
    build_leads(warehouse, NOW)
    ring = next(r for r in leads_table(warehouse) if r["ring_id"] == "R1")
    lead_id = ring["lead_id"]
    with pytest.raises(InvalidTransition, match="cannot become 'accepted'"):
        set_status(warehouse, lead_id, "accepted", "too early")
    with pytest.raises(InvalidTransition, match="unknown status"):
        set_status(warehouse, lead_id, "done")
    with pytest.raises(UnknownLead):
        set_status(warehouse, "L-999999", "exported")

    export(home, now=NOW)
    assert get_lead(warehouse, lead_id)["first_exported_at"] == NOW
    row = set_status(warehouse, lead_id, "accepted", "raid planned", now=LATER)
    assert row["status"] == "accepted"
    set_status(warehouse, lead_id, "closed", "raided", now=LATER)
    with pytest.raises(InvalidTransition, match="final"):
        set_status(warehouse, lead_id, "exported")

    lead = get_lead(warehouse, lead_id)
    assert [h["status"] for h in lead["history"]] == ["new", "exported", "accepted", "closed"]
    assert lead["updated_at"] == NOW  # status changes are not content changes
    assert next(r for r in list_leads(warehouse) if r["lead_id"] == lead_id)["status"] == "closed"
    assert [r["rank"] for r in list_leads(warehouse, limit=2)] == [1, 2]
    assert [r["lead_id"] for r in list_leads(warehouse, status="closed")] == [lead_id]
    assert leads_table(warehouse)[ring["rank"] - 1]["status"] == "closed"

    labels = outcome_labels(warehouse).to_pylist()
    assert {(r["entity_id"], r["outcome"]) for r in labels} == {
        (s, "counterfeit_confirmed") for s in ("s1", "s2", "s3")
    }
    assert all(r["entity_type"] == "seller" and r["decided_at"] == LATER for r in labels)


def test_exports_are_owner_only_and_leave_no_temp_files(home: Path) -> None:
    build_leads(home / "warehouse.duckdb", NOW)
    exports = home / "exports"
    (exports / "leads").mkdir(parents=True)
    stale = exports / ".leads.csv.crashed.tmp"
    stale.write_text("half")
    export(home, now=NOW)
    assert not stale.exists()
    assert not [p for p in exports.rglob("*") if p.name.endswith(".tmp")]
    for path in exports.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    assert stat.S_IMODE(exports.stat().st_mode) == 0o700


def test_atomic_write_skips_identical_bytes(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    assert atomic_write(target, b"one")
    inode = target.stat().st_ino
    assert not atomic_write(target, b"one")
    assert target.stat().st_ino == inode
    assert atomic_write(target, b"two") and target.read_bytes() == b"two"
    assert target.stat().st_ino != inode
    assert os.listdir(tmp_path) == ["f.txt"]


def test_closed_leads_keep_their_files_and_leave_the_index(home: Path) -> None:
    warehouse = home / "warehouse.duckdb"
    build_leads(warehouse, NOW)
    export(home, now=NOW)
    lone = next(r for r in leads_table(warehouse) if r["seller_ids"] == ["s4"])
    data = base_data()
    for row in data["main.seller_scores"]:
        if row["seller_id"] == "s4":
            row["risk_score"] = 0.2  # no longer a candidate
    write_warehouse(warehouse, data)
    build_leads(warehouse, LATER)
    export(home, now=LATER)
    assert (home / "exports" / "leads" / f"{lone['lead_id']}.html").exists()
    index = (home / "exports" / "index.html").read_text()
    current, earlier = index.split("Earlier leads", 1)
    assert lone["lead_id"] not in current and lone["lead_id"] in earlier


def test_evaluate_against_truth(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa

    from ml.leads.evaluate import evaluate_leads, main

    build_leads(home / "warehouse.duckdb", NOW)
    truth = home / "truth"
    truth.mkdir()
    flags = {"s1": True, "s2": True, "s3": True, "s4": True, "s5": False, "s6": False}
    pq.write_table(
        pa.table({"seller_id": list(flags), "is_counterfeit": list(flags.values())}),
        truth / "sellers.parquet",
    )
    pq.write_table(
        pa.table(
            {"ring_id": ["T0", "T0", "T0", "T1", "T1"], "seller_id": ["s1", "s2", "s3", "s7", "s8"]}
        ),
        truth / "rings.parquet",
    )
    # The generator's shape: F1 supplies ring T0, F2 ring T1, F3 only the lone seller s4 (found
    # through its shipment spelling); D1 is a genuine distributor.
    pq.write_table(
        pa.table(
            {
                "source_id": ["F1", "F2", "F3", "D1"],
                "is_counterfeit_source": [True, True, True, False],
                "supplies_ring_ids": [["T0"], ["T1"], [], ["T0"]],
            }
        ),
        truth / "sources.parquet",
    )
    pq.write_table(
        pa.table({"source_id": ["F3"], "sender_address": ["7 Bag Lane"], "shipments": [1]}),
        truth / "source_variants.parquet",
    )
    data = base_data()
    data["staging.stg_inbound_shipments"].append(
        {
            **data["staging.stg_inbound_shipments"][0],
            "shipment_id": "sh2",
            "seller_id": "s4",
            "sender_address": "7 Bag Lane",
            "sender_phone": None,
        }
    )
    write_warehouse(home / "warehouse.duckdb", data)
    result = evaluate_leads(home / "warehouse.duckdb", truth, ks=(1, 10))
    # Ring R1 and lone s4 are counterfeit; the lead of source SRC2 (s6) is not.
    assert result.precision_at[10] == pytest.approx(2 / 3, abs=1e-4)
    assert result.precision_at[1] == 1.0
    assert result.kinds_at[10] == {"ring": 1, "seller": 1, "source": 1}
    assert (result.n_true_rings, result.rings_touched_at[10], result.rings_mostly_at[10]) == (
        2,
        1,
        1,
    )
    assert (result.n_true_sources, result.sources_touched_at[10]) == (3, 2)

    assert main(["--home", str(home), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["precision_at"]["10"] == pytest.approx(2 / 3, abs=1e-4)
    assert main(["--home", str(home)]) == 0
    assert "| 10 | 0.667 |" in capsys.readouterr().out


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "<svg onload=alert(3)>",
    "<a href='javascript:alert(4)'>x</a>",
    "</td></tr></table><iframe src=//evil>",
]


def hostile_data() -> dict[str, list[dict]]:
    """Every free-text field an attacker controls carries markup; cells carry formulas."""
    data = base_data()
    for i, row in enumerate(data["staging.stg_sellers"]):
        row["shop_name"] = HOSTILE[i % len(HOSTILE)] + row["shop_name"]
    for i, row in enumerate(data["staging.stg_listings"]):
        row["title"] = HOSTILE[(i + 1) % len(HOSTILE)] + row["title"]
    for i, row in enumerate(data["staging.stg_reviews"] + data["staging.stg_reports"]):
        row["text"] = HOSTILE[(i + 2) % len(HOSTILE)]
    by_id = {r["seller_id"]: r for r in data["staging.stg_sellers"]}
    by_id["s1"]["city"] = "+cmd|' /C calc'!A0"
    by_id["s2"]["city"] = by_id["s3"]["city"] = by_id["s1"]["city"]
    by_id["s4"]["province"] = "@SUM(1+1)*cmd"
    by_id["s6"]["city"] = "\t=1+2"
    by_id["s6"]["province"] = "-2+3"
    return data


class TagCollector(HTMLParser):
    """Every tag and attribute a browser would build from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def test_hostile_text_is_escaped_in_every_html_report(tmp_path: Path) -> None:
    warehouse = write_warehouse(tmp_path / "warehouse.duckdb", hostile_data())
    summary = build_leads(warehouse, NOW)
    export_leads(warehouse, tmp_path / "exports", tmp_path / "logs", now=NOW)
    pages = list((tmp_path / "exports").rglob("*.html"))
    assert len(pages) == summary.n_leads + 1
    for page in pages:
        parser = TagCollector()
        parser.feed(page.read_text())
        tags = {tag for tag, _ in parser.tags}
        assert not tags & {"script", "img", "iframe", "object", "embed", "foreignobject"}, page
        for tag, attrs in parser.tags:
            for name, value in attrs:
                assert not name.startswith("on"), (page.name, tag, name)
                assert not (value or "").strip().lower().startswith("javascript:"), page.name
    text = "".join(p.read_text() for p in pages)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;iframe src=//evil&gt;" in text
    # Dagster's preview renders Markdown: no raw markup there either.
    assert "<" not in summary.preview_markdown().replace("<br>", "")


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    warehouse = write_warehouse(tmp_path / "warehouse.duckdb", hostile_data())
    build_leads(warehouse, NOW)
    export_leads(warehouse, tmp_path / "exports", tmp_path / "logs", now=NOW)
    with open(tmp_path / "exports" / "leads.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    cells = [cell for row in rows for cell in row.values()]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    planted = {r["city"] for r in rows} | {r["province"] for r in rows}
    assert {"'+cmd|' /C calc'!A0", "'\t=1+2", "'@SUM(1+1)*cmd"} <= planted
    # The Parquet file keeps the true values (typed data is not run by spreadsheets).
    cities = pq.read_table(tmp_path / "exports" / "leads.parquet").column("city").to_pylist()
    assert "+cmd|' /C calc'!A0" in cities


def test_dagster_metadata_is_plain_values(home: Path) -> None:
    warehouse = home / "warehouse.duckdb"
    first = build_leads(warehouse, NOW).dagster_metadata()
    assert (first["new"], first["updated"], first["n_leads"]) == (3, 0, 3)
    assert first["by_province"] == "Zhejiang (2), Fujian (1)"
    lines = first["top_10"].splitlines()
    assert lines[0].startswith("| rank | lead |") and len(lines) == 2 + 3
    assert lines[2].startswith("| 1 | L-0000")
    for value in first.values():
        assert isinstance(value, str | int | float)
    exported = export(home, now=NOW).dagster_metadata()
    assert exported["masked"] is True and exported["n_leads"] == 3
    assert not any(secret in str(exported) + str(first) for secret in SECRETS)


def test_report_renders_with_its_network_picture(home: Path, tmp_path: Path) -> None:
    """Headless Chromium draws the ring's report; the picture's red seller nodes are on it."""
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    import numpy as np
    from PIL import Image

    warehouse = home / "warehouse.duckdb"
    build_leads(warehouse, NOW)
    export(home, now=NOW)
    ring = next(r for r in leads_table(warehouse) if r["ring_id"] == "R1")
    page = home / "exports" / "leads" / f"{ring['lead_id']}.html"
    shots = {}
    for name, target in (("with", page), ("without", tmp_path / "no_picture.html")):
        if name == "without":  # the same page without its picture, as the control
            html_text = page.read_text()
            start, end = html_text.index('<div class="network">'), html_text.index("</svg>")
            target.write_text(html_text[:start] + html_text[end + len("</svg>") :])
        shot = tmp_path / f"{name}.png"
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'chromium'}",
                "--window-size=1300,2400",
                "--hide-scrollbars",
                f"--screenshot={shot}",
                target.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
        r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
        # Reddish pixels: the risky sellers of the picture (nothing else on the page is red).
        shots[name] = int(((r > 200) & (g < 120) & (b < 120)).sum())
    assert shots["with"] > 300 and shots["without"] < 50, shots


def test_failed_export_rolls_back_and_rerun_equals_clean_run(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash in the middle of writing: leads stay new, no temp file stays, old files stay
    whole, and the next export produces exactly what an uninterrupted one does."""
    import ml.leads.files as files

    warehouse = home / "warehouse.duckdb"
    build_leads(warehouse, NOW)
    clean = tmp_path / "clean"
    shutil.copy(warehouse, clean.with_suffix(".duckdb"))
    export_leads(clean.with_suffix(".duckdb"), clean, tmp_path / "clean_logs", now=NOW)

    real_replace, calls = os.replace, []

    def crash_on_third(src: str, dst: Path) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", crash_on_third)
    with pytest.raises(OSError, match="disk full"):
        export(home, now=NOW)
    monkeypatch.undo()
    exports = home / "exports"
    assert not [p for p in exports.rglob("*") if p.name.endswith(".tmp")]
    assert len([p for p in exports.rglob("*") if p.is_file()]) == 2  # whole files only
    assert {r["status"] for r in leads_table(warehouse)} == {"new"}

    export(home, now=NOW)
    rerun = {p.relative_to(exports): b for p, b in all_export_bytes(exports).items()}
    assert rerun == {p.relative_to(clean): b for p, b in all_export_bytes(clean).items()}
    assert {r["status"] for r in leads_table(warehouse)} == {"exported"}
