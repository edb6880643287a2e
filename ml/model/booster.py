"""Fitting LightGBM boosters and the small seeded random search over their settings."""

from __future__ import annotations

import random
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from ml.model.config import CATEGORICALS, ModelConfig
from ml.model.pyfunc_model import CounterfeitModel


def build_vocab(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Sorted distinct values of each categorical; the code of a value is its position."""
    return {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in CATEGORICALS}


def encoder(features: list[str], vocab: dict[str, list[str]], config: ModelConfig):
    """A model without booster or calibration yet: it only turns frames into matrices."""
    meta = {
        "features": features,
        "categoricals": vocab,
        "calibration": {"slope": 1.0, "intercept": 0.0},
        "num_threads": config.num_threads,
    }
    return CounterfeitModel(None, meta)


def sample_trials(space: dict[str, tuple], n: int, seed: int) -> list[dict]:
    """Trial 0 takes the middle of every range; the rest are distinct seeded random picks."""
    rng = random.Random(seed)
    trials = [{k: v[len(v) // 2] for k, v in space.items()}]
    seen = {tuple(sorted(trials[0].items()))}
    attempts = 0
    while len(trials) < n and attempts < 100 * n:
        attempts += 1
        pick = {k: rng.choice(v) for k, v in space.items()}
        key = tuple(sorted(pick.items()))
        if key not in seen:
            seen.add(key)
            trials.append(pick)
    return trials


def lgb_params(trial: dict, config: ModelConfig, y_train: np.ndarray) -> dict:
    positives = max(int(y_train.sum()), 1)
    return {
        "objective": "binary",
        "metric": "average_precision",
        # Counterfeits can be the minority by far; weight them instead of resampling.
        "scale_pos_weight": (len(y_train) - positives) / positives,
        "bagging_freq": 1,
        "min_data_per_group": 20,
        "cat_smooth": 10.0,
        "cat_l2": 10.0,
        "feature_pre_filter": False,
        "verbosity": -1,
        "seed": config.seed,
        "deterministic": True,
        "num_threads": config.train_threads,
        **trial,
    }


@dataclass
class Fitted:
    booster: lgb.Booster
    params: dict
    best_iteration: int
    valid_pr_auc: float
    valid_pred: np.ndarray

    @property
    def complexity(self) -> int:
        return self.best_iteration * int(self.params.get("num_leaves", 31))


def datasets(x_train, y_train, x_valid, y_valid, columns: list[str], config: ModelConfig):
    """Binned once and shared by every trial (binning dominates the cost of a small trial)."""
    categorical = [c for c in columns if c in CATEGORICALS]
    params = {
        "max_bin": config.max_bin,
        "feature_pre_filter": False,
        "verbosity": -1,
        "num_threads": config.train_threads,
    }
    train = lgb.Dataset(
        x_train,
        y_train,
        feature_name=columns,
        categorical_feature=categorical,
        free_raw_data=False,
        params=params,
    )
    return train, lgb.Dataset(x_valid, y_valid, reference=train)


def fit_booster(
    train: lgb.Dataset,
    valid: lgb.Dataset,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    params: dict,
    config: ModelConfig,
) -> Fitted:
    """Train with early stopping on the validation window; keep only the useful trees."""
    booster = lgb.train(
        {**params, "max_bin": config.max_bin},
        train,
        num_boost_round=config.num_boost_round,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    best = booster.best_iteration or booster.current_iteration()
    trimmed = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    pred = trimmed.predict(x_valid, raw_score=True, num_threads=config.train_threads)
    return Fitted(trimmed, params, best, float(average_precision_score(y_valid, pred)), pred)


def select_one_se(trials: list[Fitted], y_valid: np.ndarray, seed: int) -> Fitted:
    """Breiman's one-standard-error rule: the simplest trial (fewest leaves in all) whose valid
    PR-AUC is within one bootstrap standard error of the best. Picking the raw best overfits
    the validation window: at scale small it favoured long boosters that drift on newer data."""
    best = max(trials, key=lambda f: f.valid_pr_auc)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(200):
        i = rng.integers(0, len(y_valid), len(y_valid))
        if 0 < y_valid[i].sum() < len(i):
            boot.append(average_precision_score(y_valid[i], best.valid_pred[i]))
    se = float(np.std(boot)) if boot else 0.0
    close = [f for f in trials if f.valid_pr_auc >= best.valid_pr_auc - se]
    return min(close, key=lambda f: (f.complexity, -f.valid_pr_auc))
