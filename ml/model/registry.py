"""The model registry: champion/challenger aliases, the promotion gate, and when to retrain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from ml.model.config import ModelConfig
from ml.model.data import count_outcomes_after
from ml.model.tracking import tracking

CHAMPION = "champion"
CHALLENGER = "challenger"
#: Model-version tag holding the newest label decision the version was trained/tested on.
DATA_CUTOFF_TAG = "data_cutoff"


@dataclass
class TrainingDecision:
    due: bool
    reason: str
    new_outcomes: int
    champion_version: str | None


@dataclass
class GateResult:
    promote: bool
    reason: str
    challenger_pr_auc: float
    champion_pr_auc: float | None
    regressed_slices: list[str] = field(default_factory=list)


def version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:  # no registered model, or no such alias yet
        return None


def training_due(warehouse: Path, tracking_uri: str, config: ModelConfig) -> TrainingDecision:
    """Due when there is no champion, or enough outcomes arrived after its data cutoff."""
    with tracking(tracking_uri) as client:
        champion = version_by_alias(client, config.model_name, CHAMPION)
    if champion is None:
        n = count_outcomes_after(warehouse, None)
        return TrainingDecision(n > 0, f"no champion yet; {n} labelled outcomes", n, None)
    cutoff_text = champion.tags.get(DATA_CUTOFF_TAG)
    cutoff = datetime.fromisoformat(cutoff_text) if cutoff_text else None
    n = count_outcomes_after(warehouse, cutoff)
    due = n >= config.min_new_outcomes
    reason = (
        f"{n} outcomes decided after champion v{champion.version}'s data cutoff {cutoff_text} "
        f"({'>=' if due else '<'} {config.min_new_outcomes} needed)"
    )
    return TrainingDecision(due, reason, n, str(champion.version))


def promotion_gate(
    challenger: dict[str, float],
    challenger_slices: pd.DataFrame,
    champion: dict[str, float] | None,
    champion_slices: pd.DataFrame | None,
    config: ModelConfig,
) -> GateResult:
    """Promote when test PR-AUC beats the champion's on the same window by the margin and no
    gating slice loses more than the tolerance. Without a champion, the challenger wins."""
    new = float(challenger["pr_auc"])
    if champion is None or champion_slices is None:
        return GateResult(True, f"no champion yet; challenger test PR-AUC {new:.4f}", new, None)
    old = float(champion["pr_auc"])
    both = challenger_slices.merge(champion_slices, on=["slice", "value"], suffixes=("", "_old"))
    both = both[both["gating"] & both["gating_old"]]
    drop = both["pr_auc_old"] - both["pr_auc"]
    regressed = [
        f"{r.slice}={r.value} ({r.pr_auc_old:.3f} -> {r.pr_auc:.3f})"
        for r in both[drop > config.slice_tolerance].itertuples()
    ]
    beats = new >= old + config.promotion_margin
    promote = beats and not regressed
    reason = (
        f"challenger test PR-AUC {new:.4f} vs champion {old:.4f} on the same test window "
        f"(margin {config.promotion_margin}: {'met' if beats else 'not met'}); "
        f"{len(both)} gating slices, {len(regressed)} regressed beyond "
        f"{config.slice_tolerance}" + (f": {', '.join(regressed[:5])}" if regressed else "")
    )
    return GateResult(
        promote, ("promoted: " if promote else "not promoted: ") + reason, new, old, regressed
    )


def set_aliases(client: MlflowClient, name: str, version: str, promote: bool) -> None:
    """A new version is always the challenger; the champion alias moves only on promotion."""
    client.set_registered_model_alias(name, CHALLENGER, version)
    if promote:
        client.set_registered_model_alias(name, CHAMPION, version)
