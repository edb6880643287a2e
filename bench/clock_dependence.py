"""Which feature columns move when only the data's clock moves, and how.

    .venv/bin/python bench/clock_dependence.py HOME [--shift-hours 1 960]

Copies the built warehouse of ``HOME`` once per shift, moves ``int_feature_clock`` forward by
that many hours, rebuilds the feature models downstream of the spines (nothing else changes:
same events, same entities) and compares ``listing_features`` and ``seller_features`` with the
original, column by column. Each numeric feature falls in one class:

- clock-free: the same value whatever the clock (all-time counts, attributes, shares);
- linear: moves by exactly the shift in days (days since / age): an incremental build can keep
  the value computed at an earlier clock and add the shift;
- windowed: changes for the entities that had events in the part of a window the shift
  dropped: an incremental build must recompute those entities.

This is the measurement behind the incremental feature design in docs/incremental_features.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

CHECKOUT = Path(__file__).resolve().parent.parent
DBT = Path(sys.executable).with_name("dbt")
MARTS = {"listing_features": "listing_id", "seller_features": "seller_id"}
NUMERIC = ("DOUBLE", "BIGINT", "INTEGER", "HUGEINT")


def shifted_copy(home: Path, work: Path, hours: float) -> Path:
    """A copy of ``home``'s warehouse whose "now" is ``hours`` later, features rebuilt."""
    copy = work / f"shift_{hours:g}h"
    copy.mkdir()
    shutil.copy(home / "warehouse.duckdb", copy / "warehouse.duckdb")
    with duckdb.connect(str(copy / "warehouse.duckdb")) as con:
        con.execute(
            "UPDATE intermediate.int_feature_clock SET as_of = as_of + to_microseconds(?)",
            [round(hours * 3_600_000_000)],
        )
    project = str(CHECKOUT / "dbt_project")
    subprocess.run(
        [str(DBT), "run", "--quiet", "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(copy / "target"), "--log-path", str(copy / "logs"),
         "--select", "int_listing_spine+", "int_seller_spine+",
         "--exclude", "int_feature_clock", "training_set", "seller_training_set"],
        env=dict(os.environ, CLOUDSWORD_HOME=str(copy)), check=True,
    )  # fmt: skip
    return copy


def classify(con: duckdb.DuckDBPyConnection, table: str, shifts: dict[str, float]) -> dict:
    """Column -> (class, rows changed per shift)."""
    key = MARTS[table]
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = 'base' AND table_schema = 'main' AND table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    out = {}
    for column, data_type in columns:
        if data_type not in NUMERIC or column == key:
            continue
        changed, off_line = {}, 0
        for alias, hours in shifts.items():
            a, b = f'a."{column}"', f'b."{column}"'
            # Parallel float sums are not bit-stable between two builds: 1e-12 relative is "same".
            moved = (
                f"NOT ({a} IS NOT DISTINCT FROM {b} OR "
                f"coalesce(abs({a} - {b}) <= 1e-12 * greatest(abs({a}), abs({b})), false))"
            )
            n, not_linear = con.execute(
                f"SELECT count(*) FILTER (WHERE {moved}), count(*) FILTER (WHERE {moved} AND NOT "
                f"coalesce(abs({b} - {a} - ?) < 1e-6, false)) "
                f"FROM base.main.{table} AS a JOIN {alias}.main.{table} AS b USING ({key})",
                [hours / 24],
            ).fetchone()
            changed[alias], off_line = n, off_line + not_linear
        if not any(changed.values()):
            kind = "clock-free"
        elif off_line == 0:
            kind = "linear"
        else:
            kind = "windowed"
        out[column] = (kind, changed)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("home", type=Path, help="a home whose features dbt has built")
    parser.add_argument("--shift-hours", type=float, nargs="+", default=[1.0, 960.0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect() as con:
        con.execute(f"ATTACH '{args.home / 'warehouse.duckdb'}' AS base (READ_ONLY)")
        shifts = {}
        for i, hours in enumerate(args.shift_hours):
            copy = shifted_copy(args.home, Path(tmp), hours)
            con.execute(f"ATTACH '{copy / 'warehouse.duckdb'}' AS s{i} (READ_ONLY)")
            shifts[f"s{i}"] = hours
        for table in MARTS:
            result = classify(con, table, shifts)
            print(f"\n{table}: {len(result)} numeric features")
            for kind in ("clock-free", "linear", "windowed"):
                names = [c for c, (k, _) in result.items() if k == kind]
                print(f"  {kind}: {len(names)}")
                if kind != "clock-free":
                    for name in names:
                        print(f"    {name}  rows changed per shift: {result[name][1]}")


if __name__ == "__main__":
    main()
