"""The listing model: time split, training + MLflow logging, promotion gate, scoring, reasons.

Runs on a small synthetic warehouse (signal in two features) with a real MLflow sqlite store.
"""

from __future__ import annotations

import math
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from ml.model import ModelConfig, score_listings, train_and_register, training_due
from ml.model.data import load_training_set, time_split
from ml.model.evaluate import metrics
from ml.model.reasons import describe, top_reasons
from ml.model.registry import promotion_gate
from ml.model.tracking import tracking

START = datetime(2026, 1, 1)
FAST = ModelConfig(
    search_trials=3,
    num_boost_round=200,
    early_stopping_rounds=20,
    k=20,
    min_slice_size=20,
    min_new_outcomes=30,
)


def _features(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "brand": rng.choice(["Aurel", "Borda", "Cinq", None], n),
            "category": rng.choice(["bags", "shoes"], n),
            "prod_price_to_ref_ratio": rng.uniform(0.1, 1.5, n),
            "rep_rights_holder_30d": rng.poisson(0.5, n).astype("int64"),
            "prod_noise": rng.normal(size=n),
            "sell_account_age_days": rng.integers(1, 900, n).astype("int64"),
            "cons_orders_30d": rng.poisson(3, n).astype("int64"),
        }
    )


def _labels(rng: np.random.Generator, f: pd.DataFrame) -> np.ndarray:
    logit = 4 * (0.6 - f["prod_price_to_ref_ratio"]) + 1.5 * f["rep_rights_holder_30d"] - 0.5
    return (rng.uniform(size=len(f)) < 1 / (1 + np.exp(-logit))).astype("int32")


def build_warehouse(path: Path, n_labelled: int = 360, n_listings: int = 250) -> None:
    rng = np.random.default_rng(11)
    t = _features(rng, n_labelled)
    t.insert(0, "listing_id", [f"T{i:05d}" for i in range(n_labelled)])
    t.insert(1, "seller_id", [f"S{i % 40:03d}" for i in range(n_labelled)])
    # Whole hours apart, with some ties, so the split has boundaries to respect.
    t.insert(
        4,
        "label_decided_at",
        [START + timedelta(hours=int(h)) for h in sorted(rng.integers(0, 2000, n_labelled))],
    )
    t.insert(5, "label", _labels(rng, t))
    f = _features(rng, n_listings)
    f.insert(0, "listing_id", [f"L{i:05d}" for i in range(n_listings)])
    f.insert(1, "seller_id", [f"S{i % 40:03d}" for i in range(n_listings)])
    f.insert(4, "status", np.where(np.arange(n_listings) % 10 == 0, "removed", "active"))
    f.insert(5, "created_at", START)
    f.insert(6, "features_as_of", START + timedelta(days=120))
    sellers = pd.DataFrame({"seller_id": [f"S{i:03d}" for i in range(42)]})  # 2 without listings
    con = duckdb.connect(str(path))
    for name, frame in (("training_set", t), ("listing_features", f), ("seller_features", sellers)):
        con.register("frame", frame)
        con.execute(f"CREATE TABLE main.{name} AS SELECT * FROM frame")
        con.unregister("frame")
    con.close()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("model_home")
    warehouse = home / "warehouse.duckdb"
    build_warehouse(warehouse)
    uri = f"sqlite:///{home / 'mlflow.db'}"
    before = training_due(warehouse, uri, FAST)
    outcome = train_and_register(warehouse, uri, home / "artifacts", FAST, dagster_run_id="dg-1")
    return home, warehouse, uri, before, outcome


