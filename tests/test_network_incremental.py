"""Incremental tracing equals tracing from scratch.

A generated marketplace arrives in eight steps (each batch cut in two), then three edits that
remove links, move base scores and confirm a seller. After every step one warehouse is traced
incrementally and a twin is traced with ``incremental=False`` (everything recomputed, the same
registry history): every output, the registries and ``scored_at`` must be identical. At the end a
third warehouse traced once from scratch must hold the same rings (as partitions), sources and
risks (ids may differ there: its registry has no history).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ml.contract import TABLES
from ml.generate import generate
from ml.network import trace_network
from ml.network.config import INPUTS

T0 = datetime(2026, 8, 1, 12, 0, 0)

COMPARED = {
    "rings": "SELECT ring_id, seller_id, linked_by FROM main.rings ORDER BY ALL",
    "ring_links": "SELECT * FROM main.ring_links ORDER BY ALL",
    "sources": "SELECT source_id, sender_address, sender_city, linked_sellers, "
    "round(risk_score, 9), est_counterfeit_value FROM main.sources ORDER BY source_id",
    "seller_scores": "SELECT seller_id, round(risk_score, 9), ring_id, scored_at "
    "FROM main.seller_scores ORDER BY seller_id",
    "ring_registry": "SELECT * FROM cloudsword.ring_registry ORDER BY ALL",
    "source_registry": "SELECT * FROM cloudsword.source_registry ORDER BY ALL",
}


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen")
    generate(root / "landing", root / "truth", scale="tiny", seed=3)
    return root / "landing"


def _stage(con: duckdb.DuckDBPyConnection, landing: Path, step: int) -> None:
    """Staging as of ``step`` half-batches: entities upserted (latest wins), events appended."""
    batches = sorted(p for p in landing.iterdir() if (p / "_SUCCESS").exists())
    parts = []
    for index, batch in enumerate(batches):
        for half in (0, 1):
            if 2 * index + half < step:
                parts.append((batch, half, 2 * index + half))
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    for name in INPUTS:
        table = TABLES[name]
        columns = ", ".join(f"{c.name} {c.duckdb_type}" for c in table.columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _src ({columns}, _part INT, _row BIGINT)")
        for batch, half, part in parts:
            path = batch / f"{name}.parquet"
            if not path.exists():
                continue
            n = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
            cols = ", ".join(f"CAST({c.name} AS {c.duckdb_type})" for c in table.columns)
            con.execute(
                f"""INSERT INTO _src SELECT {cols}, {part}, rn FROM (
                        SELECT *, row_number() OVER () AS rn FROM read_parquet('{path}'))
                    WHERE (rn <= {n // 2}) = {half == 0}"""
            )
        key = ", ".join(table.key)
        order = "_part DESC, _row DESC" if table.entity else "_part, _row"
        con.execute(
            f"CREATE OR REPLACE TABLE staging.stg_{name} AS "
            f"SELECT * EXCLUDE (_part, _row) FROM _src "
            f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {order}) = 1"
        )


