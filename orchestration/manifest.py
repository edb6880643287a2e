"""Keep dbt's manifest current, so a fresh checkout loads its Dagster definitions unaided.

dagster-dbt needs ``target/manifest.json`` before the definitions import. ``make setup`` builds it;
this re-parses whenever a file of the dbt project is newer than the manifest (about 5 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ml.settings import CHECKOUT

DBT_PROJECT_DIR = CHECKOUT / "dbt_project"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
#: dbt from this interpreter's environment, so an un-activated virtualenv works too.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
_SOURCES = ("models", "macros", "tests", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _SOURCES:
        path = DBT_PROJECT_DIR / name
        files = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def ensure_manifest() -> Path:
    """Run ``dbt parse`` if the manifest is missing or older than the project files."""
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    # parse never opens the warehouse, but the profile needs the variable to render.
    env.setdefault("CLOUDSWORD_HOME", str(CHECKOUT / "cloudsword_home"))
    # Parse into a scratch folder and move the manifest in: a parse killed halfway must not leave
    # a truncated manifest that looks newer than the project and blocks every later load.
    with tempfile.TemporaryDirectory(dir=MANIFEST.parent.parent) as scratch:
        proc = subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                scratch,
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")
        MANIFEST.parent.mkdir(parents=True, exist_ok=True)
        os.replace(Path(scratch) / "manifest.json", MANIFEST)
    return MANIFEST
