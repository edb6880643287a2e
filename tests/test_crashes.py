"""Crash and rerun: `kill -9` of `cloudsword run` mid-stage, then a plain rerun, gives exactly the
outputs of an uninterrupted run, and exports never show a half-written file.

Each scenario kills the whole process group (the runner and its dbt child) at a stage, reruns,
kills again at a later stage, and finally reruns to completion:

* early: while ingesting the 2nd batch, then while dbt builds (some models already rebuilt);
* late: while training (MLflow holds a half run), then while the export writes its files.

Kills are chained within a home because every rerun after a refresh kill repeats the whole
refresh (dbt included): two chained scenarios cover four stages in the time of three single ones.
The uninterrupted reference (same seed) runs in the background meanwhile.

What is compared, and what legitimately differs (wall-clock facts of the run, not data):
* ``scored_at`` of listing and seller scores, ``first_exported_at``/``updated_at`` of leads and
  the lead registry, ``changed_at`` of lead status history: the time the stage ran. In export
  files these stamps are replaced by a placeholder; everything else must match byte for byte.
* ``model_version``: MLflow's registry counter. A kill after a version was registered but before
  it became champion makes the rerun register the next number for the same model; the model
  itself is compared through every score it gives.
* Float noise: two uninterrupted runs of one seed already differ in the last bits of some
  floats (DuckDB sums in parallel, in no fixed order), so table floats are compared to 12
  significant digits, and a whole number in a reason may print as ``107`` or ``107.0``
  (``ml.model.reasons._count`` of 106.99999999999999 vs 107.0). Export files round their
  numbers and are compared exactly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import queue
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from ml.settings import Home
from orchestration.runner import fail_abandoned_runs

slow = pytest.mark.slow

BIN = Path(sys.executable).parent
SEED = "3"
#: Only guards against a hung pipeline; no assertion depends on how long anything takes.
HANG_GUARD_S = 1800.0
TEMP_SUFFIX = ".tmp"
RUN_TIMES = ("first_exported_at", "updated_at", "created_at", "changed_at")

#: Contract outputs and registry state, without the wall-clock columns (see module docstring).
COMPARED = {
    "listing_scores": "SELECT listing_id, seller_id, counterfeit_score, top_reasons "
    "FROM main.listing_scores",
    "seller_scores": "SELECT seller_id, risk_score, ring_id FROM main.seller_scores",
    "rings": "SELECT * FROM main.rings",
    "ring_links": "SELECT * FROM main.ring_links",
    "sources": "SELECT * FROM main.sources",
    "leads": "SELECT * EXCLUDE (first_exported_at, updated_at) FROM main.leads",
    "lead_registry": "SELECT lead_id, lead_key, status, fingerprint FROM cloudsword.lead_registry",
    "lead_history": "SELECT lead_id, status, note FROM cloudsword.lead_status_history",
    "batches": "SELECT batch_id, status, rows_loaded, rows_quarantined FROM cloudsword.batches",
    "quarantine": "SELECT * FROM cloudsword.quarantine",
}


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "CLOUDSWORD_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("DAGSTER_HOME", None)
    return env


def _start_run(home: Path) -> subprocess.Popen:
    """`cloudsword run` in its own process group (which holds dbt too: killpg reaches it)."""
    return subprocess.Popen(
        [str(BIN / "cloudsword"), "run"],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


class Pipeline:
    """`cloudsword run` in its own process group, its output (stdout and stderr) followed."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.proc = _start_run(home)
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _fail(self, why: str) -> None:
        self.kill()
        raise AssertionError(f"{why}\n--- output ---\n{''.join(self.output)[-6000:]}")

    def wait_for_line(self, text: str) -> None:
        """Until a line contains ``text`` (progress lines print as a step starts)."""
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is None:
                self._fail(f"the run ended before printing {text!r}")
            if text in line:
                return
        self._fail(f"no {text!r} within the hang guard")

    def wait_until(self, ready: Callable[[], bool], what: str) -> None:
        """Poll ``ready`` while the run goes on."""
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            if ready():
                return
            if self.proc.poll() is not None:
                self._fail(f"the run ended before {what}")
            time.sleep(0.01)
        self._fail(f"not {what} within the hang guard")

    def kill(self) -> None:
        """``kill -9`` the runner and every child it started."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join()


class Reference:
    """The uninterrupted run, started in the background when the module starts."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.proc = _start_run(home)
        self._snapshot: dict | None = None

    def snapshot(self) -> dict:
        if self._snapshot is None:
            out, _ = self.proc.communicate(timeout=HANG_GUARD_S)
            assert self.proc.returncode == 0, out[-6000:]
            self._snapshot = _snapshot(self.home)
        return self._snapshot


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, cloudsword) -> Reference:
    home = tmp_path_factory.mktemp("crash_reference")
    cloudsword(home, "generate", "--scale", "tiny", "--seed", SEED)
    ref = Reference(home)
    yield ref
    if ref.proc.poll() is None:
        os.killpg(ref.proc.pid, signal.SIGKILL)
        ref.proc.wait()


