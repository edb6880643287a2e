"""Shared fixtures: fresh homes and a tiny generated marketplace run once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run_cloudsword(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the installed `cloudsword` command against ``home``, as a user would."""
    env = {**os.environ, "CLOUDSWORD_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("DAGSTER_HOME", None)
    proc = subprocess.run(
        [str(BIN / "cloudsword"), *args], env=env, capture_output=True, text=True, timeout=1800
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"cloudsword {' '.join(args)} exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-5000:]}\n--- stderr ---\n{proc.stderr[-8000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def cloudsword():
    """The `cloudsword` command as a function: ``cloudsword(home, "run")``."""
    return run_cloudsword


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the tiny marketplace generated and the whole pipeline run once."""
    home = tmp_path_factory.mktemp("tiny_home")
    run_cloudsword(home, "generate", "--scale", "tiny", "--seed", "3")
    run_cloudsword(home, "run")
    return home
