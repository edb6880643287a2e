"""Compare the feature models of two built warehouses cell by cell.

For every model of var ``feature_models`` (intermediate feature models and the four marts): the
same columns, types and order; the same rows by key; equal cells. Doubles are equal within
1e-9 relative: DuckDB's parallel sums of doubles differ in the last bits from one run to the next
even with the same SQL. Used to show that moving the features to the spec changed no value; the
same check fits a build of the same data on another engine.

    python dbt_project/scripts/compare_marts.py BEFORE/warehouse.duckdb AFTER/warehouse.duckdb
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feature_spec import load_vars  # noqa: E402

MART_KEYS = {
    "listing_features": ["listing_id"],
    "training_set": ["listing_id"],
    "seller_features": ["seller_id"],
    "seller_training_set": ["seller_id"],
}


def compare(before: Path, after: Path) -> list[str]:
    """One line per model, prefixed OK or BAD."""
    con = duckdb.connect()
    con.execute(f"attach '{before}' as a (read_only)")
    con.execute(f"attach '{after}' as b (read_only)")
    lines = []
    for model, layout in load_vars()["feature_models"].items():
        schema = "main" if model in MART_KEYS else "intermediate"
        keys = MART_KEYS.get(model) or [f"{layout['grain']}_id", "as_of"]
        columns = {
            db: con.execute(
                "select column_name, data_type from information_schema.columns where table_catalog"
                " = ? and table_schema = ? and table_name = ? order by ordinal_position",
                [db, schema, model],
            ).fetchall()
            for db in ("a", "b")
        }
        a, b = f"a.{schema}.{model}", f"b.{schema}.{model}"
        on = " and ".join(f"x.{k} = y.{k}" for k in keys)
        n_a, n_b, matched = con.execute(
            f"select (select count(*) from {a}), (select count(*) from {b}),"
            f" (select count(*) from {a} as x join {b} as y on {on})"
        ).fetchone()
        problems = []
        if columns["a"] != columns["b"]:
            problems.append("columns, types or order differ")
        elif not n_a == n_b == matched:
            problems.append(f"rows: {n_a} vs {n_b}, {matched} matched by {keys}")
        else:
            for name, dtype in columns["a"]:
                if name in keys:
                    continue
                x, y = f"x.{name}", f"y.{name}"
                same = (
                    f"({x} is null and {y} is null) or (isnan({x}) and isnan({y}))"
                    f" or abs({x} - {y}) <= 1e-9 * greatest(1, abs({x}))"
                    if dtype == "DOUBLE"
                    else f"{x} is not distinct from {y}"
                )
                (n,) = con.execute(
                    f"select count(*) from {a} as x join {b} as y on {on} where not ({same})"
                ).fetchone()
                if n:
                    problems.append(f"{name}: {n} cells differ")
        status = "BAD" if problems else "OK "
        shape = f"{n_a} rows x {len(columns['a'])} columns"
        lines.append(f"{status} {schema}.{model}: {shape} {'; '.join(problems)}".rstrip())
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    lines = compare(args.before, args.after)
    print("\n".join(lines))
    if any(line.startswith("BAD") for line in lines):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
