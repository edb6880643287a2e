"""Scoring, the model alone: LightGBM against the lleaves-compiled booster, in one run.

    .venv/bin/python bench/scoring.py [--rows 1000000] [--features 359] [--trees 100 500]

Builds a synthetic matrix shaped like `main.listing_features` at scale large (1M listings, 359
numeric features of the kinds the marts have: counts, shares, prices, ~12% missing, plus the two
categorical codes), trains champion-like boosters (the middle of the model's search space:
4 leaves, learning rate 0.05, feature fraction 0.2) with ~100 and ~500 trees, and times per model,
interleaved and repeated so the shared machine's load hits both alike:

* the model alone, as `score_listings` runs it: batches of 262,144 rows, raw margin then Platt
  calibration, with LightGBM (before) and with the compiled booster (after: our branch-free C,
  `treecode`, and lleaves, its fallback); the ratio is the number to compare, absolute
  figures move with the machine's load;
* compiling once per model version, and loading the cached library afterwards;
* `pred_contrib` (reasons) per listing, which is why reasons are now computed only where read;
* the row hash DuckDB computes over the 359 features each run to find changed listings.

Writes bench/results/scoring.json and the `scoring` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import lightgbm as lgb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run_bench import _update_doc  # noqa: E402
from ml.model.compiled import COMPILERS, compile_booster  # noqa: E402
from ml.model.pyfunc_model import sigmoid  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "scoring.json"
BATCH = 262_144  # ModelConfig.score_batch_rows
THREADS = 2  # ModelConfig.num_threads


def synthetic(rows: int, features: int, seed: int) -> np.ndarray:
    """Numeric features (counts, shares, prices) with missing values, then brand and category
    codes, as `CounterfeitModel.matrix_from_arrow` lays them out."""
    rng = np.random.default_rng(seed)
    x = np.empty((rows, features + 2), dtype=np.float64)
    kinds = rng.choice(3, features, p=[0.4, 0.3, 0.3])
    for j, kind in enumerate(kinds):
        if kind == 0:
            col = rng.poisson(rng.uniform(0.05, 5.0), rows).astype(np.float64)
        elif kind == 1:
            col = np.where(rng.uniform(size=rows) < 0.3, 0.0, rng.beta(1.0, 3.0, rows))
        else:
            col = rng.lognormal(rng.uniform(0, 5), 1.0, rows)
        col[rng.uniform(size=rows) < rng.uniform(0.0, 0.25)] = np.nan
        x[:, j] = col
    x[:, features] = np.where(rng.uniform(size=rows) < 0.1, np.nan, rng.integers(0, 200, rows))
    x[:, features + 1] = rng.integers(0, 20, rows)
    return x


def labels(x: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    z = np.nan_to_num(x[:, :12])
    logit = (z[:, :6] > np.nanmedian(x[:, :6], axis=0)).sum(axis=1) - 3.5 + 0.5 * z[:, 6:9].sum(1)
    logit += (x[:, -2] % 7 == 0) * 1.5
    return (rng.uniform(size=len(x)) < sigmoid(np.clip(logit, -30, 30))).astype(int)


def champion_like(x: np.ndarray, y: np.ndarray, trees: int, seed: int) -> lgb.Booster:
    features = x.shape[1]
    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 4,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.2,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "lambda_l2": 10.0,
        "max_bin": 63,
        "min_data_per_group": 20,
        "cat_smooth": 10.0,
        "verbosity": -1,
        "seed": seed,
        "num_threads": THREADS,
    }
    data = lgb.Dataset(x, y, categorical_feature=[features - 2, features - 1], params=params)
    return lgb.train(params, data, num_boost_round=trees)


def model_alone(margin, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Seconds for margin + calibration over ``x`` in scoring's batches, and the scores."""
    out = np.empty(len(x))
    t0 = time.perf_counter()
    for i in range(0, len(x), BATCH):
        out[i : i + BATCH] = sigmoid(1.3 * margin(x[i : i + BATCH]) - 0.2)
    return time.perf_counter() - t0, out


