"""Training: search, calibrate, evaluate against baselines, log to MLflow, register, gate."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from ml.model import plots
from ml.model.baselines import BaselineScores, logreg_baseline, rule_baseline
from ml.model.booster import (
    Fitted,
    build_vocab,
    datasets,
    encoder,
    fit_booster,
    lgb_params,
    sample_trials,
    select_one_se,
)
from ml.model.calibrate import fit_platt
from ml.model.config import CATEGORICALS, ModelConfig
from ml.model.data import TimeSplit, load_training_set, time_split
from ml.model.evaluate import expected_calibration_error, metric_key, metrics, slice_metrics
from ml.model.pyfunc_model import CounterfeitModel
from ml.model.registry import (
    CHAMPION,
    DATA_CUTOFF_TAG,
    GateResult,
    promotion_gate,
    set_aliases,
    version_by_alias,
)
from ml.model.tracking import ensure_experiment, tracking

PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")


@dataclass
class TrainingOutcome:
    run_id: str
    experiment_id: str
    model_version: str
    promoted: bool
    decision: str
    metrics: dict[str, float]
    baseline_metrics: dict[str, dict[str, float]]
    champion_version: str | None
    n_train: int
    n_valid: int
    n_test: int
    tracking_uri: str
    previous_champion_version: str | None = None
    champion_metrics: dict[str, float] | None = None
    best_params: dict[str, object] = field(default_factory=dict)
    seconds: float = 0.0


def _search(split: TimeSplit, model: CounterfeitModel, config: ModelConfig) -> Fitted:
    """Seeded random search; each trial is a nested MLflow run. Best valid PR-AUC wins."""
    x_va = model.matrix(split.valid)
    y_tr, y_va = split.train["label"].to_numpy(), split.valid["label"].to_numpy()
    train, valid = datasets(model.matrix(split.train), y_tr, x_va, y_va, model.columns, config)
    fitted: list[Fitted] = []
    run_ids: list[str] = []
    trials = sample_trials(config.search_space, config.search_trials, config.seed)
    for i, trial in enumerate(trials):
        with mlflow.start_run(
            run_name=f"trial-{i:02d}",
            nested=True,
            experiment_id=mlflow.active_run().info.experiment_id,
            tags={"kind": "trial"},
        ) as run:
            fit = fit_booster(train, valid, x_va, y_va, lgb_params(trial, config, y_tr), config)
            mlflow.log_params(trial)
            mlflow.log_metrics(
                {
                    "valid_pr_auc": fit.valid_pr_auc,
                    "best_iteration": fit.best_iteration,
                    "total_leaves": fit.complexity,
                }
            )
        fitted.append(fit)
        run_ids.append(run.info.run_id)
    best = select_one_se(fitted, y_va, config.seed)
    mlflow.set_tag("selected_trial_run_id", run_ids[fitted.index(best)])
    return best


def _log_datasets(split: TimeSplit, warehouse: Path) -> None:
    for context, part in (
        ("training", split.train),
        ("validation", split.valid),
        ("testing", split.test),
    ):
        dataset = mlflow.data.from_pandas(
            part, source=f"{warehouse}", name=f"training_set_{context}", targets="label"
        )
        mlflow.log_input(dataset, context=context)


def _log_baseline(base: BaselineScores, y: np.ndarray, split: TimeSplit, cfg: ModelConfig) -> dict:
    scores = metrics(y, base.test, cfg.k, cfg.fpr)
    with mlflow.start_run(
        run_name=f"baseline-{base.name}",
        nested=True,
        experiment_id=mlflow.active_run().info.experiment_id,
        tags={"kind": "baseline", "baseline": base.name},
    ):
        mlflow.log_param("description", base.description)
        mlflow.log_metrics({f"test_{k}": v for k, v in scores.items()})
        mlflow.log_metric(
            "valid_pr_auc",
            metrics(split.valid["label"].to_numpy(), base.valid, cfg.k, cfg.fpr)["pr_auc"],
        )
    return scores


def _champion_eval(client, split: TimeSplit, config: ModelConfig):
    """The current champion's metrics and slices on this run's test window, or Nones."""
    version = version_by_alias(client, config.model_name, CHAMPION)
    if version is None:
        return None, None, None
    uri = f"models:/{config.model_name}@{CHAMPION}"
    champion = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    p = champion.probability(champion.matrix(split.test))
    y = split.test["label"].to_numpy()
    return (
        str(version.version),
        metrics(y, p, config.k, config.fpr),
        slice_metrics(split.test, p, config.k, config.fpr, config.min_slice_size),
    )


def _write_plots(
    folder: Path, y: np.ndarray, scores: dict, model: CounterfeitModel, x_test: np.ndarray
) -> None:
    plots.pr_curves(y, scores, folder / "pr_curve.png")
    plots.roc_curves(y, scores, folder / "roc_curve.png")
    plots.calibration(y, scores, folder / "calibration.png")
    gain = model.booster.feature_importance(importance_type="gain")
    plots.importance(model.columns, gain, folder / "feature_importance.png")
    contrib = model.contributions(x_test)[:, :-1]
    plots.contribution_summary(model.columns, contrib, x_test, folder / "contribution_summary.png")
    pd.DataFrame(
        {
            "feature": model.columns,
            "gain": gain,
            "mean_abs_contribution": np.abs(contrib).mean(axis=0),
        }
    ).sort_values("gain", ascending=False).to_csv(folder / "feature_importance.csv", index=False)


def _log_model(
    client, model: CounterfeitModel, split: TimeSplit, folder: Path, name: str, run_id: str
) -> str:
    """Log the calibrated pyfunc (model from code + booster and meta artifacts); register it.

    Registered through the client rather than ``registered_model_name``, which prints to stderr.
    """
    booster_file, meta_file = folder / "booster.txt", folder / "meta.json"
    model.booster.save_model(str(booster_file))
    meta_file.write_text(json.dumps(model.meta, indent=1, default=str))
    example = split.test.head(5)[model.features + list(CATEGORICALS)]
    signature = infer_signature(example, model.predict(None, example))
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(PYFUNC_CODE),
        artifacts={"booster": str(booster_file), "meta": str(meta_file)},
        signature=signature,
        input_example=example,
        pip_requirements=[
            f"lightgbm=={lgb.__version__}",
            f"pandas=={pd.__version__}",
            f"numpy=={np.__version__}",
            f"mlflow=={mlflow.__version__}",
        ],
    )
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(
            name,
            description="Calibrated counterfeit probability "
            "per listing (LightGBM on listing features).",
        )
    version = client.create_model_version(
        name, source=info.model_uri, run_id=run_id, model_id=info.model_id
    )
    return str(version.version)


def train_and_register(
    warehouse: Path,
    tracking_uri: str,
    artifact_root: Path,
    config: ModelConfig,
    dagster_run_id: str | None = None,
) -> TrainingOutcome:
    """Train LightGBM and both baselines on a time split of ``main.training_set``, log them to
    MLflow, register the model as ``challenger`` and promote it to ``champion`` if it passes
    the gate. Writes only to the MLflow store and ``artifact_root``, never to the warehouse."""
    started = time.perf_counter()
    frame, features = load_training_set(warehouse, config.features)
    split = time_split(frame, config.valid_fraction, config.test_fraction)
    model = encoder(features, build_vocab(frame), config)
    y_test = split.test["label"].to_numpy()
    tags = {
        "kind": "lightgbm",
        "dagster_run_id": dagster_run_id or "",
        "model_name": config.model_name,
        DATA_CUTOFF_TAG: split.data_cutoff.isoformat(),
    }
    with tracking(tracking_uri) as client:
        experiment_id = ensure_experiment(client, config.experiment, artifact_root)
        run_name = f"lightgbm-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=tags) as run:
            mlflow.log_params(
                {
                    **config.as_params(),
                    "n_features": len(features),
                    "n_train": len(split.train),
                    "n_valid": len(split.valid),
                    "n_test": len(split.test),
                    "train_cutoff": split.train_cutoff,
                    "test_start": split.test_start,
                    "data_cutoff": split.data_cutoff,
                }
            )
            mlflow.log_text("\n".join(model.columns), "features.txt")
            _log_datasets(split, warehouse)

            best = _search(split, model, config)
            valid_margin = best.booster.predict(model.matrix(split.valid), raw_score=True)
            slope, intercept = fit_platt(valid_margin, split.valid["label"].to_numpy())
            meta = {
                **model.meta,
                "calibration": {"slope": slope, "intercept": intercept},
                "train_cutoff": split.train_cutoff.isoformat(),
                "data_cutoff": split.data_cutoff.isoformat(),
                "params": best.params,
            }
            model = CounterfeitModel(best.booster, meta)
            mlflow.log_params(
                {f"best_{k}": v for k, v in best.params.items() if k in config.search_space}
                | {"best_iteration": best.best_iteration}
            )

            x_test = model.matrix(split.test)
            p_test = model.probability(x_test)
            scores = metrics(y_test, p_test, config.k, config.fpr)
            slices = slice_metrics(split.test, p_test, config.k, config.fpr, config.min_slice_size)
            mlflow.log_metrics(
                {f"test_{k}": v for k, v in scores.items()}
                | {
                    "valid_pr_auc": best.valid_pr_auc,
                    "test_ece": expected_calibration_error(y_test, p_test),
                }
            )
            mlflow.log_metrics(
                {
                    metric_key("test_slice", r.slice, r.value, "pr_auc"): r.pr_auc
                    for r in slices.itertuples()
                    if not np.isnan(r.pr_auc)
                }
            )
            mlflow.log_table(slices, "slices.json")

            baselines = [rule_baseline(split), logreg_baseline(split, features, config.seed)]
            baseline_metrics = {b.name: _log_baseline(b, y_test, split, config) for b in baselines}
            mlflow.log_metrics(
                {
                    f"baseline_{name}_test_{k}": v
                    for name, m in baseline_metrics.items()
                    for k, v in m.items()
                    if k in ("pr_auc", "roc_auc", "precision_at_k", "brier")
                }
            )

            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                (folder / "plots").mkdir()
                _write_plots(
                    folder / "plots",
                    y_test,
                    {"lightgbm": p_test} | {f"baseline {b.name}": b.test for b in baselines},
                    model,
                    x_test,
                )
                mlflow.log_artifacts(str(folder / "plots"), "plots")
                previous, champ_metrics, champ_slices = _champion_eval(client, split, config)
                version = _log_model(
                    client, model, split, folder, config.model_name, run.info.run_id
                )

            gate = promotion_gate(scores, slices, champ_metrics, champ_slices, config)
            set_aliases(client, config.model_name, version, gate.promote)
            _log_decision(
                client, config, version, gate, previous, split, run.info.run_id, dagster_run_id
            )
    return TrainingOutcome(
        run_id=run.info.run_id,
        experiment_id=experiment_id,
        model_version=version,
        promoted=gate.promote,
        decision=gate.reason,
        metrics=scores,
        baseline_metrics=baseline_metrics,
        champion_version=version if gate.promote else previous,
        n_train=len(split.train),
        n_valid=len(split.valid),
        n_test=len(split.test),
        tracking_uri=tracking_uri,
        previous_champion_version=previous,
        champion_metrics=champ_metrics,
        best_params=best.params,
        seconds=time.perf_counter() - started,
    )


def _log_decision(
    client,
    config: ModelConfig,
    version: str,
    gate: GateResult,
    previous: str | None,
    split: TimeSplit,
    run_id: str,
    dagster_run_id: str | None,
) -> None:
    """The promotion decision and its numbers: on the run and on the model version."""
    decision = {
        "model_version": version,
        "promoted": gate.promote,
        "reason": gate.reason,
        "challenger_test_pr_auc": gate.challenger_pr_auc,
        "champion_version_before": previous,
        "champion_test_pr_auc": gate.champion_pr_auc,
        "promotion_margin": config.promotion_margin,
        "slice_tolerance": config.slice_tolerance,
        "regressed_slices": gate.regressed_slices,
    }
    mlflow.log_dict(decision, "promotion_decision.json")
    mlflow.set_tags(
        {
            "promotion.decision": "promoted" if gate.promote else "not promoted",
            "promotion.reason": gate.reason[:5000],
            "model_version": version,
        }
    )
    mlflow.log_metrics(
        {
            "gate_promoted": float(gate.promote),
            "gate_challenger_test_pr_auc": gate.challenger_pr_auc,
        }
        | (
            {"gate_champion_test_pr_auc": gate.champion_pr_auc}
            if gate.champion_pr_auc is not None
            else {}
        )
    )
    version_tags = {
        DATA_CUTOFF_TAG: split.data_cutoff.isoformat(),
        "train_cutoff": split.train_cutoff.isoformat(),
        "test_start": split.test_start.isoformat(),
        "run_id": run_id,
        "test_pr_auc": f"{gate.challenger_pr_auc:.6f}",
        "promotion_decision": gate.reason[:5000],
        "dagster_run_id": dagster_run_id or "",
    }
    for key, value in version_tags.items():
        client.set_model_version_tag(config.model_name, version, key, value)
