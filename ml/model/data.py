"""Reading labelled and current listings from the warehouse, and the time-based split."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ml.model.config import CATEGORICALS, FEATURE_PREFIXES
from ml.warehouse import connect, table_exists

TRAINING_TABLE = "main.training_set"
LISTING_TABLE = "main.listing_features"
#: Listings in these states are not scored: they are already taken down.
INACTIVE_STATUSES = ("removed",)


def feature_columns(
    con: duckdb.DuckDBPyConnection, table: str, only: tuple[str, ...] = ()
) -> list[str]:
    """Every numeric feature column of ``table`` (by family prefix), in table order."""
    schema, name = table.split(".")
    cols = [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
    ]
    feats = [c for c in cols if c.startswith(FEATURE_PREFIXES)]
    if only:
        missing = sorted(set(only) - set(feats))
        if missing:
            raise ValueError(f"{table} has no feature column(s) {missing}")
        feats = [c for c in feats if c in only]
    return feats


def feature_select(features: list[str]) -> str:
    """SELECT list casting every feature to DOUBLE so all batches share one numeric type."""
    return ", ".join(f'CAST("{f}" AS DOUBLE) AS "{f}"' for f in features)


def load_training_set(warehouse: Path, only: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list]:
    """All labelled listings, oldest decision first, and the feature column names."""
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "main", "training_set"):
            raise FileNotFoundError(f"{warehouse} has no {TRAINING_TABLE}: run dbt build first")
        feats = feature_columns(con, TRAINING_TABLE, only)
        frame = con.execute(
            f"SELECT listing_id, seller_id, {', '.join(CATEGORICALS)}, label_decided_at, "
            f"CAST(label AS INTEGER) AS label, {feature_select(feats)} "
            f"FROM {TRAINING_TABLE} ORDER BY label_decided_at, listing_id"
        ).df()
    return frame, feats


def count_outcomes_after(warehouse: Path, cutoff: datetime | None) -> int:
    """Labelled listings decided strictly after ``cutoff`` (all of them when it is None)."""
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "main", "training_set"):
            return 0
        if cutoff is None:
            return int(con.execute(f"SELECT count(*) FROM {TRAINING_TABLE}").fetchone()[0])
        return int(
            con.execute(
                f"SELECT count(*) FROM {TRAINING_TABLE} WHERE label_decided_at > ?", [cutoff]
            ).fetchone()[0]
        )


@dataclass
class TimeSplit:
    """Oldest outcomes train, the next validate (early stopping, calibration), newest test."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame

    @property
    def train_cutoff(self) -> datetime:
        return self.train["label_decided_at"].max().to_pydatetime()

    @property
    def data_cutoff(self) -> datetime:
        return self.test["label_decided_at"].max().to_pydatetime()

    @property
    def test_start(self) -> datetime:
        return self.test["label_decided_at"].min().to_pydatetime()


def _boundary(times: np.ndarray, index: int) -> int:
    # Move the cut past equal timestamps so one instant never sits on both sides of it.
    while 0 < index < len(times) and times[index] == times[index - 1]:
        index += 1
    return index


def time_split(frame: pd.DataFrame, valid_fraction: float, test_fraction: float) -> TimeSplit:
    """Split by ``label_decided_at``: every train label is older than every valid/test label."""
    ordered = frame.sort_values(["label_decided_at", "listing_id"], kind="stable")
    ordered = ordered.reset_index(drop=True)
    times = ordered["label_decided_at"].to_numpy()
    n = len(ordered)
    valid_at = _boundary(times, int(round(n * (1 - valid_fraction - test_fraction))))
    test_at = _boundary(times, max(valid_at, int(round(n * (1 - test_fraction)))))
    parts = ordered.iloc[:valid_at], ordered.iloc[valid_at:test_at], ordered.iloc[test_at:]
    split = TimeSplit(*parts)
    for name, part in (("train", split.train), ("valid", split.valid), ("test", split.test)):
        if part.empty or part["label"].nunique() < 2:
            raise ValueError(
                f"too few labelled outcomes for a time split: the {name} window has "
                f"{len(part)} rows and {part['label'].nunique()} class(es) "
                f"({n} labelled listings in all)"
            )
    return split


def earlier_model_versions(warehouse: Path) -> list[str]:
    """Model versions whose scores are in the warehouse. With no champion in the registry they
    mean the MLflow store was deleted or replaced: a new model would start a new history."""
    if not warehouse.exists():
        return []
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "main", "listing_scores"):
            return []
        rows = con.execute(
            "SELECT DISTINCT model_version FROM main.listing_scores "
            "WHERE model_version IS NOT NULL AND model_version NOT LIKE 'stand-in%' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]
