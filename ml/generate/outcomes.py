"""Enforcement outcomes (the labels) and the takedowns they cause.

Investigations pick suspicious listings far more often (test purchases of reported listings,
rights holders checking cheap copies) but also clear genuine ones, discounters above all. A few
decisions are later overridden: a discounter wins an appeal, a ring's listing that passed one
test purchase is confirmed counterfeit after a raid. Confirmed counterfeits are taken down;
a won appeal puts the listing back up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.generate.listings import BLATANT, DISC, GEN, NEVER, SUBTLE, Listings
from ml.generate.population import DISCOUNTER, GENUINE, LONE, RING, Sellers
from ml.generate.timeline import DAY, END, HOUR, SPAN_DAYS, START, stream

OUTCOMES = ("counterfeit_confirmed", "genuine_confirmed")
CONFIRMED, CLEARED = 0, 1
SOURCES = ("test_purchase", "rights_holder_verification", "police_raid", "appeal")
TEST, RIGHTS, RAID, APPEAL = range(4)
REPORTERS = ("consumer", "rights_holder", "platform_patrol")
REASONS = ("counterfeit", "ip_infringement", "quality", "misleading", "other")


@dataclass(frozen=True)
class Outcomes:
    """Sorted by decision time; case refs number them in that order."""

    is_seller: np.ndarray
    entity: np.ndarray
    outcome: np.ndarray
    source: np.ndarray
    decided_at: np.ndarray
    #: the report that made someone order a test purchase: listing, time, reporter, reason
    tips: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def build_outcomes(seed: int, share: float, listings: Listings, sellers: Sellers) -> Outcomes:
    """Decide the outcomes; set ``listings.removed_at`` / ``reactivated_at`` accordingly."""
    rng = stream(seed, "outcomes")
    parts: list[tuple[np.ndarray, ...]] = []

    # Listing investigations, weighted toward what looks (and is) suspicious.
    n = listings.n
    cls = listings.cls
    eligible = np.flatnonzero(listings.created_at <= END - 10 * DAY)
    w = np.array([0.4, 0.3, 1.2, 5.0, 2.5])[cls[eligible]] * (1 + (listings.cue[eligible] >= 0))
    k = min(len(eligible), round(share * n))
    keys = rng.exponential(size=len(eligible)) / w
    chosen = np.sort(eligible[np.argpartition(keys, k - 1)[:k]]) if k else eligible[:0]
    created = listings.created_at[chosen]
    delay = (5 + rng.gamma(2.0, 8.0, len(chosen))) * DAY
    decided = np.minimum(
        created + delay.astype(np.int64),
        END - (rng.uniform(0.1, 3, len(chosen)) * DAY).astype(np.int64),
    )
    decided = np.maximum(decided, START + (rng.uniform(1, 10, len(chosen)) * DAY).astype(np.int64))
    decided = np.maximum(decided, created + HOUR)
    cf = cls[chosen] >= BLATANT
    ring_member = sellers.kind[listings.seller[chosen]] == RING
    u = rng.random(len(chosen))
    source = np.where(
        cf,
        np.select([u < 0.55, (u < 0.9) | ~ring_member], [TEST, RIGHTS], RAID),
        np.select([u < 0.7, u < 0.9], [TEST, RIGHTS], APPEAL),
    )
    outcome = np.where(cf, CONFIRMED, CLEARED)
    final = outcome.copy()
    final_at = decided.copy()

    # Wrong first decisions that a later one overrides (if it comes in time).
    second_at = decided + (rng.uniform(10, 40, len(chosen)) * DAY).astype(np.int64)
    in_time = second_at < END - HOUR
    wrongly_confirmed = ~cf & (rng.random(len(chosen)) < np.where(cls[chosen] == DISC, 0.25, 0.05))
    wrongly_cleared = cf & ring_member & (rng.random(len(chosen)) < 0.08)
    first_outcome = np.where(
        wrongly_confirmed, CONFIRMED, np.where(wrongly_cleared, CLEARED, outcome)
    )
    first_source = np.where(wrongly_confirmed, RIGHTS, np.where(wrongly_cleared, TEST, source))
    parts.append((np.zeros(len(chosen), bool), chosen, first_outcome, first_source, decided))
    fixed = (wrongly_confirmed | wrongly_cleared) & in_time
    parts.append(
        (
            np.zeros(int(fixed.sum()), bool),
            chosen[fixed],
            outcome[fixed],
            np.where(wrongly_confirmed[fixed], APPEAL, RAID),
            second_at[fixed],
        )
    )
    final = np.where(fixed | ~(wrongly_confirmed | wrongly_cleared), outcome, first_outcome)
    # Takedown after a confirmation; a won appeal re-activates the listing.
    confirmed_at = np.where(
        first_outcome == CONFIRMED,
        decided,
        np.where(fixed & (outcome == CONFIRMED), second_at, NEVER),
    )
    takedown = confirmed_at + (rng.uniform(0.05, 2, len(chosen)) * DAY).astype(np.int64)
    takedown = np.where((confirmed_at < NEVER) & (takedown < END), takedown, NEVER)
    listings.removed_at[chosen] = np.minimum(listings.removed_at[chosen], takedown)
    reactivate = wrongly_confirmed & fixed & (takedown < second_at)
    listings.reactivated_at[chosen[reactivate]] = second_at[reactivate] + HOUR
    del final, final_at

    # Test purchases follow a report: a consumer complaint or a platform patrol hit.
    tip = source == TEST
    lo = np.maximum(created[tip], START)
    tip_at = lo + (rng.random(int(tip.sum())) * np.maximum(decided[tip] - HOUR - lo, 0)).astype(
        np.int64
    )
    reporter = np.where(rng.random(len(tip_at)) < 0.6, 0, 2)
    reason = np.where(
        rng.random(len(tip_at)) < 0.6, 0, np.where(rng.random(len(tip_at)) < 0.5, 2, 3)
    )
    tips = (chosen[tip], tip_at, reporter, reason)

    parts.extend(_seller_outcomes(rng, listings, sellers))
    is_seller, entity, outcome_all, source_all, decided_all = (
        np.concatenate([p[i] for p in parts]) for i in range(5)
    )
    order = np.lexsort((entity, is_seller, decided_all))
    return Outcomes(
        is_seller=is_seller[order],
        entity=entity[order],
        outcome=outcome_all[order],
        source=source_all[order],
        decided_at=decided_all[order],
        tips=tips,
    )


def _seller_outcomes(
    rng: np.random.Generator, listings: Listings, sellers: Sellers
) -> list[tuple[np.ndarray, ...]]:
    parts = []
    kind = sellers.kind
    reg = sellers.registered_at

    def when(idx: np.ndarray) -> np.ndarray:
        lo = np.maximum(reg[idx] + 14 * DAY, START + 7 * DAY)
        return lo + (rng.random(len(idx)) * np.maximum(END - DAY - lo, 0)).astype(np.int64)

    # Police raids on some rings: every member that existed by then, and their listings go down.
    n_rings = len(sellers.rings)
    raided = rng.permutation(n_rings)[: max(1, round(0.35 * n_rings))]
    for r in np.sort(raided):
        raid_at = START + int(rng.uniform(0.45, 0.97) * SPAN_DAYS * DAY)
        members = sellers.rings[r][reg[sellers.rings[r]] <= raid_at - 14 * DAY]
        if len(members) == 0:
            continue
        parts.append(
            (
                np.ones(len(members), bool),
                members,
                np.full(len(members), CONFIRMED),
                np.full(len(members), RAID),
                np.full(len(members), raid_at, dtype=np.int64),
            )
        )
        rows = np.flatnonzero(np.isin(listings.seller, members) & (listings.created_at < raid_at))
        down = raid_at + (rng.uniform(0.1, 3, len(rows)) * DAY).astype(np.int64)
        down = np.where(down < END, down, NEVER)
        listings.removed_at[rows] = np.minimum(listings.removed_at[rows], down)

    eligible = reg < END - 30 * DAY
    picks = (
        (LONE, 0.2, CONFIRMED, TEST),
        (RING, 0.05, CONFIRMED, TEST),
        (DISCOUNTER, 0.15, CLEARED, APPEAL),
        (GENUINE, 0.015, CLEARED, RIGHTS),
    )
    for k, p, outcome, source in picks:
        idx = np.flatnonzero((kind == k) & eligible & (rng.random(len(kind)) < p))
        parts.append(
            (
                np.ones(len(idx), bool),
                idx,
                np.full(len(idx), outcome),
                np.full(len(idx), source),
                when(idx),
            )
        )
    return parts


assert GEN == 0 and SUBTLE == 4  # class order used by the weight tables above
