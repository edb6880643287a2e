"""A run whose final status was never stored does not stay "in progress" (issue 18: after a full
disk the refresh run stayed STARTED and the daemon refused every new run)."""

from __future__ import annotations

import uuid
from pathlib import Path

import dagster as dg

from ml.settings import Home
from orchestration.runner import RUNNING_DIR, _running_marker, fail_abandoned_runs


def _run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(dg.DagsterRun(job_name="refresh", run_id=run_id, status=status))
    return run_id


def test_a_run_left_started_is_marked_failed_by_the_next_run(tmp_path: Path) -> None:
    paths = Home(tmp_path / "home").ensure()
    instance = dg.DagsterInstance.from_config(str(paths.dagster_home))
    try:
        # The process executed the run but could not store its end (ENOSPC, say).
        stuck = _run(instance, dg.DagsterRunStatus.STARTED)
        with _running_marker(paths, stuck, instance):
            pass
        assert (paths.dagster_home / RUNNING_DIR / f"{stuck}.lock").exists()

        failed = fail_abandoned_runs(instance, paths)
        assert [r.run_id for r in failed] == [stuck]
        assert instance.get_run_by_id(stuck).status == dg.DagsterRunStatus.FAILURE
        assert not (paths.dagster_home / RUNNING_DIR / f"{stuck}.lock").exists()
    finally:
        instance.dispose()


def test_a_finished_run_leaves_no_marker(tmp_path: Path) -> None:
    paths = Home(tmp_path / "home").ensure()
    instance = dg.DagsterInstance.from_config(str(paths.dagster_home))
    try:
        done = _run(instance, dg.DagsterRunStatus.SUCCESS)
        with _running_marker(paths, done, instance):
            pass
        assert not (paths.dagster_home / RUNNING_DIR / f"{done}.lock").exists()
        assert fail_abandoned_runs(instance, paths) == []
    finally:
        instance.dispose()
