"""A small new batch on a big marketplace: what `cloudsword run` costs for the increment.

    .venv/bin/python bench/incremental.py --scale large [--share 0.01] [--keep-home DIR]
    .venv/bin/python bench/incremental.py --scale large --from-base DIR   # reuse a base home

Generates the marketplace, cuts the newest batch in two at the time that leaves ``--share`` of all
orders in the second part (the increment), processes everything else with `cloudsword run` (the
base), then drops the increment into landing/ and times the second `cloudsword run`, stage by
stage, with peak memory. ``--from-base`` copies a home whose base run is done (kept with
--keep-home, increment still in ``held/``) so code changes can be compared on the same base.
This is the direct path; `bench/latency.py` adds what the sensor and daemon cost on top.
Writes bench/results/incremental_<scale>.json and a section of docs/benchmarks.md.
"""

from __future__ import annotations

import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run_bench import (  # noqa: E402
    TreeSampler,
    _cloudsword,
    measure_and_publish,
    parse_args,
    stage_windows,
)
from ml.contract import INGEST_ORDER, SUCCESS_MARKER, TABLES  # noqa: E402

#: The time that places an entity or event row in the first or second part of the batch.
#: Brands carry no time: they stay in the first part (as do rows whose time is missing).
SPLIT_COLUMN = {
    name: next((c.name for c in TABLES[name].columns if c.type == "timestamp"), None)
    for name in INGEST_ORDER
}


def _table_file(batch: Path, table: str) -> Path | None:
    return next((p for p in batch.glob(f"{table}.*") if p.suffix in (".csv", ".parquet")), None)


def _reader(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    # Every column as text: the second part keeps the values exactly as the generator wrote them.
    return f"read_csv('{path}', all_varchar = true, header = true)"


def split_newest_batch(landing: Path, share: float, held: Path) -> tuple[str, str]:
    """Cut the newest batch so its later part holds ``share`` of all orders; move that part to
    ``held/`` and keep the earlier part in landing/ under an earlier batch id."""
    batches = sorted(p for p in landing.iterdir() if (p / SUCCESS_MARKER).exists())
    newest = batches[-1]
    con = duckdb.connect()
    counts = [
        con.execute(f"SELECT count(*) FROM {_reader(_table_file(b, 'orders'))}").fetchone()[0]
        for b in batches
    ]
    total, newest_rows = sum(counts), counts[-1]
    orders = _reader(_table_file(newest, "orders"))
    cut = con.execute(
        f"SELECT quantile_disc(CAST(paid_at AS TIMESTAMPTZ), ?) FROM {orders}",
        [1 - share * total / newest_rows],
    ).fetchone()[0]
    first_id = (cut - timedelta(days=1)).date().isoformat()
    if not batches[-2].name < first_id < newest.name:
        raise ValueError(f"no batch id fits between {batches[-2].name} and {newest.name}")

    first, second = landing / first_id, held / newest.name
    first.mkdir()
    second.mkdir(parents=True)
    for table in INGEST_ORDER:
        source = _table_file(newest, table)
        if source is None:
            continue
        column = SPLIT_COLUMN[table]
        when = f"TRY_CAST({column} AS TIMESTAMPTZ) >= '{cut.isoformat()}'" if column else "false"
        fmt = "(FORMAT parquet)" if source.suffix == ".parquet" else "(HEADER, FORMAT csv)"
        for target, keep in ((first, f"({when}) IS NOT TRUE"), (second, when)):
            con.execute(
                f"COPY (SELECT * FROM {_reader(source)} WHERE {keep}) "
                f"TO '{target / source.name}' {fmt}"
            )
    con.close()
    for part in (first, second):
        (part / SUCCESS_MARKER).touch()
    shutil.rmtree(newest)
    return first_id, newest.name


def measure(scale: str, seed: int, share: float, home: Path, base: Path | None) -> dict:
    held = home / "held"
    if base is None:
        _cloudsword(home, "generate", "--scale", scale, "--seed", str(seed))
        split_newest_batch(home / "landing", share, held)
        base_s = _cloudsword(home, "run")
    else:
        if home.exists():
            home.rmdir()
        shutil.copytree(base, home, symlinks=True)
        base_s = None
    (increment,) = held.iterdir()
    target = home / "landing" / increment.name
    target.mkdir()
    for path in increment.iterdir():
        if path.name != SUCCESS_MARKER:
            shutil.copy2(path, target / path.name)
    (target / SUCCESS_MARKER).touch()

    sampler = TreeSampler()
    sampler.start()
    start = time.time()
    run_s = _cloudsword(home, "run")
    sampler.stop()

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        added, total = con.execute(
            "SELECT count(*) FILTER (_batch_id = ?), count(*) FROM raw.orders", [increment.name]
        ).fetchone()
    stages = [
        {
            "stage": step,
            "wall_s": round(busy, 2),
            "peak_rss_mb": round(sampler.peak(s, e) / 2**20),
        }
        for step, s, e, busy in stage_windows(home, since=start)
    ]
    return {
        "scale": scale,
        "seed": seed,
        "share": share,
        "command": f"python bench/incremental.py --scale {scale} --seed {seed} --share {share}",
        "increment_orders": added,
        "total_orders": total,
        "base_run_s": round(base_s, 2) if base_s is not None else None,
        "increment_run_s": round(run_s, 2),
        "increment_peak_rss_mb": round(sampler.peak(start) / 2**20),
        "stages": stages,
    }


def markdown(result: dict) -> str:
    lines = [
        f"### a {result['share']:.0%} batch at scale {result['scale']} (seed {result['seed']})",
        "",
        f"The increment adds {result['increment_orders']:,} of {result['total_orders']:,} orders. "
        f"`cloudsword run` on it: **{result['increment_run_s']} s**, peak RSS "
        f"{result['increment_peak_rss_mb']} MiB, against {result['base_run_s']} s for the base "
        f"(every earlier batch from an empty home, same run): "
        f"{result['increment_run_s'] / result['base_run_s']:.0%}. "
        f"Reproduce: `.venv/bin/{result['command']}`.",
        "",
        "| stage | wall s | peak RSS MiB |",
        "|---|---:|---:|",
    ]
    lines += [f"| {s['stage']} | {s['wall_s']} | {s['peak_rss_mb']} |" for s in result["stages"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args(
        __doc__,
        ("--share", {"type": float, "default": 0.01, "help": "orders in the increment"}),
        ("--from-base", {"type": Path, "help": "copy this base home instead of building one"}),
    )
    measure_and_publish(
        args,
        f"incremental_{args.scale}",
        lambda home: measure(args.scale, args.seed, args.share, home, args.from_base),
        markdown,
    )


if __name__ == "__main__":
    main()
