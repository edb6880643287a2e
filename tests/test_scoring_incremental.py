"""Incremental scoring: only changed listings are rescored and the result equals a full rescore;
a champion change rescores everything; reasons exactly where people read them; the compiled
champion predicts what LightGBM predicts.

Runs on test_model's small synthetic warehouse with a real MLflow champion, except the compiled
model check on real features, which uses the tiny pipeline's home.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from test_model import FAST, build_warehouse

from ml.model import incremental, score_listings, train_and_register
from ml.model.champion import load_champion
from ml.model.compiled import COMPILERS, compile_booster
from ml.model.explain import UNEXPLAINED, explain_listings
from ml.model.incremental import STATE_TABLE
from ml.model.tracking import tracking

T1, T2, T3 = datetime(2026, 6, 1), datetime(2026, 6, 2), datetime(2026, 6, 3)
CONFIG = replace(FAST, reasons_min_score=0.6)


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory):
    """A trained champion and the warehouse it was trained on (never scored: tests copy it)."""
    home = tmp_path_factory.mktemp("incremental_home")
    warehouse = home / "warehouse.duckdb"
    build_warehouse(warehouse)
    uri = f"sqlite:///{home / 'mlflow.db'}"
    train_and_register(warehouse, uri, home / "artifacts", CONFIG, dagster_run_id="dg-1")
    return home, warehouse, uri


def _copy(champion, tmp_path: Path) -> tuple[Path, str]:
    """A fresh home with a copy of the unscored warehouse and of the MLflow store."""
    home, warehouse, _ = champion
    new = tmp_path / "home"
    new.mkdir()
    shutil.copy(warehouse, new / "warehouse.duckdb")
    shutil.copy(home / "mlflow.db", new / "mlflow.db")
    return new / "warehouse.duckdb", f"sqlite:///{new / 'mlflow.db'}"


def _sql(warehouse: Path, *statements: str) -> None:
    con = duckdb.connect(str(warehouse))
    for s in statements:
        con.execute(s)
    con.close()


def _table(warehouse: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _scores(warehouse: Path) -> pd.DataFrame:
    return _table(warehouse, "SELECT * FROM main.listing_scores ORDER BY listing_id")


def _assert_same(got: pd.DataFrame, want: pd.DataFrame, skip: tuple[str, ...]) -> None:
    """Cell by cell: floats to 1e-9 relative, everything else exactly."""
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for col in got.columns:
        if col in skip:
            continue
        for a, b in zip(got[col], want[col], strict=True):
            if isinstance(a, float) and isinstance(b, float):
                assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9), col
            elif isinstance(a, np.ndarray | list):
                assert list(a) == list(b), col
            else:
                assert a == b, col


# A change in every way that matters: features of 4 listings, 2 listings taken down, one gone
# from the features, one new listing, one moved to another seller (listings are L00000..L00249,
# sellers S000..S039, every 10th listing already removed).
CHANGES = (
    "UPDATE main.listing_features SET prod_price_to_ref_ratio = 1.6 - prod_price_to_ref_ratio "
    "WHERE listing_id IN ('L00001', 'L00002', 'L00003')",
    "UPDATE main.listing_features SET rep_rights_holder_30d = rep_rights_holder_30d + 4 "
    "WHERE listing_id = 'L00004'",
    "UPDATE main.listing_features SET status = 'removed' WHERE listing_id IN ('L00005', 'L00006')",
    "DELETE FROM main.listing_features WHERE listing_id = 'L00007'",
    "INSERT INTO main.listing_features SELECT * REPLACE ('L99999' AS listing_id) "
    "FROM main.listing_features WHERE listing_id = 'L00008'",
    "UPDATE main.listing_features SET seller_id = 'S039' WHERE listing_id = 'L00009'",
)
RESCORED = {"L00001", "L00002", "L00003", "L00004", "L99999", "L00009"}


def test_rescoring_touches_only_changed_rows_and_equals_full(champion, tmp_path: Path) -> None:
    warehouse, uri = _copy(champion, tmp_path)
    first = score_listings(warehouse, uri, T1, CONFIG)
    assert first.full and first.n_rescored == first.n_listings == 225
    assert first.predictor == "treecode", first.predictor_note
    before = _scores(warehouse).set_index("listing_id")

    again = score_listings(warehouse, uri, T2, CONFIG)
    assert not again.full and again.n_rescored == 0 and again.n_sellers_recomputed == 0
    assert (_scores(warehouse)["scored_at"] == pd.Timestamp(T1)).all(), "nothing changed"

    _sql(warehouse, *CHANGES)
    sellers_before = _table(warehouse, "SELECT * FROM main.seller_base_scores ORDER BY seller_id")
    summary = score_listings(warehouse, uri, T3, CONFIG)
    assert not summary.full
    after = _scores(warehouse)
    assert summary.n_rescored == len(RESCORED) and summary.n_listings == len(after) == 225 - 3 + 1
    restamped = set(after.loc[after["scored_at"] == pd.Timestamp(T3), "listing_id"])
    assert restamped == RESCORED
    assert not {"L00005", "L00006", "L00007"} & set(after["listing_id"])
    kept = after[~after["listing_id"].isin(RESCORED)].set_index("listing_id")
    _assert_same(kept.reset_index(), before.loc[kept.index].reset_index(), skip=())
    changed = ["L00001", "L00002", "L00003", "L00004"]
    new_scores = after.set_index("listing_id").loc[changed, "counterfeit_score"]
    assert (new_scores != before.loc[changed, "counterfeit_score"]).any(), "a real change"
    # Sellers: only those whose listings changed (S001..S009 via L0000x, and S039) were redone.
    sellers_after = _table(warehouse, "SELECT * FROM main.seller_base_scores ORDER BY seller_id")
    redone = set(sellers_after.loc[sellers_after["scored_at"] == pd.Timestamp(T3), "seller_id"])
    assert redone == {f"S00{i}" for i in range(1, 10)} | {"S039"}
    assert summary.n_sellers_recomputed == len(redone)
    untouched = ~sellers_after["seller_id"].isin(redone)
    _assert_same(sellers_after[untouched], sellers_before[untouched.to_numpy()], skip=())

    # The same warehouse scored from scratch gives the same rows (but for the time stamp).
    full_copy = tmp_path / "full.duckdb"
    shutil.copy(warehouse, full_copy)
    _sql(full_copy, f"DROP TABLE {STATE_TABLE}")
    full = score_listings(full_copy, uri, T3, CONFIG)
    assert full.full and full.n_rescored == len(after)
    _assert_same(after, _scores(full_copy), skip=("scored_at",))
    full_sellers = _table(full_copy, "SELECT * FROM main.seller_base_scores ORDER BY seller_id")
    _assert_same(sellers_after, full_sellers, skip=("scored_at",))


def test_champion_change_rescores_everything(champion, tmp_path: Path) -> None:
    warehouse, uri = _copy(champion, tmp_path)
    score_listings(warehouse, uri, T1, CONFIG)
    with tracking(uri) as client:  # MLflow resolves a version's source through global URIs
        old = client.get_model_version_by_alias(CONFIG.model_name, "champion")
        # A new version (the same model registered again) becomes champion.
        new = client.create_model_version(CONFIG.model_name, old.source, run_id=old.run_id)
        client.set_registered_model_alias(CONFIG.model_name, "champion", new.version)
    summary = score_listings(warehouse, uri, T2, CONFIG)
    assert summary.full and summary.n_rescored == summary.n_listings == 225
    scores = _scores(warehouse)
    assert (scores["scored_at"] == pd.Timestamp(T2)).all()
    assert (scores["model_version"] == str(new.version)).all()
    sellers = _table(warehouse, "SELECT * FROM main.seller_base_scores")
    assert (sellers["scored_at"] == pd.Timestamp(T2)).all() and len(sellers) == 42
    # A changed reasons threshold changes what is explained: everything is redone as well.
    higher = score_listings(warehouse, uri, T3, replace(CONFIG, reasons_min_score=0.9))
    assert higher.full and higher.n_rescored == 225


def _explained(warehouse: Path) -> pd.DataFrame:
    return _table(
        warehouse,
        f"SELECT ls.*, st.explained FROM main.listing_scores ls JOIN {STATE_TABLE} st "
        "USING (listing_id) ORDER BY listing_id",
    )


def test_reasons_exactly_where_required(champion, tmp_path: Path) -> None:
    warehouse, uri = _copy(champion, tmp_path)
    _sql(
        warehouse,
        "CREATE TABLE main.rings AS SELECT 'R-1' AS ring_id, 'S001' AS seller_id, "
        "['phone'] AS linked_by",
        "CREATE SCHEMA cloudsword",
        "CREATE TABLE cloudsword.lead_registry AS SELECT * FROM (VALUES "
        "('L-1', 'seller:S002', 'exported', ['S002']), "
        "('L-2', 'seller:S003', 'rejected', ['S003'])) t(lead_id, lead_key, status, seller_ids)",
    )
    summary = score_listings(warehouse, uri, T1, CONFIG)
    scores = _explained(warehouse)
    watched = scores["seller_id"].isin(["S001", "S002"])
    required = (scores["counterfeit_score"] >= CONFIG.reasons_min_score) | watched
    assert 0 < required.sum() < len(scores), "the data has both kinds of listings"
    assert (scores["explained"] == required).all()
    assert summary.n_explained == required.sum()
    for reasons, need in zip(scores["top_reasons"], required, strict=True):
        assert (list(reasons) == [UNEXPLAINED]) != need
        assert 1 <= len(reasons) <= CONFIG.reasons_top_n
    assert not scores.loc[scores["seller_id"] == "S003", "explained"].all(), "rejected lead"

    # A seller that came under investigation after scoring: the leads stage's hook fills in its
    # listings' reasons, leaving scores and times alone, and they equal a full run's reasons.
    s5 = scores["seller_id"] == "S005"
    missing = int((s5 & ~scores["explained"]).sum())
    assert missing > 0
    assert explain_listings(warehouse, uri, ["S005"], CONFIG) == missing
    assert explain_listings(warehouse, uri, ["S005"], CONFIG) == 0, "already explained"
    filled = _explained(warehouse)
    assert filled.loc[s5, "explained"].all()
    _assert_same(
        filled.drop(columns=["top_reasons", "explained"]),
        scores.drop(columns=["top_reasons", "explained"]),
        skip=(),
    )
    reference = tmp_path / "ref.duckdb"
    shutil.copy(warehouse, reference)
    _sql(
        reference,
        f"DROP TABLE {STATE_TABLE}",
        "INSERT INTO main.rings VALUES ('R-2', 'S005', ['email'])",
    )
    score_listings(reference, uri, T2, CONFIG)
    want = _explained(reference)
    _assert_same(filled[s5], want[s5.to_numpy()], skip=("scored_at",))


def test_a_failed_write_leaves_the_previous_scores(champion, tmp_path: Path, monkeypatch) -> None:
    warehouse, uri = _copy(champion, tmp_path)
    score_listings(warehouse, uri, T1, CONFIG)
    before = _scores(warehouse)
    _sql(warehouse, *CHANGES)
    monkeypatch.setattr(incremental, "SELLER_SQL", "SELECT no_such_column FROM _seller_todo")
    with pytest.raises(duckdb.Error):
        score_listings(warehouse, uri, T2, CONFIG)
    _assert_same(_scores(warehouse), before, skip=())
    monkeypatch.undo()
    assert score_listings(warehouse, uri, T2, CONFIG).n_rescored == len(RESCORED)


def test_compilation_failure_falls_back_to_lightgbm(champion, tmp_path: Path, monkeypatch) -> None:
    warehouse, uri = _copy(champion, tmp_path)
    compiled = score_listings(warehouse, uri, T1, CONFIG)
    cache = warehouse.parent / "cache" / "compiled_models"
    assert compiled.predictor == "treecode" and len(list(cache.glob("*.so"))) == 1
    assert "loaded" in score_listings(warehouse, uri, T1, CONFIG).predictor_note

    def broken(*args, **kwargs):
        raise RuntimeError("no compiler today")

    monkeypatch.setitem(COMPILERS, "treecode", broken)
    monkeypatch.setitem(COMPILERS, "lleaves", broken)
    other = warehouse.parent / "other.duckdb"
    shutil.copy(champion[1], other)
    fallback = score_listings(other, uri, T1, CONFIG)
    assert fallback.predictor == "lightgbm"
    assert fallback.predictor_note.count("no compiler today") == 2
    _assert_same(_scores(other), _scores(warehouse), skip=())


def _real_features(home: Path):
    model, _ = load_champion(f"sqlite:///{home / 'mlflow' / 'mlflow.db'}", FAST.model_name)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        present = {r[0] for r in con.execute("DESCRIBE main.listing_features").fetchall()}
        cols = [
            f'CAST("{f}" AS DOUBLE) AS "{f}"' if f in present else f'NULL::DOUBLE AS "{f}"'
            for f in model.features
        ]
        batch = con.sql(
            f"SELECT brand, category, {', '.join(cols)} FROM main.listing_features"
        ).to_arrow_table()
    finally:
        con.close()
    return model, model.matrix_from_arrow(batch)


@pytest.mark.slow
def test_compiled_champion_equals_lightgbm_on_real_features(
    tiny_home: Path, tmp_path: Path
) -> None:
    model, x = _real_features(tiny_home)
    assert x.shape[0] > 100 and np.isnan(x).any(), "real features, with missing values"
    # Rows the data does not have: unseen/missing categories, all-missing and extreme values.
    odd = np.repeat(x[:1], 5, axis=0)
    odd[0, -2:] = np.nan
    odd[1, -2:] = [10_000, -0.5]
    odd[2, :] = np.nan
    odd[3, :-2] = 1e300
    odd[4, :-2] = 0.0
    x = np.vstack([x, odd])
    want = model.booster.predict(x, raw_score=True)
    for kind in COMPILERS:
        compiled = compile_booster(model.booster, tmp_path, label="tiny", compilers=(kind,))
        assert compiled.kind == kind, compiled.reason
        np.testing.assert_allclose(compiled.margin(x), want, rtol=0, atol=1e-6)
    # The pipeline itself scored with the compiled model, cached inside its home.
    assert list((tiny_home / "cache" / "compiled_models").glob("*.so"))
