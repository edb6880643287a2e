"""Sellers and the identifiers that (sometimes) tie them together.

Kinds: genuine sellers (most), authorized resellers, discounters (cheap but genuine), ring members
(3-15 accounts run by one counterfeit operation) and lone counterfeiters. Ring members are nominee
accounts: each registers with its own name and ID document, but each shares a random subset of the
ring's phones, e-mails, licences, payment accounts, devices, IPs and ship-from addresses, often
written differently. Innocent hubs (a mall's public IP, an e-commerce agency's bank account, a
logistics hub, shops run by one company) link sellers that are not a ring.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ml.generate import text, vocab
from ml.generate.catalog import COUNTERFEIT_APPEAL, GENUINE_WEIGHT, Brands
from ml.generate.lists import Ragged
from ml.generate.sources import Sources, build_sources
from ml.generate.timeline import DAY, SPAN_DAYS, START, stream

KINDS = ("genuine", "authorized_reseller", "discounter", "ring_member", "lone_counterfeiter")
GENUINE, AUTHORIZED, DISCOUNTER, RING, LONE = range(5)
#: Identifier kinds a ring member may share, how often, and how often it is the one forced link.
SHARE_P = {
    "phone": 0.3,
    "email": 0.25,
    "license": 0.2,
    "payment": 0.45,
    "device": 0.4,
    "ip": 0.35,
    "address": 0.45,
}
FORCED_P = {
    "phone": 0.1,
    "email": 0.05,
    "license": 0.0,
    "payment": 0.3,
    "device": 0.25,
    "ip": 0.15,
    "address": 0.15,
}
AGENCY_NAME = "Hangzhou Yunshang E-commerce Service Co., Ltd."


@dataclass
class Payments:
    seller: list[int] = field(default_factory=list)
    account_type: list[str] = field(default_factory=list)
    ref: list[str] = field(default_factory=list)
    bank: list[str | None] = field(default_factory=list)
    holder: list[str | None] = field(default_factory=list)
    first_seen: list[int] = field(default_factory=list)
    _keys: set[tuple[int, str, str]] = field(default_factory=set)

    def add(
        self, seller: int, kind: str, ref: str, bank: str | None, holder: str | None, at: int
    ) -> None:
        key = (seller, kind, ref)
        if key in self._keys:  # the key of seller_payment_accounts must stay unique
            return
        self._keys.add(key)
        self.seller.append(seller)
        self.account_type.append(kind)
        self.ref.append(ref)
        self.bank.append(bank)
        self.holder.append(holder)
        self.first_seen.append(at)


@dataclass
class Hubs:
    """Innocent identifiers many unrelated sellers share."""

    mall_ip: str
    mall_sellers: list[int]
    agency_account: str
    agency_sellers: list[int]
    hub_users: list[list[int]]  # per logistics hub (sources.hubs order)
    operator_groups: list[list[int]]  # genuine shops run by one company


@dataclass
class Sellers:
    kind: np.ndarray
    ring: np.ndarray
    registered_at: np.ndarray
    city: np.ndarray
    category: np.ndarray  # (n, 2), -1 = no second category
    auth_brands: list[list[int]]
    shop_name: list[str]
    business_license: list[str | None]
    phone: list[str | None]
    email: list[str | None]
    id_document_hash: list[str | None]
    own_address: np.ndarray  # index into addresses
    ring_addresses: Ragged  # shared ship-from address spellings
    hub_address: np.ndarray  # index into addresses, -1 = does not ship from a hub
    addresses: list[str]
    address_city: np.ndarray
    devices: Ragged
    device_names: list[str]
    ips: Ragged
    ip_names: list[str]
    suppliers: np.ndarray  # (n, 3) source index, -1 = none
    supplier_p: np.ndarray  # (n, 3) probabilities per slot
    shipment_rate: np.ndarray  # inbound shipments per day
    shill_buyers: Ragged
    payments: Payments
    auth_rows: tuple[np.ndarray, np.ndarray, np.ndarray]  # brand, seller, authorized_since
    rings: list[np.ndarray]
    ring_shared: list[dict[int, list[str]]]  # per ring: member -> identifier kinds it shares
    hubs: Hubs
    sources: Sources

    @property
    def n(self) -> int:
        return len(self.kind)

    @property
    def seller_ids(self) -> list[str]:
        return [f"S{i + 1:07d}" for i in range(self.n)]

    @property
    def is_counterfeit(self) -> np.ndarray:
        return self.kind >= RING


def _city_weights(column: int) -> np.ndarray:
    w = np.array([c[column] for c in vocab.CITIES], dtype=np.float64)
    return w / w.sum()


def _kinds(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    target = max(9, round(0.065 * n))
    sizes: list[int] = []
    while sum(sizes) < target or len(sizes) < 2:
        sizes.append(int(min(15, 3 + rng.poisson(2.5))))
    kind = np.full(n, GENUINE, dtype=np.int8)
    ring = np.full(n, -1, dtype=np.int64)
    slots = rng.permutation(n)
    pos = 0
    for r, size in enumerate(sizes):
        kind[slots[pos : pos + size]] = RING
        ring[slots[pos : pos + size]] = r
        pos += size
    for k, share, floor in ((LONE, 0.03, 4), (AUTHORIZED, 0.08, 6), (DISCOUNTER, 0.06, 6)):
        count = max(floor, round(share * n))
        kind[slots[pos : pos + count]] = k
        pos += count
    return kind, ring, len(sizes)


def _registration(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    n = len(kind)
    before = rng.random(n) < np.array([0.85, 0.9, 0.8, 0.45, 0.6])[kind]
    back = np.where(kind == RING, rng.uniform(10, 730, n), rng.uniform(20, 6 * 365, n))
    fwd = np.where(kind >= RING, rng.uniform(0, 0.75, n), rng.uniform(0, 0.85, n)) * SPAN_DAYS
    days = np.where(before, -back, fwd)
    return (START + days * DAY).astype(np.int64)


def build_sellers(
    seed: int, n: int, brands: Brands, n_buyers: int, n_brands: int, n_hubs: int
) -> Sellers:
    rng = stream(seed, "sellers")
    kind, ring, n_rings = _kinds(rng, n)
    registered = _registration(rng, kind)
    # Seller ids follow registration order, as a marketplace hands them out.
    order = np.lexsort((np.arange(n), registered))
    kind, ring, registered = kind[order], ring[order], registered[order]
    cf = kind >= RING
    rings = [np.flatnonzero(ring == r) for r in range(n_rings)]
    lone = np.flatnonzero(kind == LONE)
    sources = build_sources(seed, n_rings, len(lone), n, n_brands, n_hubs)

    n_cities = len(vocab.CITIES)
    hot_city = rng.choice(n_cities, size=n, p=_city_weights(6))
    home_city = rng.choice(n_cities, size=n, p=_city_weights(5))
    city = np.where(cf & (rng.random(n) < 0.7), hot_city, home_city)

    genuine_p = GENUINE_WEIGHT / GENUINE_WEIGHT.sum()
    appeal_p = COUNTERFEIT_APPEAL / COUNTERFEIT_APPEAL.sum()
    n_cat = len(genuine_p)
    ring_focus = rng.choice(n_cat, size=n_rings, p=appeal_p)
    cat1 = np.where(
        cf, rng.choice(n_cat, size=n, p=appeal_p), rng.choice(n_cat, size=n, p=genuine_p)
    )
    in_ring = ring >= 0
    cat1 = np.where(in_ring & (rng.random(n) < 0.7), ring_focus[np.maximum(ring, 0)], cat1)
    auth_idx = np.flatnonzero(kind == AUTHORIZED)
    cat1[auth_idx] = brands.category[rng.integers(brands.n, size=len(auth_idx))]
    cat2 = np.where(rng.random(n) < 0.35, rng.choice(n_cat, size=n, p=genuine_p), -1)
    cat2 = np.where(cat2 == cat1, -1, cat2)
    category = np.stack([cat1, cat2], axis=1)
    auth_brands: list[list[int]] = [[] for _ in range(n)]
    for i in auth_idx:
        pool = brands.in_category(int(cat1[i]))
        k = min(len(pool), 1 + int(rng.integers(3)))
        auth_brands[i] = sorted(rng.choice(pool, size=k, replace=False).tolist())

    persons: list[tuple[str, str]] = []
    shop_name: list[str] = []
    license_: list[str | None] = []
    phone: list[str | None] = []
    email: list[str | None] = []
    id_doc: list[str | None] = []
    addresses: list[str] = []
    address_city: list[int] = []
    device_names: list[str] = []
    ip_names: list[str] = []
    devices: list[list[int]] = []
    ips: list[list[int]] = []
    for i in range(n):
        k = int(kind[i])
        c = int(city[i])
        surname, given = text.person_name(rng)
        persons.append((surname, given))
        id_doc.append(rng.bytes(32).hex() if rng.random() > 0.1 else None)
        phone.append(text.mobile(rng) if rng.random() > 0.05 else None)
        if rng.random() < 0.8:
            local = (
                str(int(rng.integers(10**7, 10**10)))
                if rng.random() < 0.4
                else f"{given.lower()}.{surname.lower()}{int(rng.integers(1, 999))}"
            )
            domain = vocab.EMAIL_DOMAINS[rng.integers(len(vocab.EMAIL_DOMAINS))]
            email.append(text.email_variant(local, domain, int(rng.integers(2))))
        else:
            email.append(None)
        individual = rng.random() < (0.35 if k == GENUINE else 0.3 if k >= RING else 0.05)
        license_.append(None if individual else text.business_license(rng, vocab.CITIES[c][3]))
        shop_name.append(_shop_name(rng, k, int(cat1[i]), auth_brands[i], brands, c))
        address = text.Address(rng, c, with_room=True)
        addresses.append(address.variant(int(rng.integers(2))))
        address_city.append(c)
        own_devices = 1 + int(rng.random() < 0.4) + int(rng.random() < 0.15)
        devices.append(list(range(len(device_names), len(device_names) + own_devices)))
        for _ in range(own_devices):
            device_names.append(_device_id(rng))
        own_ips = 1 + int(rng.random() < 0.3)
        ips.append(list(range(len(ip_names), len(ip_names) + own_ips)))
        for _ in range(own_ips):
            ip_names.append(_ip(rng))

    payments = Payments()
    for i in range(n):
        _own_accounts(rng, payments, i, phone[i], email[i], license_[i], shop_name[i], persons[i],
                      int(registered[i]))  # fmt: skip

    ring_addresses: list[list[int]] = [[] for _ in range(n)]
    ring_shared: list[dict[int, list[str]]] = []
    shill: list[list[int]] = [
        rng.integers(n_buyers, size=int(rng.integers(2, 5))).tolist() for _ in range(n)
    ]
    for r, members in enumerate(rings):
        shared = _share_ring(
            rng, members, registered, sources.city[sources.ring_suppliers[r][0]], payments,
            phone, email, license_, devices, device_names, ips, ip_names, ring_addresses,
            addresses, address_city,
        )  # fmt: skip
        ring_shared.append(shared)
        pool = rng.integers(n_buyers, size=int(rng.integers(3, 7))).tolist()
        for m in members:
            shill[m] = pool

    hubs = _innocent_hubs(
        rng, kind, registered, city, payments, license_, devices, ips, ip_names, sources
    )
    hub_address = np.full(n, -1, dtype=np.int64)
    for h, users in enumerate(hubs.hub_users):
        src = int(sources.hubs[h])
        spellings = [sources.variant_address[v] for v in sources.variants.row(src)]
        first = len(addresses)
        for s in spellings:
            addresses.append(s)
            address_city.append(int(sources.city[src]))
        for u in users:
            hub_address[u] = first + int(rng.integers(len(spellings)))

    suppliers, supplier_p, rate = _suppliers(rng, kind, ring, lone, hubs, sources)

    auth_brand, auth_seller, auth_since = [], [], []
    for i in auth_idx:
        for b in auth_brands[i]:
            auth_brand.append(b)
            auth_seller.append(int(i))
            auth_since.append(int(registered[i] + rng.uniform(0, 60) * DAY))

    return Sellers(
        kind=kind,
        ring=ring,
        registered_at=registered,
        city=city,
        category=category,
        auth_brands=auth_brands,
        shop_name=shop_name,
        business_license=license_,
        phone=phone,
        email=email,
        id_document_hash=id_doc,
        own_address=np.arange(n, dtype=np.int64),
        ring_addresses=Ragged.from_lists(ring_addresses),
        hub_address=hub_address,
        addresses=addresses,
        address_city=np.array(address_city, dtype=np.int64),
        devices=Ragged.from_lists(devices),
        device_names=device_names,
        ips=Ragged.from_lists(ips),
        ip_names=ip_names,
        suppliers=suppliers,
        supplier_p=supplier_p,
        shipment_rate=rate,
        shill_buyers=Ragged.from_lists(shill),
        payments=payments,
        auth_rows=(
            np.array(auth_brand, dtype=np.int64),
            np.array(auth_seller, dtype=np.int64),
            np.array(auth_since, dtype=np.int64),
        ),
        rings=rings,
        ring_shared=ring_shared,
        hubs=hubs,
        sources=sources,
    )


def _device_id(rng: np.random.Generator) -> str:
    if rng.random() < 0.6:  # Android id
        return rng.bytes(8).hex()
    b = rng.bytes(16).hex().upper()  # iOS identifier for vendors
    return f"{b[:8]}-{b[8:12]}-{b[12:16]}-{b[16:20]}-{b[20:]}"


def _ip(rng: np.random.Generator) -> str:
    a, b, c, d = rng.integers(1, 255, size=4)
    return f"{(36, 58, 59, 60, 101, 112, 113, 114, 115, 117, 119, 120, 121, 122, 123, 124, 125, 180, 182, 183, 218, 219, 220, 221, 222, 223)[a % 26]}.{b}.{c}.{d}"  # noqa: E501


def _shop_name(
    rng: np.random.Generator, kind: int, category: int, auth: list[int], brands: Brands, city: int
) -> str:
    word = vocab.SHOP_WORDS[rng.integers(len(vocab.SHOP_WORDS))]
    cat = vocab.CATEGORIES[category][0].replace("_", " ").title()
    if kind == AUTHORIZED and auth:
        brand = brands.name[auth[0]]
        if rng.random() < 0.5:
            return f"{brand} Authorized Store {vocab.CITIES[city][1]}"
        return f"{brand} Official Store - {word}"
    if kind == DISCOUNTER or (kind >= RING and rng.random() < 0.15):
        return f"{word} {vocab.DISCOUNT_SUFFIXES[rng.integers(len(vocab.DISCOUNT_SUFFIXES))]}"
    suffix = vocab.SHOP_SUFFIXES[rng.integers(len(vocab.SHOP_SUFFIXES))]
    return f"{word} {cat} {suffix}" if rng.random() < 0.6 else f"{word} {suffix}"


def _own_accounts(
    rng: np.random.Generator,
    payments: Payments,
    i: int,
    phone: str | None,
    email: str | None,
    license_: str | None,
    shop: str,
    person: tuple[str, str],
    registered: int,
) -> None:
    holder = text.name_variant(*person, 0)
    at = registered + int(rng.uniform(0, 3) * DAY)
    if phone and rng.random() < 0.6:
        alipay = phone
    elif email:
        alipay = email
    else:
        alipay = "2088" + "".join(str(d) for d in rng.integers(0, 10, size=12))
    # Alipay often hides the holder's name.
    payments.add(i, "alipay", alipay, None, None if rng.random() < 0.25 else holder, at)
    if rng.random() < 0.6:
        bank = vocab.BANKS[rng.integers(len(vocab.BANKS))]
        payments.add(i, "bank_card", text.bank_card(rng), bank, holder, at)
    if license_ and rng.random() < 0.5:
        bank = vocab.BANKS[rng.integers(len(vocab.BANKS))]
        number = "".join(str(d) for d in rng.integers(0, 10, size=19))
        payments.add(i, "bank_account", number, bank, f"{shop} Co., Ltd.", at)
    if rng.random() < 0.1:  # a card added later on
        later = max(registered, START) + int(rng.uniform(0, SPAN_DAYS) * DAY)
        bank = vocab.BANKS[rng.integers(len(vocab.BANKS))]
        payments.add(i, "bank_card", text.bank_card(rng), bank, holder, later)


def _share_ring(
    rng: np.random.Generator,
    members: np.ndarray,
    registered: np.ndarray,
    factory_city: int,
    payments: Payments,
    phone: list[str | None],
    email: list[str | None],
    license_: list[str | None],
    devices: list[list[int]],
    device_names: list[str],
    ips: list[list[int]],
    ip_names: list[str],
    ring_addresses: list[list[int]],
    addresses: list[str],
    address_city: list[int],
) -> dict[int, list[str]]:
    """Give the ring's members their shared identifiers; return who shares which kinds.

    The first member (the controller's own account) uses every shared identifier and every other
    member is forced to share at least one kind with it, so the ring is connected; the rest is a
    random subset, written in varying spellings.
    """
    boss = text.person_name(rng)
    ring_phone = text.mobile(rng)
    local = f"{boss[1].lower()}.{boss[0].lower()}{int(rng.integers(10, 99))}"
    domain = vocab.EMAIL_DOMAINS[rng.integers(len(vocab.EMAIL_DOMAINS))]
    ring_license = text.business_license(rng, vocab.CITIES[factory_city][3])
    accounts = []
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.4:
            accounts.append(("alipay", ring_phone, None))
        else:
            bank = vocab.BANKS[rng.integers(len(vocab.BANKS))]
            accounts.append(("bank_card", text.bank_card(rng), bank))
    ring_devices = []
    for _ in range(int(rng.integers(1, 4))):
        ring_devices.append(len(device_names))
        device_names.append(_device_id(rng))
    ring_ips = []
    for _ in range(int(rng.integers(1, 3))):
        ring_ips.append(len(ip_names))
        ip_names.append(_ip(rng))
    ring_addr: list[list[int]] = []
    for _ in range(int(rng.integers(1, 3))):
        city = factory_city if rng.random() < 0.7 else int(rng.integers(len(vocab.CITIES)))
        address = text.Address(rng, city, with_room=rng.random() < 0.5)
        spellings = sorted({int(s) for s in rng.integers(0, 6, size=3)} | {0})
        ring_addr.append(list(range(len(addresses), len(addresses) + len(spellings))))
        for s in spellings:
            addresses.append(address.variant(s))
            address_city.append(city)

    kinds = list(SHARE_P)
    forced_p = np.array([FORCED_P[k] for k in kinds])
    shared: dict[int, list[str]] = {}
    for j, m in enumerate(members.tolist()):
        uses = {k: bool(rng.random() < SHARE_P[k]) for k in kinds}
        if j == 0:
            uses = dict.fromkeys(kinds, True)
        else:
            uses[kinds[int(rng.choice(len(kinds), p=forced_p / forced_p.sum()))]] = True
        controller = j == 0
        shared[m] = [k for k in kinds if uses[k]]
        if uses["phone"]:
            phone[m] = text.phone_variant(ring_phone, 0 if controller else int(rng.integers(5)))
        if uses["email"]:
            email[m] = text.email_variant(local, domain, 0 if controller else int(rng.integers(4)))
        if uses["license"]:
            license_[m] = ring_license if rng.random() < 0.8 else ring_license.lower()
        if uses["payment"]:
            chosen = range(len(accounts)) if controller else [int(rng.integers(len(accounts)))]
            for a in chosen:
                kind, ref, bank = accounts[a]
                style = 0 if controller else int(rng.integers(5))
                if kind == "alipay":
                    ref = text.phone_variant(ref, style)
                else:
                    ref = text.card_variant(ref, style)
                holder = text.name_variant(*boss, int(rng.integers(3)))
                at = int(registered[m]) + int(rng.uniform(0, 20) * DAY)
                if rng.random() < 0.3:  # switched to the ring's account later on
                    at = max(at, START + int(rng.uniform(0, 0.8 * SPAN_DAYS) * DAY))
                payments.add(m, kind, ref, bank, holder, at)
        if uses["device"]:
            devices[m] += (
                ring_devices if controller else [ring_devices[rng.integers(len(ring_devices))]]
            )
        if uses["ip"]:
            ips[m] += ring_ips if controller else [ring_ips[rng.integers(len(ring_ips))]]
        if uses["address"]:
            if controller:
                ring_addresses[m] += [spellings[0] for spellings in ring_addr]
            else:
                spellings = ring_addr[rng.integers(len(ring_addr))]
                ring_addresses[m].append(spellings[rng.integers(len(spellings))])
    return shared


def _innocent_hubs(
    rng: np.random.Generator,
    kind: np.ndarray,
    registered: np.ndarray,
    city: np.ndarray,
    payments: Payments,
    license_: list[str | None],
    devices: list[list[int]],
    ips: list[list[int]],
    ip_names: list[str],
    sources: Sources,
) -> Hubs:
    n = len(kind)
    genuine = np.flatnonzero(kind < RING)
    counterfeit = np.flatnonzero(kind >= RING)

    def some(pool: np.ndarray, share: float, floor: int) -> list[int]:
        k = min(len(pool), max(floor, round(share * len(pool))))
        return sorted(rng.choice(pool, size=k, replace=False).tolist())

    # A shopping mall's public Wi-Fi: many shops of every kind log in from it.
    mall_ip = _ip(rng)
    ip_names.append(mall_ip)
    mall_sellers = sorted(some(genuine, 0.05, 8) + some(counterfeit, 0.1, 2))
    for s in mall_sellers:
        ips[s].append(len(ip_names) - 1)

    # An e-commerce agency collects payments for its client shops through one bank account.
    agency = "".join(str(d) for d in rng.integers(0, 10, size=19))
    agency_bank = vocab.BANKS[rng.integers(len(vocab.BANKS))]
    agency_sellers = sorted(some(genuine, 0.04, 8) + some(counterfeit, 0.02, 1))
    for s in agency_sellers:
        at = max(int(registered[s]), START - 30 * DAY) + int(rng.uniform(0, 60) * DAY)
        ref = agency if rng.random() < 0.8 else text.card_variant(agency, 1)
        payments.add(s, "bank_account", ref, agency_bank, AGENCY_NAME, at)

    # Logistics hubs: consolidation warehouses that ship to and for everyone.
    n_hubs = len(sources.hubs)
    users = some(genuine, 0.12, 6 * n_hubs) + some(counterfeit, 0.25, 2 * n_hubs)
    hub_users: list[list[int]] = [[] for _ in range(n_hubs)]
    for j, s in enumerate(sorted(users)):
        hub_users[j % n_hubs if j < n_hubs else int(rng.integers(n_hubs))].append(s)

    # Genuine companies that run two or three shops: they share a licence, an account, a device.
    plain = np.flatnonzero(kind == GENUINE)
    groups: list[list[int]] = []
    pool = rng.permutation(plain)[: max(4, round(0.03 * n))]
    pos = 0
    while pos + 2 <= len(pool):
        size = 2 + int(rng.random() < 0.3)
        group = sorted(pool[pos : pos + size].tolist())
        pos += size
        if len(group) < 2:
            break
        groups.append(group)
        lic = license_[group[0]] or text.business_license(rng, vocab.CITIES[int(city[group[0]])][3])
        account = "".join(str(d) for d in rng.integers(0, 10, size=19))
        bank = vocab.BANKS[rng.integers(len(vocab.BANKS))]
        for s in group:
            license_[s] = lic
            at = int(registered[s]) + int(rng.uniform(0, 5) * DAY)
            payments.add(s, "bank_account", account, bank, "Company account", at)
            if s != group[0]:
                devices[s].append(devices[group[0]][0])
    return Hubs(mall_ip, mall_sellers, agency, agency_sellers, hub_users, groups)


def _suppliers(
    rng: np.random.Generator,
    kind: np.ndarray,
    ring: np.ndarray,
    lone: np.ndarray,
    hubs: Hubs,
    sources: Sources,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(kind)
    dist = sources.distributors
    suppliers = np.full((n, 3), -1, dtype=np.int64)
    p = np.zeros((n, 3))
    suppliers[:, 0] = dist[rng.integers(len(dist), size=n)]
    second = dist[rng.integers(len(dist), size=n)]
    suppliers[:, 1] = np.where(rng.random(n) < 0.5, second, -1)
    for r, chosen in enumerate(sources.ring_suppliers):
        members = np.flatnonzero(ring == r)
        suppliers[members, 0] = chosen[0]
        if len(chosen) > 1:
            suppliers[members, 1] = chosen[1]
    suppliers[lone, 0] = sources.lone_supplier
    suppliers[lone, 1] = np.where(rng.random(len(lone)) < 0.3, suppliers[lone, 1], -1)
    for h, users in enumerate(hubs.hub_users):
        suppliers[users, 2] = sources.hubs[h]
    cf = kind >= RING
    p[:, 0] = np.where(cf, 0.7, 0.75)
    p[:, 1] = np.where(suppliers[:, 1] >= 0, np.where(cf, 0.15, 0.25), 0.0)
    p[:, 2] = np.where(suppliers[:, 2] >= 0, np.where(cf, 0.15, 0.2), 0.0)
    p /= p.sum(axis=1, keepdims=True)
    # Dropshippers never receive stock; counterfeiters restock more often.
    rate = np.where(cf, 0.1, np.where(rng.random(n) < 0.2, 0.0, 0.06))
    return suppliers, p, rate
