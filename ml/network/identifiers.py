"""Identifier resolution: one spelling per phone, e-mail, account, licence, address and name.

Exact identifiers (phones, e-mails, payment accounts, licences) are normalized and then compared
for equality. Addresses are normalized and then fuzzy-matched: within one city, two normalized
addresses whose rapidfuzz ``token_set_ratio`` reaches the threshold and whose house numbers agree
are one place; matches are closed transitively (connected components = union-find).

The functions here work on single values; the graph builder registers them as DuckDB functions
and applies them to distinct values only, so big tables are normalized in SQL.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# --- phones, e-mails, accounts, licences -------------------------------------------------------


def normalize_phone(value: str | None) -> str | None:
    """Digits only, without the China country code: ``+86 138-0013-8000`` -> ``13800138000``."""
    if value is None:
        return None
    digits = re.sub(r"\D", "", value)
    for prefix in ("0086", "86"):
        # Only strip a country code where what is left is a whole mobile number (11 digits, 1...)
        # or a landline with its area code, never from a number that merely starts with 86.
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            digits = digits[len(prefix) :]
            break
    return digits or None


#: Providers that deliver ``local+tag@`` to ``local@``.
PLUS_TAG_PROVIDERS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "protonmail.com",
        "proton.me",
        "fastmail.com",
    }
)
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}


def normalize_email(value: str | None) -> str | None:
    """Matching key of an e-mail: lowercase, +tags dropped where the provider ignores them, and
    dots in the local part dropped everywhere.

    Gmail ignores dots; other providers do not, but people type the same mailbox with and without
    them (``li.wei88`` / ``liwei88``), and e-mail is soft evidence, so a rare false match costs
    little while a missed one hides a link.
    """
    if value is None:
        return None
    value = unicodedata.normalize("NFKC", value).strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return value or None
    if domain in PLUS_TAG_PROVIDERS:
        local = local.split("+", 1)[0]
    local = local.replace(".", "")
    return f"{local}@{DOMAIN_ALIASES.get(domain, domain)}"


def normalize_account_ref(value: str | None) -> str | None:
    """Payment account reference: an e-mail or phone login as such, else alphanumerics only."""
    if value is None:
        return None
    value = unicodedata.normalize("NFKC", value).strip()
    if "@" in value:
        return normalize_email(value)
    compact = re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if compact.isdigit() and len(compact) in (11, 13, 15) and len(compact) < 16:
        # Alipay logins are often phone numbers, written with or without +86.
        phone = normalize_phone(compact)
        if phone and len(phone) == 11 and phone.startswith("1"):
            return phone
    return compact or None


def normalize_license(value: str | None) -> str | None:
    """Business licence (unified social credit code): uppercase alphanumerics."""
    if value is None:
        return None
    compact = re.sub(r"[^0-9A-Za-z]", "", unicodedata.normalize("NFKC", value)).upper()
    return compact or None


def normalize_token(value: str | None) -> str | None:
    """Device ids, IPs, hashes: trimmed and lowercased."""
    if value is None:
        return None
    value = unicodedata.normalize("NFKC", value).strip().lower()
    return value or None


# --- addresses and names ------------------------------------------------------------------------

#: Abbreviations -> one English word. Pinyin administrative syllables (lu, jie, qu, shi) are
#: deliberately absent: they also occur inside names written syllable by syllable ("Shi Ji").
ADDRESS_WORDS: dict[str, str] = {
    "rd": "road",
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "dist": "district",
    "distr": "district",
    "bldg": "building",
    "bld": "building",
    "blk": "block",
    "fl": "floor",
    "flr": "floor",
    "f": "floor",
    "rm": "room",
    "ind": "industrial",
    "indus": "industrial",
    "industry": "industrial",
    "pk": "park",
    "vil": "village",
    "vlg": "village",
    "twp": "town",
    "prov": "province",
    "ctr": "center",
    "centre": "center",
    "ln": "lane",
    "hwy": "highway",
    "whse": "warehouse",
    "wh": "warehouse",
    "e": "east",
    "w": "west",
    "n": "north",
    "s": "south",
    "co": "company",
    "corp": "company",
    "ltd": "limited",
    "fty": "factory",
}
#: Number markers dropped before the number: ``No. 88``, ``#88``.
NUMBER_MARKERS = frozenset({"no", "number", "num", "nr"})
#: Chinese address characters -> English words (so mixed spellings meet).
CHINESE_WORDS = {
    "路": " road ",
    "街": " street ",
    "大道": " avenue ",
    "区": " district ",
    "号": " ",
    "栋": " building ",
    "楼": " floor ",
    "室": " room ",
    "市": " city ",
    "省": " province ",
    "镇": " town ",
    "村": " village ",
    "工业园": " industrial park ",
    "仓库": " warehouse ",
}
#: Words that end a name: pinyin syllables between them are joined (``jin hu road`` ->
#: ``jinhu road``), so spacing variants of one name meet.
ADDRESS_KEYWORDS = frozenset(ADDRESS_WORDS.values()) | {
    "road",
    "street",
    "avenue",
    "district",
    "building",
    "block",
    "floor",
    "room",
    "unit",
    "industrial",
    "park",
    "zone",
    "village",
    "town",
    "city",
    "county",
    "province",
    "lane",
    "alley",
    "highway",
    "warehouse",
    "factory",
    "plant",
    "company",
    "limited",
    "trading",
    "logistics",
    "center",
    "east",
    "west",
    "north",
    "south",
    "middle",
    "central",
    "area",
    "estate",
    "garden",
    "plaza",
    "tower",
    "hall",
    "market",
    "mall",
    "yard",
    "section",
    "gate",
    "of",
    "the",
    "and",
}
#: Province names dropped from addresses: a variant may or may not spell them out.
PROVINCES = frozenset(
    {
        "anhui",
        "beijing",
        "chongqing",
        "fujian",
        "gansu",
        "guangdong",
        "guangxi",
        "guizhou",
        "hainan",
        "hebei",
        "heilongjiang",
        "henan",
        "hubei",
        "hunan",
        "jiangsu",
        "jiangxi",
        "jilin",
        "liaoning",
        "neimenggu",
        "ningxia",
        "qinghai",
        "shaanxi",
        "shandong",
        "shanghai",
        "shanxi",
        "sichuan",
        "tianjin",
        "xinjiang",
        "xizang",
        "yunnan",
        "zhejiang",
    }
)


@lru_cache(maxsize=65536)
def normalize_city(value: str | None) -> str:
    """``Guangzhou City`` / ``guangzhou shi`` / ``Guang Zhou`` -> ``guangzhou``."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", value).lower()
    text = re.sub(r"(市|\bcity\b|\bshi\b)", " ", text)
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]", "", text)


