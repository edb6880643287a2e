"""Wall time and peak resident memory (this process and its children) of one stage."""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psutil


def tree_rss() -> int:
    """Resident bytes of this process and all its descendants."""
    me = psutil.Process()
    total = 0
    for proc in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


@dataclass
class StageResult:
    stage: str
    wall_s: float = 0.0
    rows: int | None = None
    start_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        rate = round(self.rows / self.wall_s) if self.rows and self.wall_s else None
        return {
            "stage": self.stage,
            "wall_s": round(self.wall_s, 3),
            "rows": self.rows,
            "rows_per_s": rate,
            "start_rss_mb": round(self.start_rss_mb),
            "peak_rss_mb": round(self.peak_rss_mb),
            **self.extra,
        }


@contextlib.contextmanager
def stage(name: str, interval_s: float = 0.05) -> Iterator[StageResult]:
    """Time the block and sample the process tree's RSS every ``interval_s`` while it runs.

    Memory freed by earlier stages is collected first, but CPython and the allocator may keep
    some, so ``start_rss_mb`` is reported next to the peak.
    """
    gc.collect()
    result = StageResult(name, start_rss_mb=tree_rss() / 2**20)
    peak = [tree_rss()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval_s):
            peak[0] = max(peak[0], tree_rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.wall_s = time.perf_counter() - started
        done.set()
        sampler.join()
        result.peak_rss_mb = max(peak[0], tree_rss()) / 2**20
