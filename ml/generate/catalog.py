"""Brands: names, categories, reference prices, rights holders and their stock photos."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.generate import vocab
from ml.generate.timeline import stream

N_CATEGORIES = len(vocab.CATEGORIES)
CATEGORY_NAMES: tuple[str, ...] = tuple(c[0] for c in vocab.CATEGORIES)
#: How attractive each category is to counterfeiters (same order as CATEGORIES).
COUNTERFEIT_APPEAL = np.array([c[5] for c in vocab.CATEGORIES], dtype=np.float64)
GENUINE_WEIGHT = np.array(vocab.CATEGORY_WEIGHTS, dtype=np.float64)


@dataclass(frozen=True)
class Brands:
    name: list[str]
    category: np.ndarray  # int index into CATEGORY_NAMES
    reference_price: np.ndarray  # CNY
    rights_holder: list[str]
    popularity: np.ndarray
    #: The brand's official product photos; resellers (and thieves) reuse them.
    stock_phash: np.ndarray  # (n, 3) uint64

    @property
    def n(self) -> int:
        return len(self.name)

    def in_category(self, category: int) -> np.ndarray:
        return np.flatnonzero(self.category == category)


def build_brands(n: int, seed: int) -> Brands:
    rng = stream(seed, "brands")
    combos = [p + s for p in vocab.BRAND_PREFIXES for s in vocab.BRAND_SUFFIXES]
    order = rng.permutation(len(combos))
    names = [combos[i] for i in order[:n]]
    # Every category gets at least one brand; the rest follow how common the category is.
    category = np.concatenate(
        [
            rng.permutation(N_CATEGORIES),
            rng.choice(
                N_CATEGORIES, size=n - N_CATEGORIES, p=GENUINE_WEIGHT / GENUINE_WEIGHT.sum()
            ),
        ]
    )[:n]
    lo = np.array([vocab.CATEGORIES[c][1][0] for c in category])
    hi = np.array([vocab.CATEGORIES[c][1][1] for c in category])
    price = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    # Prices end in 9, as shops print them.
    reference_price = np.maximum(np.round(price / 10) * 10 - 1, 9).astype(np.float64)
    holders: list[str] = []
    for i, name in enumerate(names):
        if i >= 3 and rng.random() < 0.2:
            # Some rights holders own several brands (a fashion group).
            holders.append(holders[int(rng.integers(i))])
        else:
            suffix = vocab.HOLDER_SUFFIXES[rng.integers(len(vocab.HOLDER_SUFFIXES))]
            holders.append(f"{name} {suffix}")
    popularity = rng.lognormal(0.0, 1.0, size=n)
    stock = rng.integers(0, 2**64, size=(n, 3), dtype=np.uint64)
    return Brands(names, category, reference_price, holders, popularity, stock)
