"""Listing features in plain pandas, as of the data's current time (naive reference).

Whole staging tables are read into pandas and every family is a groupby over the full frame,
then merged onto the listings. Column names and definitions follow the dbt marts
(dbt_project/models, macros/feature_aggregates.sql); only a subset is reimplemented.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml

from bench.naive.sellers import seller_features

ROOT = Path(__file__).resolve().parents[2]
STAGING = (
    "listings", "sellers", "brands", "brand_authorizations", "orders", "reviews", "reports",
    "seller_logins", "seller_payment_accounts", "inbound_shipments", "enforcement_outcomes",
)  # fmt: skip
#: (suffix, days) of every windowed feature; None = everything before as_of.
WINDOWS = (("7d", 7), ("30d", 30), ("90d", 90), ("all", None))
REPORTER_TYPES = ("consumer", "rights_holder", "platform_patrol")
REPORT_REASONS = ("counterfeit", "ip_infringement", "quality", "misleading", "other")
TIME_COLUMNS = {
    "listings": "created_at", "sellers": "registered_at",
    "brand_authorizations": "authorized_since",
    "seller_payment_accounts": "first_seen_at", "seller_logins": "logged_in_at",
    "orders": "paid_at", "reviews": "created_at", "reports": "created_at",
    "inbound_shipments": "received_at", "enforcement_outcomes": "decided_at",
}  # fmt: skip


def text_cues() -> dict[str, str]:
    """The listing keyword patterns, read from the dbt project's vars (one source of truth)."""
    project = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())
    return {name: cue["pattern"] for name, cue in project["vars"]["listing_text_cues"].items()}


