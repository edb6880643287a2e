"""The Dagster definitions: the jobs, sensors and schedules they promise, loaded cheaply."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg

from ml.settings import CHECKOUT

#: Libraries only the steps that use them import; loading the definitions must not.
LAZY = ("mlflow", "lightgbm", "sklearn", "optuna", "shap", "igraph", "leidenalg", "matplotlib")


def test_definitions_import_no_training_library(tmp_path) -> None:
    """Every run worker, the code server and the CLI load the definitions: the model's libraries
    (mlflow alone is ~2 s) are imported by the steps that need them."""
    code = (
        "import json, sys; import orchestration.definitions; "
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))"
    )
    env = {**os.environ, "CLOUDSWORD_HOME": str(tmp_path), "PYTHONPATH": str(CHECKOUT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_jobs_sensors_and_schedules(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CLOUDSWORD_HOME", str(tmp_path))
    from orchestration.assets.model import TRAIN_JOB
    from orchestration.definitions import defs

    assert {j.name for j in defs.jobs} == {"process_batches", "ingest_batch", "refresh", "train"}
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {
        "landing_sensor",
        "refresh_after_ingest",
        "train_when_due",
        "record_run_failure",
    }
    assert sensors["landing_sensor"].job_name == "process_batches"
    assert sensors["train_when_due"].job_name == TRAIN_JOB
    schedules = {s.name: s for s in defs.schedules}
    assert schedules["daily_refresh"].job_name == "refresh"
    assert schedules["weekly_retrain"].job_name == TRAIN_JOB

    def assets(job: str) -> set[str]:
        keys = defs.resolve_job_def(job).asset_layer.executable_asset_keys
        return {key.to_user_string() for key in keys}

    # The batch path covers everything; training is followed by what must use the new champion.
    assert assets("process_batches") == assets("ingest_batch") | assets("refresh")
    assert assets("train") == {
        "listing_model",
        "listing_scores",
        "seller_base_scores",
        "rings",
        "sources",
        "seller_scores",
        "leads",
        "lead_exports",
    }
    # The weekly retraining trains whatever the outcomes; everything else uses `auto`.
    weekly = schedules["weekly_retrain"].evaluate_tick(dg.build_schedule_context())
    (request,) = weekly.run_requests
    assert request.run_config["ops"]["listing_model"]["config"] == {"train": "always"}