def _fresh_home(tmp_path: Path, reference: Reference) -> Path:
    """A home with the reference's landing zone (the same generated bytes)."""
    home = tmp_path / "home"
    shutil.copytree(reference.home / "landing", home / "landing")
    return home


# --- what a run leaves behind -------------------------------------------------------------


def _run_times(home: Path) -> set[str]:
    """Every wall-clock stamp the lead stages wrote, as export files spell them."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        stamps = {
            stamp
            for (stamp,) in con.execute(
                """SELECT unnest([created_at, first_exported_at, updated_at])
                   FROM cloudsword.lead_registry
                   UNION SELECT changed_at FROM cloudsword.lead_status_history"""
            ).fetchall()
            if stamp is not None
        }
    finally:
        con.close()
    return {s.isoformat(sep=sep) for s in stamps for sep in ("T", " ")}


def _normalised(path: Path, run_times: set[str]) -> object:
    """A file's content with the run's wall-clock stamps and model version blanked."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        kept = [c for c in table.column_names if c not in RUN_TIMES]
        return (str(table.schema), table.select(kept).to_pylist())
    text = path.read_bytes().decode("utf-8")
    # Longest first: a stamp never hides inside another one.
    for stamp in sorted(run_times, key=len, reverse=True):
        text = text.replace(stamp, "<run time>")
    return re.sub(r'"model_version": "[^"]*"', '"model_version": "<v>"', text)


def _canon(value: object) -> object:
    """``value`` without float noise (see the module docstring)."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, str):
        return re.sub(r"\b(\d+)\.0\b", r"\1", value)
    if isinstance(value, list | tuple):
        return type(value)(_canon(v) for v in value)
    return value


def _snapshot(home: Path) -> dict:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        tables = {
            name: [_canon(r) for r in con.execute(f"SELECT * FROM ({sql}) ORDER BY ALL").fetchall()]
            for name, sql in COMPARED.items()
        }
    finally:
        con.close()
    run_times = _run_times(home)
    exports = home / "exports"
    files = {
        str(p.relative_to(exports)): _normalised(p, run_times)
        for p in sorted(exports.rglob("*"))
        if p.is_file()
    }
    return {"tables": tables, "files": files}


def _temp_files(exports: Path) -> list[Path]:
    return [p for p in exports.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def _assert_visible_exports_whole(exports: Path) -> None:
    """Every export file but an atomic writer's hidden temp file is complete and parses."""
    for path in exports.rglob("*"):
        if not path.is_file() or path.name.endswith(TEMP_SUFFIX):
            continue
        data = path.read_bytes()
        if path.suffix == ".parquet":
            assert pq.read_table(path).num_rows >= 0
        elif path.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            assert rows and all(len(r) == len(rows[0]) for r in rows), path
        elif path.suffix == ".json":
            assert json.loads(data)["lead_id"] == path.stem, path
        elif path.suffix == ".html":
            assert data.rstrip().endswith(b"</html>"), f"{path} is cut short"
        else:
            raise AssertionError(f"unexpected export file {path}")


def _assert_same_outcome(home: Path, reference: Reference) -> None:
    exports = home / "exports"
    assert _temp_files(exports) == [], "an interrupted export's temp files are left"
    _assert_visible_exports_whole(exports)
    got, want = _snapshot(home), reference.snapshot()
    assert want["tables"]["leads"], "the reference has leads to compare"
    for name in COMPARED:
        assert got["tables"][name] == want["tables"][name], f"{name} differs from the reference"
    assert sorted(got["files"]) == sorted(want["files"]), "not the same export files"
    for name, content in want["files"].items():
        assert got["files"][name] == content, f"exports/{name} differs from the reference"


