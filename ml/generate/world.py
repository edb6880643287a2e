"""The whole synthetic marketplace's slow-moving state: brands, sellers, sources, listings,
buyers and enforcement decisions. Events (orders, reviews, logins...) are drawn per batch from
it in ``ml.generate.events``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ml.generate import text, vocab
from ml.generate.catalog import Brands, build_brands
from ml.generate.listings import Listings, build_listings
from ml.generate.outcomes import Outcomes, build_outcomes
from ml.generate.population import Sellers, build_sellers
from ml.generate.timeline import Scale, Windows, stream, windows

Progress = Callable[[str, int, int], None]


@dataclass
class World:
    scale: Scale
    seed: int
    windows: Windows
    brands: Brands
    sellers: Sellers
    listings: Listings
    outcomes: Outcomes
    buyer_city: np.ndarray
    seller_ids: pa.Array
    listing_ids: pa.Array
    city_names: pa.Array
    province_names: pa.Array

    @property
    def n_buyers(self) -> int:
        return len(self.buyer_city)


def build_world(scale: Scale, seed: int, progress: Progress | None = None) -> World:
    steps = 5

    def step(done: int) -> None:
        if progress:
            progress("world", done, steps)

    step(0)
    brands = build_brands(scale.brands, seed)
    n_buyers = max(2_000, scale.orders // 5)
    step(1)
    sellers = build_sellers(seed, scale.sellers, brands, n_buyers, scale.brands, scale.hubs)
    step(2)
    listings = build_listings(seed, scale.listings, sellers, brands)
    step(3)
    outcomes = build_outcomes(seed, scale.listing_outcome_share, listings, sellers)
    rng = stream(seed, "buyers")
    weights = np.array([c[7] for c in vocab.CITIES], dtype=np.float64)
    buyer_city = rng.choice(len(vocab.CITIES), size=n_buyers, p=weights / weights.sum())
    step(4)
    world = World(
        scale=scale,
        seed=seed,
        windows=windows(scale.batches),
        brands=brands,
        sellers=sellers,
        listings=listings,
        outcomes=outcomes,
        buyer_city=buyer_city,
        seller_ids=text.ids("S", np.arange(1, sellers.n + 1), 7),
        listing_ids=listings.listing_ids,
        city_names=pa.array([c[1] for c in vocab.CITIES]),
        province_names=pa.array([c[0] for c in vocab.CITIES]),
    )
    step(5)
    return world