def load_staging(warehouse: Path) -> dict[str, pd.DataFrame]:
    """Every staging table, whole, as a pandas frame (the naive way: no pushdown)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")  # keep stdout clean
        return {t: con.execute(f"SELECT * FROM staging.stg_{t}").df() for t in STAGING}


def feature_clock(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """One second after the latest timestamp anywhere (as int_feature_clock)."""
    stamps = [tables[t][c].max() for t, c in TIME_COLUMNS.items() if len(tables[t])]
    return max(s for s in stamps if pd.notna(s)) + pd.Timedelta(seconds=1)


def days(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 86400.0


def in_window(times: pd.Series, as_of: pd.Timestamp, n_days: int | None) -> pd.Series:
    before = times < as_of
    return before if n_days is None else before & (times >= as_of - pd.Timedelta(days=n_days))


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return num / den.where(den != 0)


def product_features(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    ls = t["listings"][t["listings"]["created_at"].notna()].copy()
    brands = t["brands"][["brand", "category", "reference_price"]]
    df = ls.merge(brands.rename(columns={"category": "brand_category"}), on="brand", how="left")
    sellers = t["sellers"][["seller_id", "city"]].rename(columns={"city": "seller_city"})
    df = df.merge(sellers, on="seller_id", how="left")
    out = pd.DataFrame({"listing_id": df["listing_id"]})
    ratio = df["price"] / df["reference_price"]
    out["prod_price"] = df["price"]
    out["prod_log_price"] = np.log(df["price"])
    out["prod_price_to_ref_ratio"] = ratio
    out["prod_log_price_to_ref"] = np.log(ratio)
    out["prod_price_below_half_ref"] = (ratio < 0.5).astype(int)
    out["prod_price_below_third_ref"] = (ratio < 0.3).astype(int)
    seen = df[df["created_at"] < as_of].assign(log_price=lambda d: np.log(d["price"]))
    for group in ("brand", "category"):
        stats = seen.groupby(group).agg(
            n=("price", "size"), mean=("price", "mean"), sd=("price", lambda p: p.std(ddof=0)),
            mean_log=("log_price", "mean"), sd_log=("log_price", lambda p: p.std(ddof=0)),
        )  # fmt: skip
        s = df[[group]].merge(stats, left_on=group, right_index=True, how="left")
        ok = (s["n"] >= 3) & (s["sd"] > 0)
        ok_log = (s["n"] >= 3) & (s["sd_log"] > 0)
        out[f"prod_{group}_listings_n"] = s["n"].fillna(0).astype(int).to_numpy()
        out[f"prod_price_z_{group}"] = ((df["price"] - s["mean"]) / s["sd"]).where(ok)
        out[f"prod_log_price_z_{group}"] = (
            (np.log(df["price"]) - s["mean_log"]) / s["sd_log"]
        ).where(ok_log)
        out[f"prod_price_to_{group}_mean_ratio"] = _ratio(df["price"], s["mean"])
    has_brand = df["brand"].notna()
    unknown = has_brand & df["reference_price"].isna()
    auth = t["brand_authorizations"]
    auth = auth[auth["authorized_since"] < as_of][["seller_id", "brand"]].drop_duplicates()
    authorized = df.merge(auth.assign(ok=True), on=["seller_id", "brand"], how="left")["ok"]
    out["prod_has_brand"] = has_brand.astype(int)
    out["prod_brand_unknown"] = unknown.astype(int)
    out["prod_brand_unauthorized"] = (has_brand & ~unknown & authorized.isna()).astype(int)
    mismatch = df["brand_category"].notna() & (df["brand_category"] != df["category"])
    out["prod_category_mismatch"] = mismatch.astype(int)
    out["prod_title_len"] = df["title"].str.len()
    out["prod_description_len"] = df["description"].str.len().fillna(0).astype(int)
    out["prod_description_missing"] = (df["description"].fillna("").str.strip() == "").astype(int)
    out["prod_image_missing"] = df["image_phash"].isna().astype(int)
    other_city = df["ship_from_city"] != df["seller_city"]
    known = df["seller_city"].notna() & df["ship_from_city"].notna()
    out["prod_ship_from_other_city"] = (other_city & known).astype(int)
    text = (df["title"] + " " + df["description"].fillna("")).str.lower()
    cues = text_cues()
    with warnings.catch_warnings():  # pandas warns about match groups; only the flag is wanted
        warnings.simplefilter("ignore", UserWarning)
        for name, pattern in cues.items():
            hit = text.str.contains(pattern, regex=True).fillna(False)
            out[f"prod_kw_{name}"] = hit.astype(int)
    out["prod_kw_cues_n"] = out[[f"prod_kw_{n}" for n in cues]].sum(axis=1)
    # Image reuse: other sellers / other listings with the same photo hash (self excluded).
    img = seen[seen["image_phash"].notna()].groupby("image_phash")
    reuse = pd.DataFrame({"sellers": img["seller_id"].nunique(), "listings": img.size()})
    r = df[["image_phash"]].merge(reuse, left_on="image_phash", right_index=True, how="left")
    out["prod_image_other_sellers_n"] = (r["sellers"] - 1).fillna(0).astype(int).to_numpy()
    out["prod_image_other_listings_n"] = (r["listings"] - 1).fillna(0).astype(int).to_numpy()
    out["prod_listing_age_days"] = days(as_of - df["created_at"]).clip(lower=0)
    return out.set_index("listing_id")


def consumer_features(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    orders = t["orders"][t["orders"]["paid_at"] < as_of].copy()
    orders["gmv"] = orders["quantity"] * orders["unit_price"]
    reviews = t["reviews"][t["reviews"]["created_at"] < as_of].copy()
    reviews["low"] = reviews["rating"] <= 2
    out = pd.DataFrame(index=pd.Index(t["listings"]["listing_id"], name="listing_id"))
    for suffix, n_days in WINDOWS:
        o = orders[in_window(orders["paid_at"], as_of, n_days)].groupby("listing_id")
        out[f"cons_orders_{suffix}"] = o.size()
        out[f"cons_units_{suffix}"] = o["quantity"].sum()
        out[f"cons_gmv_{suffix}"] = o["gmv"].sum()
        out[f"cons_refunds_{suffix}"] = o["refund_requested"].sum()
        out[f"cons_buyers_{suffix}"] = o["buyer_id"].nunique()
        counts = [f"cons_{k}_{suffix}" for k in ("orders", "units", "gmv", "refunds", "buyers")]
        out[counts] = out[counts].fillna(0)
        out[f"cons_refund_rate_{suffix}"] = _ratio(
            out[f"cons_refunds_{suffix}"], out[f"cons_orders_{suffix}"]
        )
        r = reviews[in_window(reviews["created_at"], as_of, n_days)].groupby("listing_id")
        out[f"cons_reviews_{suffix}"] = r.size()
        out[f"cons_reviews_{suffix}"] = out[f"cons_reviews_{suffix}"].fillna(0)
        out[f"cons_rating_mean_{suffix}"] = r["rating"].mean()
        out[f"cons_low_rating_share_{suffix}"] = r["low"].mean()
    last = orders.groupby("listing_id")["paid_at"].max()
    out["cons_days_since_last_order"] = days(as_of - last)
    return out


def report_features(t: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    reps = t["reports"]
    reps = reps[reps["listing_id"].notna() & (reps["created_at"] < as_of)]
    out = pd.DataFrame(index=pd.Index(t["listings"]["listing_id"], name="listing_id"))
    for suffix, n_days in WINDOWS:
        r = reps[in_window(reps["created_at"], as_of, n_days)]
        out[f"rep_reports_{suffix}"] = r.groupby("listing_id").size()
        for kind in REPORTER_TYPES:
            out[f"rep_{kind}_{suffix}"] = r[r["reporter_type"] == kind].groupby("listing_id").size()
        for reason in REPORT_REASONS:
            hit = r[r["reason"] == reason]
            out[f"rep_reason_{reason}_{suffix}"] = hit.groupby("listing_id").size()
        ip = (r["reporter_type"] == "rights_holder") & r["reason"].isin(
            ["counterfeit", "ip_infringement"]
        )
        out[f"rep_rights_holder_ip_claims_{suffix}"] = r[ip].groupby("listing_id").size()
        fake = (r["reporter_type"] == "consumer") & (r["reason"] == "counterfeit")
        out[f"rep_consumer_counterfeit_{suffix}"] = r[fake].groupby("listing_id").size()
    return out.fillna(0).astype(int)


def listing_features(warehouse: Path, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per listing (index listing_id): the reimplemented features as of ``as_of``.

    ``as_of`` defaults to the data's current time (int_feature_clock), as main.listing_features.
    """
    return features_from_tables(load_staging(warehouse), as_of)


def features_from_tables(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp | None = None
) -> pd.DataFrame:
    as_of = feature_clock(tables) if as_of is None else pd.Timestamp(as_of)
    prod = product_features(tables, as_of)
    cons = consumer_features(tables, as_of)
    rep = report_features(tables, as_of)
    sell = seller_features(tables, as_of)
    frame = prod.join(cons).join(rep)
    owners = tables["listings"].set_index("listing_id")[["seller_id"]]
    frame = frame.join(owners).merge(sell, left_on="seller_id", right_index=True, how="left")
    return frame.drop(columns="seller_id").sort_index()
