"""Training is off the batch path: a fresh home bootstraps its first model in `cloudsword run`,
after which the batch path scores with the champion and leaves due training to the train job."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ml.settings import CHECKOUT, Home

pytestmark = pytest.mark.slow

MODEL = dg.AssetKey("listing_model")

#: Run in a fresh interpreter, so the definitions bind to the copied home.
REFRESH_WHEN_DUE = """
import json, sys
import dagster as dg
from orchestration.definitions import defs
from orchestration.runner import QUIET_LOGS

instance = dg.DagsterInstance.get()
result = defs.resolve_job_def("refresh").execute_in_process(
    instance=instance,
    asset_selection=[dg.AssetKey("listing_model")],
    # Every outcome counts as new: training is due.
    run_config={**QUIET_LOGS, "ops": {"listing_model": {"config": {"min_new_outcomes": 0}}}},
)
metadata = result.asset_materializations_for_node("listing_model")[0].metadata
print(json.dumps({k: metadata[k].value for k in ("trained", "training_due", "why")}))
"""


def _model_metadata(home: Path) -> list[dict]:
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        records = instance.fetch_materializations(MODEL, limit=100, ascending=True).records
        return [{k: v.value for k, v in r.asset_materialization.metadata.items()} for r in records]
    finally:
        instance.dispose()


def _model_versions(home: Path) -> list[str]:
    from ml.model.tracking import tracking

    with tracking(Home(home).mlflow_tracking_uri) as client:
        return [v.version for v in client.search_model_versions()]


def test_fresh_home_bootstraps_its_model_in_the_batch_path(tiny_home: Path) -> None:
    """One `cloudsword run` on a fresh home trains the first champion, so it has scores."""
    instance = dg.DagsterInstance.from_config(str(tiny_home / "dagster"))
    try:
        jobs = {r.job_name for r in instance.get_runs()}
    finally:
        instance.dispose()
    assert jobs == {"ingest_batch", "refresh"}, "no train run was needed"
    first = _model_metadata(tiny_home)[0]
    assert first["trained"] is True
    assert "no champion yet" in first["why"]
    assert _model_versions(tiny_home)


def test_batch_path_leaves_due_training_to_the_train_job(
    tmp_path: Path, tiny_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    shutil.copytree(tiny_home, home)
    versions = _model_versions(home)
    env = {
        **os.environ,
        "CLOUDSWORD_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "PYTHONPATH": str(CHECKOUT),
    }
    proc = subprocess.run(
        [sys.executable, "-c", REFRESH_WHEN_DUE],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome["trained"] is False
    assert outcome["training_due"] is True
    assert "left to the train job" in outcome["why"]
    assert _model_versions(home) == versions, "the batch path registered a model"

    # The sensor sees the same due training, against the real warehouse and registry.
    import dataclasses

    from ml.model import ModelConfig, training_due
    from orchestration import sensors
    from orchestration.resources import CloudswordHome

    def due_now(resource: CloudswordHome):
        config = dataclasses.replace(ModelConfig(), min_new_outcomes=0)
        return training_due(resource.paths.warehouse, resource.paths.mlflow_tracking_uri, config)

    monkeypatch.setattr(sensors, "training_decision", due_now)
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        context = dg.build_sensor_context(
            instance=instance, resources={"home": CloudswordHome(root=str(home))}
        )
        result = sensors.train_when_due(context)
    finally:
        instance.dispose()
    (request,) = result.run_requests
    assert request.run_key.startswith("train:")
    assert sensors.train_when_due.job_name == "train"
