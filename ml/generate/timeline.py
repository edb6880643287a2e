"""Scales, the fixed calendar the synthetic marketplace lives in, and seeded random streams."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

DAY = 86_400
HOUR = 3_600
#: Fixed calendar time: nothing depends on the wall clock.
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
SPAN_DAYS = 182
END = START + SPAN_DAYS * DAY


@dataclass(frozen=True)
class Scale:
    name: str
    brands: int
    sellers: int
    listings: int
    orders: int
    batches: int
    #: Share of listings that get an enforcement outcome (labels). Tiny needs a high share so
    #: a time-split train/test has enough labels at all.
    listing_outcome_share: float
    hubs: int


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("tiny", 30, 150, 1_000, 10_000, 4, 0.15, 1),
        Scale("small", 60, 2_000, 20_000, 200_000, 6, 0.06, 2),
        Scale("medium", 100, 10_000, 100_000, 1_000_000, 8, 0.05, 3),
        Scale("large", 200, 100_000, 1_000_000, 10_000_000, 10, 0.04, 5),
    )
}


def stream(seed: int, *labels: str | int) -> np.random.Generator:
    """An independent random stream per (seed, purpose): stages never share state, so changing
    how one stage draws numbers leaves the others' output unchanged."""
    key = tuple(zlib.crc32(str(label).encode()) for label in labels)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


@dataclass(frozen=True)
class Windows:
    """Batch time windows: batch ``i`` covers ``[bounds[i], bounds[i + 1])``; batch 0 also
    carries everything from before ``START`` (the marketplace's history)."""

    bounds: np.ndarray  # int64 epoch seconds, len = batches + 1
    batch_ids: tuple[str, ...]

    def batch_of(self, seconds: np.ndarray) -> np.ndarray:
        """Batch index of each time (times before START go to batch 0)."""
        idx = np.searchsorted(self.bounds, seconds, side="right") - 1
        return np.clip(idx, 0, len(self.batch_ids) - 1)

    def start(self, batch: int) -> int:
        return int(self.bounds[batch]) if batch > 0 else -(2**62)

    def end(self, batch: int) -> int:
        return int(self.bounds[batch + 1])


def windows(n_batches: int) -> Windows:
    days = [round(SPAN_DAYS * i / n_batches) for i in range(n_batches + 1)]
    bounds = np.array([START + d * DAY for d in days], dtype=np.int64)
    origin = datetime(2026, 1, 1)
    # The id is the last day a batch covers: lexical order is time order.
    ids = tuple((origin + timedelta(days=d - 1)).date().isoformat() for d in days[1:])
    return Windows(bounds, ids)
