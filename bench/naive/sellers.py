"""Seller-behaviour features (sell_*) in plain pandas, one row per seller (naive reference).

Identifier normalization is applied row by row with ``Series.map`` and shared identifiers come
from a pandas self-merge, as a data scientist would write it.
"""

from __future__ import annotations

import re
import string

import pandas as pd

WINDOWS = (("7d", 7), ("30d", 30), ("90d", 90), ("all", None))
IDENTIFIER_KINDS = (
    "payment_account", "payment_holder", "device", "ip", "phone", "email", "id_document",
    "business_license", "sender_address", "sender_phone",
)  # fmt: skip
_SQUASH = re.compile(r"[\s" + re.escape(string.punctuation) + "]+", re.ASCII)


def squash(value: object) -> object:
    """Lower case without whitespace and ASCII punctuation (dbt: regexp_replace [\\s[:punct:]])."""
    return None if value is None or value != value else _SQUASH.sub("", str(value).lower())


def digits(value: object) -> object:
    return None if value is None or value != value else re.sub(r"[^0-9]", "", str(value))


def _days(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 86400.0


def _window(times: pd.Series, as_of: pd.Timestamp, n_days: int | None) -> pd.Series:
    before = times < as_of
    return before if n_days is None else before & (times >= as_of - pd.Timedelta(days=n_days))


def seller_identifiers(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """(seller_id, kind, identifier, first_seen_at) as int_seller_identifiers, built in pandas."""
    pay, logins, sellers = t["seller_payment_accounts"], t["seller_logins"], t["sellers"]
    ship = t["inbound_shipments"]
    parts = [
        (pay, "payment_account", pay["account_type"] + ":" + pay["account_ref"].map(squash),
         "first_seen_at"),
        (pay, "payment_holder", pay["holder_name"].map(squash), "first_seen_at"),
        (logins, "device", logins["device_id"], "logged_in_at"),
        (logins, "ip", logins["ip"], "logged_in_at"),
        (sellers, "phone", sellers["phone"].map(digits), "registered_at"),
        (sellers, "email", sellers["email"].str.strip().str.lower(), "registered_at"),
        (sellers, "id_document", sellers["id_document_hash"], "registered_at"),
        (sellers, "business_license", sellers["business_license"].map(squash), "registered_at"),
        (ship, "sender_address", ship["sender_address"].map(squash), "received_at"),
        (ship, "sender_phone", ship["sender_phone"].map(digits), "received_at"),
    ]  # fmt: skip
    frames = [
        pd.DataFrame(
            {
                "seller_id": src["seller_id"],
                "kind": kind,
                "identifier": ident,
                "first_seen_at": src[at],
            }
        )  # fmt: skip
        for src, kind, ident, at in parts
    ]
    ids = pd.concat(frames, ignore_index=True)
    ids = ids[ids["identifier"].notna() & (ids["identifier"].str.len() >= 3)]
    return ids.groupby(["seller_id", "kind", "identifier"], as_index=False)["first_seen_at"].min()


def shared_identifier_features(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    ids = seller_identifiers(t)
    ids = ids[ids["first_seen_at"] < as_of][["seller_id", "kind", "identifier"]]
    pairs = ids.merge(ids, on=["kind", "identifier"], suffixes=("", "_other"))
    pairs = pairs[pairs["seller_id"] != pairs["seller_id_other"]]
    by_kind = pairs.groupby(["seller_id", "kind"])["seller_id_other"].nunique().unstack()
    out = pd.DataFrame(index=pd.Index(t["sellers"]["seller_id"], name="seller_id"))
    for kind in IDENTIFIER_KINDS:
        col = by_kind[kind] if kind in by_kind else pd.Series(dtype=float)
        out[f"sell_shared_{kind}_sellers_n"] = col
    out = out.fillna(0).astype(int)
    out["sell_shared_any_sellers_n"] = pairs.groupby("seller_id")["seller_id_other"].nunique()
    out["sell_shared_any_sellers_n"] = out["sell_shared_any_sellers_n"].fillna(0).astype(int)
    kinds = [f"sell_shared_{k}_sellers_n" for k in IDENTIFIER_KINDS]
    out["sell_shared_identifier_kinds_n"] = (out[kinds] > 0).sum(axis=1)
    return out


def seller_features(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per seller (index seller_id) with the reimplemented sell_* features."""
    s = t["sellers"].set_index("seller_id")
    out = pd.DataFrame(index=s.index)
    out["sell_account_age_days"] = _days(as_of - s["registered_at"]).clip(lower=0)
    for col, name in (("business_license", "business_license"), ("phone", "phone"),
                      ("email", "email"), ("id_document_hash", "id_document")):  # fmt: skip
        out[f"sell_has_{name}"] = s[col].notna().astype(int)
    ls = t["listings"][t["listings"]["created_at"] < as_of]
    for suffix, n_days in WINDOWS:
        hit = ls[_window(ls["created_at"], as_of, n_days)]
        out[f"sell_listings_{suffix}"] = hit.groupby("seller_id").size()
    out["sell_brands_n"] = ls.groupby("seller_id")["brand"].nunique()
    out["sell_categories_n"] = ls.groupby("seller_id")["category"].nunique()
    pay = t["seller_payment_accounts"]
    pay = pay[pay["first_seen_at"] < as_of].groupby("seller_id")
    out["sell_payment_accounts_n"] = pay.size()
    out["sell_payment_account_types_n"] = pay["account_type"].nunique()
    out["sell_payment_banks_n"] = pay["bank_name"].nunique()
    out["sell_payment_holders_n"] = pay["holder_name"].nunique()
    logins = t["seller_logins"]
    logins = logins[logins["logged_in_at"] < as_of]
    for suffix, n_days in WINDOWS:
        g = logins[_window(logins["logged_in_at"], as_of, n_days)].groupby("seller_id")
        out[f"sell_logins_{suffix}"] = g.size()
        out[f"sell_login_devices_{suffix}"] = g["device_id"].nunique()
        out[f"sell_login_ips_{suffix}"] = g["ip"].nunique()
    counted = [c for c in out.columns if not c.startswith(("sell_account_age", "sell_has_"))]
    out[counted] = out[counted].fillna(0).astype(int)
    last_login = logins.groupby("seller_id")["logged_in_at"].max()
    out["sell_days_since_last_login"] = _days(as_of - last_login)
    return out.join(shared_identifier_features(t, as_of))
