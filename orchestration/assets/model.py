"""The listing model: LightGBM trained on enforcement outcomes, tracked and registered in MLflow.

When it trains depends on the job (``ListingModelConfig.train``): the batch path
(``process_batches``, ``refresh``, ``cloudsword run``) only trains a home that has no champion
yet, so a batch never waits for training; the ``train`` job trains when enough new outcomes
arrived (or always, when forced by the weekly schedule or ``cloudsword train``). ``ml.model``
(mlflow, LightGBM, scikit-learn, matplotlib) is imported inside the asset, so loading the
definitions stays cheap.
"""

import dataclasses
from typing import Literal

import dagster as dg

from orchestration.metadata import to_metadata
from orchestration.resources import CloudswordHome

#: if_no_champion: bootstrap only (the batch path); if_due: no champion or enough new outcomes;
#: always: whatever the outcomes (weekly schedule, ``cloudsword train``); auto: if_due in the
#: ``train`` job, if_no_champion in every other run (batch jobs, ad hoc materializations).
TrainWhen = Literal["auto", "if_no_champion", "if_due", "always"]
TRAIN_JOB = "train"


class ListingModelConfig(dg.Config):
    train: TrainWhen = "auto"
    """When to train: `if_no_champion` (bootstrap only), `if_due` (no champion, or enough new
    outcomes since its cutoff), `always`, or `auto`: `if_due` in the train job, else
    `if_no_champion`."""
    min_new_outcomes: int | None = None
    """Training is due once this many outcomes were decided after the champion's cutoff
    (default: ml.model.ModelConfig.min_new_outcomes)."""
    search_trials: int | None = None
    """Hyperparameter trials, each a nested MLflow run (default: ModelConfig.search_trials)."""


REGISTRY_LOST = (
    "The MLflow registry has no champion, but the warehouse holds scores of model version(s) "
    "{versions}: was the MLflow store (mlflow/mlflow.db) deleted or replaced? A new model now "
    "starts a new history, and earlier runs and metrics are not comparable with it. Restore the "
    "store from a backup to keep them."
)


def listing_model_config(train: TrainWhen) -> dict:
    """Run config that sets when ``listing_model`` trains (jobs, schedules, the CLI)."""
    return {"ops": {"listing_model": {"config": {"train": train}}}}


def model_config(config: ListingModelConfig):
    """ml's ModelConfig with this run's overrides."""
    from ml.model import ModelConfig

    overrides = {
        name: value
        for name in ("min_new_outcomes", "search_trials")
        if (value := getattr(config, name)) is not None
    }
    return dataclasses.replace(ModelConfig(), **overrides)


@dg.asset(
    deps=[dg.AssetKey(["main", "training_set"])],
    group_name="model",
    kinds={"lightgbm", "mlflow"},
)
def listing_model(
    context: dg.AssetExecutionContext, config: ListingModelConfig, home: CloudswordHome
) -> dg.MaterializeResult:
    """The champion listing model (MLflow alias `champion`).

    A model is trained, with both baselines on the same test window, when this run's `train`
    setting says so (see ListingModelConfig). It becomes `challenger`, and `champion` only if
    it beats the champion by the configured margin without a slice regressing."""
    from ml.model import train_and_register, training_due
    from ml.model.data import earlier_model_versions

    paths = home.paths
    settings = model_config(config)
    decision = training_due(paths.warehouse, paths.mlflow_tracking_uri, settings)
    has_champion = decision.champion_version is not None
    lost = [] if has_champion else earlier_model_versions(paths.warehouse)
    if lost:
        context.log.warning(REGISTRY_LOST.format(versions=", ".join(lost)))
    when = config.train
    if when == "auto":
        when = "if_due" if context.run.job_name == TRAIN_JOB else "if_no_champion"
    if when == "always":
        train, reason = True, "forced retrain"
    elif when == "if_due":
        train, reason = decision.due, decision.reason
    else:  # if_no_champion: the batch path never waits for training once a champion exists
        train, reason = not has_champion and decision.due, decision.reason
    if not train:
        if decision.due and has_champion:
            why = f"training is due ({decision.reason}); left to the train job"
        else:
            why = decision.reason
        context.log.info(f"not training: {why}")
        return dg.MaterializeResult(
            metadata={
                "trained": False,
                "why": why,
                "training_due": decision.due,
                "new_outcomes": decision.new_outcomes,
                "champion_version": decision.champion_version or "none",
            }
        )
    context.log.info(f"training: {reason}")
    # Training reads the warehouse only; the writer lock is not needed.
    outcome = train_and_register(
        paths.warehouse,
        paths.mlflow_tracking_uri,
        paths.mlflow_artifacts,
        settings,
        dagster_run_id=context.run_id,
    )
    context.log.info(outcome.decision)
    baselines = {
        name: {k: round(v, 4) for k, v in metrics.items()}
        for name, metrics in outcome.baseline_metrics.items()
    }
    return dg.MaterializeResult(
        metadata=to_metadata(
            {
                "trained": True,
                "why": reason,
                "training_due": False,
                "mlflow_run": f"{paths.mlflow_ui_url}/#/experiments/{outcome.experiment_id}"
                f"/runs/{outcome.run_id}",
                "model_version": outcome.model_version,
                "promoted": outcome.promoted,
                "decision": outcome.decision,
                "champion_version": outcome.champion_version,
                "n_train": outcome.n_train,
                "n_test": outcome.n_test,
                **{f"test/{k}": round(v, 4) for k, v in outcome.metrics.items()},
                "baselines": baselines,
            }
        )
    )
