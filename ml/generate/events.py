"""Per-batch rows of every contract table, drawn from the world.

``BatchEvents.table(name, batch)`` yields the rows of one table for one batch as column chunks
(numpy or Arrow arrays; timestamps as int64 epoch seconds, the writer types them). Tables must be
asked for in ``INGEST_ORDER`` and batches in order: a batch's phone and price changes happen before
its listings and orders are drawn, and reviews of a batch's orders may land in later batches.
Big tables are vectorized; nothing loops over orders, reviews or logins in Python.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from ml.generate import text, vocab
from ml.generate.catalog import CATEGORY_NAMES
from ml.generate.listings import AUTH, BLATANT, DESCRIPTIONS, DISC, GEN, NEVER, SUBTLE
from ml.generate.outcomes import OUTCOMES, REASONS, REPORTERS, SOURCES
from ml.generate.population import RING
from ml.generate.sources import DISTRIBUTOR, HUB
from ml.generate.timeline import DAY, END, HOUR, START, stream
from ml.generate.world import World

Columns = dict[str, np.ndarray | pa.Array]
CHUNK_ROWS = 500_000

REVIEW_TEXTS = list(
    vocab.REVIEW_SHILL
    + vocab.REVIEW_POSITIVE
    + vocab.REVIEW_NEUTRAL
    + vocab.REVIEW_NEGATIVE_GENUINE
    + vocab.REVIEW_NEGATIVE_COUNTERFEIT
)
_R_OFFSETS = np.cumsum(
    [0]
    + [
        len(x)
        for x in (
            vocab.REVIEW_SHILL,
            vocab.REVIEW_POSITIVE,
            vocab.REVIEW_NEUTRAL,
            vocab.REVIEW_NEGATIVE_GENUINE,
        )
    ]
)
SHILL_T, POSITIVE_T, NEUTRAL_T, NEG_GENUINE_T, NEG_FAKE_T = _R_OFFSETS
# Rating probabilities (1..5 stars) per listing class; row 5 = a blatant fake after two weeks.
_RATING_P = np.array(
    [
        [0.03, 0.03, 0.09, 0.25, 0.60],
        [0.03, 0.02, 0.08, 0.25, 0.62],
        [0.06, 0.06, 0.15, 0.28, 0.45],
        [0.10, 0.05, 0.10, 0.25, 0.50],
        [0.07, 0.05, 0.13, 0.27, 0.48],
        [0.30, 0.15, 0.15, 0.15, 0.25],
    ]
)
_RATING_CUM = np.cumsum(_RATING_P, axis=1)
REPORT_TEXTS = [t for _, texts in vocab.REPORT_TEXTS for t in texts]
_REPORT_TEXT_START = np.cumsum([0] + [len(t) for _, t in vocab.REPORT_TEXTS])[:-1]
_REPORT_TEXT_COUNT = np.array([len(t) for _, t in vocab.REPORT_TEXTS])
assert tuple(r for r, _ in vocab.REPORT_TEXTS) == REASONS
# Report rates per listing-day, per reporter type (rows) and listing class (columns).
_REPORT_RATE = np.array(
    [
        [0.0003, 0.0002, 0.0012, 0.0025, 0.0008],  # consumer
        [0.00008, 0.00003, 0.0006, 0.002, 0.0007],  # rights_holder
        [0.00005, 0.00005, 0.00005, 0.00005, 0.00005],  # platform_patrol (plus wording hits)
    ]
)
# Reason probabilities (REASONS order) per reporter type: consumer rows per class group.
_REASON_P = {
    ("consumer", "fake"): [0.5, 0.0, 0.3, 0.15, 0.05],
    ("consumer", "discount"): [0.2, 0.0, 0.4, 0.35, 0.05],
    ("consumer", "genuine"): [0.12, 0.0, 0.45, 0.25, 0.18],
    ("rights_holder", "any"): [0.6, 0.4, 0.0, 0.0, 0.0],
    ("platform_patrol", "any"): [0.5, 0.2, 0.0, 0.3, 0.0],
    ("seller", "any"): [0.4, 0.0, 0.1, 0.2, 0.3],
}
_LOGIN_RATE = np.array([0.3, 0.4, 0.35, 0.6, 0.5])  # per seller-day, by seller kind
_REFUND_P = np.array([0.03, 0.02, 0.06, 0.14, 0.06])  # by listing class
_SELLER_REPORT_RATE = np.array([0.0005, 0.0003, 0.0015, 0.004, 0.004])


def _choose(rng: np.random.Generator, p: list[float], size: int) -> np.ndarray:
    return rng.choice(len(p), size=size, p=np.array(p) / sum(p))


def _chunks(columns: Columns, n: int) -> Iterator[Columns]:
    for lo in range(0, n, CHUNK_ROWS):
        yield {k: v[lo : lo + CHUNK_ROWS] for k, v in columns.items()}


class BatchEvents:
    def __init__(self, world: World) -> None:
        self.w = world
        self.next_id = {"order": 1, "review": 1, "report": 1, "shipment": 1}
        self.pending_reviews: dict[int, list[dict[str, np.ndarray]]] = {}
        self.batch_orders: dict[str, np.ndarray] | None = None
        rng = stream(world.seed, "buyer-order")
        self.buyer_perm = rng.permutation(world.n_buyers)
        s = world.sellers
        self.device_names = pa.array(s.device_names, pa.string())
        self.ip_names = pa.array(s.ip_names, pa.string())
        self.addresses = pa.array(s.addresses, pa.string())
        src = s.sources
        self.v_name = pa.array(src.variant_name, pa.string())
        self.v_address = pa.array(src.variant_address, pa.string())
        self.v_phone = pa.array(src.variant_phone, pa.string())
        v_source = np.zeros(len(src.variant_address), dtype=np.int64)
        for i in range(src.n):
            v_source[src.variants.row(i)] = i
        self.variant_source = v_source
        #: how often each source spelling was used, for the truth files
        self.variant_shipments = np.zeros(len(src.variant_address), dtype=np.int64)

    def table(self, name: str, batch: int) -> Iterator[Columns]:
        return getattr(self, f"_{name}")(batch, stream(self.w.seed, "events", name, batch))

    # -- helpers ----------------------------------------------------------------------------

    def _window(self, b: int) -> tuple[int, int, int]:
        """(entity window start, event window start, window end) of batch ``b``."""
        ws = self.w.windows.start(b)
        return ws, max(ws, START), self.w.windows.end(b)

    def _ids(self, counter: str, prefix: str, n: int, width: int) -> pa.Array:
        first = self.next_id[counter]
        self.next_id[counter] = first + n
        return text.ids(prefix, np.arange(first, first + n), width)

    def _buyers(self, buyers: np.ndarray) -> Columns:
        city = self.w.buyer_city[buyers]
        return {
            "buyer_id": text.ids("B", buyers + 1, 8),
            "buyer_province": self.w.province_names.take(pa.array(city)),
            "buyer_city": self.w.city_names.take(pa.array(city)),
        }

    def _active(self, b: int, start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, ...]:
        """Overlap of each ``[start, stop)`` with batch ``b``'s event window, in days."""
        _, lo, hi = self._window(b)
        a = np.maximum(start, lo)
        e = np.minimum(stop, hi)
        days = np.clip(e - a, 0, None) / DAY
        return a, e, days

    # -- entity tables ----------------------------------------------------------------------

    def _brands(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        brands = self.w.brands
        if b == 0:
            rows = np.arange(brands.n)
        else:  # a rights holder revises a reference price now and then
            rows = np.sort(rng.choice(brands.n, size=1 + int(rng.random() < 0.5), replace=False))
            new = brands.reference_price[rows] * rng.uniform(0.95, 1.12, len(rows))
            brands.reference_price[rows] = np.maximum(np.round(new / 10) * 10 - 1, 9)
        yield {
            "brand": text.pick(brands.name, rows),
            "category": text.pick(CATEGORY_NAMES, brands.category[rows]),
            "reference_price": brands.reference_price[rows],
            "rights_holder": text.pick(brands.rights_holder, rows),
        }

    def _sellers(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        s = self.w.sellers
        ws, _, we = self._window(b)
        rows = np.flatnonzero(self.w.windows.batch_of(s.registered_at) == b)
        if b > 0:  # some shops change their phone number (rings more often)
            existing = np.flatnonzero(s.registered_at < ws)
            p = np.where(s.kind[existing] == RING, 0.05, 0.015)
            changed = existing[rng.random(len(existing)) < p]
            for i in changed.tolist():
                s.phone[i] = text.mobile(rng)
            rows = np.union1d(rows, changed)
        pick = rows.tolist()
        yield {
            "seller_id": self.w.seller_ids.take(pa.array(rows)),
            "shop_name": pa.array([s.shop_name[i] for i in pick], pa.string()),
            "registered_at": s.registered_at[rows],
            "province": self.w.province_names.take(pa.array(s.city[rows])),
            "city": self.w.city_names.take(pa.array(s.city[rows])),
            "business_license": pa.array([s.business_license[i] for i in pick], pa.string()),
            "phone": pa.array([s.phone[i] for i in pick], pa.string()),
            "email": pa.array([s.email[i] for i in pick], pa.string()),
            "id_document_hash": pa.array([s.id_document_hash[i] for i in pick], pa.string()),
        }

    def _brand_authorizations(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        brand, seller, since = self.w.sellers.auth_rows
        rows = np.flatnonzero(self.w.windows.batch_of(since) == b)
        rows = rows[np.lexsort((brand[rows], seller[rows], since[rows]))]
        yield {
            "brand": text.pick(self.w.brands.name, brand[rows]),
            "seller_id": self.w.seller_ids.take(pa.array(seller[rows])),
            "authorized_since": since[rows],
        }

    def _seller_payment_accounts(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        p = self.w.sellers.payments
        first = np.array(p.first_seen, dtype=np.int64)
        seller = np.array(p.seller, dtype=np.int64)
        rows = np.flatnonzero(self.w.windows.batch_of(first) == b)
        rows = rows[np.lexsort((rows, seller[rows], first[rows]))]
        pick = rows.tolist()
        yield {
            "seller_id": self.w.seller_ids.take(pa.array(seller[rows])),
            "account_type": pa.array([p.account_type[i] for i in pick], pa.string()),
            "account_ref": pa.array([p.ref[i] for i in pick], pa.string()),
            "bank_name": pa.array([p.bank[i] for i in pick], pa.string()),
            "holder_name": pa.array([p.holder[i] for i in pick], pa.string()),
            "first_seen_at": first[rows],
        }

    def _seller_logins(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        s = self.w.sellers
        a, e, days = self._active(b, s.registered_at, np.full(s.n, END))
        counts = rng.poisson(_LOGIN_RATE[s.kind] * days)
        seller = np.repeat(np.arange(s.n), counts)
        at = a[seller] + (rng.random(len(seller)) * (e - a)[seller]).astype(np.int64)
        # The key is (seller, device, ip, time): keep one login per seller and second.
        key = np.unique((seller << 32) | (at - START))
        seller, at = key >> 32, (key & 0xFFFFFFFF) + START
        order = np.lexsort((seller, at))
        seller, at = seller[order], at[order]
        m = len(seller)
        device = s.devices.pick(seller, rng.random(m))
        pool_ip = self.ip_names.take(pa.array(s.ips.pick(seller, rng.random(m))))
        mobile = text.ipv4(rng.integers(0x24000000, 0xDF000000, size=m, dtype=np.uint64))
        on_mobile = pa.array(rng.random(m) < 0.2)
        import pyarrow.compute as pc

        yield from _chunks(
            {
                "seller_id": self.w.seller_ids.take(pa.array(seller)),
                "device_id": self.device_names.take(pa.array(device)),
                "ip": pc.if_else(on_mobile, mobile, pool_ip),
                "logged_in_at": at,
            },
            m,
        )

    def _listings(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        lst = self.w.listings
        ws, _, we = self._window(b)
        batch_of = self.w.windows.batch_of
        changed = np.zeros(lst.n, dtype=bool)
        if b > 0:  # price changes on some older, live listings
            live = (lst.created_at < ws) & ~lst.status_at(ws)
            changed = live & (rng.random(lst.n) < 0.04)
            factor = rng.uniform(0.85, 1.1, int(changed.sum()))
            lst.price[changed] = np.maximum(np.round(lst.price[changed] * factor, 2), 1.0)
        moved = (batch_of(lst.removed_at) == b) & (lst.removed_at < NEVER)
        moved |= (batch_of(lst.reactivated_at) == b) & (lst.reactivated_at < NEVER)
        rows = np.flatnonzero((batch_of(lst.created_at) == b) | changed | moved)
        for lo in range(0, len(rows), CHUNK_ROWS):
            r = rows[lo : lo + CHUNK_ROWS]
            phash = text.hex16(lst.phash[r])
            phash = pa.array(phash.to_pylist(), pa.string()) if False else phash
            yield {
                "listing_id": self.w.listing_ids.take(pa.array(r)),
                "seller_id": self.w.seller_ids.take(pa.array(lst.seller[r])),
                "brand": text.pick(self.w.brands.name, lst.brand[r]),
                "category": text.pick(CATEGORY_NAMES, lst.category[r]),
                "title": lst.titles(r, self.w.brands),
                "description": text.pick(DESCRIPTIONS, lst.description[r]),
                "price": lst.price[r],
                "created_at": lst.created_at[r],
                "image_phash": _masked(phash, lst.phash_null[r]),
                "ship_from_city": self.w.city_names.take(pa.array(lst.ship_city[r])),
                "ship_from_address": text.pick(self.w.sellers.addresses, lst.ship_address[r]),
                "status": text.pick(("active", "removed"), lst.status_at(we).astype(np.int64)[r]),
            }

    # -- event tables -----------------------------------------------------------------------

    def _orders(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        w, lst = self.w, self.w.listings
        _, lo, we = self._window(b)
        # Organic demand: each listing's popularity times the days it is up in this batch.
        _, total_e, total_days = self._active_all()
        scale = (w.scale.orders * 0.97) / max(float((lst.popularity * total_days).sum()), 1.0)
        a, e, days = self._active(b, lst.created_at, np.minimum(lst.removed_at, END))
        counts = rng.poisson(lst.popularity * scale * days)
        listing = np.repeat(np.arange(lst.n), counts)
        paid = a[listing] + (rng.random(len(listing)) * (e - a)[listing]).astype(np.int64)
        u = rng.random(len(listing))
        buyer = self.buyer_perm[np.minimum((u**1.5 * w.n_buyers).astype(np.int64), w.n_buyers - 1)]
        # Fake-review bursts: the shop's own buyers order right after a listing goes up.
        burst = np.flatnonzero(
            (lst.shill_burst > 0) & (lst.created_at >= lo) & (lst.created_at < we)
        )
        s_listing = np.repeat(burst, lst.shill_burst[burst])
        s_paid = lst.created_at[s_listing] + (rng.random(len(s_listing)) * 4 * DAY).astype(np.int64)
        s_paid = np.minimum(s_paid, we - 1)
        s_buyer = w.sellers.shill_buyers.pick(lst.seller[s_listing], rng.random(len(s_listing)))
        listing = np.concatenate([listing, s_listing])
        paid = np.concatenate([paid, s_paid])
        buyer = np.concatenate([buyer, s_buyer])
        shill = np.concatenate(
            [np.zeros(len(paid) - len(s_paid), bool), np.ones(len(s_paid), bool)]
        )
        order = np.lexsort((buyer, listing, paid))
        listing, paid, buyer, shill = listing[order], paid[order], buyer[order], shill[order]
        m = len(listing)
        cls = lst.cls[listing]
        quantity = rng.geometric(0.75, m)
        bulk = (cls >= BLATANT) & (rng.random(m) < 0.03)
        quantity = np.where(bulk, quantity + rng.integers(4, 20, m), quantity)
        quantity = np.where(shill, 1, quantity)
        price = lst.price[listing]
        unit_price = np.where(shill, price, np.round(price * rng.uniform(0.9, 1.0, m), 2))
        unit_price = np.maximum(unit_price, 0.01)
        refund = ~shill & (rng.random(m) < _REFUND_P[cls])
        self.batch_orders = {"listing": listing, "paid": paid, "buyer": buyer, "shill": shill}
        order_ids = self._ids("order", "O", m, 10)
        for lo_ in range(0, m, CHUNK_ROWS):
            sl = slice(lo_, lo_ + CHUNK_ROWS)
            yield {
                "order_id": order_ids[sl],
                "listing_id": w.listing_ids.take(pa.array(listing[sl])),
                **self._buyers(buyer[sl]),
                "quantity": quantity[sl].astype(np.int64),
                "unit_price": unit_price[sl],
                "paid_at": paid[sl],
                "refund_requested": refund[sl],
            }

    def _active_all(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lst = self.w.listings
        a = np.maximum(lst.created_at, START)
        e = np.minimum(lst.removed_at, END)
        return a, e, np.clip(e - a, 0, None) / DAY

    def _reviews(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        lst = self.w.listings
        if self.batch_orders is not None:
            o = self.batch_orders
            self.batch_orders = None
            cls = lst.cls[o["listing"]]
            p = np.where(o["shill"], 1.0, np.where(cls == BLATANT, 0.3, 0.22))
            keep = rng.random(len(p)) < p
            listing, paid, buyer, shill = (
                o[k][keep] for k in ("listing", "paid", "buyer", "shill")
            )
            cls = cls[keep]
            m = len(listing)
            delay = np.where(shill, rng.uniform(0.2, 2, m), rng.uniform(2, 20, m)) * DAY
            created = paid + delay.astype(np.int64)
            age = (paid - lst.created_at[listing]) / DAY
            row = np.where((cls == BLATANT) & (age > 14), 5, cls)
            rating = 1 + (rng.random(m)[:, None] > _RATING_CUM[row]).sum(axis=1)
            rating = np.minimum(np.where(shill, 5, rating), 5)
            fake = cls >= BLATANT
            negative = np.where(
                rng.random(m) < np.where(fake, 0.7, 0.1),
                NEG_FAKE_T + rng.integers(len(vocab.REVIEW_NEGATIVE_COUNTERFEIT), size=m),
                NEG_GENUINE_T + rng.integers(len(vocab.REVIEW_NEGATIVE_GENUINE), size=m),
            )
            texts = np.select(
                [shill, rating >= 4, rating == 3],
                [
                    SHILL_T + rng.integers(len(vocab.REVIEW_SHILL), size=m),
                    POSITIVE_T + rng.integers(len(vocab.REVIEW_POSITIVE), size=m),
                    NEUTRAL_T + rng.integers(len(vocab.REVIEW_NEUTRAL), size=m),
                ],
                negative,
            )
            texts = np.where(rng.random(m) < np.where(shill, 0.1, 0.25), -1, texts)
            fresh = {
                "listing": listing,
                "buyer": buyer,
                "rating": rating,
                "text": texts,
                "created": created,
            }
            ok = created < END
            target = self.w.windows.batch_of(created)
            for t in np.unique(target[ok]).tolist():
                sel = ok & (target == t)
                self.pending_reviews.setdefault(t, []).append({k: v[sel] for k, v in fresh.items()})
        parts = self.pending_reviews.pop(b, [])
        if not parts:
            return
        r = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        order = np.lexsort((r["buyer"], r["listing"], r["created"]))
        r = {k: v[order] for k, v in r.items()}
        m = len(order)
        ids = self._ids("review", "RV", m, 10)
        for lo in range(0, m, CHUNK_ROWS):
            sl = slice(lo, lo + CHUNK_ROWS)
            yield {
                "review_id": ids[sl],
                "listing_id": self.w.listing_ids.take(pa.array(r["listing"][sl])),
                "buyer_id": text.ids("B", r["buyer"][sl] + 1, 8),
                "rating": r["rating"][sl].astype(np.int64),
                "text": text.pick(REVIEW_TEXTS, r["text"][sl]),
                "created_at": r["created"][sl],
            }

    def _reports(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        w, lst, s = self.w, self.w.listings, self.w.sellers
        a, e, days = self._active(b, lst.created_at, np.minimum(lst.removed_at, END))
        listing_parts, seller_parts, time_parts, type_parts, reason_parts = [], [], [], [], []
        wording = np.where(lst.cue >= 0, np.where(lst.cue < 17, 0.002, 0.0005), 0.0)
        for t, reporter in enumerate(REPORTERS):
            rate = _REPORT_RATE[t][lst.cls] + (wording if reporter == "platform_patrol" else 0)
            counts = rng.poisson(rate * days)
            rows = np.repeat(np.arange(lst.n), counts)
            m = len(rows)
            at = a[rows] + (rng.random(m) * (e - a)[rows]).astype(np.int64)
            if reporter == "consumer":
                cls = lst.cls[rows]
                reason = np.select(
                    [cls >= BLATANT, cls == DISC],
                    [
                        _choose(rng, _REASON_P[("consumer", "fake")], m),
                        _choose(rng, _REASON_P[("consumer", "discount")], m),
                    ],
                    _choose(rng, _REASON_P[("consumer", "genuine")], m),
                )
            else:
                reason = _choose(rng, _REASON_P[(reporter, "any")], m)
            listing_parts.append(rows)
            seller_parts.append(np.where(rng.random(m) < 0.3, lst.seller[rows], -1))
            time_parts.append(at)
            type_parts.append(np.full(m, t))
            reason_parts.append(reason)
        # Complaints about a shop rather than one listing.
        sa, se, sdays = self._active(b, s.registered_at, np.full(s.n, END))
        counts = rng.poisson(_SELLER_REPORT_RATE[s.kind] * sdays)
        srows = np.repeat(np.arange(s.n), counts)
        m = len(srows)
        listing_parts.append(np.full(m, -1))
        seller_parts.append(srows)
        time_parts.append(sa[srows] + (rng.random(m) * (se - sa)[srows]).astype(np.int64))
        type_parts.append(np.where(rng.random(m) < 0.7, 0, 2))
        reason_parts.append(_choose(rng, _REASON_P[("seller", "any")], m))
        # The reports that led to test purchases.
        t_listing, t_at, t_type, t_reason = w.outcomes.tips
        tip = w.windows.batch_of(t_at) == b
        listing_parts.append(t_listing[tip])
        seller_parts.append(np.full(int(tip.sum()), -1))
        time_parts.append(t_at[tip])
        type_parts.append(t_type[tip])
        reason_parts.append(t_reason[tip])

        listing, seller, at, rtype, reason = (
            np.concatenate(x)
            for x in (listing_parts, seller_parts, time_parts, type_parts, reason_parts)
        )
        order = np.lexsort((reason, rtype, seller, listing, at))
        listing, seller, at, rtype, reason = (
            x[order] for x in (listing, seller, at, rtype, reason)
        )
        m = len(at)
        texts = _REPORT_TEXT_START[reason] + (rng.random(m) * _REPORT_TEXT_COUNT[reason]).astype(
            np.int64
        )
        texts = np.where(rng.random(m) < 0.3, -1, texts)
        yield {
            "report_id": self._ids("report", "RP", m, 9),
            "listing_id": _masked(
                w.listing_ids.take(pa.array(np.maximum(listing, 0))), listing < 0
            ),
            "seller_id": _masked(w.seller_ids.take(pa.array(np.maximum(seller, 0))), seller < 0),
            "reporter_type": text.pick(REPORTERS, rtype),
            "reason": text.pick(REASONS, reason),
            "text": text.pick(REPORT_TEXTS, texts),
            "created_at": at,
        }

    def _inbound_shipments(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        s = self.w.sellers
        src = s.sources
        a, e, days = self._active(b, s.registered_at, np.full(s.n, END))
        counts = rng.poisson(s.shipment_rate * days)
        seller = np.repeat(np.arange(s.n), counts)
        m = len(seller)
        at = a[seller] + (rng.random(m) * (e - a)[seller]).astype(np.int64)
        order = np.lexsort((seller, at))
        seller, at = seller[order], at[order]
        cum = np.cumsum(s.supplier_p[seller], axis=1)
        slot = np.minimum((rng.random(m)[:, None] > cum).sum(axis=1), 2)
        source = s.suppliers[seller, slot]
        # Spellings: the canonical one most often, the variants now and then.
        count = src.variants.count[source]
        variant = src.variants.start[source] + np.minimum(
            (rng.random(m) ** 2 * count).astype(np.int64), count - 1
        )
        self.variant_shipments += np.bincount(variant, minlength=len(self.variant_shipments))
        kinds = np.array(src.kind)[source]
        hub, dist = kinds == HUB, kinds == DISTRIBUTOR
        weight = np.select(
            [hub, dist],
            [rng.lognormal(np.log(3), 0.8, m), rng.lognormal(np.log(8), 0.7, m)],
            rng.lognormal(np.log(25), 0.6, m),
        )
        u = rng.random(m)
        generic = rng.integers(len(vocab.DECLARED_GENERIC), size=m)
        declared = np.select(
            [dist & (u < 0.9), ~dist & ~hub & (u < 0.2), (u < 0.5) & ~dist],
            [
                s.category[seller, 0],
                s.category[seller, 0],
                len(CATEGORY_NAMES) + generic,
            ],
            -1,
        )
        yield {
            "shipment_id": self._ids("shipment", "SH", m, 9),
            "seller_id": self.w.seller_ids.take(pa.array(seller)),
            "sender_name": self.v_name.take(pa.array(variant)),
            "sender_address": self.v_address.take(pa.array(variant)),
            "sender_city": self.w.city_names.take(pa.array(src.city[source])),
            "sender_phone": self.v_phone.take(pa.array(variant)),
            "weight_kg": np.round(weight, 1),
            "declared_category": text.pick(CATEGORY_NAMES + vocab.DECLARED_GENERIC, declared),
            "received_at": at,
        }

    def _enforcement_outcomes(self, b: int, rng: np.random.Generator) -> Iterator[Columns]:
        o = self.w.outcomes
        rows = np.flatnonzero(self.w.windows.batch_of(o.decided_at) == b)
        entity = o.entity[rows]
        seller = o.is_seller[rows]
        listing_ids = self.w.listing_ids.take(pa.array(np.where(seller, 0, entity)))
        seller_ids = self.w.seller_ids.take(pa.array(np.where(seller, entity, 0)))
        import pyarrow.compute as pc

        yield {
            "case_ref": text.ids("CASE-", rows + 1, 7),
            "entity_type": text.pick(("listing", "seller"), seller.astype(np.int64)),
            "entity_id": pc.if_else(pa.array(seller), seller_ids, listing_ids),
            "outcome": text.pick(OUTCOMES, o.outcome[rows]),
            "source": text.pick(SOURCES, o.source[rows]),
            "decided_at": o.decided_at[rows],
        }


def _masked(values: pa.Array, null: np.ndarray) -> pa.Array:
    import pyarrow.compute as pc

    return pc.if_else(pa.array(null), pa.scalar(None, pa.string()), values)


assert (GEN, AUTH, DISC, BLATANT, SUBTLE) == (0, 1, 2, 3, 4) and HOUR > 0
