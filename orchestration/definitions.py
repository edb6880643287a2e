"""The Dagster definitions of cloudsword, for `cloudsword` and `dagster dev -w workspace.yaml`."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource

from ml.settings import Home
from orchestration.assets import features, ingest, leads, model, network, scores
from orchestration.checks import contract_checks
from orchestration.jobs import ingest_batch_job, process_batches_job, refresh_job, train_job
from orchestration.manifest import DBT_EXECUTABLE
from orchestration.resources import CloudswordHome
from orchestration.schedules import daily_refresh, weekly_retrain
from orchestration.sensors import (
    landing_sensor,
    record_run_failure,
    refresh_after_ingest,
    train_when_due,
)

home = Home.resolve().ensure()
# dbt runs as a child process and finds the warehouse through CLOUDSWORD_HOME.
os.environ.setdefault("CLOUDSWORD_HOME", str(home.root))

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([ingest, features, model, scores, network, leads]),
    asset_checks=contract_checks,
    jobs=[process_batches_job, ingest_batch_job, refresh_job, train_job],
    sensors=[landing_sensor, refresh_after_ingest, train_when_due, record_run_failure],
    schedules=[daily_refresh, weekly_retrain],
    resources={
        "home": CloudswordHome(root=str(home.root)),
        "dbt": DbtCliResource(project_dir=features.dbt_project, dbt_executable=DBT_EXECUTABLE),
    },
)
