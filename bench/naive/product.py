"""Time the product's counterparts of the naive stages on one home, the same way (in-process).

    python -m bench.naive.product --home H [--json out.json]

dbt build (subprocess: features), ml.model train, ml.model score and ml.network trace_network,
each measured with ``bench.naive.measure.stage``. This WRITES to the home (rebuilds the marts,
registers a model, replaces scores and rings): run it on a copy. It exists so a side-by-side can
be reproduced outside Dagster; bench/run_bench.py measures the real pipeline's steps.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.naive.measure import stage

ROOT = Path(__file__).resolve().parents[2]


def _dbt_split(run_results: Path) -> dict[str, float]:
    """dbt's own execution seconds: staging models, the feature models, and data tests."""
    split = {"dbt_staging_s": 0.0, "dbt_feature_models_s": 0.0, "dbt_tests_s": 0.0}
    for node in json.loads(run_results.read_text())["results"]:
        uid = node["unique_id"]
        key = (
            "dbt_tests_s"
            if uid.startswith("test.")
            else "dbt_staging_s"
            if ".stg_" in uid
            else "dbt_feature_models_s"
        )
        split[key] += node["execution_time"]
    return {k: round(v, 2) for k, v in split.items()}


def run_product(home: Path) -> list[dict]:
    from ml.model import ModelConfig, score_listings, train_and_register
    from ml.network.trace import trace_network
    from ml.settings import Home
    from ml.warehouse import utc_now, writer_lock

    h = Home.resolve(home).ensure()
    project = str(ROOT / "dbt_project")
    env = dict(os.environ, CLOUDSWORD_HOME=str(h.root))
    results = []
    with stage("features") as s:
        subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), "build", "--project-dir", project,
             "--profiles-dir", project, "--target-path", str(h.root / "dbt_target"),
             "--log-path", str(h.root / "dbt_logs")],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
    s.extra |= _dbt_split(h.root / "dbt_target" / "run_results.json")
    results.append(s.as_dict() | {"product_stage": "dbt_features (dbt build, with tests)"})
    config = ModelConfig()
    with stage("train") as s:
        outcome = train_and_register(h.warehouse, h.mlflow_tracking_uri, h.mlflow_artifacts, config)
        s.rows = outcome.n_train + outcome.n_valid + outcome.n_test
    results.append(s.as_dict() | {"product_stage": "listing_model"})
    with stage("score") as s, writer_lock(h.warehouse):
        summary = score_listings(h.warehouse, h.mlflow_tracking_uri, utc_now(), config)
        s.rows = summary.n_listings
        s.extra["model_s"] = round(summary.model_seconds, 3)
        s.extra["model_rows_per_s"] = round(summary.listings_per_second)
    results.append(s.as_dict() | {"product_stage": "scores"})
    with stage("rings") as s:
        net = trace_network(h.warehouse, utc_now())
        s.rows = net.n_sellers
        s.extra |= {"rings": net.n_rings, "timings": net.timings}
    results.append(s.as_dict() | {"product_stage": "network"})
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.naive.product", description=__doc__)
    parser.add_argument("--home", required=True)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    results = run_product(Path(args.home))
    for row in results:
        print(f"{row['stage']:<9} {row['wall_s']:>9.2f} s  peak {row['peak_rss_mb']:>6} MB")
    if args.json:
        args.json.write_text(json.dumps({"home": args.home, "stages": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