_NON_WORD = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")
#: Letters next to digits: "no88" -> "no 88", "3f" -> "3 f", "b12" -> "b 12".
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")


def _address_tokens(value: str) -> list[str]:
    if value.isascii():
        text = value.lower()  # NFKC and the Chinese words change nothing in ASCII text
    else:
        text = unicodedata.normalize("NFKC", value).lower()
        for chinese, english in CHINESE_WORDS.items():
            text = text.replace(chinese, english)
    text = _NON_WORD.sub(" ", text)
    return _LETTER_DIGIT.sub(" ", text).split()


#: Street types: a name followed by these is one street ("jinhu east road").
STREET_WORDS = frozenset(
    {"road", "street", "avenue", "boulevard", "lane", "alley", "highway", "east", "west",
     "north", "south", "middle", "central"}
)  # fmt: skip
#: Parts inside a place, each followed by its number: left out of the matching key, because
#: variants add or drop them; their numbers still have to agree (see ``_numbers_compatible``).
SUB_ADDRESS_WORDS = frozenset({"building", "room", "floor", "unit", "block"})


@lru_cache(maxsize=4096)
def _place_patterns(city_key: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Regexes that strip any run of province/city names from the start and from the end."""
    names = sorted({p for p in (city_key, *PROVINCES) if p}, key=lambda p: (-len(p), p))
    alternation = "|".join(map(re.escape, names))
    return re.compile(f"^(?:{alternation})+"), re.compile(f"(?:{alternation})+$")


def _strip_places(name: str, city_key: str) -> str:
    """Drop province and city names at either end of a joined name run.

    ``guangdongguangzhoubaiyun`` -> ``baiyun``, ``xigangdalian`` -> ``xigang``: the run was
    joined because no keyword stood between the names, and variants differ in whether they
    spell the province or city out.
    """
    head, tail = _place_patterns(city_key)
    return tail.sub("", head.sub("", name))


def _address_items(value: str, city: str | None) -> list[tuple[str, str]]:
    """(type, text) items of an address: "num", "name" (joined syllables) or "kw" (keyword)."""
    city_key = normalize_city(city)
    items: list[tuple[str, str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            name = _strip_places("".join(run), city_key)
            if name:
                items.append(("name", name))
            run.clear()

    for token in _address_tokens(value):
        if token in NUMBER_MARKERS:
            continue
        word = ADDRESS_WORDS.get(token, token)
        if word.isdigit():
            flush()
            items.append(("num", str(int(word))))
        elif word in ("city", "province") or word == city_key or word in PROVINCES:
            # Variants spell "Guangzhou City" / "Guangdong Province" out or not.
            flush()
        elif word in ADDRESS_KEYWORDS:
            flush()
            items.append(("kw", word))
        else:
            run.append(word)
    flush()
    return items


def normalize_address(value: str | None, city: str | None = None) -> str:
    """Readable canonical lowercase form of an address.

    Abbreviations become words (``Rd.`` -> ``road``, ``Dist.`` -> ``district``), number markers
    go (``No. 88`` -> ``88``), punctuation and repeated spaces go, the city and province names go
    (variants include them or not), and runs of name syllables are joined (``Jin Hu`` ->
    ``jinhu``), so pinyin spacing variants meet.
    """
    if not value:
        return ""
    return " ".join(text for _, text in _address_items(value, city))


def address_key(value: str | None, city: str | None = None) -> str:
    """The matching form of an address: what fuzzy matching compares.

    From the items of ``normalize_address``: a street name and its type are one token
    (``jinhu_east_road``), so one street cannot match another of the same district by sharing
    words; "district"/"county" words go (variants leave them out) while the district's name
    stays; building/room/floor/unit and their numbers go (variants add or drop them).
    """
    if not value:
        return ""
    return _key_of_items(_address_items(value, city))


def _key_of_items(items: list[tuple[str, str]]) -> str:
    out: list[str] = []
    i = 0
    while i < len(items):
        kind, text = items[i]
        if kind == "kw" and text in SUB_ADDRESS_WORDS:
            i += 2 if i + 1 < len(items) and items[i + 1][0] == "num" else 1
            continue
        if kind == "kw" and text in ("district", "county"):
            i += 1
            continue
        if kind == "name":
            parts = [text]
            while (
                i + 1 < len(items)
                and items[i + 1] == ("kw", items[i + 1][1])
                and (items[i + 1][1] in STREET_WORDS)
            ):
                parts.append(items[i + 1][1])
                i += 1
            out.append("_".join(parts))
        else:
            out.append(text)
        i += 1
    return " ".join(out)


COMPANY_WORDS = {
    "co": "company",
    "corp": "company",
    "corporation": "company",
    "ltd": "limited",
    "inc": "incorporated",
    "fty": "factory",
    "mfg": "manufacturing",
    "trade": "trading",
    "intl": "international",
}


def normalize_name(value: str | None) -> str:
    """Sender or company name: lowercase words, unified company suffixes, joined syllables."""
    if not value:
        return ""
    tokens = _address_tokens(value)
    out: list[str] = []
    run: list[str] = []
    keywords = set(COMPANY_WORDS.values()) | {
        "factory",
        "warehouse",
        "logistics",
        "shoes",
        "apparel",
        "garment",
        "leather",
        "bags",
        "electronics",
        "cosmetics",
        "watch",
        "watches",
        "store",
        "shop",
    }
    for token in tokens:
        word = COMPANY_WORDS.get(token, token)
        if word in keywords or word.isdigit():
            if run:
                out.append("".join(run))
                run = []
            out.append(word)
        else:
            run.append(word)
    if run:
        out.append("".join(run))
    return " ".join(out)


# --- fuzzy address resolution -------------------------------------------------------------------


def _numbers(normalized: str) -> frozenset[tuple[str, str]]:
    """Typed numbers of a normalized address: ("", house number) or ("room", "301") etc."""
    tokens = normalized.split()
    return frozenset(
        (tokens[i - 1] if i and tokens[i - 1] in SUB_ADDRESS_WORDS else "", t)
        for i, t in enumerate(tokens)
        if t.isdigit()
    )


def _numbers_compatible(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> bool:
    """A variant may leave out a house, room or building number, never change one."""
    main_a = {n for kind, n in a if not kind}
    main_b = {n for kind, n in b if not kind}
    if not (main_a <= main_b or main_b <= main_a):
        return False
    sub_a = {kind: n for kind, n in a if kind}
    sub_b = {kind: n for kind, n in b if kind}
    return all(sub_b[kind] == n for kind, n in sub_a.items() if kind in sub_b)


def _blocks(
    nodes: list[tuple[str, str]], numbers: list[frozenset[tuple[str, str]]]
) -> list[tuple[list[int], list[int]]]:
    """Which nodes to compare: (rows, columns) lists of node indices.

    Two addresses can only match when they are in one city and one's house numbers are a subset
    of the other's; so an address is compared with those of its city that share one of its house
    numbers (one block per (city, number)), and an address without one with its whole city. This
    keeps blocks to a handful of addresses even when a city has tens of thousands.
    """
    by_number: dict[tuple[str, str], list[int]] = {}
    by_city: dict[str, list[int]] = {}
    numberless: dict[str, list[int]] = {}
    for idx, (city, text) in enumerate(nodes):
        if not text:
            continue
        by_city.setdefault(city, []).append(idx)
        house_numbers = sorted(n for kind, n in numbers[idx] if not kind)
        if not house_numbers:
            numberless.setdefault(city, []).append(idx)
        for number in house_numbers:
            by_number.setdefault((city, number), []).append(idx)
    blocks = [(members, members) for members in by_number.values() if len(members) > 1]
    blocks += [(members, by_city[city]) for city, members in numberless.items()]
    return blocks


@dataclass(frozen=True)
class ResolvedAddresses:
    """Every input (city, address) pair with its cluster and the cluster's canonical form."""

    cities: list[str]
    addresses: list[str]
    normalized: list[str]
    cluster: np.ndarray  # int cluster per input row
    canonical: list[str]  # canonical normalized address of the row's cluster
    city_key: list[str]  # normalized city of the row


def resolve_addresses(
    pairs: Sequence[tuple[str | None, str | None]],
    weights: Sequence[float] | None = None,
    threshold: float = 90.0,
    chunk: int = 2000,
) -> ResolvedAddresses:
    """Cluster (city, address) pairs into places.

    Blocking by normalized city and house number (see ``_blocks``); inside a block, unique
    matching keys (``address_key``) are compared with ``token_set_ratio`` (rapidfuzz ``cdist``),
    pairs above
    ``threshold`` with compatible house numbers are matched, and matches are closed transitively
    (connected components). The canonical form of a cluster is its most frequent normalized
    spelling (``weights`` = how often each input occurs), then the shortest, then the first
    alphabetically, so it does not depend on input order.
    """
    cities = [c or "" for c, _ in pairs]
    addresses = [a or "" for _, a in pairs]
    city_keys = [normalize_city(c) for c in cities]
    # One tokenization per address gives both the readable form and the matching key.
    items = [_address_items(a, c) if a else [] for c, a in zip(cities, addresses, strict=True)]
    normalized = [" ".join(text for _, text in it) for it in items]
    keys = [_key_of_items(it) for it in items]
    weights = list(weights) if weights is not None else [1.0] * len(pairs)

    # Nodes: unique (city, matching key, every number incl. rooms and buildings).
    node_of: dict[tuple[str, str, frozenset[tuple[str, str]]], int] = {}
    row_node = np.empty(len(pairs), dtype=np.int64)
    for i, node in enumerate(zip(city_keys, keys, map(_numbers, normalized), strict=True)):
        row_node[i] = node_of.setdefault(node, len(node_of))
    nodes = [(city_key, key) for city_key, key, _ in node_of]
    numbers = [nums for _, _, nums in node_of]
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    for rows_block, cols_block in _blocks(nodes, numbers):
        row_texts = [nodes[m][1] for m in rows_block]
        col_texts = [nodes[m][1] for m in cols_block]
        row_arr, col_arr = np.asarray(rows_block), np.asarray(cols_block)
        for start in range(0, len(row_texts), chunk):
            scores = process.cdist(
                row_texts[start : start + chunk],
                col_texts,
                scorer=fuzz.token_set_ratio,
                score_cutoff=threshold,
                dtype=np.uint8,
                # Threads pay off on big blocks only; most blocks hold a handful of addresses.
                workers=-1 if len(row_texts) * len(col_texts) > 100_000 else 1,
            )
            rows, cols = np.nonzero(scores)
            a, b = row_arr[rows + start], col_arr[cols]
            keep = a != b
            a, b = a[keep], b[keep]
            if len(a) == 0:
                continue
            ok = np.fromiter(
                (_numbers_compatible(numbers[x], numbers[y]) for x, y in zip(a, b, strict=True)),
                dtype=bool,
                count=len(a),
            )
            src.append(a[ok])
            dst.append(b[ok])

    n = len(nodes)
    if src:
        a, b = np.concatenate(src), np.concatenate(dst)
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        _, node_cluster = connected_components(graph, directed=False)
    else:
        node_cluster = np.arange(n)

    # Canonical spelling per cluster.
    counts: dict[int, Counter[str]] = {}
    for i, node in enumerate(row_node):
        counts.setdefault(int(node_cluster[node]), Counter())[normalized[i]] += weights[i]
    canonical_of = {
        c: min(counter.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0]
        for c, counter in counts.items()
    }
    row_cluster = node_cluster[row_node]
    return ResolvedAddresses(
        cities=cities,
        addresses=addresses,
        normalized=normalized,
        cluster=row_cluster,
        canonical=[canonical_of[int(c)] for c in row_cluster],
        city_key=city_keys,
    )


# --- quality of address resolution --------------------------------------------------------------


@dataclass(frozen=True)
class PairQuality:
    precision: float
    recall: float
    f1: float
    n_true_pairs: int
    n_predicted_pairs: int


def _pairs_by_group(labels: Mapping[str, object]) -> set[tuple[str, str]]:
    groups: dict[object, list[str]] = {}
    for item, label in labels.items():
        groups.setdefault(label, []).append(item)
    pairs: set[tuple[str, str]] = set()
    for members in groups.values():
        members = sorted(members)
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pairs.add((a, b))
    return pairs


def pairwise_quality(predicted: Mapping[str, object], truth: Mapping[str, object]) -> PairQuality:
    """Pairwise precision and recall of a clustering of items (e.g. address variants).

    A pair of distinct items is a true pair when truth puts them in one group and a predicted
    pair when the prediction does; only items present in both mappings count.
    """
    common = predicted.keys() & truth.keys()
    pred = _pairs_by_group({k: predicted[k] for k in common})
    true = _pairs_by_group({k: truth[k] for k in common})
    hit = len(pred & true)
    precision = hit / len(pred) if pred else 1.0
    recall = hit / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairQuality(precision, recall, f1, len(true), len(pred))


def address_resolution_quality(
    variants: Iterable[tuple[str, str, object]], threshold: float = 90.0
) -> PairQuality:
    """Resolve (city, address, true_source) variants and score the clustering against truth."""
    rows = list(variants)
    resolved = resolve_addresses([(c, a) for c, a, _ in rows], threshold=threshold)
    keys = [f"{c}|{a}" for c, a, _ in rows]
    predicted = dict(zip(keys, resolved.cluster.tolist(), strict=True))
    truth = {k: src for k, (_, _, src) in zip(keys, rows, strict=True)}
    return pairwise_quality(predicted, truth)


def mask_identifier(kind: str, value: str) -> str:
    """Shown form of a linked identifier: accounts, phones, ID documents keep 4 characters."""
    from ml.network.config import HARD_KINDS

    if kind in HARD_KINDS and kind != "business_license":
        value = value.strip()
        return "****" + value[-4:] if len(value) > 4 else "****"
    return value
