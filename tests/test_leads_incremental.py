"""Leads are re-assembled, and their files re-rendered, only where something changed.

Every incremental build is compared with a twin warehouse built with ``incremental=False``
(every package assembled): leads, registry and packages must be identical.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from test_leads import LATER, NOW, base_data, write_warehouse

from ml.leads import build_leads, export_leads

TABLE_FILES = ("leads.csv", "leads.parquet", "index.html")
SNAPSHOT = {
    "leads": "SELECT * FROM main.leads ORDER BY rank",
    "registry": "SELECT * FROM cloudsword.lead_registry ORDER BY lead_id",
    "packages": "SELECT * FROM cloudsword.lead_packages ORDER BY lead_id",
}


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in SNAPSHOT.items()}


def lead_of(warehouse: Path, seller: str) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT lead_id FROM main.leads WHERE list_contains(seller_ids, ?)", [seller]
        ).fetchone()[0]


def new_review(listing_id: str, review_id: str) -> dict:
    return {
        "review_id": review_id,
        "listing_id": listing_id,
        "buyer_id": "b9",
        "rating": 1,
        "text": "arrived broken, clearly not genuine",
        "created_at": "2026-02-04 00:00:00",
    }


@pytest.fixture()
def twins(tmp_path: Path) -> tuple[Path, Path]:
    inc, full = tmp_path / "inc", tmp_path / "full"
    inc.mkdir()
    write_warehouse(inc / "warehouse.duckdb", base_data())
    first = build_leads(inc / "warehouse.duckdb", NOW)
    assert first.assembled == first.n_leads == 3
    shutil.copytree(inc, full)
    return inc / "warehouse.duckdb", full / "warehouse.duckdb"


def test_only_changed_leads_are_assembled_and_equal_a_full_build(twins):
    inc, full = twins
    data = base_data()

    # Nothing changed: nothing assembled.
    same = build_leads(inc, LATER)
    build_leads(full, LATER, incremental=False)
    assert same.assembled == 0 and same.unchanged == 3
    assert snapshot(inc) == snapshot(full)

    # A new low-rated review on s6's listing: only s6's package changes (reviews do not move
    # priorities).
    data["staging.stg_reviews"].append(new_review("l6", "v9"))
    for warehouse in (inc, full):
        write_warehouse(warehouse, data)
    one = build_leads(inc, LATER)
    reference = build_leads(full, LATER, incremental=False)
    assert one.assembled == 1 and reference.assembled == 3
    assert (one.updated, reference.updated) == (1, 1)
    assert snapshot(inc) == snapshot(full)

    # Ring R1 gains s5: the ring's lead changes (members, evidence); s4's and s6's do not.
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
    for warehouse in (inc, full):
        write_warehouse(warehouse, data)
    ring = build_leads(inc, LATER)
    build_leads(full, LATER, incremental=False)
    assert ring.assembled == 1
    assert snapshot(inc) == snapshot(full)

    # A change to a seller's registration (an entity upsert) re-assembles its lead.
    for row in data["staging.stg_sellers"]:
        if row["seller_id"] == "s4":
            row["shop_name"] = "Delta Bags Outlet"
    for warehouse in (inc, full):
        write_warehouse(warehouse, data)
    renamed = build_leads(inc, LATER)
    build_leads(full, LATER, incremental=False)
    assert renamed.assembled == 1
    assert snapshot(inc) == snapshot(full)


def files_state(exports: Path) -> dict[Path, tuple[int, int]]:
    return {
        p.relative_to(exports): (p.stat().st_mtime_ns, p.stat().st_ino)
        for p in exports.rglob("*")
        if p.is_file()
    }


def test_exports_rewrite_only_changed_lead_files_and_stay_consistent(twins):
    warehouse = twins[0]
    home = warehouse.parent
    exports = home / "exports"
    first = export_leads(warehouse, exports, home / "logs", now=NOW)
    assert first.skipped == 0 and len(first.written) == 2 * 3 + 3
    before = files_state(exports)

    # Only s6's lead changes content: its two files are rendered and rewritten, the other
    # leads are not even rendered and keep their files (mtime and inode).
    data = base_data()
    data["staging.stg_reviews"].append(new_review("l6", "v9"))
    write_warehouse(warehouse, data)
    build_leads(warehouse, LATER)
    second = export_leads(warehouse, exports, home / "logs", now=LATER)
    changed = lead_of(warehouse, "s6")
    assert second.skipped == 2
    # Its row changed too (updated_at), so the table files are rewritten with it.
    lead_files = [f"leads/{changed}.html", f"leads/{changed}.json"]
    assert set(lead_files) <= set(second.written) <= {*lead_files, *TABLE_FILES}
    after = files_state(exports)
    assert {str(p) for p in after if after[p] != before[p]} == set(second.written)
    # The table files still match main.leads (one consistent export).
    with duckdb.connect(str(warehouse), read_only=True) as con:
        table = con.execute("SELECT lead_id, rank, updated_at FROM main.leads ORDER BY rank")
        rows = table.fetchall()
    parquet = pq.read_table(exports / "leads.parquet")
    assert parquet.column("lead_id").to_pylist() == [r[0] for r in rows]
    assert parquet.column("updated_at").to_pylist() == [r[2] for r in rows]
    csv_ids = [line.split(",")[0] for line in (exports / "leads.csv").read_text().splitlines()]
    assert csv_ids[1:] == [r[0] for r in rows]

    # A report file that went missing (or was edited) is rendered and written again.
    kept = lead_of(warehouse, "s4")
    (exports / "leads" / f"{kept}.html").unlink()
    third = export_leads(warehouse, exports, home / "logs", now=LATER)
    assert third.written == [f"leads/{kept}.html"]
    assert third.skipped == 2

    # Same data again: nothing rendered, nothing written.
    fourth = export_leads(warehouse, exports, home / "logs", now=LATER)
    assert fourth.skipped == 3 and fourth.written == []


def test_rendering_skipped_or_not_gives_the_same_bytes(twins, tmp_path):
    warehouse = twins[0]
    home = warehouse.parent
    export_leads(warehouse, home / "exports", home / "logs", now=NOW)
    data = base_data()
    data["staging.stg_reviews"].append(new_review("l6", "v9"))
    write_warehouse(warehouse, data)
    build_leads(warehouse, LATER)
    export_leads(warehouse, home / "exports", home / "logs", now=LATER)
    # A fresh folder renders everything; its files must equal the incrementally kept ones.
    fresh = export_leads(warehouse, tmp_path / "fresh", home / "logs", now=LATER)
    assert fresh.skipped == 0
    kept = {
        p.relative_to(home / "exports"): p.read_bytes() for p in (home / "exports").rglob("*.*")
    }
    again = {
        p.relative_to(tmp_path / "fresh"): p.read_bytes() for p in (tmp_path / "fresh").rglob("*.*")
    }
    assert kept == again
