"""Sensors: a run per complete landing batch, a refresh after ingestion, failures recorded."""

import json

import dagster as dg

from ml.ingest import scan_landing
from ml.warehouse import utc_now
from orchestration.assets.ingest import batch_partitions
from orchestration.jobs import ingest_batch_job, refresh_job
from orchestration.resources import CloudswordHome

PENDING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


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
    # The cursor only records the newest batch seen, for people reading the sensor page.
    known = set(context.instance.get_dynamic_partitions(batch_partitions.name))
    new = [b for b in scan.complete if b not in known]
    if not new:
        waiting = (
            f"; waiting for _SUCCESS in {', '.join(scan.incomplete)}" if scan.incomplete else ""
        )
        return dg.SkipReason(f"no new complete batch{waiting}")
    context.log.info(f"new complete batches: {', '.join(new)}")
    return dg.SensorResult(
        # Requests keep batch order and the run queue runs one at a time, so batches land in order.
        run_requests=[dg.RunRequest(partition_key=b, run_key=f"ingest:{b}") for b in new],
        dynamic_partitions_requests=[batch_partitions.build_add_request(new)],
        cursor=max([*known, *new]),
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_batch_job],
    request_job=refresh_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description="After the last queued batch is ingested, refresh features through leads.",
)
def refresh_after_ingest(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    # Six batches landing together need one refresh, not six: only the last ingest triggers it.
    pending = context.instance.get_runs_count(
        dg.RunsFilter(job_name=ingest_batch_job.name, statuses=PENDING)
    )
    if pending:
        return dg.SkipReason(f"{pending} more batch(es) queued; refreshing after the last one")
    return dg.RunRequest(
        run_key=f"refresh-after:{run.run_id}", tags={"cloudsword/after": run.run_id}
    )


@dg.run_failure_sensor(
    monitor_all_code_locations=False,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run in logs/failures.jsonl and on the run's tags.",
)
def record_run_failure(context: dg.RunFailureSensorContext, home: CloudswordHome) -> None:
    run = context.dagster_run
    steps = context.get_step_failure_events()
    errors = [
        f"{e.step_key}: {e.event_specific_data.error.message.strip()}"
        for e in steps
        if e.event_specific_data and e.event_specific_data.error
    ] or [context.failure_event.message or "run failed"]
    record = {
        "at": utc_now().isoformat(),
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": run.tags.get("dagster/partition"),
        "errors": errors,
    }
    log_file = home.paths.logs / "failures.jsonl"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
    # Tags show on the run's page and in the runs table, where an operator looks first.
    context.instance.add_run_tags(
        run.run_id, {"cloudsword/failure": errors[0][:200], "cloudsword/failure_log": str(log_file)}
    )
    context.log.error(f"run {run.run_id} ({run.job_name}) failed: {errors[0]}")
