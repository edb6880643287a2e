"""Scoring every active listing and every seller with the champion model, with reasons."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import mlflow
import numpy as np
import pyarrow as pa

from ml.model.config import CATEGORICALS, ModelConfig
from ml.model.data import INACTIVE_STATUSES, LISTING_TABLE, feature_columns
from ml.model.reasons import top_reasons
from ml.model.registry import CHAMPION, version_by_alias
from ml.model.tracking import tracking
from ml.warehouse import connect, table_exists

HIGH_RISK = 0.5
#: A seller's base risk combines its riskiest few listings (noisy-or), see SELLER_SQL.
SELLER_TOP_LISTINGS = 3

LISTING_DDL = """
CREATE OR REPLACE TABLE main.listing_scores (
    listing_id VARCHAR PRIMARY KEY, seller_id VARCHAR, brand VARCHAR, category VARCHAR,
    counterfeit_score DOUBLE, model_version VARCHAR, scored_at TIMESTAMP, top_reasons VARCHAR[])
"""
SELLER_DDL = """
CREATE OR REPLACE TABLE main.seller_base_scores (
    seller_id VARCHAR PRIMARY KEY, base_risk_score DOUBLE, n_listings_scored BIGINT,
    n_high_risk_listings BIGINT, max_listing_score DOUBLE, model_version VARCHAR,
    scored_at TIMESTAMP)
"""
# Base risk = 1 - prod(1 - p) over the seller's top listings: the chance that at least one of
# its riskiest listings is counterfeit (independence assumed). Top few only, so a large honest
# shop is not pushed up by many small scores. Sellers without active listings get 0.
SELLER_SQL = f"""
INSERT INTO main.seller_base_scores
WITH ranked AS (
    SELECT seller_id, counterfeit_score AS s,
           row_number() OVER (PARTITION BY seller_id ORDER BY counterfeit_score DESC) AS rn
    FROM main.listing_scores),
agg AS (
    SELECT seller_id, 1 - product(1 - s) FILTER (WHERE rn <= {SELLER_TOP_LISTINGS}) AS risk,
           count(*) AS n, count(*) FILTER (WHERE s >= {HIGH_RISK}) AS high, max(s) AS top
    FROM ranked GROUP BY seller_id),
sellers AS ({{sellers}})
SELECT s.seller_id, coalesce(a.risk, 0.0), coalesce(a.n, 0), coalesce(a.high, 0), a.top, ?, ?
FROM sellers s LEFT JOIN agg a USING (seller_id)
"""


@dataclass
class ScoringSummary:
    n_listings: int
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

    @property
    def listings_per_second(self) -> float:
        return self.n_listings / self.model_seconds if self.model_seconds else float("nan")


def load_champion(tracking_uri: str, model_name: str):
    """The champion pyfunc's Python model (booster, vocabularies, calibration) and its version."""
    with tracking(tracking_uri) as client:
        version = version_by_alias(client, model_name, CHAMPION)
        if version is None:
            raise LookupError(f"no {CHAMPION} for model {model_name!r}: train a model first")
        loaded = mlflow.pyfunc.load_model(f"models:/{model_name}@{CHAMPION}")
    return loaded.unwrap_python_model(), str(version.version)


def _select(con, model) -> str:
    present = set(feature_columns(con, LISTING_TABLE))
    cols = [
        f'CAST("{f}" AS DOUBLE) AS "{f}"' if f in present else f'NULL::DOUBLE AS "{f}"'
        for f in model.features
    ]
    inactive = ", ".join(f"'{s}'" for s in INACTIVE_STATUSES)
    return (
        f"SELECT listing_id, seller_id, {', '.join(CATEGORICALS)}, {', '.join(cols)} "
        f"FROM {LISTING_TABLE} WHERE coalesce(status, '') NOT IN ({inactive})"
    )


def _score_batches(con, model, config: ModelConfig) -> tuple[pa.Table, float]:
    """Stream Arrow batches from DuckDB; score and explain each batch with NumPy."""
    parts, model_seconds = [], 0.0
    reader = con.sql(_select(con, model)).to_arrow_reader(config.score_batch_rows)
    for batch in reader:
        x = model.matrix_from_arrow(batch)
        t0 = time.perf_counter()
        score = model.probability(x)
        model_seconds += time.perf_counter() - t0
        reasons = top_reasons(
            model.contributions(x), x, model.columns, model.vocab, config.reasons_top_n
        )
        parts.append(
            pa.table(
                {
                    "listing_id": batch.column("listing_id").cast(pa.string()),
                    "seller_id": batch.column("seller_id").cast(pa.string()),
                    "brand": batch.column("brand").cast(pa.string()),
                    "category": batch.column("category").cast(pa.string()),
                    "counterfeit_score": pa.array(score, pa.float64()),
                    "top_reasons": pa.array(reasons, pa.list_(pa.string())),
                }
            )
        )
    if not parts:
        empty = {n: pa.array([], pa.string()) for n in ("listing_id", "seller_id", *CATEGORICALS)}
        return pa.table(
            {
                **empty,
                "counterfeit_score": pa.array([], pa.float64()),
                "top_reasons": pa.array([], pa.list_(pa.string())),
            }
        ), 0.0
    return pa.concat_tables(parts), model_seconds


def score_listings(
    warehouse: Path, tracking_uri: str, scored_at: datetime, config: ModelConfig | None = None
) -> ScoringSummary:
    """Score every listing not taken down with ``models:/<name>@champion`` and write
    ``main.listing_scores`` and ``main.seller_base_scores`` in one transaction."""
    config = config or ModelConfig()
    started = time.perf_counter()
    model, version = load_champion(tracking_uri, config.model_name)
    with connect(warehouse) as con:
        con.execute("SET enable_progress_bar = false")
        scored, model_seconds = _score_batches(con, model, config)
        sellers = "SELECT seller_id FROM main.listing_features"
        if table_exists(con, "main", "seller_features"):
            sellers += " UNION SELECT seller_id FROM main.seller_features"
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(LISTING_DDL)
            con.register("scored_batch", scored)
            con.execute(
                "INSERT INTO main.listing_scores SELECT listing_id, seller_id, brand, category, "
                "counterfeit_score, ?, ?, top_reasons FROM scored_batch",
                [version, scored_at],
            )
            con.unregister("scored_batch")
            con.execute(SELLER_DDL)
            con.execute(SELLER_SQL.format(sellers=sellers), [version, scored_at])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
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
    scores = scored.column("counterfeit_score").to_numpy()
    quantiles: dict[str, float] = {}
    if len(scores):
        quantiles = {f"p{q}": float(np.quantile(scores, q / 100)) for q in (50, 90, 99)}
        quantiles |= {"mean": float(scores.mean()), "max": float(scores.max())}
    return ScoringSummary(
        n_listings=len(scores),
        n_sellers=int(n_sellers),
        n_sellers_with_listings=int(n_with),
        model_name=config.model_name,
        model_version=version,
        scored_at=scored_at,
        quantiles=quantiles,
        n_above_0_5=int((scores >= HIGH_RISK).sum()),
        top=[{**r, "top_reasons": list(r["top_reasons"])} for r in top],
        seconds=time.perf_counter() - started,
        model_seconds=model_seconds,
    )