def bench_model(
    booster: lgb.Booster, x: np.ndarray, repeat: int, contrib_rows: int, cpu_rows: int
) -> dict:
    margins, single, out = {}, {}, {"trees": booster.num_trees()}
    with tempfile.TemporaryDirectory() as cache:
        for kind in COMPILERS:
            t0 = time.perf_counter()
            built = compile_booster(booster, Path(cache), "bench", THREADS, (kind,))
            compile_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            cached = compile_booster(booster, Path(cache), "bench", THREADS, (kind,))
            load_s = time.perf_counter() - t0
            assert built.kind == cached.kind == kind and "loaded" in cached.reason, cached.reason
            margins[kind] = cached.margin
            single[kind] = compile_booster(booster, Path(cache), "bench", 1, (kind,)).margin
            out[f"{kind}_compile_s"] = round(compile_s, 2)
            out[f"{kind}_load_cached_s"] = round(load_s, 3)

    def lightgbm(batch: np.ndarray) -> np.ndarray:
        return booster.predict(batch, raw_score=True, num_threads=THREADS)

    runs = {"lightgbm": lightgbm, **margins}
    seconds: dict[str, list[float]] = {k: [] for k in runs}
    scores = {}
    for _ in range(repeat):  # interleaved: load on the shared machine hits all alike
        for kind, margin in runs.items():
            took, scores[kind] = model_alone(margin, x)
            seconds[kind].append(took)
    # CPU time of one thread per listing: what the load of the shared machine distorts least
    # (wall seconds above include waiting for a core); 2 cores idle give ~2e6 / us listings/s.
    sub = x[:cpu_rows]
    for kind, margin in (("lightgbm", None), *margins.items()):
        t0 = time.thread_time()
        if margin is None:
            booster.predict(sub, raw_score=True, num_threads=1)
        else:
            single[kind](sub)
        out[f"{kind}_cpu_us_per_listing"] = round(1e6 * (time.thread_time() - t0) / len(sub), 3)
    base = seconds["lightgbm"]
    for kind, took in seconds.items():
        out[f"{kind}_s"] = [round(t, 3) for t in took]
        out[f"{kind}_per_s"] = round(len(x) / min(took))
        if kind != "lightgbm":
            out[f"{kind}_speedup_best"] = round(min(base) / min(took), 2)
            out[f"{kind}_speedup_median"] = round(float(np.median(base) / np.median(took)), 2)
            want = lightgbm(x[:BATCH])  # the margins, as the equality test checks them
            out[f"{kind}_max_margin_diff"] = float(np.max(np.abs(margins[kind](x[:BATCH]) - want)))
            out[f"{kind}_max_score_diff"] = float(np.max(np.abs(scores[kind] - scores["lightgbm"])))
    t0 = time.perf_counter()
    booster.predict(x[:contrib_rows], pred_contrib=True, num_threads=THREADS)
    out["pred_contrib_per_s"] = round(contrib_rows / (time.perf_counter() - t0))
    return out


def bench_hash(rows: int, features: int) -> dict:
    """The row hash scoring computes in DuckDB (hash of FLOAT-rounded features), on a table
    made inside DuckDB (no second copy of the matrix in Python)."""
    con = duckdb.connect()
    con.execute(f"SET threads = {THREADS}")
    cols = ", ".join(
        f"CASE WHEN random() < 0.1 THEN NULL ELSE random() * 100 END AS f{j}"
        for j in range(features)
    )
    con.execute(
        f"CREATE TABLE features AS SELECT 'L' || range AS listing_id, {cols} FROM range({rows})"
    )
    expr = ", ".join(f"TRY_CAST(f{j} AS FLOAT)" for j in range(features))
    t0 = time.perf_counter()
    con.execute(f"CREATE TEMP TABLE h AS SELECT listing_id, hash(listing_id, {expr}) FROM features")
    seconds = time.perf_counter() - t0
    con.close()
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}