def _assert_runs_settled(home: Path, rerun_outputs: list[str]) -> None:
    """No run shows as running for ever: each killed one failed, and the rerun that found it
    said so; the last refresh succeeded."""
    reported = sum(out.count("was interrupted; marked failed") for out in rerun_outputs)
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        runs = instance.get_runs()
        assert all(r.is_finished for r in runs), [(r.run_id, r.status) for r in runs]
        failed = [r for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
        # A kill lands inside a run (not between two) all but always; the refresh kills surely.
        assert 1 <= len(failed) == reported, [(r.job_name, r.status) for r in runs]
        refresh = instance.get_runs(dg.RunsFilter(job_name="refresh"), limit=1)
        assert refresh[0].status == dg.DagsterRunStatus.SUCCESS
    finally:
        instance.dispose()
    assert not list((home / "dagster" / "running").glob("*")), "stale run markers"


def _dbt_log(home: Path) -> str:
    logs = sorted((home / "logs").glob("refresh-*.log"), key=lambda p: p.stat().st_mtime)
    return logs[-1].read_text(errors="replace") if logs else ""


def _mlflow_runs(home: Path, kind: str = "%") -> dict[str, int]:
    """MLflow runs (of a ``kind`` tag) by status, read straight from its SQLite store."""
    db = home / "mlflow" / "mlflow.db"
    if not db.exists():
        return {}
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
        try:
            rows = con.execute(
                """SELECT status, count(*) FROM runs JOIN tags USING (run_uuid)
                   WHERE tags.key = 'kind' AND tags.value LIKE ? GROUP BY status""",
                [kind],
            )
            return dict(rows.fetchall())
        finally:
            con.close()
    except sqlite3.OperationalError:  # busy, or the schema is still being created
        return {}


# --- the scenarios --------------------------------------------------------------------------


@slow
def test_kill_during_ingest_then_dbt(tmp_path: Path, reference: Reference, cloudsword) -> None:
    home = _fresh_home(tmp_path, reference)
    second = sorted(p.name for p in (home / "landing").iterdir())[1]

    run = Pipeline(home)
    run.wait_for_line(f"ingest {second} · raw_tables …")
    run.kill()

    run = Pipeline(home)
    run.wait_for_line("refresh · dbt_features …")
    run.wait_until(lambda: "OK created" in _dbt_log(home), "dbt built a model")
    run.kill()
    assert "Finished running" not in _dbt_log(home), "dbt was to be killed mid-build"
    outputs = ["".join(run.output)]
    _assert_visible_exports_whole(home / "exports")

    final = cloudsword(home, "run")
    assert "refresh: ok" in final.stderr
    _assert_same_outcome(home, reference)
    _assert_runs_settled(home, [*outputs, final.stderr])


@slow
def test_kill_during_training_then_export(tmp_path: Path, reference: Reference, cloudsword) -> None:
    home = _fresh_home(tmp_path, reference)
    exports = home / "exports"

    run = Pipeline(home)
    run.wait_for_line("refresh · listing_model …")
    # Midway: the training run is open and its search has finished a trial.
    run.wait_until(lambda: "FINISHED" in _mlflow_runs(home, "trial"), "a search trial ended")
    run.kill()
    assert _mlflow_runs(home, "lightgbm") == {"RUNNING": 1}, "training was to be killed midway"

    run = Pipeline(home)
    run.wait_until(lambda: any(p.is_file() for p in exports.rglob("*")), "the export began")
    run.kill()
    outputs = ["".join(run.output)]
    _assert_visible_exports_whole(exports)
    assert "RUNNING" not in _mlflow_runs(home), "the killed training's MLflow runs stay open"

    final = cloudsword(home, "run")
    assert "refresh: ok" in final.stderr
    _assert_same_outcome(home, reference)
    _assert_runs_settled(home, [*outputs, final.stderr])
    # Once whole again, the home is up to date: the killed refreshes are not mistaken for work.
    assert "nothing to do" in cloudsword(home, "run").stderr


def test_only_runs_whose_process_died_are_marked_failed(tmp_path: Path) -> None:
    """The runner's marker lock tells a killed process's run from a live one's (fast check)."""
    paths = Home(tmp_path / "home").ensure()
    instance = dg.DagsterInstance.from_config(str(paths.dagster_home))

    @dg.op
    def step() -> None: ...

    @dg.job
    def job() -> None:
        step()

    started = dg.DagsterRunStatus.STARTED
    live, killed = (instance.create_run_for_job(job, status=started) for _ in range(2))
    done = instance.create_run_for_job(job, status=dg.DagsterRunStatus.SUCCESS)
    running = paths.dagster_home / "running"
    running.mkdir()
    holders = {}
    for run in (live, killed, done):
        marker = running / f"{run.run_id}.lock"
        holders[run.run_id] = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(marker)], stdout=subprocess.PIPE, text=True
        )
        assert holders[run.run_id].stdout.readline() == "locked\n"
    try:
        assert fail_abandoned_runs(instance, paths) == [], "every holder is alive"
        for run_id in (killed.run_id, done.run_id):
            holders[run_id].kill()
            holders[run_id].wait()
        failed = fail_abandoned_runs(instance, paths)
        assert [r.run_id for r in failed] == [killed.run_id]
        status = {r.run_id: r.status for r in instance.get_runs()}
        assert status[killed.run_id] == dg.DagsterRunStatus.FAILURE
        assert status[live.run_id] == started
        assert status[done.run_id] == dg.DagsterRunStatus.SUCCESS
        assert sorted(p.stem for p in running.iterdir()) == [live.run_id]
    finally:
        for holder in holders.values():
            holder.kill()
            holder.wait()
        instance.dispose()


#: Stands in for a `cloudsword run` process executing a run: holds the marker until killed.
HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""
