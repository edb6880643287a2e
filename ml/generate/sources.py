"""Upstream sources: counterfeit factories and warehouses, genuine distributors, logistics hubs.

Each source has a canonical name, address and phone, and the spelling variants they appear under
in ``inbound_shipments`` (counterfeit sources vary the most: new company names, abbreviations,
addresses typed differently). Counterfeit sources also have a catalogue of product photos whose
perceptual hashes their customers' listings reuse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.generate import text, vocab
from ml.generate.lists import Ragged
from ml.generate.timeline import stream

FACTORY, WAREHOUSE, DISTRIBUTOR, HUB = (
    "factory",
    "warehouse",
    "genuine_distributor",
    "logistics_hub",
)
CATALOGUE_SIZE = 24


@dataclass(frozen=True)
class Sources:
    kind: list[str]
    city: np.ndarray  # index into vocab.CITIES
    name: list[str]
    address: list[str]
    is_counterfeit: np.ndarray
    #: ring indices each source supplies (for the truth file)
    supplies_rings: list[list[int]]
    #: per source, indices into the variant_* lists; the first is the canonical spelling
    variants: Ragged
    variant_name: list[str | None]
    variant_address: list[str]
    variant_phone: list[str | None]
    catalogue: np.ndarray  # (n, CATALOGUE_SIZE) uint64 photo hashes
    ring_suppliers: list[list[int]]  # per ring: source indices, main supplier first
    lone_supplier: np.ndarray  # per lone counterfeiter (in order): its source index
    distributors: np.ndarray
    hubs: np.ndarray

    @property
    def n(self) -> int:
        return len(self.kind)

    @property
    def source_ids(self) -> list[str]:
        return [f"SRC{i + 1:05d}" for i in range(self.n)]


def _weights(column: int) -> np.ndarray:
    w = np.array([c[column] for c in vocab.CITIES], dtype=np.float64)
    return w / w.sum()


def build_sources(
    seed: int, n_rings: int, n_lone: int, n_sellers: int, n_brands: int, n_hubs: int
) -> Sources:
    rng = stream(seed, "sources")
    n_factories = max(2, round(n_rings * 0.8))
    n_lone_warehouses = max(1, round(n_lone * 0.3))
    n_distributors = max(6, n_brands // 3 + n_sellers // 150)
    kinds = (
        [FACTORY if rng.random() < 0.7 else WAREHOUSE for _ in range(n_factories)]
        + [WAREHOUSE] * n_lone_warehouses
        + [DISTRIBUTOR] * n_distributors
        + [HUB] * n_hubs
    )
    # Shuffle so that a source's id says nothing about its kind.
    order = rng.permutation(len(kinds))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    kinds = [kinds[i] for i in order]
    n = len(kinds)
    is_counterfeit = np.array([k in (FACTORY, WAREHOUSE) for k in kinds])

    hot, home = _weights(6), _weights(5)
    city_index = {c[1]: i for i, c in enumerate(vocab.CITIES)}
    cities = np.zeros(n, dtype=np.int64)
    names: list[str] = []
    addresses: list[str] = []
    v_lists: list[list[int]] = []
    v_name: list[str | None] = []
    v_address: list[str] = []
    v_phone: list[str | None] = []
    hub_count = 0
    for i, kind in enumerate(kinds):
        if kind == HUB:
            city = city_index[vocab.HUB_CITIES[hub_count % len(vocab.HUB_CITIES)]]
            full, short = vocab.HUB_NAMES[hub_count % len(vocab.HUB_NAMES)]
            hub_count += 1
        else:
            city = int(rng.choice(len(vocab.CITIES), p=hot if is_counterfeit[i] else home))
            word = vocab.COMPANY_WORDS[rng.integers(len(vocab.COMPANY_WORDS))]
            trades = vocab.FACTORY_TRADES if is_counterfeit[i] else vocab.DISTRIBUTOR_TRADES
            trade = trades[rng.integers(len(trades))]
        _, city_name, abbr, area, *_ = vocab.CITIES[city]
        cities[i] = city
        if kind == HUB:
            name_forms = [f"{city_name} {full}", f"{abbr} {short}", f"{city_name} {short}"]
        else:
            name_forms = text.company_variants(abbr, city_name, word, trade, 6)
        address = text.Address(rng, city, with_room=False)
        if kind in (HUB, DISTRIBUTOR) or rng.random() < 0.5:
            phone = area + f"{int(rng.integers(10**7, 10**8))}"
        else:
            phone = text.mobile(rng)
        names.append(name_forms[0])
        addresses.append(address.variant(0))
        n_variants = {FACTORY: (3, 7), WAREHOUSE: (3, 6), DISTRIBUTOR: (1, 3), HUB: (2, 4)}[kind]
        seen: list[tuple[str | None, str, str | None]] = []
        target = int(rng.integers(*n_variants))
        for j in range(target * 4):
            if j == 0:
                triple = (name_forms[0], address.variant(0), text.phone_variant(phone, 0))
            else:
                loose = is_counterfeit[i]
                # Senders often leave the name out; counterfeit ones more often.
                name = (
                    None
                    if rng.random() < (0.3 if loose else 0.1)
                    else name_forms[int(rng.integers(len(name_forms)))]
                )
                triple = (
                    name,
                    address.variant(int(rng.integers(6 if loose else 3))),
                    None
                    if rng.random() < (0.2 if loose else 0.05)
                    else text.phone_variant(phone, int(rng.integers(5))),
                )
            if triple not in seen:
                seen.append(triple)
            if len(seen) >= target:
                break
        v_lists.append(list(range(len(v_name), len(v_name) + len(seen))))
        for name, addr, ph in seen:
            v_name.append(name)
            v_address.append(addr)
            v_phone.append(ph)

    factories = position[:n_factories]
    lone_warehouses = position[n_factories : n_factories + n_lone_warehouses]
    distributors = np.sort(position[n_factories + n_lone_warehouses : n - n_hubs])
    hubs = np.sort(position[n - n_hubs :])

    supplies: list[list[int]] = [[] for _ in range(n)]
    ring_suppliers: list[list[int]] = []
    factory_order = rng.permutation(factories)
    for r in range(n_rings):
        main = int(factory_order[r % n_factories])
        chosen = [main]
        if rng.random() < 0.3:
            other = int(factories[rng.integers(n_factories)])
            if other != main:
                chosen.append(other)
        ring_suppliers.append(chosen)
        for s in chosen:
            supplies[s].append(r)
    lone_supplier = np.where(
        rng.random(n_lone) < 0.7,
        factories[rng.integers(n_factories, size=n_lone)],
        lone_warehouses[np.arange(n_lone) % n_lone_warehouses],
    )
    catalogue = rng.integers(0, 2**64, size=(n, CATALOGUE_SIZE), dtype=np.uint64)
    return Sources(
        kind=kinds,
        city=cities,
        name=names,
        address=addresses,
        is_counterfeit=is_counterfeit,
        supplies_rings=supplies,
        variants=Ragged.from_lists(v_lists),
        variant_name=v_name,
        variant_address=v_address,
        variant_phone=v_phone,
        catalogue=catalogue,
        ring_suppliers=ring_suppliers,
        lone_supplier=lone_supplier.astype(np.int64),
        distributors=distributors,
        hubs=hubs,
    )