def markdown(result: dict) -> str:
    rows = [
        "### scoring: the model alone, LightGBM vs compiled (issue 13)",
        "",
        f"{result['rows']:,} x {result['features']} synthetic listing features, champion-like "
        f"boosters (4 leaves, lr 0.05), batches of {BATCH:,}, {THREADS} threads, best of "
        f"{result['repeat']} interleaved runs (margin + calibration, as `score_listings` runs "
        f"it); measured {result['measured_at']}, load average {result['load_average']} on the "
        "shared 2-core machine, so compare the ratios. Reproduce: "
        "`.venv/bin/python bench/scoring.py`.",
        "",
        "| trees | LightGBM listings/s | treecode listings/s (speed-up best / median) "
        "| lleaves listings/s (speed-up best / median) | max margin diff | compile s "
        "treecode / lleaves (once per version) | pred_contrib listings/s "
        "| CPU us per listing and core: LightGBM / treecode / lleaves |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in result["models"]:
        diff = max(m["treecode_max_margin_diff"], m["lleaves_max_margin_diff"])
        rows.append(
            f"| {m['trees']} | {m['lightgbm_per_s']:,} "
            f"| {m['treecode_per_s']:,} ({m['treecode_speedup_best']}x / "
            f"{m['treecode_speedup_median']}x) "
            f"| {m['lleaves_per_s']:,} ({m['lleaves_speedup_best']}x / "
            f"{m['lleaves_speedup_median']}x) "
            f"| {diff:.1e} | {m['treecode_compile_s']} / {m['lleaves_compile_s']} "
            f"| {m['pred_contrib_per_s']:,} "
            f"| {m.get('lightgbm_cpu_us_per_listing', '-')} / "
            f"{m.get('treecode_cpu_us_per_listing', '-')} / "
            f"{m.get('lleaves_cpu_us_per_listing', '-')} |"
        )
    idle = [
        f"{m['trees']} trees: LightGBM {2 / m['lightgbm_cpu_us_per_listing']:.2f}M, treecode "
        f"{2 / m['treecode_cpu_us_per_listing']:.2f}M, lleaves "
        f"{2 / m['lleaves_cpu_us_per_listing']:.2f}M"
        for m in result["models"]
        if "treecode_cpu_us_per_listing" in m
    ]
    if idle:
        rows += [
            "",
            "Target of issue 13 (model alone >= 1M listings/s at scale large): from the CPU time "
            "per listing, two idle cores give " + "; ".join(idle) + " listings/s.",
        ]
    rows += [
        "",
        "What the scores step does since issue 13: it hashes each active listing's scoring input "
        "in DuckDB (seller, brand, category, status and the model's features at FLOAT "
        "precision, so DuckDB's last-bit float noise between dbt builds does not count as a "
        "change) into `cloudsword.listing_score_state`, and scores only listings that are new "
        "or changed, or all of them when the champion, its calibration or the reasons "
        "settings change; sellers are recomputed only where a listing score changed. "
        "`pred_contrib` runs only for listings scoring at least `reasons_min_score` (0.5) and "
        "for listings of sellers in a ring or an open lead; at the rate above it would take "
        "longer than the model itself for every listing. The booster runs as branch-free C "
        "(`ml/model/treecode.py`, built by gcc, cached in the home per model version), with "
        "lleaves as the fallback where no C compiler exists and LightGBM where neither builds.",
        "",
        "Caveat: features are computed as of the data's clock (`int_feature_clock`), and age "
        "and windowed features (`prod_listing_age_days`, `*_7d`, ...) move for every listing "
        "whenever a batch moves that clock, so after a new batch nearly every listing is "
        "rescored anyway (by the compiled model, with reasons only where read). Runs without new "
        "data (the daily refresh, reruns) rescore nothing and keep `scored_at`.",
    ]
    h = result.get("hash")
    if h:
        rows += [
            "",
            f"Finding changed listings: DuckDB hashes {h['rows']:,} rows x {result['features']} "
            f"features in {h['seconds']} s ({h['rows_per_s']:,} rows/s), the fixed cost of a "
            "run that rescores nothing.",
        ]
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=359)
    parser.add_argument("--trees", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--train-rows", type=int, default=50_000)
    parser.add_argument("--contrib-rows", type=int, default=100_000)
    parser.add_argument("--cpu-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-hash", action="store_true")
    parser.add_argument("--no-publish", action="store_true", help="print, write nothing")
    parser.add_argument(
        "--render", action="store_true", help="rewrite the doc section from the last results"
    )
    args = parser.parse_args()
    if args.render:
        _update_doc("scoring", markdown(json.loads(RESULTS.read_text())))
        return

    x = synthetic(args.rows, args.features, args.seed)
    train = synthetic(args.train_rows, args.features, args.seed + 100)
    y = labels(train, args.seed)
    models = []
    for trees in args.trees:
        booster = champion_like(train, y, trees, args.seed)
        models.append(bench_model(booster, x, args.repeat, args.contrib_rows, args.cpu_rows))
        print(json.dumps(models[-1]), flush=True)
    result = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": " / ".join(f"{v:.1f}" for v in os.getloadavg()),
        "rows": args.rows,
        "features": args.features,
        "repeat": args.repeat,
        "models": models,
        "hash": None,
    }
    del x, train
    if not args.no_hash:
        result["hash"] = bench_hash(args.rows, args.features)
    print(markdown(result))
    if not args.no_publish:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        _update_doc("scoring", markdown(result))


if __name__ == "__main__":
    main()
