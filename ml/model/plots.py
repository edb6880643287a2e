"""Evaluation figures written as PNG files for MLflow (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from ml.model.evaluate import calibration_table  # noqa: E402


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def pr_curves(y: np.ndarray, scores: dict[str, np.ndarray], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, p in scores.items():
        precision, recall, _ = precision_recall_curve(y, p)
        ax.plot(recall, precision, label=name)
    ax.axhline(float(np.mean(y)), color="grey", ls=":", label="prevalence")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test window)")
    ax.legend(loc="lower left")
    return _save(fig, path)


def roc_curves(y: np.ndarray, scores: dict[str, np.ndarray], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, p in scores.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC (test window)")
    ax.legend(loc="lower right")
    return _save(fig, path)


def calibration(y: np.ndarray, scores: dict[str, np.ndarray], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", ls=":", label="perfect")
    for name, p in scores.items():
        table = calibration_table(y, p)
        ax.plot(table["mean_predicted"], table["observed"], marker="o", label=name)
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed counterfeit rate",
        title="Calibration (test window)",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="upper left")
    return _save(fig, path)


def importance(names: list[str], gain: np.ndarray, path: Path, top: int = 25) -> Path:
    order = np.argsort(gain)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(order) + 1.2))
    ax.barh([names[i] for i in order], gain[order])
    ax.set(xlabel="total gain", title=f"LightGBM feature importance (top {len(order)})")
    return _save(fig, path)


def contribution_summary(
    names: list[str], contrib: np.ndarray, values: np.ndarray, path: Path, top: int = 20
) -> Path:
    """SHAP-style beeswarm from LightGBM ``pred_contrib``: one row per feature, each dot a
    listing, x its contribution, colour its feature value's rank within the feature."""
    strength = np.abs(contrib).mean(axis=0)
    order = np.argsort(strength)[::-1][:top][::-1]
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(order) + 1.5))
    for row, j in enumerate(order):
        v = values[:, j]
        ranks = np.full(len(v), 0.5)
        ok = ~np.isnan(v)
        if ok.sum() > 1:
            ranks[ok] = v[ok].argsort().argsort() / (ok.sum() - 1)
        jitter = rng.uniform(-0.3, 0.3, len(v))
        ax.scatter(contrib[:, j], row + jitter, c=ranks, cmap="coolwarm", s=6, alpha=0.7)
    ax.set_yticks(range(len(order)), [names[j] for j in order])
    ax.axvline(0, color="grey", lw=0.8)
    ax.set(
        xlabel="contribution to log-odds (SHAP, LightGBM pred_contrib)",
        title="Contribution summary (colour: low -> high feature value)",
    )
    return _save(fig, path)
