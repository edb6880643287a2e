"""The real Dagster webserver and daemon: a dropped batch becomes leads with no other action.

Starts `cloudsword ui`'s servers on free ports in a temporary home, copies one generated batch
into landing/ (files first, `_SUCCESS` last, as a marketplace would), and waits (bounded) until
the sensor-started `process_batches` run (ingest through leads, one run for the batch) has
succeeded, asking the webserver's GraphQL API. Then headless Chromium (Debian's `chromium`) screenshots the asset lineage page.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from ml.settings import CHECKOUT, Home
from orchestration.servers import start_servers, stop_servers, wait_for_http

pytestmark = [pytest.mark.slow, pytest.mark.server]

RUNS_QUERY = """
query Runs {
  runsOrError(limit: 50) {
    ... on Runs { results { runId jobName status tags { key value } } }
  }
}
"""
SCREENSHOT = CHECKOUT / "docs" / "img" / "lineage.png"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def _runs(port: int) -> list[dict]:
    return _graphql(port, RUNS_QUERY)["runsOrError"]["results"]


def _drop_batch(source: Path, landing: Path) -> str:
    """Copy a batch the way a marketplace writes one: table files, then _SUCCESS."""
    target = landing / source.name
    target.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.name != "_SUCCESS":
            shutil.copy2(path, target / path.name)
    (target / "_SUCCESS").touch()
    return source.name


def _wait_for_runs(port: int, predicate, timeout_s: float) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = _runs(port)
        failed = [r for r in runs if r["status"] in ("FAILURE", "CANCELED")]
        assert not failed, f"runs failed: {failed}"
        if predicate(runs):
            return runs
        time.sleep(3)
    raise AssertionError(f"timed out after {timeout_s} s; runs: {runs}")


def _succeeded(runs: list[dict], job: str) -> list[dict]:
    return [r for r in runs if r["jobName"] == job and r["status"] == "SUCCESS"]


@pytest.fixture(scope="module")
def running_marketplace(tmp_path_factory: pytest.TempPathFactory, cloudsword) -> tuple[Path, Path]:
    """A home whose earlier batches are processed, and the newest batch held back."""
    home = tmp_path_factory.mktemp("ui_home")
    cloudsword(home, "generate", "--scale", "tiny", "--seed", "5")
    held = tmp_path_factory.mktemp("held_back")
    newest = sorted((home / "landing").iterdir())[-1]
    shutil.move(newest, held / newest.name)
    cloudsword(home, "run")
    return home, held / newest.name


def _partition(run: dict) -> str | None:
    return {t["key"]: t["value"] for t in run["tags"]}.get("dagster/partition")


def test_dropped_batch_becomes_leads_through_sensor_and_daemon(
    tmp_path: Path, running_marketplace: tuple[Path, Path]
) -> None:
    home, batch = running_marketplace
    paths = Home(home)
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        updated_before = con.execute("SELECT max(updated_at) FROM main.leads").fetchone()[0]
    port = _free_port()
    procs = start_servers(paths, "127.0.0.1", port, mlflow_port=0)
    try:
        assert wait_for_http(
            f"http://127.0.0.1:{port}/server_info", 180, procs["dagster-webserver"]
        )
        runs_before = {r["runId"] for r in _runs(port)}
        # An incomplete batch (no _SUCCESS) and a badly named one must be left alone.
        (paths.landing / "2099-01-01").mkdir()
        shutil.copy2(batch / "sellers.parquet", paths.landing / "2099-01-01")
        (paths.landing / "not a batch id").mkdir()
        dropped = _drop_batch(batch, paths.landing)

        def processed(runs: list[dict]) -> bool:
            return any(r["runId"] not in runs_before for r in _succeeded(runs, "process_batches"))

        runs = _wait_for_runs(port, processed, timeout_s=900)
        new_runs = [r for r in runs if r["runId"] not in runs_before]
        # One run per batch: no separate ingest or refresh run.
        assert [_partition(r) for r in _succeeded(new_runs, "process_batches")] == [dropped]
        assert not {r["jobName"] for r in new_runs} & {"ingest_batch", "refresh"}

        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            n_leads, updated_after = con.execute(
                "SELECT count(*), max(updated_at) FROM main.leads"
            ).fetchone()
            batch_status = con.execute(
                "SELECT status FROM cloudsword.batches WHERE batch_id = ?", [dropped]
            ).fetchone()
        assert n_leads > 0
        assert batch_status == ("ingested",)
        assert updated_after >= updated_before
        assert (paths.exports / "leads.csv").exists()
        _screenshot_lineage(port, tmp_path)
    finally:
        stop_servers(procs)


def _screenshot_lineage(port: int, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shot = tmp_path / "lineage.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--window-size=1600,1000",
            "--virtual-time-budget=20000",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            f"http://127.0.0.1:{port}/asset-groups",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.stat().st_size > 20_000, "the screenshot is too small to show the graph"
    shutil.copy2(shot, SCREENSHOT)
