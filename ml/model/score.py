"""Scoring active listings and sellers with the champion model, incrementally, with reasons.

Only listings whose scoring input changed (or every listing, when the champion changed) are
scored again; the rest keep their row and ``scored_at`` (``ml/model/incremental.py``). Reasons
are computed only where someone reads them (``ml/model/explain.py``), and the booster runs
compiled when it builds (``ml/model/compiled.py``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from ml.model import incremental
from ml.model.champion import fast_margin, load_champion, model_key
from ml.model.compiled import Margin
from ml.model.config import CATEGORICALS, ModelConfig
from ml.model.data import LISTING_TABLE, feature_columns
from ml.model.explain import needs_reasons, reasons_for, watched_sellers
from ml.model.incremental import HIGH_RISK
from ml.model.pyfunc_model import CounterfeitModel
from ml.warehouse import connect

log = logging.getLogger(__name__)

__all__ = ["ScoringSummary", "load_champion", "score_listings"]


@dataclass
class ScoringSummary:
    n_listings: int
    """Active listings in ``listing_scores`` after the run."""
    n_sellers: int
    n_sellers_with_listings: int
    model_name: str
    model_version: str
    scored_at: datetime
    quantiles: dict[str, float]
    n_above_0_5: int
    top: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    model_seconds: float = 0.0
    """Time spent in the model alone (booster + calibration), for throughput."""
    n_rescored: int = 0
    """Listings scored in this run (new, changed, or all on a champion change)."""
    n_explained: int = 0
    """Of those, listings whose reasons were computed."""
    n_sellers_recomputed: int = 0
    full: bool = True
    """Everything was rescored (first run, or the champion/calibration/settings changed)."""
    predictor: str = "lightgbm"
    """What computed the margins: ``treecode`` or ``lleaves`` (compiled) or ``lightgbm``."""
    predictor_note: str = ""

    @property
    def listings_per_second(self) -> float:
        return self.n_rescored / self.model_seconds if self.model_seconds else float("nan")


def _select(con: duckdb.DuckDBPyConnection, model: CounterfeitModel) -> str:
    present = set(feature_columns(con, LISTING_TABLE))
    cols = [
        f'CAST("{f}" AS DOUBLE) AS "{f}"' if f in present else f'NULL::DOUBLE AS "{f}"'
        for f in model.features
    ]
    return (
        f"SELECT listing_id, seller_id, {', '.join(CATEGORICALS)}, {', '.join(cols)} "
        f"FROM {LISTING_TABLE} SEMI JOIN _todo USING (listing_id)"
    )


def _empty_scored() -> pa.Table:
    strings = {n: pa.array([], pa.string()) for n in ("listing_id", "seller_id", *CATEGORICALS)}
    return pa.table(
        {
            **strings,
            "counterfeit_score": pa.array([], pa.float64()),
            "top_reasons": pa.array([], pa.list_(pa.string())),
            "explained": pa.array([], pa.bool_()),
        }
    )


def _score_batches(
    con: duckdb.DuckDBPyConnection, model: CounterfeitModel, margin: Margin, config: ModelConfig
) -> tuple[pa.Table, float]:
    """Stream the listings to score as Arrow batches; score each with NumPy and explain the
    rows someone will read."""
    watched = watched_sellers(con)
    parts, model_seconds = [], 0.0
    reader = con.sql(_select(con, model)).to_arrow_reader(config.score_batch_rows)
    for batch in reader:
        x = model.matrix_from_arrow(batch)
        t0 = time.perf_counter()
        score = model.calibrate(margin(x))
        model_seconds += time.perf_counter() - t0
        seller_ids = batch.column("seller_id").cast(pa.string())
        need = needs_reasons(score, seller_ids, watched, config.reasons_min_score)
        reasons = reasons_for(model, x, need, config.reasons_top_n)
        parts.append(
            pa.table(
                {
                    "listing_id": batch.column("listing_id").cast(pa.string()),
                    "seller_id": seller_ids,
                    "brand": batch.column("brand").cast(pa.string()),
                    "category": batch.column("category").cast(pa.string()),
                    "counterfeit_score": pa.array(score, pa.float64()),
                    "top_reasons": pa.array(reasons, pa.list_(pa.string())),
                    "explained": pa.array(need, pa.bool_()),
                }
            )
        )
    return (pa.concat_tables(parts) if parts else _empty_scored()), model_seconds


def _summarise(con: duckdb.DuckDBPyConnection) -> dict:
    """The ScoringSummary fields that describe the tables after the run (all rows, not only
    the rescored ones)."""
    n, q50, q90, q99, mean, top_score, high = con.execute(
        "SELECT count(*), quantile_cont(counterfeit_score, 0.5), "
        "quantile_cont(counterfeit_score, 0.9), quantile_cont(counterfeit_score, 0.99), "
        "avg(counterfeit_score), max(counterfeit_score), "
        f"count(*) FILTER (WHERE counterfeit_score >= {HIGH_RISK}) FROM main.listing_scores"
    ).fetchone()
    quantiles = {"p50": q50, "p90": q90, "p99": q99, "mean": mean, "max": top_score} if n else {}
    n_sellers, n_with = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE n_listings_scored > 0) "
        "FROM main.seller_base_scores"
    ).fetchone()
    top = (
        con.execute(
            "SELECT listing_id, seller_id, brand, category, "
            "round(counterfeit_score, 4) AS score, top_reasons FROM main.listing_scores "
            "ORDER BY counterfeit_score DESC, listing_id LIMIT 10"
        )
        .df()
        .to_dict("records")
    )
    return {
        "n_listings": int(n),
        "n_sellers": int(n_sellers),
        "n_sellers_with_listings": int(n_with),
        "quantiles": {k: float(v) for k, v in quantiles.items()},
        "n_above_0_5": int(high),
        "top": [{**r, "top_reasons": list(r["top_reasons"])} for r in top],
    }


def score_listings(
    warehouse: Path, tracking_uri: str, scored_at: datetime, config: ModelConfig | None = None
) -> ScoringSummary:
    """Score new and changed active listings with ``models:/<name>@champion`` (all of them when
    the champion changed), drop listings no longer active, recompute the affected sellers, and
    write ``main.listing_scores``, ``main.seller_base_scores`` and the scoring state in one
    transaction."""
    config = config or ModelConfig()
    started = time.perf_counter()
    model, version = load_champion(tracking_uri, config.model_name)
    key = model_key(model, version, config)
    compiled = fast_margin(model, version, warehouse.parent, config)
    if compiled.margin is None:
        log.warning("scoring with LightGBM: %s", compiled.reason)
    margin = compiled.margin or model.margin
    with connect(warehouse) as con:
        con.execute("SET enable_progress_bar = false")
        full = incremental.plan(con, model.features, key, version)
        scored, model_seconds = _score_batches(con, model, margin, config)
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("scored_batch", scored)
            n_sellers_done = incremental.write(con, "scored_batch", full, key, version, scored_at)
            con.unregister("scored_batch")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        tables = _summarise(con)
    explained = scored.column("explained").to_numpy(zero_copy_only=False)
    return ScoringSummary(
        **tables,
        model_name=config.model_name,
        model_version=version,
        scored_at=scored_at,
        seconds=time.perf_counter() - started,
        model_seconds=model_seconds,
        n_rescored=scored.num_rows,
        n_explained=int(np.sum(explained)),
        n_sellers_recomputed=n_sellers_done,
        full=full,
        predictor=compiled.kind,
        predictor_note=compiled.reason,
    )
