"""``python -m bench.naive --home H [--json out.json]``: run the naive stages and measure them.

Stages (and the product stage each one stands for, for the ratio in the benchmark report):
features -> dbt_features, train -> listing_model, score -> scores, rings -> network.
The home must hold a warehouse on which `dbt build` has run (staging tables and marts); the
naive code only reads it. After the timed stages the naive features are compared with
main.listing_features and the naive rings with main.rings (if the product has traced them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import psutil

from bench.naive import check, features, rings, train
from bench.naive.measure import stage

PRODUCT_STAGE = {
    "features": "dbt_features",
    "train": "listing_model",
    "score": "scores",
    "rings": "network",
}


#: Stages that can run in a process of their own (score needs the model train makes).
GROUPS = ("features", "train", "rings")


def run_naive(
    home: Path,
    trials: int = 8,
    compare: bool = True,
    threads: int = 2,
    pit_checks: int = 0,
    only: frozenset[str] = frozenset(GROUPS),
) -> dict:
    """Run the naive stages on ``home``'s warehouse; returns the JSON-able report.

    ``threads`` is LightGBM's num_threads (the product's default is 2 as well); ``pit_checks``
    is how many label decision times to also compare with main.training_set (untimed);
    ``only`` picks some of ``GROUPS`` ("train" also scores), so a stage that runs out of memory
    at a big scale can be run apart from the others.
    """
    warehouse = Path(home) / "warehouse.duckdb"
    if not warehouse.exists():
        raise FileNotFoundError(f"{warehouse} does not exist: generate, ingest and dbt build first")
    stages = []
    frame = found = None
    if "features" in only:
        with stage("features") as s:
            frame = features.listing_features(warehouse)
            s.rows = len(frame)
            s.extra["columns"] = frame.shape[1]
        stages.append(s)
    if "train" in only:
        stages += _train_and_score(warehouse, trials, threads)
    if "rings" in only:
        with stage("rings") as s:
            tables = rings.load_tables(warehouse)
            config = rings.NetworkConfig()
            graph = rings.seller_graph(rings.bipartite_graph(tables), config)
            found = rings.find_rings(graph, config)
            s.rows = len(tables["sellers"])
            s.extra |= {"rings": len(found), "ring_sellers": sum(len(r) for r in found)}
        stages.append(s)
    report: dict = {
        "home": str(home),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "stages": [{**x.as_dict(), "product_stage": PRODUCT_STAGE[x.stage]} for x in stages],
    }
    if compare and frame is not None:
        report["feature_check"] = check.summarize(check.compare_features(frame, warehouse))
    if compare and found is not None:
        report["ring_check"] = rings.compare_rings(found, warehouse)
    if pit_checks:
        rows = check.compare_training_rows(warehouse, pit_checks)
        report["training_check"] = {
            "as_of_times": int(rows["as_of"].nunique()),
            "cells": int(rows["rows"].sum()),
            "cells_equal": int(rows["equal"].sum()),
            "columns_with_mismatches": sorted(set(rows.loc[rows.equal < rows.rows, "column"])),
        }
    return report


def _train_and_score(warehouse: Path, trials: int, threads: int) -> list:
    with stage("train") as s:
        model = train.train(warehouse, trials=trials, num_threads=threads)
        s.rows = model.n_train
        s.extra |= {"trials": trials, "valid_ap": round(model.valid_ap, 4)}
        s.extra["test_ap"] = round(model.test_ap, 4)
    stages = [s]
    with stage("score") as s:
        scores, model_s = train.score(warehouse, model)
        s.rows = len(scores)
        s.extra |= {"model_s": round(model_s, 3), "model_rows_per_s": round(len(scores) / model_s)}
    stages.append(s)
    return stages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.naive", description=__doc__)
    parser.add_argument("--home", required=True, help="a cloudsword home after dbt build")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument("--trials", type=int, default=8, help="random-search trials")
    parser.add_argument("--threads", type=int, default=2, help="LightGBM num_threads")
    parser.add_argument("--no-check", action="store_true", help="skip comparing with product")
    parser.add_argument(
        "--pit-checks", type=int, default=0, help="also compare N label times with training_set"
    )
    parser.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated stages of {', '.join(GROUPS)}"
    )
    args = parser.parse_args(argv)
    report = run_naive(
        Path(args.home),
        trials=args.trials,
        compare=not args.no_check,
        threads=args.threads,
        pit_checks=args.pit_checks,
        only=frozenset(args.only.split(",")),
    )
    for row in report["stages"]:
        print(
            f"{row['stage']:<9} {row['wall_s']:>9.2f} s  {row['rows']:>9} rows  "
            f"{row['rows_per_s'] or 0:>10} rows/s  peak {row['peak_rss_mb']:>6} MB"
        )
    for key in ("feature_check", "ring_check", "training_check"):
        if key in report:
            print(f"{key}: {json.dumps(report[key], default=str)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
