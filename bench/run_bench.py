"""Benchmark the whole pipeline at one scale in a fresh home, stage by stage.

    .venv/bin/python bench/run_bench.py --scale small [--seed 7] [--keep-home DIR]

Runs `cloudsword generate` and `cloudsword run` as a user would, samples the resident memory of
the whole process tree every 0.2 s, and splits wall time and peak memory by Dagster step using the
step start/end events in the home's Dagster instance. Then runs the naive pandas/networkx
reference (bench/naive, not part of the product) on the same warehouse, so each stage gets a
ratio measured in the same run on the same machine. Writes bench/results/<scale>.json and
rewrites that scale's section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
from bench.naive.__main__ import GROUPS, PRODUCT_STAGE  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"

#: Rows each stage handles, read from the warehouse after the run.
STAGE_ROWS = {
    "raw_tables": "SELECT sum(rows_loaded + rows_quarantined) FROM cloudsword.batches",
    "dbt_features": "SELECT count(*) FROM main.listing_features",
    "listing_model": "SELECT count(*) FROM main.training_set",
    "scores": "SELECT count(*) FROM main.listing_scores",
    "network": "SELECT count(*) FROM main.seller_scores",
    "leads": "SELECT count(*) FROM main.leads",
    "lead_exports": "SELECT count(*) FROM main.leads",
}


class TreeSampler(threading.Thread):
    """Samples the RSS of this process and all its descendants."""

    def __init__(self, interval_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        me = psutil.Process()
        while not self._halt.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.samples.append((time.time(), total))
            self._halt.wait(self.interval_s)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside, default=0)


def _cloudsword(home: Path, *args: str) -> float:
    env = {**os.environ, "CLOUDSWORD_HOME": str(home)}
    start = time.perf_counter()
    subprocess.run([str(BIN / "cloudsword"), *args], env=env, check=True)
    return time.perf_counter() - start


def _step_windows(home: Path, since: float = 0.0) -> list[tuple[str, float, float, float]]:
    """(step, start, end, busy seconds) of every successful step, over the home's runs (their
    events from ``since`` on)."""
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    windows: dict[str, list[float]] = {}
    for run in instance.get_runs():
        records = instance.get_records_for_run(
            run.run_id,
            of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS},
        ).records
        for rec in records:
            if rec.event_log_entry.timestamp < since:
                continue
            event = rec.event_log_entry.dagster_event
            span = windows.setdefault(event.step_key, [float("inf"), 0.0, 0.0])
            if event.event_type == dg.DagsterEventType.STEP_START:
                span[0] = min(span[0], rec.event_log_entry.timestamp)
                span[2] = rec.event_log_entry.timestamp
            else:
                span[1] = max(span[1], rec.event_log_entry.timestamp)
                # Several runs of one step (one ingest per batch): add up their durations.
                span.append(rec.event_log_entry.timestamp - span[2])
    instance.dispose()
    return [(step, s[0], s[1], sum(s[3:])) for step, s in windows.items()]


CHECKS = "contract checks (all)"


def stage_windows(home: Path, since: float = 0.0) -> list[tuple[str, float, float, float]]:
    """The step windows in start order, the ~20 contract check steps summed into one row."""
    windows = sorted(_step_windows(home, since), key=lambda w: w[1])
    checks = [w for w in windows if w[0].endswith("_follows_contract")]
    windows = [w for w in windows if not w[0].endswith("_follows_contract")]
    if checks:
        windows.append(
            (
                CHECKS,
                min(w[1] for w in checks),
                max(w[2] for w in checks),
                sum(w[3] for w in checks),
            )
        )
    return windows


def _naive(home: Path) -> dict:
    """The naive reference on the finished home (it only reads the warehouse), one process per
    stage group: at scale large the pandas features outgrow memory, and the kernel's OOM killer
    must not take the other stages' figures with it."""
    report: dict = {"stages": [], "failed": []}
    for group in GROUPS:
        out = home / f"naive_{group}.json"
        sampler = TreeSampler()
        sampler.start()
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bench.naive", "--home", str(home), "--json", str(out),
             "--only", group],
            cwd=ROOT,
        )  # fmt: skip
        sampler.stop()
        if done.returncode != 0:
            how = "killed (SIGKILL: out of memory)" if done.returncode == -9 else "failed"
            report["failed"].append(
                {
                    "stage": group,
                    "error": f"{how}, exit {done.returncode}",
                    "after_s": round(time.perf_counter() - start, 1),
                    "peak_rss_mb": round(sampler.peak() / 2**20),
                }
            )
            continue
        part = json.loads(out.read_text())
        report["stages"] += part["stages"]
        report |= {k: v for k, v in part.items() if k != "stages"}
    return report


