"""The home: private to its owner, since it holds personal data (issue 18)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ml.settings import Home


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_home_is_private_and_its_files_are_owner_only(tmp_path: Path) -> None:
    root = tmp_path / "home"
    root.mkdir(mode=0o755)
    warehouse = root / "warehouse.duckdb"
    warehouse.write_bytes(b"raw phones")
    warehouse.chmod(0o644)
    previous = os.umask(0o022)
    try:
        home = Home(root).ensure()
        made_later = home.logs / "failures.jsonl"
        made_later.write_text("{}\n")
    finally:
        os.umask(previous)
    assert _mode(root) == 0o700
    assert _mode(warehouse) == 0o600
    assert _mode(home.dagster_home / "dagster.yaml") == 0o600
    assert _mode(made_later) == 0o600
    assert _mode(home.logs) == 0o700