def test_time_split_never_trains_on_newer_labels(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    build_warehouse(warehouse)
    frame, features = load_training_set(warehouse)
    split = time_split(frame, 0.2, 0.2)
    assert "label" not in features and "prod_noise" in features
    assert split.train["label_decided_at"].max() < split.valid["label_decided_at"].min()
    assert split.valid["label_decided_at"].max() < split.test["label_decided_at"].min()
    assert len(split.train) + len(split.valid) + len(split.test) == len(frame)
    assert 0.5 < len(split.train) / len(frame) < 0.7


def test_first_training_logs_everything_and_becomes_champion(trained) -> None:
    home, _, uri, before, outcome = trained
    assert before.due and before.champion_version is None
    assert outcome.promoted and outcome.model_version == "1" and outcome.champion_version == "1"
    assert "no champion yet" in outcome.decision
    assert set(outcome.baseline_metrics) == {"rule", "logreg"}
    client = MlflowClient(uri, registry_uri=uri)
    run = client.get_run(outcome.run_id)
    for key in (
        "test_pr_auc",
        "test_roc_auc",
        "test_precision_at_k",
        "test_recall_at_k",
        "test_recall_at_fpr",
        "test_brier",
        "valid_pr_auc",
        "gate_promoted",
    ):
        assert key in run.data.metrics, key
    assert run.data.metrics["test_pr_auc"] > 0.7  # the synthetic signal is strong
    assert run.data.tags["dagster_run_id"] == "dg-1"
    assert run.data.tags["promotion.decision"] == "promoted"
    contexts = {d.tags[0].value for d in run.inputs.dataset_inputs}
    assert contexts == {"training", "validation", "testing"}
    assert all(d.dataset.digest for d in run.inputs.dataset_inputs)
    plots = {a.path for a in client.list_artifacts(outcome.run_id, "plots")}
    assert {
        "plots/pr_curve.png",
        "plots/roc_curve.png",
        "plots/calibration.png",
        "plots/feature_importance.png",
        "plots/contribution_summary.png",
    } <= plots
    top = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"features.txt", "promotion_decision.json"} <= top
    children = client.search_runs(
        [outcome.experiment_id], f"tags.`mlflow.parentRunId` = '{outcome.run_id}'"
    )
    kinds = sorted(c.data.tags["kind"] for c in children)
    assert kinds == ["baseline", "baseline"] + ["trial"] * FAST.search_trials
    assert (
        str(Path(home / "artifacts"))
        in client.get_experiment(outcome.experiment_id).artifact_location
    )
    champion = client.get_model_version_by_alias(FAST.model_name, "champion")
    assert champion.version == 1 and champion.tags["dagster_run_id"] == "dg-1"
    assert client.get_model_version_by_alias(FAST.model_name, "challenger").version == 1


def test_worse_challenger_is_not_promoted(trained) -> None:
    home, warehouse, uri, _, first = trained
    # Only a noise feature: clearly worse on the same test window.
    worse = ModelConfig(**{**FAST.__dict__, "features": ("prod_noise",)})
    outcome = train_and_register(warehouse, uri, home / "artifacts", worse)
    assert not outcome.promoted
    assert outcome.decision.startswith("not promoted")
    assert outcome.champion_version == "1" and outcome.previous_champion_version == "1"
    client = MlflowClient(uri, registry_uri=uri)
    assert client.get_model_version_by_alias(FAST.model_name, "champion").version == 1
    assert client.get_model_version_by_alias(FAST.model_name, "challenger").version == 2
    tags = client.get_run(outcome.run_id).data.tags
    assert tags["promotion.decision"] == "not promoted"


def test_promotion_gate_both_ways_and_slices() -> None:
    cfg = ModelConfig(promotion_margin=0.01, slice_tolerance=0.05)
    slices = pd.DataFrame(
        {"slice": ["category"], "value": ["bags"], "gating": [True], "pr_auc": [0.80]}
    )
    better = slices.assign(pr_auc=0.82)
    assert promotion_gate({"pr_auc": 0.90}, better, {"pr_auc": 0.85}, slices, cfg).promote
    assert not promotion_gate({"pr_auc": 0.855}, better, {"pr_auc": 0.85}, slices, cfg).promote
    regressed = slices.assign(pr_auc=0.70)
    gate = promotion_gate({"pr_auc": 0.95}, regressed, {"pr_auc": 0.85}, slices, cfg)
    assert not gate.promote and gate.regressed_slices == ["category=bags (0.800 -> 0.700)"]
    assert promotion_gate({"pr_auc": 0.1}, slices, None, None, cfg).promote


