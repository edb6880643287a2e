"""Masking of payment accounts, phone numbers and ID document hashes in everything exported.

Two layers, so that a value cannot slip through a field nobody thought of:

1. Known fields are masked by what they hold (``phone``, ``account_ref``, ``id_document_hash``,
   ``sender_phone``s, and linked identifiers whose ``kind`` names a phone, account or ID document).
2. Every other string is swept for the raw sensitive values of the lead (and a phone's bare
   digits), which are replaced by their masked form wherever they occur: shop names, report texts,
   the SVG picture, the evidence summary.

3. Free text is finally swept for anything shaped like one of them that the first two layers
   could not know (another seller's phone typed into a review, say): mainland mobile and
   landline numbers, digit runs of 12-19 (cards, bank accounts) and hex runs of 32+ (hashes).

Masked forms: accounts and phones keep their last 4 characters (``****5678``); hashes keep an
``algo:`` prefix and the first 4 characters after it, then ``…`` (``sha256:ab12…``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

ACCOUNT, PHONE, ID_HASH = "account", "phone", "id_hash"

#: Package fields masked by name, whatever lead they are in.
FIELD_CLASSES: dict[str, str] = {
    "phone": PHONE,
    "sender_phone": PHONE,
    "sender_phones": PHONE,
    "account_ref": ACCOUNT,
    "id_document_hash": ID_HASH,
}


def mask_tail(value: str, keep: int = 4) -> str:
    """``6222021234565678`` -> ``****5678``; short values lose everything."""
    value = value.strip()
    if len(value) <= keep:
        return "****"
    return "****" + value[-keep:]


def mask_hash(value: str, keep: int = 4) -> str:
    """``sha256:ab12cd…`` -> ``sha256:ab12…``; ``ab12cd…`` -> ``ab12…``."""
    value = value.strip()
    prefix, sep, digest = value.partition(":")
    if not sep:
        prefix, digest = "", value
    else:
        prefix += ":"
    return f"{prefix}{digest[:keep]}…"


def identifier_class(kind: str | None) -> str | None:
    """The sensitive class of a linked-identifier kind, or None when it needs no mask."""
    k = (kind or "").lower()
    if "phash" in k or "image" in k:
        return None
    if "phone" in k or "mobile" in k:
        return PHONE
    if any(word in k for word in ("account", "alipay", "bank", "card", "payment")):
        return ACCOUNT
    if any(word in k for word in ("id_doc", "document", "id_hash", "idhash")):
        return ID_HASH
    return None


def mask_value(value: str, cls: str) -> str:
    return mask_hash(value) if cls == ID_HASH else mask_tail(value)


def _spellings(value: str, cls: str) -> set[str]:
    """The raw value and the normalized spellings the network step stores (digits only, without
    +86; compact uppercase accounts; lowercase hashes), so none of them slips through."""
    spellings = {value, value.strip()}
    if cls == PHONE:
        digits = re.sub(r"\D", "", value)
        for prefix in ("0086", "86"):
            if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
                spellings.add(digits[len(prefix) :])
        spellings.add(digits)
    elif cls == ACCOUNT:
        spellings.add(re.sub(r"[^0-9A-Za-z]", "", value).upper())
    else:
        spellings.add(value.strip().lower())
    return {s for s in spellings if len(s) >= 7}


#: Shapes of sensitive values in free text, with the class that says how to mask them. A ``*``
#: before a match means it is already a masked tail.
SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])"), ID_HASH),
    (re.compile(r"(?<![\d*])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)"), PHONE),
    (re.compile(r"(?<![\d*])0\d{2,3}[\s-]\d{7,8}(?!\d)"), PHONE),
    (re.compile(r"(?<![\d*])\d{12,19}(?!\d)"), ACCOUNT),
)


def mask_shapes(value: str) -> str:
    """Mask every substring shaped like a phone, account number or ID hash."""
    for pattern, cls in SHAPES:
        value = pattern.sub(lambda m, c=cls: mask_value(m.group(0), c), value)
    return value


class Masker:
    """Masks one case package (or any text of it) given its raw sensitive values."""

    def __init__(self, sensitive: Iterable[tuple[str, str]], enabled: bool = True) -> None:
        self.enabled = enabled
        replacements: dict[str, str] = {}
        for value, cls in sensitive:
            if not value or len(value.strip()) < 4:
                continue
            masked = mask_value(value, cls)
            for variant in _spellings(value, cls):
                replacements[variant] = masked
                replacements[html.escape(variant)] = html.escape(masked)
        self._replacements = replacements
        # Longest first, so a full number is replaced before its digits-only variant.
        ordered = sorted(replacements, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def text(self, value: str) -> str:
        """Replace every raw sensitive value inside ``value``."""
        if not self.enabled or not value:
            return value
        if self._pattern is not None:
            value = self._pattern.sub(lambda m: self._replacements[m.group(0)], value)
        return mask_shapes(value)

    def package(self, obj: Any, field_class: str | None = None) -> Any:
        """A masked deep copy of a JSON-like package."""
        if not self.enabled:
            return obj
        if isinstance(obj, dict):
            out: dict[str, Any] = {}
            id_class = identifier_class(obj.get("kind")) if "identifier" in obj else None
            for key, value in obj.items():
                cls = FIELD_CLASSES.get(key)
                if key == "identifier" and id_class:
                    cls = id_class
                out[key] = self.package(value, cls)
            return out
        if isinstance(obj, list):
            return [self.package(item, field_class) for item in obj]
        if isinstance(obj, str):
            if field_class:
                return mask_value(obj, field_class)
            return self.text(obj)
        return obj


def sensitive_values(package: dict[str, Any]) -> list[tuple[str, str]]:
    """The raw sensitive values in a case package, with their class."""
    found: list[tuple[str, str]] = []

    def walk(obj: Any, field_class: str | None) -> None:
        if isinstance(obj, dict):
            id_class = identifier_class(obj.get("kind")) if "identifier" in obj else None
            for key, value in obj.items():
                cls = FIELD_CLASSES.get(key)
                if key == "identifier" and id_class:
                    cls = id_class
                walk(value, cls)
        elif isinstance(obj, list):
            for item in obj:
                walk(item, field_class)
        elif isinstance(obj, str) and field_class:
            found.append((obj, field_class))

    walk(package, None)
    return found


def masker_for(package: dict[str, Any], enabled: bool = True) -> Masker:
    return Masker(sensitive_values(package), enabled=enabled)
