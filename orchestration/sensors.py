"""Sensors: a run per complete landing batch, and a refresh after each ingested batch."""

from __future__ import annotations

import dagster as dg

from ml.ingest import scan_landing
from orchestration.assets.ingest import batch_partitions
from orchestration.jobs import ingest_batch_job, refresh_job
from orchestration.resources import CloudswordHome


@dg.sensor(
    job=ingest_batch_job,
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts one ingest run per complete batch (_SUCCESS present) in landing/.",
)
def landing_sensor(context: dg.SensorEvaluationContext, home: CloudswordHome):
    scan = scan_landing(home.paths.landing)
    for name in scan.invalid:
        context.log.warning(f"ignoring landing/{name}: not a valid batch id")
    # The batch partitions are the sensor's memory: they live in the Dagster instance, so a
    # daemon restart neither repeats a batch nor skips one (even one that lands out of order).
    known = set(context.instance.get_dynamic_partitions(batch_partitions.name))
    new = [b for b in scan.complete if b not in known]
    if not new:
        waiting = f"; {len(scan.incomplete)} incomplete" if scan.incomplete else ""
        return dg.SkipReason(f"no new complete batch{waiting}")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=b, run_key=f"ingest:{b}") for b in new],
        dynamic_partitions_requests=[batch_partitions.build_add_request(new)],
        cursor=new[-1],
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_batch_job],
    request_job=refresh_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a batch is ingested, refresh features, scores, network and leads.",
)
def refresh_after_ingest(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    return dg.RunRequest(
        run_key=f"refresh-after:{run.run_id}", tags={"cloudsword/after": run.run_id}
    )
