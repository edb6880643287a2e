"""Delay from a batch's `_SUCCESS` to updated leads, through the real sensor and daemon.

    .venv/bin/python bench/latency.py --scale small [--seed 7] [--keep-home DIR]

Generates a marketplace, processes every batch but the newest with `cloudsword run`, starts the
Dagster webserver and daemon (`cloudsword ui`'s servers) on a free port, then drops the newest
batch into landing/ (table files first, `_SUCCESS` last) and waits until the sensor-started
`process_batches` run (ingest through leads, one run per batch) has succeeded. The delay is
split, from the run and step records of the home's Dagster instance, into: sensor tick (until
the run is created), run launch (queued until the run worker has loaded the definitions and
started), start to first step, ingest (the raw_tables step), refresh (dbt through lead exports,
until the run ends). Writes bench/results/latency_<scale>.json and a section of
docs/benchmarks.md.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run_bench import measure_and_publish, parse_args  # noqa: E402
from ml.settings import Home  # noqa: E402
from orchestration.servers import start_servers, stop_servers, wait_for_http  # noqa: E402

BIN = Path(sys.executable).parent


def _cloudsword(home: Path, *args: str) -> None:
    env = {**os.environ, "CLOUDSWORD_HOME": str(home)}
    subprocess.run([str(BIN / "cloudsword"), *args], env=env, check=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _record(instance: dg.DagsterInstance, job: str, after: float):
    records = instance.get_run_records(dg.RunsFilter(job_name=job))
    fresh = [r for r in records if r.create_timestamp.timestamp() >= after]
    return min(fresh, key=lambda r: r.create_timestamp) if fresh else None


def measure(scale: str, seed: int, home: Path, timeout_s: float = 1800) -> dict:
    _cloudsword(home, "generate", "--scale", scale, "--seed", str(seed))
    held = Path(tempfile.mkdtemp(prefix="cloudsword-held-"))
    newest = sorted((home / "landing").iterdir())[-1]
    shutil.move(newest, held / newest.name)
    _cloudsword(home, "run")

    paths = Home(home)
    port = _free_port()
    procs = start_servers(paths, "127.0.0.1", port, mlflow_port=0)
    try:
        if not wait_for_http(
            f"http://127.0.0.1:{port}/server_info", 180, procs["dagster-webserver"]
        ):
            raise RuntimeError("the webserver did not come up")
        time.sleep(20)  # let the daemon start its sensor loop, as on a machine that runs for days
        target = paths.landing / newest.name
        target.mkdir()
        for path in sorted((held / newest.name).iterdir()):
            if path.name != "_SUCCESS":
                shutil.copy2(path, target / path.name)
        (target / "_SUCCESS").touch()
        landed = time.time()
        instance = dg.DagsterInstance.from_config(str(paths.dagster_home))
        deadline = landed + timeout_s
        while time.time() < deadline:
            run = _record(instance, "process_batches", landed)
            if run and run.dagster_run.status == dg.DagsterRunStatus.SUCCESS:
                break
            if run and run.dagster_run.status == dg.DagsterRunStatus.FAILURE:
                raise RuntimeError(f"run {run.dagster_run.run_id} failed")
            time.sleep(1)
        else:
            raise TimeoutError(f"no successful process_batches run within {timeout_s} s")
        steps = {s.step_key: s for s in instance.get_run_step_stats(run.dagster_run.run_id)}
        instance.dispose()
    finally:
        stop_servers(procs)
        shutil.rmtree(held, ignore_errors=True)

    created = run.create_timestamp.timestamp()
    ingest = steps["raw_tables"]
    parts = {
        "sensor_tick_s": created - landed,
        "run_launch_s": run.start_time - created,
        "start_to_first_step_s": min(s.start_time for s in steps.values()) - run.start_time,
        "ingest_s": ingest.end_time - ingest.start_time,
        "refresh_s": run.end_time - ingest.end_time,
    }
    return {
        "scale": scale,
        "seed": seed,
        "batch": newest.name,
        "command": f"python bench/latency.py --scale {scale} --seed {seed}",
        "runs": 1,
        "total_s": round(run.end_time - landed, 1),
        **{k: round(v, 1) for k, v in parts.items()},
        "slowest_steps_s": {
            key: round(s.end_time - s.start_time, 1)
            for key, s in sorted(steps.items(), key=lambda kv: kv[1].start_time - kv[1].end_time)[
                :6
            ]
        },
    }


def markdown(result: dict) -> str:
    rows = [
        (k.removesuffix("_s").replace("_", " "), v) for k, v in result.items() if k.endswith("_s")
    ]
    lines = [
        f"### `_SUCCESS` to updated leads, scale {result['scale']} (seed {result['seed']})",
        "",
        f"Batch `{result['batch']}` dropped into a running home (webserver + daemon); one "
        f"`process_batches` run ingests it and refreshes through the leads. Reproduce: "
        f"`.venv/bin/{result['command']}`.",
        "",
        "| part | seconds |",
        "|---|---:|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        "Slowest steps (s): "
        + ", ".join(f"{k} {v}" for k, v in result.get("slowest_steps_s", {}).items()),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args(__doc__)
    measure_and_publish(
        args,
        f"latency_{args.scale}",
        lambda home: measure(args.scale, args.seed, home),
        markdown,
    )


if __name__ == "__main__":
    main()
