"""Baselines every LightGBM run is judged against on the same test window.

- ``rule``: a score an analyst could compute by hand: counterfeit / IP reports plus how far the
  price sits below the brand's reference price.
- ``logreg``: a regularised logistic regression on every numeric feature.

Both are Platt-calibrated on the validation window, like the LightGBM model, so their Brier
scores and calibration curves compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ml.model.calibrate import apply_platt, fit_platt
from ml.model.data import TimeSplit

RULE_DESCRIPTION = (
    "log1p(counterfeit + IP-infringement reports, all time) "
    "+ 2 * clip(1 - price / reference price, 0, 1)"
)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame))
    return frame[name].to_numpy(dtype=float)


def rule_raw(frame: pd.DataFrame) -> np.ndarray:
    """The transparent rule score, before calibration (see ``RULE_DESCRIPTION``)."""
    reports = np.nan_to_num(_column(frame, "rep_reason_counterfeit_all")) + np.nan_to_num(
        _column(frame, "rep_reason_ip_infringement_all")
    )
    ratio = np.nan_to_num(_column(frame, "prod_price_to_ref_ratio"), nan=1.0)
    discount = np.clip(1.0 - ratio, 0, 1)
    return np.log1p(reports) + 2.0 * discount


@dataclass
class BaselineScores:
    name: str
    description: str
    valid: np.ndarray
    test: np.ndarray


def rule_baseline(split: TimeSplit) -> BaselineScores:
    slope, intercept = fit_platt(rule_raw(split.valid), split.valid["label"].to_numpy())
    return BaselineScores(
        "rule",
        RULE_DESCRIPTION,
        apply_platt(rule_raw(split.valid), slope, intercept),
        apply_platt(rule_raw(split.test), slope, intercept),
    )


def logreg_baseline(split: TimeSplit, features: list[str], seed: int) -> BaselineScores:
    model = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=0.05, class_weight="balanced", max_iter=5000, random_state=seed),
    )
    model.fit(split.train[features].to_numpy(float), split.train["label"].to_numpy())
    valid_raw = model.decision_function(split.valid[features].to_numpy(float))
    test_raw = model.decision_function(split.test[features].to_numpy(float))
    slope, intercept = fit_platt(valid_raw, split.valid["label"].to_numpy())
    return BaselineScores(
        "logreg",
        "L2 logistic regression (C=0.05, balanced) on median-imputed, standardised features",
        apply_platt(valid_raw, slope, intercept),
        apply_platt(test_raw, slope, intercept),
    )
