"""One writer at a time: a second process waits for the warehouse instead of failing obscurely."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ml.warehouse import WarehouseBusy, connect

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE OR REPLACE TABLE t AS SELECT 42 AS x")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_open(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_a_reader_waits_for_a_writing_process(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    writer = hold_open(path, 1.5)
    with connect(path, read_only=True, wait_s=30) as con:
        assert con.execute("SELECT x FROM t").fetchone() == (42,)
    assert writer.wait(timeout=30) == 0


def test_a_reader_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    writer = hold_open(path, 3)
    started = time.monotonic()
    with (
        pytest.raises(WarehouseBusy, match="being written by another process"),
        connect(path, read_only=True, wait_s=0.5),
    ):
        pass
    assert time.monotonic() - started < 3
    writer.wait(timeout=30)
