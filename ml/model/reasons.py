"""Top reasons for a score, in words: the features whose SHAP contribution pushes it up most.

Feature names follow ``<family>_<what>[_<window>]`` (docs/architecture.md), so a few templates
cover the features investigators care most about and a generic phrasing covers the rest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np

WINDOWS = {"7d": "in 7 days", "30d": "in 30 days", "90d": "in 90 days", "all": "in total"}
REPORTERS = {
    "reports": "report",
    "consumer": "consumer report",
    "rights_holder": "rights-holder complaint",
    "platform_patrol": "platform-patrol report",
    "rights_holder_ip_claims": "rights-holder IP claim",
    "consumer_counterfeit": "consumer counterfeit report",
}
WORDS = {
    "n": "count",
    "kw": "keyword",
    "ref": "reference price",
    "hhi": "concentration",
    "ip": "IP",
    "gmv": "GMV",
    "len": "length",
    "std": "spread",
    "z": "z-score",
}
FLAGS = {
    "prod_brand_unauthorized": "seller is not authorised for the brand it claims",
    "prod_brand_unknown": "claimed brand is not in the brand register",
    "prod_price_below_half_ref": "price below half the brand's reference price",
    "prod_price_below_third_ref": "price below a third of the brand's reference price",
    "prod_category_mismatch": "listed in a different category than its brand",
    "prod_description_missing": "no description",
    "prod_image_missing": "no image",
    "prod_ship_from_other_city": "ships from a different city than the seller",
    "prod_title_mentions_brand": "title names the brand",
    "sell_has_business_license": "seller has a business licence",
}

SHARE_WORDS = {
    "sell_kw_listing_share": "counterfeit keywords in the text",
    "sell_unauthorized_listing_share": "brand the seller is not authorised for",
    "sell_unknown_brand_listing_share": "brand not in the brand register",
    "sell_branded_listing_share": "claims a brand",
}

Formatter = Callable[[float], str]


def _count(v: float) -> str:
    # Round first: parallel float sums differ in the last bits from run to run (106.99999...).
    v = round(float(v), 1)
    return f"{v:.0f}" if v.is_integer() else f"{v:.1f}"


def _price_vs(ref: str) -> Formatter:
    def fmt(ratio: float) -> str:
        if ratio < 1:
            return f"price {100 * (1 - ratio):.0f}% below {ref}"
        return f"price {100 * (ratio - 1):.0f}% above {ref}"

    return fmt


def _window(name: str) -> tuple[str, str]:
    stem, _, last = name.rpartition("_")
    return (stem, WINDOWS[last]) if last in WINDOWS and stem else (name, "")


def _plural(v: float, noun: str) -> str:
    return f"{_count(v)} {noun}" + ("" if v == 1 else "s")


def label(name: str) -> str:
    """The feature's name in words, without a value: ``sell_login_ips_30d`` -> ``login ips``."""
    family, _, rest = name.partition("_")
    if family == "sell" and rest.startswith(("rep_", "cons_")):
        rest = rest.partition("_")[2]
    words = " ".join(WORDS.get(t, t) for t in _window(rest)[0].split("_"))
    return f"seller {words}" if family == "sell" else words


def _generic(name: str) -> Formatter:
    stem, window = _window(name.partition("_")[2])
    words = label(name)
    if re.search(r"(share|rate)$", stem):
        return lambda v: f"{words} {100 * v:.0f}% {window}".rstrip()
    if stem.startswith("days_") or stem.endswith("_days"):
        return lambda v: f"{words}: {v:.0f}"
    return lambda v: f"{words}: {_count(v)} {window}".rstrip()


def _is_report_count(name: str) -> bool:
    stem = _window(name.removeprefix("rep_"))[0]
    return name.startswith("rep_") and (stem in REPORTERS or stem.startswith("reason_"))


