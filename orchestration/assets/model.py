"""The listing model: LightGBM trained on enforcement outcomes, tracked and registered in MLflow."""

import dataclasses

import dagster as dg

from ml.model import ModelConfig, train_and_register, training_due
from orchestration.metadata import to_metadata
from orchestration.resources import CloudswordHome


class ListingModelConfig(dg.Config):
    force_retrain: bool = False
    """Train even if too few new enforcement outcomes arrived since the champion was trained."""
    min_new_outcomes: int = ModelConfig.min_new_outcomes
    """Retrain once at least this many outcomes were decided after the champion's cutoff."""
    search_trials: int = ModelConfig.search_trials
    """Hyperparameter trials (each a nested MLflow run)."""


@dg.asset(
    deps=[dg.AssetKey(["main", "training_set"])],
    group_name="model",
    kinds={"lightgbm", "mlflow"},
)
def listing_model(
    context: dg.AssetExecutionContext, config: ListingModelConfig, home: CloudswordHome
) -> dg.MaterializeResult:
    """The champion listing model (MLflow alias `champion`).

    A model is trained, with both baselines on the same test window, when it is due (no champion
    yet, enough new outcomes, or forced). It becomes `challenger`, and `champion` only if it beats
    the champion by the configured margin without a slice regressing."""
    paths = home.paths
    model_config = dataclasses.replace(
        ModelConfig(),
        min_new_outcomes=config.min_new_outcomes,
        search_trials=config.search_trials,
    )
    decision = training_due(paths.warehouse, paths.mlflow_tracking_uri, model_config)
    if not (decision.due or config.force_retrain):
        context.log.info(f"not retraining: {decision.reason}")
        return dg.MaterializeResult(
            metadata={
                "trained": False,
                "why": decision.reason,
                "new_outcomes": decision.new_outcomes,
                "champion_version": decision.champion_version or "none",
            }
        )
    reason = decision.reason if decision.due else "forced retrain"
    context.log.info(f"training: {reason}")
    # Training reads the warehouse only; the writer lock is not needed.
    outcome = train_and_register(
        paths.warehouse,
        paths.mlflow_tracking_uri,
        paths.mlflow_artifacts,
        model_config,
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
