"""Sensors: one run per tick of newly completed batches, training when due, failures recorded."""

import json

import dagster as dg

from ml.ingest import scan_landing
from ml.warehouse import utc_now, writer_lock
from orchestration.assets.ingest import batch_partitions
from orchestration.assets.model import listing_model_config
from orchestration.jobs import ingest_batch_job, process_batches_job, refresh_job, train_job
from orchestration.resources import CloudswordHome

#: Its materialization means the outcomes the model learns from may have changed.
TRAINING_SET = dg.AssetKey(["main", "training_set"])
LISTING_SCORES = dg.AssetKey("listing_scores")
#: Mean or 90th percentile of listing scores moving this far since the champion first scored
#: requests a training (once per champion version), even without enough new outcomes.
DRIFT_THRESHOLD = 0.1
DRIFT_LOOKBACK = 200
DRIFT_TAG = "cloudsword/drift_of_model"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"

PENDING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.sensor(
    job=process_batches_job,
    # A tick lists landing/ and reads the partitions: cheap enough to look every 5 s.
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts one process_batches run (ingest through leads) for the batches that completed "
        "(_SUCCESS present) in landing/ since the last tick."
    ),
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
        run_requests=[batch_run_request(new)],
        # Added in this order, after every known batch: the new batches form one range at the
        # end of the partitions, which the run ingests in that order.
        dynamic_partitions_requests=[batch_partitions.build_add_request(new)],
        cursor=max([*known, *new]),
    )


def batch_run_request(batches: list[str]) -> dg.RunRequest:
    """One run for ``batches`` (consecutive partitions): a partition, or a partition range."""
    if len(batches) == 1:
        return dg.RunRequest(partition_key=batches[0], run_key=f"batches:{batches[0]}")
    first, last = batches[0], batches[-1]
    return dg.RunRequest(
        run_key=f"batches:{first}..{last}", tags={RANGE_START: first, RANGE_END: last}
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_batch_job],
    request_job=refresh_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description=(
        "After the last queued ingest_batch run (started by hand; the landing sensor starts "
        "process_batches, which refreshes itself), refresh features through leads."
    ),
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


@dg.sensor(
    job=train_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts the train job when enough new outcomes arrived since the champion's data "
        "cutoff, or when listing scores drifted since the champion first scored (checked once "
        "per new training_set, while no run writes the warehouse)."
    ),
)
def train_when_due(context: dg.SensorEvaluationContext, home: CloudswordHome):
    # The cursor is the training set's latest materialization that was checked: a new batch
    # brings new outcomes only through it, so the check runs once per rebuild, not per tick.
    latest = context.instance.fetch_materializations(TRAINING_SET, limit=1).records
    if not latest:
        return dg.SkipReason("no training set yet")
    marker = str(latest[0].storage_id)
    if context.cursor == marker:
        return dg.SkipReason("training set unchanged since the last check")
    pending = context.instance.get_runs_count(
        dg.RunsFilter(job_name=train_job.name, statuses=PENDING)
    )
    if pending:
        # Checked again after that run: it may have used the new outcomes already.
        return dg.SkipReason("a train run is already queued or running")
    try:
        # DuckDB admits no reader while a run writes; never let a sensor tick wait for one.
        with writer_lock(home.paths.warehouse, timeout_s=0):
            decision = training_decision(home)
    except TimeoutError:
        return dg.SkipReason("a run is writing the warehouse; checking again after it")
    if decision.due:
        context.log.info(f"training is due: {decision.reason}")
        request = dg.RunRequest(
            run_key=f"train:{marker}", tags={"cloudsword/why": decision.reason[:200]}
        )
        return dg.SensorResult(run_requests=[request], cursor=marker)
    drift = score_drift(context.instance)
    if drift is None:
        return dg.SensorResult(skip_reason=f"not due: {decision.reason}", cursor=marker)
    version, why = drift
    context.log.info(f"training requested: {why}")
    request = dg.RunRequest(
        run_key=f"drift:{marker}",
        # Too few new outcomes to be due, so the run must force training.
        run_config=listing_model_config("always"),
        tags={"cloudsword/why": why[:200], DRIFT_TAG: version},
    )
    return dg.SensorResult(run_requests=[request], cursor=marker)


def score_drift(instance: dg.DagsterInstance) -> tuple[str, str] | None:
    """(champion version, why) when the listing scores moved away from where they were when the
    champion first scored, by ``DRIFT_THRESHOLD`` in mean or 90th percentile.

    Cheap: it compares the ``score_quantiles`` the scores asset records, never the warehouse.
    At most one drift training per champion version, so a challenger that fails the gate does
    not make every later batch train again.
    """
    records = instance.fetch_materializations(LISTING_SCORES, limit=DRIFT_LOOKBACK).records
    scored = [
        (_value(r, "model_version"), _value(r, "score_quantiles"))
        for r in records
        if r.asset_materialization is not None
    ]
    if len(scored) < 2 or not isinstance(scored[0][1], dict):
        return None
    version, now = scored[0]
    same = [q for v, q in scored if v == version and isinstance(q, dict)]
    first = same[-1]  # newest first: the oldest scoring by this version that we looked at
    moved = {k: now[k] - first[k] for k in ("mean", "p90") if k in now and k in first}
    if not moved or max(abs(d) for d in moved.values()) < DRIFT_THRESHOLD:
        return None
    done = instance.get_runs_count(
        dg.RunsFilter(job_name=train_job.name, tags={DRIFT_TAG: str(version)})
    )
    if done:
        return None
    changes = ", ".join(f"{k} {first[k]:.3f} -> {now[k]:.3f}" for k in moved)
    return str(version), f"score drift since model v{version} first scored: {changes}"


def _value(record, key: str):
    value = record.asset_materialization.metadata.get(key)
    return value.value if value is not None else None


def training_decision(home: CloudswordHome):
    """``ml.model.training_due`` with the default settings (imported here: mlflow is slow)."""
    from ml.model import ModelConfig, training_due

    paths = home.paths
    return training_due(paths.warehouse, paths.mlflow_tracking_uri, ModelConfig())


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
