"""Ranking and calibration metrics, overall and per brand / category slice."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

SLICE_COLUMNS = ("brand", "category")


def metrics(y: np.ndarray, p: np.ndarray, k: int, fpr: float) -> dict[str, float]:
    """PR-AUC, ROC-AUC, precision/recall at top k, recall at a fixed FPR, Brier score."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    n, positives = len(y), int(y.sum())
    both = 0 < positives < n
    top = np.argsort(-p, kind="stable")[: min(k, n)]
    hits = int(y[top].sum())
    out = {
        "n": float(n),
        "positives": float(positives),
        "pr_auc": float(average_precision_score(y, p)) if both else math.nan,
        "roc_auc": float(roc_auc_score(y, p)) if both else math.nan,
        "precision_at_k": hits / len(top) if len(top) else math.nan,
        "recall_at_k": hits / positives if positives else math.nan,
        "recall_at_fpr": recall_at_fpr(y, p, fpr) if both else math.nan,
        "brier": float(brier_score_loss(y, p)) if n else math.nan,
        "k": float(min(k, n)),
    }
    return out


def recall_at_fpr(y: np.ndarray, p: np.ndarray, fpr: float) -> float:
    """Highest recall whose false-positive rate stays at or below ``fpr``."""
    fprs, tprs, _ = roc_curve(y, p)
    ok = fprs <= fpr + 1e-12
    return float(tprs[ok].max()) if ok.any() else 0.0


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed rate in equal-width probability bins (empty bins dropped)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": which, "p": p, "y": y})
    table = frame.groupby("bin").agg(mean_predicted=("p", "mean"), observed=("y", "mean"))
    table["n"] = frame.groupby("bin").size()
    return table.reset_index()


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    table = calibration_table(np.asarray(y), np.asarray(p), bins)
    if table.empty:
        return math.nan
    gap = (table["mean_predicted"] - table["observed"]).abs()
    return float((gap * table["n"]).sum() / table["n"].sum())


def slice_metrics(
    frame: pd.DataFrame, p: np.ndarray, k: int, fpr: float, min_size: int
) -> pd.DataFrame:
    """Metrics per brand and per category value; ``gating`` marks slices big enough to judge."""
    rows = []
    y = frame["label"].to_numpy()
    for column in SLICE_COLUMNS:
        values = frame[column].fillna("(none)").to_numpy()
        for value in pd.unique(values):
            mask = values == value
            m = metrics(y[mask], p[mask], k, fpr)
            gating = bool(mask.sum() >= min_size and 0 < m["positives"] < m["n"])
            rows.append({"slice": column, "value": str(value), "gating": gating, **m})
    return pd.DataFrame(rows)


def metric_key(*parts: str) -> str:
    """An MLflow-safe metric name (letters, digits, ``_ - . /`` only)."""
    return "_".join(re.sub(r"[^0-9A-Za-z_.\-/]+", "-", part) for part in parts)