def _scores(con: duckdb.DuckDBPyConnection, step: int) -> None:
    """Base and listing scores that drift a little each step (like a re-scored batch)."""
    con.execute(
        "CREATE OR REPLACE TABLE main.seller_base_scores (seller_id VARCHAR, "
        "base_risk_score DOUBLE, model_version VARCHAR, scored_at TIMESTAMP)"
    )
    rows = [
        (s, round(_unit(s, "base", step // 3 if _unit(s, "moves") < 0.1 else 0), 4), "v1", T0)
        for (s,) in con.execute("SELECT seller_id FROM staging.stg_sellers").fetchall()
    ]
    if rows:
        con.executemany("INSERT INTO main.seller_base_scores VALUES (?, ?, ?, ?)", rows)
    con.execute(
        "CREATE OR REPLACE TABLE main.listing_scores AS "
        "SELECT listing_id, seller_id, 0.0::DOUBLE AS counterfeit_score, 'v1' AS model_version, "
        "TIMESTAMP '2026-08-01' AS scored_at, ['r'] AS top_reasons FROM staging.stg_listings"
    )
    scores = [
        (round(_unit(lid, "listing"), 4), lid)
        for (lid,) in con.execute("SELECT listing_id FROM staging.stg_listings").fetchall()
    ]
    if scores:
        con.executemany(
            "UPDATE main.listing_scores SET counterfeit_score = ? WHERE listing_id = ?", scores
        )


def _edit(con: duckdb.DuckDBPyConnection, edit: int) -> None:
    """Edits a batch could bring that remove links or change labels (entity upserts)."""
    ringed = [s for (s,) in con.execute("SELECT seller_id FROM main.rings ORDER BY ALL").fetchall()]
    if edit == 0:  # two ring members change phone and drop their payment accounts and devices
        for seller_id in ringed[:1] + ringed[-1:]:
            con.execute(
                "UPDATE staging.stg_sellers SET phone = NULL, email = NULL, "
                "id_document_hash = NULL WHERE seller_id = ?",
                [seller_id],
            )
            con.execute(
                "DELETE FROM staging.stg_seller_payment_accounts WHERE seller_id = ?", [seller_id]
            )
            con.execute("DELETE FROM staging.stg_seller_logins WHERE seller_id = ?", [seller_id])
    elif edit == 1:  # an unringed seller takes a ring member's phone (a new tie)
        other = con.execute(
            "SELECT seller_id FROM staging.stg_sellers WHERE seller_id NOT IN "
            "(SELECT seller_id FROM main.rings) ORDER BY seller_id LIMIT 1"
        ).fetchone()[0]
        phone = con.execute(
            "SELECT phone FROM staging.stg_sellers WHERE seller_id IN "
            "(SELECT seller_id FROM main.rings) AND phone IS NOT NULL ORDER BY seller_id LIMIT 1"
        ).fetchone()[0]
        con.execute("UPDATE staging.stg_sellers SET phone = ? WHERE seller_id = ?", [phone, other])
    else:  # a seller is confirmed counterfeit, another genuine
        for i, (seller_id, result) in enumerate(
            zip(ringed[1:3], ("counterfeit_confirmed", "genuine_confirmed"), strict=True)
        ):
            con.execute(
                "INSERT INTO staging.stg_enforcement_outcomes VALUES (?, 'seller', ?, ?, "
                "'test_purchase', TIMESTAMP '2026-07-30')",
                [f"edit-{i}", seller_id, result],
            )


def _snapshot(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in COMPARED.items()}
    finally:
        con.close()


def _copy_inputs(src: Path, dst: Path) -> None:
    """Give ``dst`` exactly the staging tables and scores of ``src``."""
    con = duckdb.connect(str(dst))
    try:
        con.execute(f"ATTACH '{src}' AS src (READ_ONLY)")
        con.execute("CREATE SCHEMA IF NOT EXISTS staging")
        for name in INPUTS:
            con.execute(
                f"CREATE OR REPLACE TABLE staging.stg_{name} AS "
                f"SELECT * FROM src.staging.stg_{name}"
            )
        for name in ("seller_base_scores", "listing_scores"):
            con.execute(f"CREATE OR REPLACE TABLE main.{name} AS SELECT * FROM src.main.{name}")
    finally:
        con.close()


def test_incremental_trace_equals_full_trace_after_every_step(landing: Path, tmp_path: Path):
    inc, full, scratch = (tmp_path / f"{n}.duckdb" for n in ("inc", "full", "scratch"))
    summaries = []
    for step in range(1, 12):
        con = duckdb.connect(str(inc))
        if step <= 8:
            _stage(con, landing, step)
            _scores(con, step)
        else:
            _edit(con, step - 9)
        con.close()
        _copy_inputs(inc, full)
        at = T0 + timedelta(hours=step)
        summary = trace_network(inc, at)
        reference = trace_network(full, at, incremental=False)
        summaries.append(summary)
        assert summary.incremental == (step > 1)
        assert not reference.incremental
        got, want = _snapshot(inc), _snapshot(full)
        for name in COMPARED:
            assert got[name] == want[name], f"step {step}: {name} differs"
        assert summary.n_rings == reference.n_rings
        assert summary.n_declared_operator_groups == reference.n_declared_operator_groups
        assert summary.n_seller_edges == reference.n_seller_edges

    # The test exercised something: rings exist, and incremental runs did less than everything.
    assert summaries[-1].n_rings >= 2
    assert any(0 < s.n_sellers_reclustered < s.n_sellers for s in summaries[1:])
    assert any(s.n_sellers_repropagated < s.n_sellers for s in summaries[1:])
    # The edits changed rings and risks, and only some rows were written.
    assert all(0 < s.written["seller_scores"] < s.n_sellers for s in summaries[-3:])

    # A trace from scratch of the final data: the same partition, sources and risks.
    _copy_inputs(inc, scratch)
    trace_network(scratch, T0 + timedelta(days=1), incremental=False)
    a, b = _snapshot(inc), _snapshot(scratch)

    def partition(rows: list[tuple]) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for ring_id, seller_id, _ in rows:
            groups.setdefault(ring_id, set()).add(seller_id)
        return {frozenset(g) for g in groups.values()}

    assert partition(a["rings"]) == partition(b["rings"])

    def sources(rows: list[tuple]) -> list[tuple]:
        return sorted((r[1], r[2], tuple(r[3]), r[4], r[5]) for r in rows)

    assert sources(a["sources"]) == sources(b["sources"])
    same_ring = {  # seller -> its ring's members, in both (ids may differ)
        name: {
            s: frozenset(t for rid, t, _ in snap["rings"] if rid == r) for r, s, _ in snap["rings"]
        }
        for name, snap in (("inc", a), ("scratch", b))
    }
    assert same_ring["inc"] == same_ring["scratch"]
    assert [r[:2] for r in a["seller_scores"]] == [r[:2] for r in b["seller_scores"]]


def test_unchanged_inputs_write_nothing(landing: Path, tmp_path: Path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    _stage(con, landing, 8)
    _scores(con, 8)
    con.close()
    trace_network(path, T0)
    before = _snapshot(path)
    again = trace_network(path, T0 + timedelta(days=1))
    assert again.incremental
    assert again.n_sellers_touched == 0 and again.n_sellers_repropagated == 0
    assert again.written == {"rings": 0, "sources": 0, "seller_scores": 0}
    after = _snapshot(path)
    # Registries record when each id was last seen; everything else is untouched.
    assert {k: v for k, v in after.items() if "registry" not in k} == {
        k: v for k, v in before.items() if "registry" not in k
    }
