"""End to end at scale tiny: the real CLI, Dagster instance, dbt, MLflow and DuckDB file."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from ml.schemas import OUTPUT_SCHEMAS, validate_table

pytestmark = pytest.mark.slow

CONTRACT_OUTPUTS = {
    "listing_scores": [
        "listing_id",
        "seller_id",
        "counterfeit_score",
        "model_version",
        "scored_at",
        "top_reasons",
    ],
    "seller_scores": ["seller_id", "risk_score", "ring_id", "scored_at"],
    "rings": ["ring_id", "seller_id", "linked_by"],
    "sources": [
        "source_id",
        "sender_address",
        "sender_city",
        "linked_sellers",
        "risk_score",
        "est_counterfeit_value",
    ],
    "leads": [
        "lead_id",
        "rank",
        "priority_score",
        "status",
        "province",
        "city",
        "ring_id",
        "seller_ids",
        "source_ids",
        "est_counterfeit_value",
        "evidence_summary",
        "first_exported_at",
        "updated_at",
    ],
}


def _snapshot(home: Path) -> dict[str, object]:
    """Everything a user can see: the output tables and every export file's bytes."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        tables = {
            name: con.execute(f"SELECT * FROM main.{name} ORDER BY ALL").fetchall()
            for name in CONTRACT_OUTPUTS
        }
    finally:
        con.close()
    files = {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((home / "exports").rglob("*"))
        if p.is_file()
    }
    return {"tables": tables, "files": files}


def test_run_gives_every_contract_output(tiny_home: Path) -> None:
    con = duckdb.connect(str(tiny_home / "warehouse.duckdb"), read_only=True)
    try:
        for name, columns in CONTRACT_OUTPUTS.items():
            present = [r[0] for r in con.execute(f"DESCRIBE main.{name}").fetchall()]
            assert set(columns) <= set(present), (name, present)
            report = validate_table(con, name)
            assert report.passed, (name, report.failures.head(10).to_dict("records"))
            assert report.rows > 0, f"{name} is empty"
        # Every active listing is scored, and only those.
        unscored, removed_scored = con.execute(
            """SELECT count(*) FILTER (WHERE s.listing_id IS NULL AND l.status = 'active'),
                      count(*) FILTER (WHERE s.listing_id IS NOT NULL AND l.status <> 'active')
               FROM staging.stg_listings l LEFT JOIN main.listing_scores s USING (listing_id)"""
        ).fetchone()
        assert (unscored, removed_scored) == (0, 0)
        # Scores come from a model, not a constant.
        assert (
            con.execute("SELECT stddev(counterfeit_score) FROM main.listing_scores").fetchone()[0]
            > 0.05
        )
    finally:
        con.close()
    assert set(OUTPUT_SCHEMAS) == set(CONTRACT_OUTPUTS)


def test_exports_follow_the_contract(tiny_home: Path) -> None:
    exports = tiny_home / "exports"
    csv = pd.read_csv(exports / "leads.csv")
    parquet = pd.read_parquet(exports / "leads.parquet")
    assert list(parquet["lead_id"]) == list(csv["lead_id"])
    assert list(parquet["rank"]) == sorted(parquet["rank"]), "leads are written best first"
    for lead_id in parquet["lead_id"]:
        package = json.loads((exports / "leads" / f"{lead_id}.json").read_text())
        assert package["lead_id"] == lead_id
        html = (exports / "leads" / f"{lead_id}.html").read_text()
        assert "<svg" in html, "each report carries a picture of the network"


def test_runs_are_recorded_in_the_home_dagster_instance(tiny_home: Path) -> None:
    instance = dg.DagsterInstance.from_config(str(tiny_home / "dagster"))
    try:
        runs = instance.get_runs()
        jobs = {r.job_name for r in runs}
        assert {"ingest_batch", "refresh"} <= jobs
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        batches = instance.get_dynamic_partitions("batches")
        assert batches == sorted(p.name for p in (tiny_home / "landing").iterdir())
    finally:
        instance.dispose()


def test_second_run_changes_nothing(tiny_home: Path, cloudsword) -> None:
    before = _snapshot(tiny_home)
    instance = dg.DagsterInstance.from_config(str(tiny_home / "dagster"))
    runs_before = len(instance.get_runs())
    proc = cloudsword(tiny_home, "run")
    assert "nothing to do" in proc.stderr
    assert _snapshot(tiny_home) == before
    assert len(instance.get_runs()) == runs_before
    instance.dispose()


def test_a_moved_home_is_self_contained(tiny_home: Path, cloudsword, tmp_path: Path) -> None:
    """Back up, restore, move to a bigger disk: the home keeps working and writes only inside
    itself (issue 18: MLflow kept absolute artifact paths into the original folder)."""
    copied = tmp_path / "copied"
    shutil.copytree(tiny_home, copied, symlinks=True)
    moved = tmp_path / "moved"
    copied.rename(moved)
    cloudsword(moved, "run", "--retrain")
    assert not copied.exists(), "the moved home wrote into the folder it came from"
    con = sqlite3.connect(moved / "mlflow" / "mlflow.db")
    try:
        locations = [r[0] for r in con.execute("SELECT storage_location FROM model_versions")]
    finally:
        con.close()
    artifacts = (moved / "mlflow" / "artifacts").as_uri()
    assert locations and all(loc.startswith(artifacts) for loc in locations), locations
    # Every model version, the one trained after the move included, has its files here.
    assert all(Path(loc.removeprefix("file://")).is_dir() for loc in locations), locations


def test_listings_of_ring_sellers_carry_their_reasons(tiny_home: Path) -> None:
    """Scoring explains high scores only; the leads step explains the listings of sellers the
    network tied into a ring in the same run, so an investigator opening a ring sees why."""
    from ml.model.explain import UNEXPLAINED

    con = duckdb.connect(str(tiny_home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT s.listing_id, s.top_reasons FROM main.listing_scores s "
            "WHERE s.seller_id IN (SELECT seller_id FROM main.rings)"
        ).fetchall()
    finally:
        con.close()
    assert rows, "the tiny marketplace has rings"
    unexplained = [listing for listing, reasons in rows if reasons == [UNEXPLAINED]]
    assert not unexplained, unexplained[:5]


def test_a_deleted_mlflow_store_is_said_loudly(tiny_home: Path, cloudsword, tmp_path: Path) -> None:
    """Deleting mlflow.db would silently start a new model history (issue 18)."""
    home = tmp_path / "home"
    shutil.copytree(tiny_home, home, symlinks=True)
    (home / "mlflow" / "mlflow.db").unlink()
    proc = cloudsword(home, "run", check=False)
    said = " ".join(proc.stderr.split())  # the console wraps long lines
    assert "MLflow registry has no champion" in said, proc.stderr[-3000:]
    assert "was the MLflow store (mlflow/mlflow.db) deleted" in said
