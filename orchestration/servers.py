"""`cloudsword ui`: the Dagster webserver and daemon, and the MLflow UI, on one home."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from rich.console import Console

from ml.settings import CHECKOUT, Home

WORKSPACE = CHECKOUT / "workspace.yaml"


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def server_commands(paths: Home, host: str, port: int, mlflow_port: int) -> dict[str, list[str]]:
    """The commands `cloudsword ui` starts, by name."""
    commands = {
        "dagster-webserver": [
            _bin("dagster-webserver"),
            "-h",
            host,
            "-p",
            str(port),
            "-w",
            str(WORKSPACE),
        ],
        "dagster-daemon": [_bin("dagster-daemon"), "run", "-w", str(WORKSPACE)],
    }
    if mlflow_port:
        commands["mlflow"] = [
            _bin("mlflow"),
            "ui",
            "--backend-store-uri",
            paths.mlflow_tracking_uri,
            "--default-artifact-root",
            paths.mlflow_artifacts.as_uri(),
            "--host",
            host,
            "--port",
            str(mlflow_port),
            "--workers",
            "1",
        ]
    return commands


def start_servers(
    paths: Home, host: str, port: int, mlflow_port: int
) -> dict[str, subprocess.Popen]:
    """Start every server in its own session (so one signal stops it and its children)."""
    env = {
        **os.environ,
        "CLOUDSWORD_HOME": str(paths.root),
        "DAGSTER_HOME": str(paths.dagster_home),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        # Launching a run waits (over gRPC) until the new run process has loaded the
        # definitions; on a busy 2-core machine that took over Dagster's default 60 s, and the
        # run failed without starting.
        "DAGSTER_GRPC_TIMEOUT_SECONDS": os.environ.get("DAGSTER_GRPC_TIMEOUT_SECONDS", "300"),
    }
    paths.logs.mkdir(parents=True, exist_ok=True)
    procs = {}
    for name, command in server_commands(paths, host, port, mlflow_port).items():
        log = open(paths.logs / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the server
        procs[name] = subprocess.Popen(
            command,
            env=env,
            cwd=CHECKOUT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return procs


def stop_servers(procs: dict[str, subprocess.Popen], timeout_s: float = 20.0) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for_http(url: str, timeout_s: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve_uis(paths: Home, *, host: str, port: int, mlflow_port: int, console: Console) -> None:
    """Start the servers, print where they are, and stop them all on Ctrl-C or SIGTERM."""
    procs = start_servers(paths, host, port, mlflow_port)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        console.print(
            "Starting the Dagster webserver and daemon"
            + (" and the MLflow UI" if mlflow_port else "")
            + " …"
        )
        checks = {"dagster-webserver": f"http://{host}:{port}/server_info"}
        if mlflow_port:
            checks["mlflow"] = f"http://{host}:{mlflow_port}/health"
        for name, url in checks.items():
            if not wait_for_http(url, 120, procs[name]):
                console.print(f"[red]{name} did not come up; see {paths.logs / (name + '.log')}[/]")
                raise SystemExit(1)
        console.print(f"[green]Dagster[/]  http://{host}:{port}   (runs, lineage, assets)")
        if mlflow_port:
            console.print(f"[green]MLflow[/]   http://{host}:{mlflow_port}   (models, registry)")
        console.print(f"Home: {paths.root}. Logs: {paths.logs}. Ctrl-C stops everything.")
        while all(p.poll() is None for p in procs.values()):
            time.sleep(1)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        console.print(f"[red]{', '.join(dead)} stopped; see {paths.logs}[/]")
    except KeyboardInterrupt:
        console.print("Stopping …")
    finally:
        stop_servers(procs)
