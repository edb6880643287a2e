"""Listings: which seller, what it claims to be, price, wording, photo hash, where it ships from.

Kept as numpy columns for the whole run (1M rows at scale large); the strings (titles,
descriptions) are only assembled per batch, for the rows that batch carries.

Counterfeit cues are deliberately partial: a "blatant" counterfeit is cheap and often says so
("1:1", "r3plica"), a "subtle" one prices near the reference and reads like a genuine listing,
while discounters are cheap too and genuine listings also claim "100% authentic".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ml.generate import text, vocab
from ml.generate.catalog import CATEGORY_NAMES, Brands
from ml.generate.lists import Ragged
from ml.generate.population import AUTHORIZED, DISCOUNTER, LONE, RING, Sellers
from ml.generate.timeline import DAY, END, HOUR, START, stream

GEN, AUTH, DISC, BLATANT, SUBTLE = range(5)  # listing classes
NEVER = np.iinfo(np.int64).max // 2

PRODUCTS = [p for c in vocab.CATEGORIES for p in c[2]]
PRODUCT_START = np.cumsum([0] + [len(c[2]) for c in vocab.CATEGORIES])[:-1]
PRODUCT_COUNT = np.array([len(c[2]) for c in vocab.CATEGORIES])
ATTRIBUTES = [a for c in vocab.CATEGORIES for a in c[4]]
ATTRIBUTE_START = np.cumsum([0] + [len(c[4]) for c in vocab.CATEGORIES])[:-1]
ATTRIBUTE_COUNT = np.array([len(c[4]) for c in vocab.CATEGORIES])
NOUNS = [c[3] for c in vocab.CATEGORIES]
CUES = list(vocab.CUES_EXPLICIT + vocab.CUES_OBFUSCATED + vocab.CUES_INNOCENT)
_CUE_GROUPS = (
    (0, len(vocab.CUES_EXPLICIT)),
    (len(vocab.CUES_EXPLICIT), len(vocab.CUES_OBFUSCATED)),
    (len(vocab.CUES_EXPLICIT) + len(vocab.CUES_OBFUSCATED), len(vocab.CUES_INNOCENT)),
)
# P(explicit, obfuscated, innocent-sounding) cue in the title, per listing class.
_CUE_P = np.array([[0, 0, 0.03], [0, 0, 0.01], [0, 0, 0.15], [0.35, 0.2, 0.05], [0.03, 0.04, 0.05]])
_CLAIM_P = np.array([0.12, 0.3, 0.15, 0.08, 0.25])
DESCRIPTIONS = list(
    vocab.DESCRIPTIONS_GENUINE
    + vocab.DESCRIPTIONS_AUTHORIZED
    + vocab.DESCRIPTIONS_DISCOUNT
    + vocab.DESCRIPTIONS_COUNTERFEIT
)
_DESC_GROUPS = {
    "genuine": (0, len(vocab.DESCRIPTIONS_GENUINE)),
    "authorized": (len(vocab.DESCRIPTIONS_GENUINE), len(vocab.DESCRIPTIONS_AUTHORIZED)),
    "discount": (
        len(vocab.DESCRIPTIONS_GENUINE) + len(vocab.DESCRIPTIONS_AUTHORIZED),
        len(vocab.DESCRIPTIONS_DISCOUNT),
    ),
    "blatant": (len(DESCRIPTIONS) - len(vocab.DESCRIPTIONS_COUNTERFEIT), 5),
    "subtle": (len(DESCRIPTIONS) - 2, 2),
}


@dataclass
class Listings:
    seller: np.ndarray
    created_at: np.ndarray
    cls: np.ndarray
    category: np.ndarray
    brand: np.ndarray  # -1 = no brand claimed
    price: np.ndarray  # current price; later batches change some
    product: np.ndarray
    attribute: np.ndarray
    cue: np.ndarray
    claim: np.ndarray
    description: np.ndarray
    phash: np.ndarray  # uint64
    phash_null: np.ndarray
    ship_address: np.ndarray  # index into sellers.addresses, -1 = null
    ship_city: np.ndarray
    popularity: np.ndarray
    shill_burst: np.ndarray  # size of a fake-review burst right after creation (0 = none)
    removed_at: np.ndarray
    reactivated_at: np.ndarray

    @property
    def n(self) -> int:
        return len(self.seller)

    @property
    def is_counterfeit(self) -> np.ndarray:
        return self.cls >= BLATANT

    @property
    def listing_ids(self) -> pa.Array:
        return text.ids("L", np.arange(1, self.n + 1), 8)

    def status_at(self, t: int) -> np.ndarray:
        """True where the listing is removed at time ``t``."""
        return (self.removed_at <= t) & (self.reactivated_at > t)

    def titles(self, rows: np.ndarray, brands: Brands) -> pa.Array:
        brand = text.pick(brands.name, self.brand[rows])
        return text.join_words(
            brand,
            text.pick(PRODUCTS, self.product[rows]),
            text.pick(NOUNS, self.category[rows]),
            text.pick(ATTRIBUTES, self.attribute[rows]),
            text.pick(CUES, self.cue[rows]),
            text.pick(vocab.AUTHENTIC_CLAIMS, self.claim[rows]),
        )


def _flips(rng: np.random.Generator, values: np.ndarray, p: float) -> np.ndarray:
    """Flip up to three random bits: a re-encoded or cropped copy of the same photo."""
    out = values.copy()
    for _ in range(3):
        bit = rng.integers(0, 64, size=len(out)).astype(np.uint64)
        out = np.where(rng.random(len(out)) < p, out ^ (np.uint64(1) << bit), out)
    return out


def _within(rng: np.random.Generator, start: np.ndarray, count: np.ndarray) -> np.ndarray:
    return start + np.minimum((rng.random(len(start)) * count).astype(np.int64), count - 1)


def build_listings(seed: int, n_listings: int, sellers: Sellers, brands: Brands) -> Listings:
    rng = stream(seed, "listings")
    n = sellers.n
    kind = sellers.kind
    first = np.maximum(sellers.registered_at + HOUR, START - 120 * DAY)
    first = np.minimum(first, END - 2 * DAY)
    active = (END - first) / (END - (START - 120 * DAY))
    weight = rng.lognormal(0, 1, n) * np.array([1.0, 1.5, 1.5, 2.0, 1.6])[kind] * active
    counts = 1 + rng.multinomial(max(n_listings - n, 0), weight / weight.sum())
    seller = np.repeat(np.arange(n), counts)
    m = len(seller)
    lo = first[seller]
    created = lo + (rng.random(m) * (END - HOUR - lo)).astype(np.int64)
    order = np.lexsort((seller, created))  # listing ids follow creation time
    seller, created = seller[order], created[order]
    skind = kind[seller]

    cls = np.select([skind == AUTHORIZED, skind == DISCOUNTER], [AUTH, DISC], GEN)
    cf_share = np.select([skind == RING, skind == LONE], [0.8, 0.7], 0.0)
    subtle_share = np.where(skind == RING, 0.3, 0.2)
    is_cf = rng.random(m) < cf_share
    cls = np.where(is_cf, np.where(rng.random(m) < subtle_share, SUBTLE, BLATANT), cls)

    cat = sellers.category[seller]
    category = np.where((cat[:, 1] >= 0) & (rng.random(m) < 0.3), cat[:, 1], cat[:, 0])
    brand = _brands(rng, cls, category, seller, sellers, brands)

    ref = np.where(
        brand >= 0,
        brands.reference_price[np.maximum(brand, 0)],
        np.array([np.sqrt(c[1][0] * c[1][1]) * 0.35 for c in vocab.CATEGORIES])[category],
    )
    factor = np.select(
        [cls == GEN, cls == AUTH, cls == DISC, cls == BLATANT],
        [
            np.where(rng.random(m) < 0.06, rng.uniform(0.55, 0.8, m), rng.lognormal(-0.03, 0.1, m)),
            rng.lognormal(0, 0.05, m),
            rng.uniform(0.4, 0.75, m),
            np.where(rng.random(m) < 0.7, rng.uniform(0.05, 0.3, m), rng.uniform(0.3, 0.65, m)),
        ],
        rng.uniform(0.72, 1.05, m),
    )
    raw = ref * rng.lognormal(0, 0.25, m) * factor
    price = np.maximum(np.round(raw) - np.where(rng.random(m) < 0.4, 0.01, 0.0), 1.0)

    product = _within(rng, PRODUCT_START[category], PRODUCT_COUNT[category])
    attribute = np.where(
        rng.random(m) < 0.3, -1, _within(rng, ATTRIBUTE_START[category], ATTRIBUTE_COUNT[category])
    )
    cue = np.full(m, -1, dtype=np.int64)
    u = rng.random(m)
    acc = np.zeros(m)
    for g, (start, count) in enumerate(_CUE_GROUPS):
        hit = (u >= acc) & (u < acc + _CUE_P[cls, g])
        cue = np.where(hit, start + rng.integers(count, size=m), cue)
        acc = acc + _CUE_P[cls, g]
    claim = np.where(
        rng.random(m) < _CLAIM_P[cls], rng.integers(len(vocab.AUTHENTIC_CLAIMS), size=m), -1
    )
    description = _descriptions(rng, cls)

    phash, phash_null = _phashes(rng, cls, brand, seller, sellers, brands)
    ship_address, ship_city = _ship_from(rng, seller, sellers)
    popularity = rng.lognormal(0, 1, m) * np.array([1.0, 1.3, 1.5, 1.6, 1.0])[cls]
    burst_p = np.select(
        [cls == BLATANT, cls == SUBTLE], [np.where(skind == RING, 0.4, 0.25), 0.1], 0.02
    )
    shill = np.where((rng.random(m) < burst_p) & (created >= START), rng.integers(4, 13, size=m), 0)
    # Shops take some listings down themselves.
    removed = np.where(
        rng.random(m) < 0.05, created + (rng.uniform(5, 250, m) * DAY).astype(np.int64), NEVER
    )
    removed = np.where(removed >= END, NEVER, removed)
    return Listings(
        seller=seller,
        created_at=created,
        cls=cls.astype(np.int8),
        category=category,
        brand=brand,
        price=price,
        product=product,
        attribute=attribute,
        cue=cue,
        claim=claim,
        description=description,
        phash=phash,
        phash_null=phash_null,
        ship_address=ship_address,
        ship_city=ship_city,
        popularity=popularity,
        shill_burst=shill,
        removed_at=removed,
        reactivated_at=np.full(m, NEVER, dtype=np.int64),
    )


def _brands(
    rng: np.random.Generator,
    cls: np.ndarray,
    category: np.ndarray,
    seller: np.ndarray,
    sellers: Sellers,
    brands: Brands,
) -> np.ndarray:
    m = len(cls)
    brand = np.full(m, -1, dtype=np.int64)
    u = rng.random(m)
    for c in range(len(CATEGORY_NAMES)):
        pool = brands.in_category(c)
        for counterfeit in (False, True):
            rows = np.flatnonzero((category == c) & ((cls >= BLATANT) == counterfeit))
            if len(rows) == 0 or len(pool) == 0:
                continue
            w = brands.popularity[pool]
            if counterfeit:  # counterfeiters copy the famous, expensive brands
                w = w**1.5 * brands.reference_price[pool] ** 0.3
            cum = np.cumsum(w / w.sum())
            brand[rows] = pool[np.minimum(np.searchsorted(cum, u[rows]), len(pool) - 1)]
    auth = Ragged.from_lists(sellers.auth_brands)
    own = auth.pick(seller, rng.random(m))
    brand = np.where((cls == AUTH) & (own >= 0) & (rng.random(m) < 0.85), own, brand)
    no_brand = rng.random(m) < np.array([0.12, 0.0, 0.05, 0.03, 0.02])[cls]
    return np.where(no_brand, -1, brand)


def _descriptions(rng: np.random.Generator, cls: np.ndarray) -> np.ndarray:
    m = len(cls)

    def group(name: str) -> np.ndarray:
        start, count = _DESC_GROUPS[name]
        return start + rng.integers(count, size=m)

    genuine = group("genuine")
    own = np.select(
        [cls == AUTH, cls == DISC, cls == BLATANT, cls == SUBTLE],
        [group("authorized"), group("discount"), group("blatant"), group("subtle")],
        genuine,
    )
    typical = rng.random(m) < np.array([1.0, 0.8, 0.8, 0.85, 0.4])[cls]
    return np.where(rng.random(m) < 0.25, -1, np.where(typical, own, genuine))


def _phashes(
    rng: np.random.Generator,
    cls: np.ndarray,
    brand: np.ndarray,
    seller: np.ndarray,
    sellers: Sellers,
    brands: Brands,
) -> tuple[np.ndarray, np.ndarray]:
    m = len(cls)
    phash = rng.integers(0, 2**64, size=m, dtype=np.uint64)
    # Counterfeiters use their supplier's catalogue photos, shared across its customers.
    supplier = sellers.suppliers[seller, 0]
    catalogue = sellers.sources.catalogue[supplier, rng.integers(0, 24, size=m)]
    use_catalogue = rng.random(m) < np.select([cls == BLATANT, cls == SUBTLE], [0.55, 0.25], 0.0)
    phash = np.where(use_catalogue, _flips(rng, catalogue, 0.4), phash)
    # Resellers (and some thieves) use the brand's stock photos.
    stock = brands.stock_phash[np.maximum(brand, 0), rng.integers(0, 3, size=m)]
    use_stock = (
        (brand >= 0) & ~use_catalogue & (rng.random(m) < np.array([0.04, 0.3, 0.1, 0.1, 0.1])[cls])
    )
    phash = np.where(use_stock, _flips(rng, stock, 0.1), phash)
    return phash, rng.random(m) < 0.04


def _ship_from(
    rng: np.random.Generator, seller: np.ndarray, sellers: Sellers
) -> tuple[np.ndarray, np.ndarray]:
    m = len(seller)
    u = rng.random(m)
    ring_addr = sellers.ring_addresses.pick(seller, rng.random(m))
    hub = sellers.hub_address[seller]
    own = np.where(rng.random(m) < 0.25, -1, sellers.own_address[seller])
    address = np.select(
        [(ring_addr >= 0) & (u < 0.7), (hub >= 0) & (u < 0.3)], [ring_addr, hub], own
    )
    city = np.where(
        address >= 0, sellers.address_city[np.maximum(address, 0)], sellers.city[seller]
    )
    return address, city
