"""Schedules: a daily refresh of scores, rings and leads."""

from __future__ import annotations

import dagster as dg

from orchestration.jobs import refresh_job

daily_refresh = dg.ScheduleDefinition(
    name="daily_refresh",
    job=refresh_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    description="Refresh features, scores, network tracing and leads every day at 03:00 UTC.",
)