def run_bench(scale: str, seed: int, home: Path, naive: bool = True) -> dict:
    sampler = TreeSampler()
    sampler.start()
    t0 = time.time()
    generate_s = _cloudsword(home, "generate", "--scale", scale, "--seed", str(seed))
    t1 = time.time()
    run_s = _cloudsword(home, "run")
    t2 = time.time()
    sampler.stop()

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    stages = [
        {
            "stage": "generate",
            "wall_s": round(generate_s, 2),
            "rows": None,
            "peak_rss_mb": round(sampler.peak(t0, t1) / 2**20),
        }
    ]
    for step, start, end, busy in stage_windows(home):
        rows = None
        if step in STAGE_ROWS:
            rows = con.execute(STAGE_ROWS[step]).fetchone()[0]
        stages.append(
            {
                "stage": step,
                "wall_s": round(busy, 2),
                "rows": int(rows) if rows is not None else None,
                "rows_per_s": round(rows / busy) if rows and busy else None,
                "peak_rss_mb": round(sampler.peak(start, end) / 2**20),
            }
        )
    con.close()
    result = {
        "scale": scale,
        "seed": seed,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "command": f"python bench/run_bench.py --scale {scale} --seed {seed}",
        "generate_s": round(generate_s, 2),
        "pipeline_s": round(run_s, 2),
        "pipeline_peak_rss_mb": round(sampler.peak(t1, t2) / 2**20),
        "warehouse_mb": round((home / "warehouse.duckdb").stat().st_size / 2**20, 1),
        "stages": stages,
    }
    if naive:
        reference = _naive(home)
        result["naive"] = reference
        by_stage = {s["stage"]: s for s in stages}
        result["ratios"] = [
            {
                "stage": r["product_stage"],
                "naive_stage": r["stage"],
                "product_s": by_stage[r["product_stage"]]["wall_s"],
                "naive_s": r["wall_s"],
                "naive_over_product": round(
                    r["wall_s"] / by_stage[r["product_stage"]]["wall_s"], 2
                ),
                "product_peak_mb": by_stage[r["product_stage"]]["peak_rss_mb"],
                "naive_peak_mb": r["peak_rss_mb"],
            }
            for r in reference["stages"]
            if r["product_stage"] in by_stage
        ]
    return result


def markdown(result: dict) -> str:
    lines = [
        f"### scale {result['scale']} (seed {result['seed']}, {result['machine']})",
        "",
        f"Pipeline from an empty home: **{result['pipeline_s']} s**, peak RSS of the process "
        f"tree **{result['pipeline_peak_rss_mb']} MiB**, warehouse {result['warehouse_mb']} MiB "
        f"(generation {result['generate_s']} s, not included). Reproduce: "
        f"`.venv/bin/{result['command']}`.",
        "",
        "| stage | wall s | rows | rows/s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in result["stages"]:
        lines.append(
            f"| {s['stage']} | {s['wall_s']} | {s['rows'] if s['rows'] is not None else ''} | "
            f"{s.get('rows_per_s') or ''} | {s['peak_rss_mb']} |"
        )
    if "ratios" in result:
        lines += [
            "",
            "Against the naive pandas/networkx reference (`bench/naive`), same warehouse, same run "
            "(ratio > 1: the product is faster):",
            "",
            "| product stage | product s | naive stage | naive s | naive / product | "
            "peak MiB product / naive |",
            "|---|---:|---|---:|---:|---:|",
        ]
        for r in result["ratios"]:
            lines.append(
                f"| {r['stage']} | {r['product_s']} | {r['naive_stage']} | {r['naive_s']} | "
                f"{r['naive_over_product']} | {r['product_peak_mb']} / {r['naive_peak_mb']} |"
            )
        by_stage = {st["stage"]: st for st in result["stages"]}
        for failed in result["naive"].get("failed", []):
            product = by_stage.get(PRODUCT_STAGE[failed["stage"]], {})
            lines.append(
                f"| {PRODUCT_STAGE[failed['stage']]} | {product.get('wall_s', '')} | "
                f"{failed['stage']} | {failed['error']} after {failed['after_s']} s | - | "
                f"{product.get('peak_rss_mb', '')} / {failed['peak_rss_mb']} |"
            )
        check = result["naive"].get("feature_check")
        if check:
            lines += ["", f"Naive features vs `main.listing_features`: `{json.dumps(check)}`"]
    return "\n".join(lines) + "\n"


def parse_args(doc: str, *extra: tuple[str, dict]) -> argparse.Namespace:
    """The options every benchmark script takes (scale, seed, --keep-home), plus ``extra``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-home", type=Path, help="run in this (new) folder and keep it")
    for flag, options in extra:
        parser.add_argument(flag, **options)
    return parser.parse_args()


def measure_and_publish(args: argparse.Namespace, name: str, measure, markdown) -> None:
    """Run ``measure(home)`` in a scratch home (or --keep-home), then write
    bench/results/<name>.json and the <name> section of docs/benchmarks.md."""
    home = args.keep_home or Path(tempfile.mkdtemp(prefix=f"cloudsword-{name}-"))
    try:
        result = measure(home)
    finally:
        if not args.keep_home:
            shutil.rmtree(home, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    section = markdown(result)
    print(section)
    _update_doc(name, section)


def main() -> None:
    args = parse_args(
        __doc__, ("--no-naive", {"action": "store_true", "help": "skip the naive reference"})
    )
    measure_and_publish(
        args,
        args.scale,
        lambda home: run_bench(args.scale, args.seed, home, naive=not args.no_naive),
        markdown,
    )


def _update_doc(scale: str, section: str) -> None:
    """Replace this scale's section of docs/benchmarks.md, keeping the others."""
    begin, end = f"<!-- bench:{scale}:begin -->", f"<!-- bench:{scale}:end -->"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    block = f"{begin}\n{section}{end}"
    if begin in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    main()
