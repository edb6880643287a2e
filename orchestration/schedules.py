"""Schedules: a daily refresh of scores, rings and leads; a weekly retraining (train job)."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.assets.model import listing_model_config
from orchestration.jobs import refresh_job, train_job

daily_refresh = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_job,
    cron_schedule=os.environ.get("CLOUDSWORD_REFRESH_CRON", "0 3 * * *"),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Refresh features, scores, network tracing and leads every day (03:00 UTC by default; "
        "CLOUDSWORD_REFRESH_CRON) with the current champion; training is the train job's."
    ),
)

weekly_retrain = dg.ScheduleDefinition(
    name="weekly_retrain",
    job=train_job,
    cron_schedule=os.environ.get("CLOUDSWORD_RETRAIN_CRON", "0 4 * * 0"),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    run_config=listing_model_config("always"),
    description=(
        "Retrain weekly (Sunday 04:00 UTC by default; CLOUDSWORD_RETRAIN_CRON) whatever the "
        "number of new outcomes, then re-score through leads. The new model still has to pass the "
        "promotion gate."
    ),
)
