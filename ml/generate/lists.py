"""Ragged per-row lists of ints (a seller's devices, IPs, addresses...) in flat numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ragged:
    start: np.ndarray  # int64, one per row
    count: np.ndarray  # int64, one per row
    values: np.ndarray  # int64, flat

    @classmethod
    def from_lists(cls, lists: list[list[int]]) -> Ragged:
        count = np.array([len(x) for x in lists], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        flat = [v for x in lists for v in x]
        return cls(start, count, np.array(flat, dtype=np.int64))

    def pick(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One uniformly chosen value of each row's list; -1 where a list is empty."""
        count = self.count[rows]
        offset = self.start[rows] + np.minimum((u * count).astype(np.int64), count - 1)
        safe = np.clip(offset, 0, max(len(self.values) - 1, 0))
        values = self.values[safe] if len(self.values) else np.zeros(len(rows), np.int64)
        return np.where(count > 0, values, -1)

    def row(self, i: int) -> list[int]:
        s = int(self.start[i])
        return self.values[s : s + int(self.count[i])].tolist()
