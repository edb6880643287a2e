"""LightGBM on a pandas frame of main.training_set, plain random search, no MLflow (naive).

The same kind of model as ml/model (binary LightGBM, brand and category as categoricals, class
weight, early stopping on a time-ordered validation window, a small random search), but written
as a notebook would: the whole table in pandas, pandas categoricals, a for loop over trials.
Scoring reads the whole main.listing_features into pandas and calls ``Booster.predict`` on
row chunks in a Python loop.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import lightgbm as lgb
import pandas as pd
from sklearn.metrics import average_precision_score

PREFIXES = ("prod_", "cons_", "rep_", "sell_")
CATEGORICALS = ("brand", "category")
SPACE = {
    "learning_rate": (0.03, 0.05, 0.1),
    "num_leaves": (7, 15, 31),
    "min_data_in_leaf": (10, 20, 40),
    "feature_fraction": (0.5, 0.7, 0.9),
    "bagging_fraction": (0.7, 0.9, 1.0),
    "lambda_l2": (0.0, 1.0, 5.0),
}


@dataclass
class NaiveModel:
    booster: lgb.Booster
    features: list[str]
    categories: dict[str, list[str]]
    params: dict
    valid_ap: float
    test_ap: float
    n_train: int


def _read(warehouse: Path, table: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")  # keep stdout clean
        return con.execute(f"SELECT * FROM {table}").df()


def _frame(df: pd.DataFrame, features: list[str], categories: dict[str, list[str]]):
    x = df[features].copy()
    for col in CATEGORICALS:
        x[col] = pd.Categorical(df[col], categories=categories[col])
    for col in features:
        if col not in CATEGORICALS:
            x[col] = x[col].astype(float)
    return x


def train(warehouse: Path, trials: int = 8, seed: int = 7, num_threads: int = 2) -> NaiveModel:
    """Random search over ``trials`` settings; the best on the validation window is kept."""
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    data = _read(warehouse, "main.training_set").sort_values(["label_decided_at", "listing_id"])
    data = data.reset_index(drop=True)
    features = [*CATEGORICALS, *(c for c in data.columns if c.startswith(PREFIXES))]
    categories = {c: sorted(data[c].dropna().astype(str).unique()) for c in CATEGORICALS}
    n = len(data)
    cut_valid, cut_test = int(n * 0.6), int(n * 0.8)  # oldest labels train, newest test
    train_df, valid_df, test_df = data[:cut_valid], data[cut_valid:cut_test], data[cut_test:]
    x_tr, y_tr = _frame(train_df, features, categories), train_df["label"].astype(int)
    x_va, y_va = _frame(valid_df, features, categories), valid_df["label"].astype(int)
    rng = random.Random(seed)
    best: tuple[float, lgb.Booster, dict] | None = None
    for _ in range(trials):
        params = {k: rng.choice(v) for k, v in SPACE.items()}
        params |= {
            "objective": "binary",
            "scale_pos_weight": (len(y_tr) - y_tr.sum()) / max(y_tr.sum(), 1),
            "bagging_freq": 1,
            "verbosity": -1,
            "seed": seed,
            "num_threads": num_threads,
        }
        booster = lgb.train(
            params,
            lgb.Dataset(x_tr, y_tr),
            num_boost_round=600,
            valid_sets=[lgb.Dataset(x_va, y_va)],
            callbacks=[lgb.early_stopping(40, verbose=False)],
        )
        ap = average_precision_score(
            y_va, booster.predict(x_va, num_iteration=booster.best_iteration)
        )
        if best is None or ap > best[0]:
            best = (ap, booster, params)
    ap, booster, params = best  # type: ignore[misc]  # trials >= 1, so set
    test_pred = booster.predict(_frame(test_df, features, categories))
    test_ap = average_precision_score(test_df["label"].astype(int), test_pred)
    return NaiveModel(booster, features, categories, params, float(ap), float(test_ap), n)


def score(warehouse: Path, model: NaiveModel, chunk_rows: int = 1000) -> tuple[pd.DataFrame, float]:
    """listing_id, counterfeit_score for every listing in main.listing_features, and the
    seconds spent in ``Booster.predict`` alone (the "model alone" throughput)."""
    listings = _read(warehouse, "main.listing_features")
    parts, model_s = [], 0.0
    for start in range(0, len(listings), chunk_rows):
        chunk = listings.iloc[start : start + chunk_rows]
        x = _frame(chunk, model.features, model.categories)
        clock = time.perf_counter()
        pred = model.booster.predict(x, num_iteration=model.booster.best_iteration)
        model_s += time.perf_counter() - clock
        parts.append(pd.DataFrame({"listing_id": chunk["listing_id"], "counterfeit_score": pred}))
    return pd.concat(parts, ignore_index=True), model_s