def test_scoring_uses_champion_and_writes_tables(trained) -> None:
    _, warehouse, uri, _, _ = trained
    at = datetime(2026, 6, 1, 12)
    summary = score_listings(warehouse, uri, at, FAST)
    champion = MlflowClient(uri, registry_uri=uri).get_model_version_by_alias(
        FAST.model_name, "champion"
    )
    assert summary.model_version == str(champion.version)
    con = duckdb.connect(str(warehouse), read_only=True)
    scores = con.execute("SELECT * FROM main.listing_scores").df()
    active = con.execute("SELECT count(*) FROM main.listing_features WHERE status = 'active'")
    assert len(scores) == summary.n_listings == active.fetchone()[0]
    assert scores["counterfeit_score"].between(0, 1).all()
    assert (scores["model_version"] == str(champion.version)).all()
    assert (scores["scored_at"] == pd.Timestamp(at)).all()
    for reasons in scores["top_reasons"]:
        assert 1 <= len(reasons) <= FAST.reasons_top_n
        assert all(isinstance(r, str) and r and "nan" not in r for r in reasons)
    sellers = con.execute("SELECT * FROM main.seller_base_scores").df().set_index("seller_id")
    con.close()
    assert len(sellers) == summary.n_sellers == 42
    assert (
        sellers.loc["S041", "base_risk_score"] == 0
        and sellers.loc["S041", "n_listings_scored"] == 0
    )
    assert sellers["base_risk_score"].between(0, 1).all()
    assert (
        sellers["max_listing_score"].dropna()
        <= sellers["base_risk_score"].loc[sellers["max_listing_score"].notna()] + 1e-12
    ).all()
    # The registered champion also loads and predicts as a plain pyfunc, with the same scores.
    with tracking(uri):  # sets and then restores MLflow's global URIs
        model = mlflow.pyfunc.load_model(f"models:/{FAST.model_name}@champion")
    frame = (
        duckdb.connect(str(warehouse), read_only=True)
        .execute(
            "SELECT * FROM main.listing_features WHERE listing_id = ?", [scores["listing_id"][0]]
        )
        .df()
    )
    names = model.metadata.get_input_schema().input_names()
    # The signature declares every feature DOUBLE (BIGINT columns with NULLs arrive as floats).
    frame = frame[names].astype({n: float for n in names if n not in ("brand", "category")})
    got = model.predict(frame)
    assert math.isclose(
        float(got["counterfeit_score"][0]), scores["counterfeit_score"][0], rel_tol=1e-9
    )


def test_training_due_counts_new_outcomes(trained, tmp_path: Path) -> None:
    _, warehouse, uri, _, _ = trained
    assert not training_due(warehouse, uri, FAST).due  # nothing new since the champion
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute(
        "INSERT INTO main.training_set SELECT * REPLACE ("
        "'N' || listing_id AS listing_id, label_decided_at + INTERVAL 400 DAY AS "
        "label_decided_at) FROM main.training_set LIMIT 35"
    )
    con.close()
    decision = training_due(copy, uri, FAST)
    assert decision.due and decision.new_outcomes == 35 and decision.champion_version == "1"


def test_reason_texts() -> None:
    assert describe("prod_price_to_ref_ratio", 0.22) == "price 78% below reference price"
    assert describe("rep_rights_holder_30d", 3) == "3 rights-holder complaints in 30 days"
    assert describe("rep_rights_holder_30d", 1) == "1 rights-holder complaint in 30 days"
    assert describe("brand", 1.0, {"brand": ["Aurel", "Borda"]}) == "brand Borda"
    contrib = np.array([[0.5, -0.2, 0.1, 0.0], [-0.1, -0.3, -0.2, 0.0]])
    x = np.array([[0.22, 5.0, 3.0], [1.2, 0.0, 0.0]])
    cols = ["prod_price_to_ref_ratio", "prod_noise", "rep_rights_holder_30d"]
    got = top_reasons(contrib, x, cols, {}, n=3)
    assert got[0] == ["price 78% below reference price", "3 rights-holder complaints in 30 days"]
    assert got[1] == ["no strong counterfeit signal"]


def test_metrics_at_k_and_fpr() -> None:
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.6, 0.2, 0.3, 0.05])
    m = metrics(y, p, k=2, fpr=0.0)
    assert m["precision_at_k"] == 1.0 and math.isclose(m["recall_at_k"], 2 / 3)
    assert math.isclose(m["recall_at_fpr"], 2 / 3)
