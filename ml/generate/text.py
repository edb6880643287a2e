"""String making: vectorized column builders, and the spelling variants identifiers appear in.

The big tables never build Python strings row by row: ids, hashes, IPs and timestamps are made
with numpy and pyarrow compute. The variant writers (phones, e-mails, addresses, company names)
run once per entity, so plain Python is fine there.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ml.generate import vocab

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_SHIFTS = np.arange(60, -1, -4, dtype=np.uint64)


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``numbers``: lexical order equals numeric order."""
    digits = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width=width, padding="0"), "")


def hex16(values: np.ndarray) -> pa.Array:
    """Each uint64 as 16 lower-case hex characters."""
    values = np.asarray(values, dtype=np.uint64)
    nibbles = (values[:, None] >> _SHIFTS[None, :]) & np.uint64(0xF)
    chars = np.ascontiguousarray(_HEX[nibbles.astype(np.intp)])
    n = len(values)
    offsets = np.arange(0, 16 * (n + 1), 16, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def ipv4(packed: np.ndarray) -> pa.Array:
    """uint32 addresses as dotted quads."""
    packed = np.asarray(packed, dtype=np.uint64)
    octets = [
        pc.cast(pa.array((packed >> np.uint64(s)) & np.uint64(255)), pa.string())
        for s in (24, 16, 8, 0)
    ]
    return pc.binary_join_element_wise(*octets, ".")


def timestamps(seconds: np.ndarray) -> pa.Array:
    """Epoch seconds as UTC timestamps (microsecond unit, as Parquet stores them)."""
    micros = np.asarray(seconds, dtype=np.int64) * 1_000_000
    return pa.array(micros, type=pa.timestamp("us", tz="UTC"))


def iso_utc(seconds: np.ndarray) -> pa.Array:
    """Epoch seconds as ISO 8601 text with a ``Z``, for CSV files."""
    ts = pa.array(np.asarray(seconds, dtype=np.int64), type=pa.timestamp("s"))
    return pc.strftime(ts, format="%Y-%m-%dT%H:%M:%SZ")


def pick(values: tuple[str, ...] | list[str], index: np.ndarray) -> pa.Array:
    """``values[index]`` as a string column; a negative index gives null."""
    index = np.asarray(index, dtype=np.int64)
    table = pa.array(list(values), pa.string())
    return table.take(pa.array(np.where(index < 0, 0, index), mask=index < 0))


def join_words(*parts: pa.Array) -> pa.Array:
    """Join string columns with spaces, skipping nulls and empty strings."""
    cleaned = [pc.if_else(pc.equal(p, ""), pa.scalar(None, pa.string()), p) for p in parts]
    return pc.binary_join_element_wise(*cleaned, " ", null_handling="skip")


# -- spelling variants (per entity, plain Python) ------------------------------------------


def mobile(rng: np.random.Generator) -> str:
    prefix = vocab.MOBILE_PREFIXES[rng.integers(len(vocab.MOBILE_PREFIXES))]
    return prefix + f"{int(rng.integers(10**8)):08d}"


def phone_variant(digits: str, style: int) -> str:
    """One of the ways people write the same mobile or landline number."""
    if digits.startswith("0"):  # landline: area code + local number
        area, local = (digits[:3], digits[3:]) if digits[1] in "12" else (digits[:4], digits[4:])
        half = len(local) // 2
        styles = (
            f"{area}-{local}",
            f"({area}) {local}",
            f"+86 {area[1:]} {local[:half]} {local[half:]}",
            f"{area}{local}",
        )
    else:
        styles = (
            digits,
            f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}",
            f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
            f"+86{digits}",
            f"86-{digits}",
        )
    return styles[style % len(styles)]


def email_variant(local: str, domain: str, style: int) -> str:
    """The same mailbox as typed by different people: case, dots, upper-case domain."""
    plain = local.replace(".", "")
    styles = (
        f"{plain}@{domain}",
        f"{local}@{domain}",
        f"{plain.capitalize()}@{domain}",
        f"{plain.upper()}@{domain.upper()}",
    )
    return styles[style % len(styles)]


def person_name(rng: np.random.Generator) -> tuple[str, str]:
    surname = vocab.SURNAMES[rng.integers(len(vocab.SURNAMES))]
    given = vocab.GIVEN_NAMES[rng.integers(len(vocab.GIVEN_NAMES))]
    return surname, given


def name_variant(surname: str, given: str, style: int) -> str:
    styles = (f"{surname} {given}", f"{surname.upper()} {given.upper()}", f"{given} {surname}")
    return styles[style % len(styles)]


def bank_card(rng: np.random.Generator) -> str:
    bin_ = ("622202", "621700", "622848", "621485", "622588", "623058")[rng.integers(6)]
    return bin_ + "".join(str(d) for d in rng.integers(0, 10, size=13))


def card_variant(number: str, style: int) -> str:
    if style % 2 == 0:
        return number
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def business_license(rng: np.random.Generator, area_code: str) -> str:
    """An 18-character unified social credit code lookalike."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    tail = "".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=10))
    region = (area_code.lstrip("0") + "0000")[:4]
    return f"91{region}{int(rng.integers(10, 99))}MA{tail}"


class Address:
    """A street address that can be written several ways."""

    def __init__(self, rng: np.random.Generator, city_index: int, with_room: bool) -> None:
        province, city, *_ = vocab.CITIES[city_index]
        districts = vocab.CITIES[city_index][4]
        self.city_index = city_index
        self.city = city
        self.district = districts[rng.integers(len(districts))]
        self.street = vocab.STREETS[rng.integers(len(vocab.STREETS))]
        self.road = vocab.ROAD_TYPES[rng.integers(len(vocab.ROAD_TYPES))]
        self.number = int(rng.integers(1, 999))
        self.room = int(rng.integers(101, 2999)) if with_room else None
        self.building = int(rng.integers(1, 12))

    def variant(self, style: int) -> str:
        s1, s2 = self.street
        street = s1 + s2
        road, road_abbr = self.road
        room = f"Room {self.room}, " if self.room else ""
        styles = (
            f"{room}No. {self.number} {street} {road}, {self.district} District, {self.city}",
            f"{room}{self.number} {street} {road_abbr}, {self.district} Dist., {self.city}",
            f"No.{self.number} {s1} {s2.capitalize()} {road} {self.district}",
            f"{self.city} {self.district} District {street} {road} No. {self.number}",
            f"NO. {self.number} {street.upper()} {road.upper()}, {self.district.upper()} DISTRICT",
            f"Building {self.building}, No. {self.number} {street} {road}, {self.district}, "
            f"{self.city}",
        )
        return styles[style % len(styles)]


def company_variants(city_abbr: str, city: str, word: str, trade: str, n: int) -> list[str]:
    """``n`` spellings of one company's name, the canonical one first."""
    styles = [
        f"{city} {word} {trade} Co., Ltd.",
        f"{city_abbr} {word} {trade}",
        f"{word} {trade} Co Ltd",
        f"{city.upper()} {word.upper()} {trade.upper()} CO.,LTD",
        f"{city} {word} {trade}",
        f"{word} {trade} ({city})",
    ]
    return styles[:n]
