"""`cloudsword run` and `cloudsword train`, executing the jobs in the home's Dagster instance.

`cloudsword run` ingests new batches (``ingest_batch``, one run per batch) and then refreshes
downstream (``refresh``): it never trains once a champion exists (a fresh home's first refresh
does, so it gets scores). `cloudsword train` (and `run --retrain`) executes the ``train`` job.

The jobs run in this process (``execute_in_process``) but against the instance under
``$CLOUDSWORD_HOME/dagster``, so every run, its logs and its asset metadata show in the UI exactly
as if the daemon had launched them.

Crashes: while a run executes, this process holds an ``flock`` on
``dagster/running/<run_id>.lock``. The OS drops it however the process ends (``kill -9``
included), so the next ``cloudsword run`` can tell a run whose process is gone from one still
going, and marks the former failed (see :func:`fail_abandoned_runs`) instead of leaving it
"started" for ever, where it would also hold the run queue's single slot. Every write is
idempotent or transactional, so running the same work again gives the same outputs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg
from rich.console import Console

from ml.ingest import ingested_batches, last_ingested_at, scan_landing
from ml.settings import Home

# Failures are reported by the step follower (and kept in the run's logs in the instance).
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
FOLLOWED = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
}
#: The asset whose materialization says the whole pipeline is up to date.
LAST_ASSET = dg.AssetKey(["lead_exports"])
MODEL_ASSET = dg.AssetKey(["listing_model"])
#: Jobs that rewrite scores and leads: if the newest of them failed, outputs may be half updated.
DOWNSTREAM_JOBS = ("refresh", "process_batches", "train")
#: Under the home's Dagster folder: one lock file per run this process is executing.
RUNNING_DIR = "running"
ABANDONED = "The `cloudsword run` process executing this run ended before the run did (killed?)."


@dataclass
class PipelineOutcome:
    ingested: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    refreshed: bool = False
    refresh_failed: bool = False
    trained: bool = False
    train_failed: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.refresh_failed and not self.train_failed


def run_pipeline(paths: Home, *, retrain: bool = False, console: Console) -> PipelineOutcome:
    """Ingest every complete, not yet ingested batch in order, then refresh if anything changed."""
    from orchestration.definitions import defs

    instance = dg.DagsterInstance.from_config(str(paths.dagster_home))
    report_abandoned_runs(instance, paths, console)
    _warn_if_registry_lost(paths, console)
    outcome = PipelineOutcome()
    scan = scan_landing(paths.landing)
    for name in scan.invalid:
        console.print(f"[yellow]ignoring landing/{name}: not a valid batch id[/]")
    for name in scan.incomplete:
        console.print(f"[yellow]waiting for landing/{name}: no _SUCCESS yet[/]")

    done = ingested_batches(paths.warehouse)
    new = [b for b in scan.complete if b not in done]
    known = set(instance.get_dynamic_partitions("batches"))
    instance.add_dynamic_partitions("batches", [b for b in new if b not in known])
    console.print(f"{len(scan.complete)} complete batches, {len(new)} new")

    ingest_job = defs.resolve_job_def("ingest_batch")
    for batch_id in new:
        if done and batch_id < max(done):
            console.print(
                f"[yellow]batch {batch_id} arrived after {max(done)}: rows of later batches "
                "that waited for its listings or sellers are admitted[/]"
            )
        if _execute(
            ingest_job, instance, paths, console, f"ingest {batch_id}", partition_key=batch_id
        ):
            outcome.ingested.append(batch_id)
        else:
            # Later batches may refer to this one's entities: stop here, keep what is in.
            outcome.failed.append(batch_id)
            console.print(f"[red]batch {batch_id} failed; later batches wait until it is fixed[/]")
            break

    if outcome.ingested or not _downstream_current(instance, paths):
        outcome.refreshed = True
        outcome.refresh_failed = not _execute(
            defs.resolve_job_def("refresh"), instance, paths, console, "refresh"
        )
    elif not retrain:
        console.print("Everything is up to date; nothing to do.")
    if retrain and not outcome.refresh_failed:
        outcome.trained = True
        outcome.train_failed = not _train(defs, instance, paths, console, force=True)
    elif outcome.refreshed and not outcome.refresh_failed:
        _hint_if_training_due(instance, console)
    instance.dispose()
    return outcome


def train_model(paths: Home, *, force: bool, console: Console) -> bool:
    """Execute the ``train`` job: retrain (when due, or always if ``force``), then re-score
    through leads with the champion. Needs a warehouse that ``cloudsword run`` has built."""
    from orchestration.definitions import defs

    if not paths.warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {paths.warehouse}: run `cloudsword run` first")
    instance = dg.DagsterInstance.from_config(str(paths.dagster_home))
    try:
        report_abandoned_runs(instance, paths, console)
        return _train(defs, instance, paths, console, force=force)
    finally:
        instance.dispose()


def _train(
    defs: dg.Definitions, instance: dg.DagsterInstance, paths: Home, console: Console, force: bool
) -> bool:
    from orchestration.assets.model import listing_model_config

    ok = _execute(
        defs.resolve_job_def("train"),
        instance,
        paths,
        console,
        "train",
        run_config={**QUIET_LOGS, **listing_model_config("always" if force else "if_due")},
    )
    event = instance.get_latest_materialization_event(MODEL_ASSET)
    if ok and event is not None and event.asset_materialization is not None:
        metadata = event.asset_materialization.metadata
        why = metadata.get("why")
        if metadata.get("trained") and metadata["trained"].value:
            console.print(f"model: {metadata['decision'].value}")
        elif why is not None:
            console.print(f"model: not trained ({why.value})")
    return ok


def _hint_if_training_due(instance: dg.DagsterInstance, console: Console) -> None:
    """Say so when the refresh found training due (it leaves training to the train job)."""
    event = instance.get_latest_materialization_event(MODEL_ASSET)
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
    due = metadata.get("training_due")
    if due is not None and due.value and not metadata["trained"].value:
        console.print(
            f"[yellow]{metadata['why'].value}[/]\n"
            "Retrain with `cloudsword train` (under `cloudsword ui` the train_when_due sensor "
            "starts it)."
        )


def _warn_if_registry_lost(paths: Home, console: Console) -> None:
    """Say it loudly when the MLflow store is gone but the warehouse was scored by its models."""
    if paths.mlflow_db.exists() or "CLOUDSWORD_MLFLOW_TRACKING_URI" in os.environ:
        return
    from ml.model.data import earlier_model_versions
    from orchestration.assets.model import REGISTRY_LOST

    versions = earlier_model_versions(paths.warehouse)
    if versions:
        console.print(f"[bold red]Warning:[/] {REGISTRY_LOST.format(versions=', '.join(versions))}")


def report_abandoned_runs(instance: dg.DagsterInstance, paths: Home, console: Console) -> None:
    """Mark failed the runs a dead ``cloudsword run`` left behind, and say so."""
    for run in fail_abandoned_runs(instance, paths):
        what = " ".join(filter(None, [run.job_name, run.tags.get("dagster/partition")]))
        console.print(f"[yellow]run {run.run_id[:8]} ({what}) was interrupted; marked failed[/]")


def fail_abandoned_runs(instance: dg.DagsterInstance, paths: Home) -> list[dg.DagsterRun]:
    """Mark failed the runs of this home whose ``cloudsword run`` process died mid-run.

    Only runs this runner executed have a lock file; runs the daemon launched are left to
    Dagster. MLflow runs that a killed training left "running" are marked killed too.
    """
    folder = paths.dagster_home / RUNNING_DIR
    failed: list[dg.DagsterRun] = []
    for marker in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
        try:
            fd = os.open(marker, os.O_RDWR)
        except FileNotFoundError:  # its run just ended
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a live process is executing this run
                continue
            # Read after taking the lock: an owner that finished has stored its final status.
            run = instance.get_run_by_id(marker.stem)
            if run is not None and not run.is_finished:
                instance.report_run_failed(run, message=ABANDONED)
                failed.append(run)
            marker.unlink(missing_ok=True)
        finally:
            os.close(fd)
    if failed and paths.mlflow_db.exists():
        _kill_mlflow_runs(paths.mlflow_tracking_uri, [r.run_id for r in failed])
    return failed


def _kill_mlflow_runs(tracking_uri: str, dagster_run_ids: list[str]) -> None:
    """Close the MLflow runs (and nested trials) of killed Dagster runs: they will not finish."""
    from ml.model.tracking import tracking

    with tracking(tracking_uri) as client:
        experiments = [e.experiment_id for e in client.search_experiments()]
        if not experiments:
            return
        parents = [
            run
            for run_id in dagster_run_ids
            for run in client.search_runs(
                experiments, f"tags.dagster_run_id = '{run_id}' AND attributes.status = 'RUNNING'"
            )
        ]
        for parent in parents:
            children = client.search_runs(
                experiments,
                f"tags.mlflow.parentRunId = '{parent.info.run_id}' "
                "AND attributes.status = 'RUNNING'",
            )
            for run in [*children, parent]:
                client.set_terminated(run.info.run_id, status="KILLED")


@contextlib.contextmanager
def _running_marker(
    paths: Home, run_id: str, instance: dg.DagsterInstance | None = None
) -> Iterator[None]:
    """Hold ``dagster/running/<run_id>.lock`` from before the run exists until it has ended.

    The marker is removed only once the run's final status is stored. When it could not be (a
    full disk, a crash inside Dagster), the marker stays, unlocked, and the next ``cloudsword
    run`` marks the run failed, so the run queue is never blocked by a run that is not running.
    """
    folder = paths.dagster_home / RUNNING_DIR
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"{run_id}.lock"
    fd = os.open(marker, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if _final_status_stored(instance, run_id):
            marker.unlink(missing_ok=True)
        os.close(fd)


def _final_status_stored(instance: dg.DagsterInstance | None, run_id: str) -> bool:
    if instance is None:
        return True
    try:
        run = instance.get_run_by_id(run_id)
    except Exception:  # the instance cannot be read now: leave it to the next run
        return False
    return run is None or run.is_finished


def _last_refresh_failed(instance: dg.DagsterInstance) -> bool:
    """Whether the newest run that rewrites scores and leads (refresh, process_batches, train)
    failed or was killed: its outputs may be half updated."""
    latest = [
        run
        for job in DOWNSTREAM_JOBS
        for run in instance.get_runs(dg.RunsFilter(job_name=job), limit=1)
    ]
    if not latest:
        return False
    newest = max(latest, key=lambda r: instance.get_run_record_by_id(r.run_id).create_timestamp)
    return newest.status in (
        dg.DagsterRunStatus.FAILURE,
        dg.DagsterRunStatus.CANCELED,
    )


def _downstream_current(instance: dg.DagsterInstance, paths: Home) -> bool:
    """Whether the last pipeline output is newer than the last ingested batch, and the last
    refresh did not fail halfway (a killed `train` may have promoted a model it never scored
    with)."""
    event = instance.get_latest_materialization_event(LAST_ASSET)
    if event is None or _last_refresh_failed(instance):
        return False
    if not paths.warehouse.exists():
        return False
    last = last_ingested_at(paths.warehouse)
    if last is None:
        return True
    return datetime.fromtimestamp(event.timestamp, UTC).replace(tzinfo=None) >= last


def _execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    paths: Home,
    console: Console,
    label: str,
    run_config: dict | None = None,
    partition_key: str | None = None,
) -> bool:
    """Run ``job`` in this process, printing each step as it starts and ends."""
    run_id = str(uuid.uuid4())
    stop = threading.Event()
    follower = threading.Thread(
        target=_follow, args=(instance, run_id, stop, console, label), daemon=True
    )
    # dbt and other tools print to stdout; keep that in a log file, the console shows the steps.
    log_path = paths.logs / f"{label.replace(' ', '_')}-{run_id[:8]}.log"
    real_stdout = console.file
    console.file = real_stdout
    follower.start()
    try:
        with (
            _running_marker(paths, run_id, instance),
            log_path.open("w") as log,
            contextlib.redirect_stdout(log),
        ):
            result = job.execute_in_process(
                run_config=run_config or QUIET_LOGS,
                instance=instance,
                partition_key=partition_key,
                run_id=run_id,
                raise_on_error=False,
            )
    finally:
        stop.set()
        follower.join()
    status = "[green]ok[/]" if result.success else f"[red]FAILED[/] (tool output: {log_path})"
    console.print(f"{label}: {status} (run {run_id[:8]})")
    return result.success


def _follow(
    instance: dg.DagsterInstance,
    run_id: str,
    stop: threading.Event,
    console: Console,
    label: str,
) -> None:
    """Print asset steps as they start and end; contract checks only when they fail."""
    cursor = None
    started: dict[str, float] = {}
    checks_passed = 0
    while True:
        finished = stop.is_set()
        conn = instance.get_records_for_run(run_id, cursor=cursor, of_type=FOLLOWED)
        cursor = conn.cursor
        for record in conn.records:
            entry = record.event_log_entry
            event = entry.dagster_event
            step = event.step_key or "?"
            is_check = step.endswith("_follows_contract")
            if event.event_type == dg.DagsterEventType.STEP_START:
                started[step] = entry.timestamp
                if not is_check:
                    console.print(f"  {label} · {step} …")
            elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                took = entry.timestamp - started.get(step, entry.timestamp)
                if is_check:
                    checks_passed += 1
                else:
                    console.print(f"  {label} · {step} done in {took:.1f} s")
            else:
                error = event.step_failure_data.error
                message = error.message.strip() if error else "unknown error"
                console.print(f"  [red]{label} · {step} failed:[/] {message}")
        if finished:
            if checks_passed:
                console.print(f"  {label} · {checks_passed} contract checks passed")
            return
        stop.wait(0.5)
