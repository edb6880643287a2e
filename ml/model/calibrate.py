"""Platt scaling: a one-feature logistic regression from a raw score to a probability.

Chosen over isotonic regression because the validation window holds only a few hundred
outcomes at small scale; two parameters do not overfit it, and the map stays monotone and smooth.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression


def fit_platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of ``sigmoid(slope * raw + intercept)`` fitted on (raw, y)."""
    y = np.asarray(y, dtype=int)
    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    fit = LogisticRegression(C=1e4, max_iter=1000).fit(np.asarray(raw).reshape(-1, 1), y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def apply_platt(raw: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(slope * np.asarray(raw, dtype=float) + intercept)))