def formatter(name: str) -> Formatter:
    """A function from a feature value to a phrase about it."""
    if name == "prod_price_to_ref_ratio":
        return _price_vs("reference price")
    if name == "prod_log_price_to_ref":
        return lambda v: _price_vs("reference price")(math.exp(v))
    if name == "prod_price_to_brand_mean_ratio":
        return _price_vs("the brand's average listing price")
    if name == "prod_price_to_category_mean_ratio":
        return _price_vs("the category's average listing price")
    if name in ("sell_price_to_ref_min", "sell_price_to_ref_mean"):
        which = "lowest" if name.endswith("min") else "average"
        return lambda v: f"seller's {which} " + _price_vs("reference price")(v)
    if (
        name.startswith("sell_")
        and name.endswith("_share")
        and "listing" in name
        or name
        in (
            "sell_below_half_ref_share",
            "sell_category_mismatch_share",
            "sell_image_missing_share",
            "sell_description_missing_share",
            "sell_ship_from_other_city_share",
        )
    ):
        what = SHARE_WORDS.get(name) or label(name).removeprefix("seller ").removesuffix(
            " share"
        ).replace(" listing", "")
        return lambda v: f"{100 * v:.0f}% of the seller's listings: {what}"
    if name in FLAGS:
        text = FLAGS[name]
        return lambda v: text if v >= 0.5 else f"not: {text}"
    if name.startswith("prod_kw_") and not name.endswith("_n"):
        cue = name.removeprefix("prod_kw_").replace("_", " ")
        return lambda v: f'listing text uses "{cue}" wording' if v >= 0.5 else f'no "{cue}" wording'
    if name.startswith("sell_rep_") and _is_report_count(name.removeprefix("sell_")):
        inner = formatter(name.removeprefix("sell_"))
        return lambda v: f"seller has {inner(v)}"
    if name in ("prod_price_z_brand", "prod_price_z_category"):
        of = name.rpartition("_")[2]
        return lambda v: f"price {v:+.1f} standard deviations from the {of} average"
    if _is_report_count(name):
        stem, window = _window(name.removeprefix("rep_"))
        reason = " ".join(WORDS.get(t, t) for t in stem.removeprefix("reason_").split("_"))
        what = REPORTERS.get(stem) or f"{reason} report"
        return lambda v: f"{_plural(v, what)} {window}".rstrip()
    return _generic(name)


def describe(name: str, value: float, vocab: dict[str, list[str]] | None = None) -> str:
    """One feature value in words, e.g. ``price 78% below reference price``."""
    if vocab and name in vocab:
        if value is None or math.isnan(value):
            return f"no {name} given" if name == "brand" else f"{name} unknown"
        return f"{name} {vocab[name][int(value)]}"
    if value is None or math.isnan(value):
        return f"{label(name)}: no data"
    return formatter(name)(float(value))


def top_reasons(
    contrib: np.ndarray,
    x: np.ndarray,
    columns: list[str],
    vocab: dict[str, list[str]],
    n: int = 3,
) -> list[list[str]]:
    """For each row, the ``n`` features pushing its score up most (positive contributions)."""
    contrib = contrib[:, : len(columns)]  # the last column of pred_contrib is the bias
    n = min(n, len(columns))
    part = np.argpartition(-contrib, n - 1, axis=1)[:, :n]
    order = np.take_along_axis(-contrib, part, axis=1).argsort(axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1)
    push = np.take_along_axis(contrib, idx, axis=1)
    vals = np.take_along_axis(x, idx, axis=1)
    cache: dict[int, Formatter] = {}
    out: list[list[str]] = []
    for row_idx, row_push, row_vals in zip(idx, push, vals, strict=True):
        texts = []
        for j, c, v in zip(row_idx, row_push, row_vals, strict=True):
            if c <= 0:
                break
            name = columns[j]
            if name in vocab or math.isnan(v):
                texts.append(describe(name, v, vocab))
            else:
                fmt = cache.get(j) or cache.setdefault(j, formatter(name))
                texts.append(fmt(float(v)))
        out.append(texts or ["no strong counterfeit signal"])
    return out
