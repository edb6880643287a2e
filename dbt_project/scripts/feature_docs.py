# ruff: noqa: E501  (the description tables below are prose; wrapping them hurts reading)
"""Write the YAML of dbt_project/models/{intermediate,marts}: every model and every column.

Feature columns are many (hundreds) and follow one naming scheme,
``<family>_<measure>[_<window>]``, so their descriptions are derived from the name here: what the
metric measures, over which look-back window, in which unit. A name this script does not
understand is an error, so a new feature cannot ship undocumented. Key columns, model
descriptions and tests are spelt out in ``MODELS`` below.

The column lists come from a built warehouse (``information_schema``), so run it after
``dbt build`` whenever features change, and commit the YAML it writes:

    CLOUDSWORD_HOME=/tmp/somehome .venv/bin/python dbt_project/scripts/feature_docs.py
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import duckdb
import yaml

PROJECT = Path(__file__).resolve().parent.parent
FAMILIES = {"prod": "product", "cons": "consumer", "rep": "reports", "sell": "seller"}

# --- feature names -> descriptions ---------------------------------------------------------------
# (measure pattern, description, unit). {who} is the entity the events belong to; {grp} is the
# captured group of the pattern (a cue, a reason, a reporter type, an identifier kind, ...).
LISTING_CUES = {
    "replica": "'replica' and its obfuscations (r3plica, replika, 复刻, 高仿, 仿品)",
    "one_to_one": "'1:1' grade claims (1:1, 1 to 1, 1比1, 一比一)",
    "aaa_grade": "'AAA' / '3A-5A' / 'A++' quality grades",
    "mirror": "'mirror' quality (mirr0r, 镜面)",
    "original_quality": "'original quality' / 'OEM quality' / 原单 / 尾单",
    "factory_direct": "'factory direct/outlet/price' (工厂直, 厂家直)",
    "copy": "'copy' / 'top-grade copy' / 精仿",
    "off_platform_contact": "off-platform contact requests (WeChat, WhatsApp, Telegram, 加V)",
    "authenticity_claim": "authenticity claims ('100% authentic', genuine, 正品, 保真)",
    "wholesale": "wholesale / bulk offers (批发, 一手货源)",
    "inspired_style": "'inspired' / 'style' / 同款 / no-logo look-alikes",
    "deep_discount": "deep-discount wording (clearance, cheap, 'x% off', 清仓, 特价)",
}
REVIEW_CUES = {
    "fake": "'fake' (fak3, 假货, 假的)",
    "not_original": "'not original/genuine/authentic' (不是正品)",
    "smell": "chemical smell (odour, stink, 异味)",
    "poor_quality": "poor quality / fell apart (质量差, 做工差)",
    "logo_detail": "logo, stitching, label, serial or hologram details",
    "counterfeit_word": "'counterfeit', 'knock-off', 'replica', 'copy' (仿)",
    "packaging": "box or packaging remarks (包装, 盒)",
    "refund": "refund or return mentions (退货, 退款)",
}
IDENTIFIER_KINDS = {
    "payment_account": "a payment account (type + normalised account number)",
    "payment_holder": "a payment account holder name",
    "device": "a log-in device",
    "ip": "a log-in IP address",
    "phone": "a registered phone number (digits only)",
    "email": "a registered email address",
    "id_document": "an identity document hash",
    "business_license": "a business license number",
    "sender_address": "an inbound shipment sender address (normalised)",
    "sender_phone": "an inbound shipment sender phone (digits only)",
}
R = r"(consumer|rights_holder|platform_patrol)"
REASON = r"(counterfeit|ip_infringement|quality|misleading|other)"

PRODUCT: list[tuple[str, str, str]] = [
    ("price", "Listed unit price of the listing", "CNY"),
    ("log_price", "Natural log of the listed unit price", "log CNY"),
    (
        "price_to_ref_ratio",
        "Listed price / reference (typical genuine) price of the claimed brand; null without a known brand",
        "ratio",
    ),
    (
        "log_price_to_ref",
        "Natural log of price / brand reference price (negative = cheaper than genuine)",
        "log ratio",
    ),
    (
        "price_below_half_ref",
        "1 if the price is below half the claimed brand's reference price",
        "flag 0/1",
    ),
    (
        "price_below_third_ref",
        "1 if the price is below 0.3 x the claimed brand's reference price",
        "flag 0/1",
    ),
    (
        "(brand|category)_listings_n",
        "Listings of the same {grp} created before as_of (all sellers), the base of the {grp} price comparison",
        "count",
    ),
    (
        "price_z_(brand|category)",
        "z-score of the price against listings of the same {grp} created before as_of; null with fewer than 3 or no spread",
        "z-score",
    ),
    (
        "log_price_z_(brand|category)",
        "z-score of the log price against listings of the same {grp} created before as_of; null with fewer than 3 or no spread",
        "z-score",
    ),
    (
        "price_to_(brand|category)_mean_ratio",
        "Price / mean price of listings of the same {grp} created before as_of",
        "ratio",
    ),
    ("has_brand", "1 if the listing claims a brand", "flag 0/1"),
    ("brand_unknown", "1 if the claimed brand is not in the brands table", "flag 0/1"),
    (
        "brand_unauthorized",
        "1 if the listing claims a known brand its seller holds no authorization for (started before as_of)",
        "flag 0/1",
    ),
    (
        "brand_authorized_days",
        "Days the seller's authorization for the claimed brand had run at as_of; null when not authorized",
        "days",
    ),
    (
        "category_mismatch",
        "1 if the listing's category differs from the claimed brand's category",
        "flag 0/1",
    ),
    ("title_len", "Length of the title", "characters"),
    ("description_len", "Length of the description (0 when missing)", "characters"),
    ("description_missing", "1 if the listing has no (or a blank) description", "flag 0/1"),
    ("image_missing", "1 if the listing has no image hash", "flag 0/1"),
    ("ship_from_address_missing", "1 if the listing gives no ship-from address", "flag 0/1"),
    (
        "ship_from_other_city",
        "1 if the listing ships from a city other than the seller's registered city",
        "flag 0/1",
    ),
    ("title_mentions_brand", "1 if the title names the claimed brand", "flag 0/1"),
    (
        "title_other_brands_n",
        "Known brands other than the claimed one named in the title (look-alike wording)",
        "count",
    ),
    (
        "kw_(" + "|".join(LISTING_CUES) + ")",
        "1 if title or description matches the suspicious-wording pattern {cue} (plain and obfuscated spellings; var listing_text_cues)",
        "flag 0/1",
    ),
    (
        "kw_cues_n",
        "Distinct suspicious-wording patterns (listing_text_cues) matched in title + description",
        "count",
    ),
    ("kw_title_cues_n", "Distinct suspicious-wording patterns matched in the title alone", "count"),
    (
        "image_other_sellers_n",
        "Other sellers that used the same image hash before as_of (image reuse across sellers)",
        "count",
    ),
    (
        "image_other_listings_n",
        "Other listings (any seller) that used the same image hash before as_of",
        "count",
    ),
    (
        "title_other_sellers_n",
        "Other sellers that used the same normalised title before as_of",
        "count",
    ),
    ("listing_age_days", "Days from the listing's creation to as_of", "days"),
]

CONSUMER: list[tuple[str, str, str]] = [
    ("orders", "Orders paid on {who}", "count"),
    ("units", "Units bought on {who}", "count"),
    ("gmv", "Gross merchandise value (quantity x unit price) of orders on {who}", "CNY"),
    ("refunds", "Orders on {who} whose buyer requested a refund", "count"),
    (
        "refund_rate",
        "Share of orders on {who} with a refund request; null without orders",
        "share 0..1",
    ),
    ("units_per_order_mean", "Mean units per order on {who}", "units"),
    ("units_per_order_max", "Largest units in one order on {who} (0 without orders)", "units"),
    ("buyer_provinces_n", "Distinct delivery provinces of orders on {who}", "count"),
    ("buyer_cities_n", "Distinct delivery cities of orders on {who}", "count"),
    ("order_days_n", "Distinct days with at least one order on {who}", "count"),
    (
        "days_since_first_order",
        "Days from the first order on {who} to as_of; null without orders",
        "days",
    ),
    (
        "days_since_last_order",
        "Days from the latest order on {who} to as_of; null without orders",
        "days",
    ),
    (
        r"orders_(\d+d)_of_(\d+d)_share",
        "Share of the orders on {who} in the last {g1} that came in the last {g0} before as_of (sales burst); null without orders",
        "share 0..1",
    ),
    (
        "buyers",
        "Distinct buyers on {who} (counted in a window when their latest order falls in it)",
        "count",
    ),
    (
        "top_buyer_share",
        "Share of orders on {who} placed by its single biggest buyer (buyer concentration)",
        "share 0..1",
    ),
    ("repeat_buyer_share", "Share of buyers on {who} with two or more orders", "share 0..1"),
    (
        "buyer_hhi",
        "Herfindahl index of order counts per buyer on {who}, over all time before as_of (1 = one buyer)",
        "index 0..1",
    ),
    ("reviews", "Reviews of {who}", "count"),
    ("rating_mean", "Mean star rating of reviews of {who}; null without reviews", "stars 1..5"),
    ("low_rating_share", "Share of reviews of {who} rated 1 or 2 stars", "share 0..1"),
    (
        r"rating_([1-5])_share",
        "Share of reviews of {who} with exactly {grp} star(s) (rating distribution)",
        "share 0..1",
    ),
    ("rating_std", "Standard deviation of the star ratings of {who}", "stars"),
    ("review_text_share", "Share of reviews of {who} with non-blank text", "share 0..1"),
    ("review_text_len_mean", "Mean length of non-blank review texts of {who}", "characters"),
    (
        "five_star_terse_share",
        "Share of reviews of {who} that are 5 stars with under 10 characters of text (low-effort praise)",
        "share 0..1",
    ),
    (
        "review_cue_(" + "|".join(REVIEW_CUES) + ")_n",
        "Reviews of {who} whose text mentions {rcue} (var review_text_cues)",
        "count",
    ),
    (
        "review_cue_(" + "|".join(REVIEW_CUES) + ")_share",
        "Share of reviews of {who} whose text mentions {rcue} (var review_text_cues)",
        "share 0..1",
    ),
    (
        "review_no_purchase_share",
        "Share of reviews of {who} written by someone with no earlier paid order on that listing",
        "share 0..1",
    ),
    (
        "days_since_last_review",
        "Days from the latest review of {who} to as_of; null without reviews",
        "days",
    ),
    ("reviews_per_order", "Reviews per order on {who}; null without orders", "ratio"),
    (
        "review_burst_max_day_n",
        "Most reviews of {who} written on a single day (review burst)",
        "count",
    ),
    (
        "review_burst_max_day_share",
        "Share of the reviews of {who} written on its busiest review day (review burst)",
        "share 0..1",
    ),
    ("review_days_n", "Distinct days on which {who} got a review", "count"),
    (
        "reviewer_other_sellers_mean",
        "Mean number of other sellers each reviewer of {who} had reviewed before as_of (reviewer overlap)",
        "sellers",
    ),
    (
        "reviewer_multi_seller_share",
        "Share of reviewers of {who} who had reviewed at least var reviewer_multi_seller_min other sellers before as_of",
        "share 0..1",
    ),
    (
        "listing_gmv_share_of_seller",
        "This listing's GMV / its seller's GMV over all its listings",
        "share 0..1",
    ),
]

REPORTS: list[tuple[str, str, str]] = [
    ("reports", "Reports about {who}, any reporter and reason", "count"),
    (R, "Reports about {who} filed by reporter type {grp}", "count"),
    ("reason_" + REASON, "Reports about {who} giving reason {grp}", "count"),
    (
        "rights_holder_ip_claims",
        "Rights-holder reports about {who} claiming counterfeit or IP infringement (kept apart from consumer complaints)",
        "count",
    ),
    ("consumer_counterfeit", "Consumer reports about {who} saying counterfeit", "count"),
    ("distinct_reasons_n", "Distinct reasons among reports about {who}", "count"),
    ("distinct_reporter_types_n", "Distinct reporter types among reports about {who}", "count"),
    (
        "counterfeit_ip_share",
        "Share of reports about {who} with reason counterfeit or ip_infringement",
        "share 0..1",
    ),
    ("text_share", "Share of reports about {who} with non-blank text", "share 0..1"),
    (
        "days_since_first_report",
        "Days from the first report about {who} to as_of; null without reports",
        "days",
    ),
    (
        "days_since_last_report",
        "Days from the latest report about {who} to as_of; null without reports",
        "days",
    ),
    ("reported_listings_n", "Distinct listings of the seller that were reported", "count"),
    ("seller_only_reports", "Reports naming the seller without naming a listing", "count"),
    ("consumer_per_order", "Consumer reports per order on {who}; null without orders", "ratio"),
    (
        "consumer_counterfeit_per_order",
        "Consumer 'counterfeit' reports per order on {who}; null without orders",
        "ratio",
    ),
    ("reports_per_buyer", "Reports per distinct buyer of {who}; null without buyers", "ratio"),
]

SELLER: list[tuple[str, str, str]] = [
    ("account_age_days", "Days from the seller's registration to as_of", "days"),
    (
        "has_(business_license|phone|email|id_document)",
        "1 if the seller registered a {grp}",
        "flag 0/1",
    ),
    (
        "registration_completeness_share",
        "Share of the optional registration details given (license, phone, email, ID document)",
        "share 0..1",
    ),
    (
        "shop_name_cues_n",
        "Suspicious-wording patterns (listing_text_cues) matched in the shop name",
        "count",
    ),
    ("listings", "Listings the seller created", "count"),
    ("brands_n", "Distinct brands claimed by the seller's listings created before as_of", "count"),
    ("categories_n", "Distinct categories of the seller's listings created before as_of", "count"),
    ("branded_listing_share", "Share of the seller's listings that claim a brand", "share 0..1"),
    (
        "unauthorized_listing_share",
        "Share of the seller's known-brand listings whose brand it is not authorized for",
        "share 0..1",
    ),
    (
        "unknown_brand_listing_share",
        "Share of the seller's listings claiming a brand not in the brands table",
        "share 0..1",
    ),
    (
        "ship_from_cities_n",
        "Distinct ship-from cities of the seller's listings (ship-from spread)",
        "count",
    ),
    (
        "ship_from_other_city_share",
        "Share of the seller's listings shipping from a city other than its registered city",
        "share 0..1",
    ),
    (
        "price_to_ref_mean",
        "Mean price / brand reference price over the seller's branded listings",
        "ratio",
    ),
    (
        "price_to_ref_min",
        "Lowest price / brand reference price among the seller's branded listings",
        "ratio",
    ),
    (
        "below_half_ref_share",
        "Share of the seller's branded listings priced below half the reference price",
        "share 0..1",
    ),
    (
        "kw_listing_share",
        "Share of the seller's listings matching at least one suspicious-wording pattern",
        "share 0..1",
    ),
    (
        "kw_cues_mean",
        "Mean number of suspicious-wording patterns per listing of the seller",
        "count",
    ),
    (
        "category_mismatch_share",
        "Share of the seller's listings whose category differs from the claimed brand's",
        "share 0..1",
    ),
    ("image_missing_share", "Share of the seller's listings without an image", "share 0..1"),
    (
        "description_missing_share",
        "Share of the seller's listings without a description",
        "share 0..1",
    ),
    ("description_len_mean", "Mean description length of the seller's listings", "characters"),
    ("days_since_first_listing", "Days from the seller's first listing to as_of", "days"),
    (
        "days_since_last_listing",
        "Days from the seller's latest listing to as_of (listing recency)",
        "days",
    ),
    (
        "days_registration_to_first_listing",
        "Days from registration to the seller's first listing",
        "days",
    ),
    (
        "top_brand_share",
        "Share of the seller's branded listings in its most listed brand (brand concentration)",
        "share 0..1",
    ),
    (
        "brand_hhi",
        "Herfindahl index of the seller's branded listings over brands (1 = one brand)",
        "index 0..1",
    ),
    ("unauthorized_brands_n", "Known brands the seller lists without authorization", "count"),
    (
        "listing_burst_max_day_n",
        "Most listings the seller created on one day (listing velocity burst)",
        "count",
    ),
    (
        "listing_burst_max_day_share",
        "Share of the seller's listings created on its busiest day",
        "share 0..1",
    ),
    (
        "authorized_brands_n",
        "Brands the seller is authorized for (authorization started before as_of)",
        "count",
    ),
    ("payment_accounts_n", "Payment accounts seen on the seller", "count"),
    (
        "payment_account_types_n",
        "Distinct payment account types (alipay, bank_card, bank_account) of the seller",
        "count",
    ),
    ("payment_banks_n", "Distinct banks of the seller's payment accounts", "count"),
    ("payment_holders_n", "Distinct holder names on the seller's payment accounts", "count"),
    ("payment_accounts_new", "Payment accounts first seen on the seller", "count"),
    ("logins", "Seller log-ins", "count"),
    (
        "login_devices",
        "Distinct devices the seller logged in from (counted where their latest use falls in the window)",
        "count",
    ),
    (
        "login_ips",
        "Distinct IP addresses the seller logged in from (counted where their latest use falls in the window)",
        "count",
    ),
    ("days_since_last_login", "Days from the seller's latest log-in to as_of", "days"),
    ("inbound_shipments", "Inbound shipments the seller received", "count"),
    ("inbound_weight_kg", "Total weight of inbound shipments the seller received", "kg"),
    (
        "inbound_sender_cities_n",
        "Distinct sender cities of the seller's inbound shipments",
        "count",
    ),
    ("inbound_weight_kg_mean", "Mean weight of the seller's inbound shipments", "kg"),
    (
        "inbound_missing_sender_name_share",
        "Share of the seller's inbound shipments without a sender name",
        "share 0..1",
    ),
    (
        "inbound_missing_sender_phone_share",
        "Share of the seller's inbound shipments without a sender phone",
        "share 0..1",
    ),
    (
        "inbound_undeclared_share",
        "Share of the seller's inbound shipments without a declared goods category",
        "share 0..1",
    ),
    ("days_since_last_inbound", "Days from the seller's latest inbound shipment to as_of", "days"),
    (
        "inbound_senders_n",
        "Distinct senders (normalised address) of the seller's inbound shipments (counted where their latest shipment falls in the window)",
        "count",
    ),
    (
        "shared_(" + "|".join(IDENTIFIER_KINDS) + ")_sellers_n",
        "Other sellers sharing {ident} with the seller, both seen before as_of",
        "count",
    ),
    (
        "shared_any_sellers_n",
        "Other sellers sharing any identifier (payment, device, IP, phone, email, ID, license, sender) with the seller",
        "count",
    ),
    (
        "shared_identifier_kinds_n",
        "Identifier kinds (of 10) the seller shares with at least one other seller",
        "count",
    ),
    (
        "inbound_kg_per_unit_sold",
        "Inbound shipment weight / units sold by the seller (goods in vs goods out)",
        "kg per unit",
    ),
]

WINDOW = re.compile(r"^(?P<measure>.+?)_(?P<window>\d+d|all)$")
MEASURES = {"prod": PRODUCT, "cons": CONSUMER, "rep": REPORTS, "sell": SELLER}


def _window_text(window: str | None) -> str:
    if window is None or window == "all":
        return "over all time before as_of"
    return f"in the {window[:-1]} days before as_of"


def describe_feature(name: str, grain: str) -> dict[str, Any]:
    """Description and meta of one feature column; raises ValueError for unknown names.

    grain is the entity the model's rows are ('listing' or 'seller'); the sell_cons_* and
    sell_rep_* columns of listing models are the listing's seller's aggregates.
    """
    family, _, rest = name.partition("_")
    if family not in FAMILIES:
        raise ValueError(f"{name}: no family prefix")
    who = "the listing" if grain == "listing" else "the seller's listings (all of them)"
    lookup, prefix = MEASURES[family], ""
    if family == "sell" and rest.split("_", 1)[0] in ("cons", "rep"):
        sub, _, rest = rest.partition("_")
        lookup, who = MEASURES[sub], "the seller's listings (all of them)"
        prefix = "Seller-level: "
    candidates = [(rest, None)]
    match = WINDOW.match(rest)
    if match:
        candidates.insert(0, (match["measure"], match["window"]))
    for measure, window in candidates:
        for pattern, text, unit in lookup:
            found = re.fullmatch(pattern, measure)
            if not found:
                continue
            groups = found.groups()
            grp = groups[0] if groups else ""
            filled = text.format(
                who=who,
                grp=grp.replace("_", " "),
                g0=groups[0] if groups else "",
                g1=groups[1] if len(groups) > 1 else "",
                cue=LISTING_CUES.get(grp, ""),
                rcue=REVIEW_CUES.get(grp, ""),
                ident=IDENTIFIER_KINDS.get(grp, ""),
            )
            # Windowed names say their window; the others are attributes of the current version
            # (product) or aggregates over everything before as_of (said unless the text does).
            if window is not None:
                filled += f" {_window_text(window)}"
            elif family != "prod" and "as_of" not in filled:
                filled += " before as_of"
            if prefix:
                filled = prefix + filled[0].lower() + filled[1:]
            return {
                "description": f"{filled}. Unit: {unit}.",
                "config": {
                    "meta": {"family": FAMILIES[family], "window": window or "none", "unit": unit}
                },
            }
    raise ValueError(f"{name}: no description pattern matches; add one to feature_docs.py")


# --- models --------------------------------------------------------------------------------------
def _key(description: str, *tests: Any) -> dict[str, Any]:
    return {"description": description, "tests": list(tests)}


def _rel(model: str, field: str) -> dict[str, Any]:
    return {"relationships": {"arguments": {"to": f"ref('{model}')", "field": field}}}


def _accepted(*values: Any) -> dict[str, Any]:
    return {"accepted_values": {"arguments": {"values": list(values)}}}


AS_OF = (
    "Moment the features are computed for: only events strictly before it count (point in time)."
)
FEATURES_AS_OF = "As-of time of the feature values (int_feature_clock): events before it count."
LISTING_KEY = _key("Listing identifier.", "not_null", _rel("stg_listings", "listing_id"))
SELLER_KEY = _key("Seller identifier.", "not_null", _rel("stg_sellers", "seller_id"))
FEATURE_GRAIN = {
    "int_listing_product_features": "listing",
    "int_listing_consumer_features": "listing",
    "int_listing_report_features": "listing",
    "int_seller_behaviour_features": "seller",
    "int_seller_shared_identifiers": "seller",
    "int_seller_consumer_features": "seller",
    "int_seller_report_features": "seller",
    "listing_features": "listing",
    "training_set": "listing",
    "seller_features": "seller",
    "seller_training_set": "seller",
}

ATTRIBUTE_COLUMNS = {
    "listing_id": _key(
        "Listing identifier.", "unique", "not_null", _rel("stg_listings", "listing_id")
    ),
    "seller_id": _key("Seller of the listing (current version).", "not_null"),
    "brand": _key("Brand the listing claims, if any."),
    "category": _key("Category of the listing."),
    "created_at": _key("When the listing was created (UTC)."),
    "price": _key("Listed unit price (CNY)."),
    "image_phash": _key("Perceptual hash of the main image, if any."),
    "title_key": _key("Title lower-cased without spaces and punctuation, to find reused titles."),
    "ship_from_city": _key("City the listing ships from."),
    "brand_category": _key("Category of the claimed brand (brands table), if known."),
    "brand_reference_price": _key("Reference price (CNY) of the claimed brand, if known."),
    "has_brand": _key("1 if the listing claims a brand."),
    "brand_unknown": _key("1 if the claimed brand is not in the brands table."),
    "price_to_ref": _key("Price / brand reference price; null without a known brand."),
    "category_mismatch": _key("1 if the listing's category differs from its brand's category."),
    "title_len": _key("Title length in characters."),
    "description_len": _key("Description length in characters (0 when missing)."),
    "description_missing": _key("1 if the description is missing or blank."),
    "image_missing": _key("1 if there is no image hash."),
    "ship_from_address_missing": _key("1 if there is no ship-from address."),
    "ship_from_other_city": _key(
        "1 if it ships from a city other than the seller's registered one."
    ),
    "title_mentions_brand": _key("1 if the title names the claimed brand."),
    "title_other_brands_n": _key("Known brands other than the claimed one named in the title."),
    "kw_cues_n": _key("Distinct suspicious-wording patterns matched in title + description."),
    "kw_title_cues_n": _key("Distinct suspicious-wording patterns matched in the title."),
    **{
        f"kw_{cue}": _key(f"1 if title or description matches {text}.")
        for cue, text in LISTING_CUES.items()
    },
}

MODELS: dict[str, dict[str, Any]] = {
    "int_feature_clock": {
        "description": "The data's 'now': one second after the latest timestamp in any staging table. listing_features and seller_features are computed as of it; derived from the data, so the same data gives the same features.",
        "columns": {
            "as_of": _key("The as-of time of the current feature marts.", "not_null", "unique")
        },
        "tests": [{"row_count_in_range": {"arguments": {"min_value": 1, "max_value": 1}}}],
    },
    "int_listing_spine": {
        "description": "The (listing, as_of) pairs listing features are computed for: every listing as of int_feature_clock, and every labelled listing as of its label decision.",
        "columns": {
            "listing_id": LISTING_KEY,
            "seller_id": _key("Seller of the listing.", "not_null"),
            "as_of": _key(AS_OF, "not_null"),
        },
        "tests": [{"unique_combination": {"arguments": {"columns": ["listing_id", "as_of"]}}}],
    },
    "int_seller_spine": {
        "description": "The (seller, as_of) pairs seller features are computed for: every seller as of int_feature_clock, every labelled seller as of its label decision, and every (seller, as_of) a listing spine row needs.",
        "columns": {"seller_id": SELLER_KEY, "as_of": _key(AS_OF, "not_null")},
        "tests": [{"unique_combination": {"arguments": {"columns": ["seller_id", "as_of"]}}}],
    },
    "int_listing_labels": {
        "description": "One label per listing with a listing-level enforcement outcome; the latest decision wins. Seller-level outcomes never label listings.",
        "columns": {
            "listing_id": _key(
                "Labelled listing.", "unique", "not_null", _rel("stg_listings", "listing_id")
            ),
            "label": _key(
                "1 = counterfeit_confirmed, 0 = genuine_confirmed.", "not_null", _accepted(0, 1)
            ),
            "label_decided_at": _key("When the deciding outcome was decided (UTC).", "not_null"),
            "label_source": _key(
                "How it was established (enforcement_outcomes.source).",
                "not_null",
                _accepted("test_purchase", "rights_holder_verification", "police_raid", "appeal"),
            ),
            "label_case_ref": _key("case_ref of the deciding outcome.", "not_null"),
        },
    },
    "int_seller_outcomes": {
        "description": "Every seller-level outcome in the shape of enforcement_outcomes, from the marketplace's enforcement_outcomes (entity_type = seller) and from investigators' lead decisions (latest accepted/rejected status of each lead, one row per seller it covered; accepted -> counterfeit_confirmed with source police_raid, rejected -> genuine_confirmed with source appeal, as ml.leads.registry.outcome_labels). Labels sellers only; never a feature.",
        "columns": {
            "case_ref": _key(
                "enforcement case_ref, or <lead_id>:<seller_id> for a lead decision.",
                "unique",
                "not_null",
            ),
            "seller_id": SELLER_KEY,
            "outcome": _key(
                "counterfeit_confirmed or genuine_confirmed.",
                "not_null",
                _accepted("counterfeit_confirmed", "genuine_confirmed"),
            ),
            "source": _key(
                "How it was established.",
                "not_null",
                _accepted("test_purchase", "rights_holder_verification", "police_raid", "appeal"),
            ),
            "decided_at": _key("When it was decided (UTC).", "not_null"),
            "origin": _key(
                "enforcement_outcomes or lead_decision.",
                "not_null",
                _accepted("enforcement_outcomes", "lead_decision"),
            ),
        },
    },
    "int_seller_labels": {
        "description": "One label per seller with a seller-level outcome (int_seller_outcomes); the latest decision wins (ties by case_ref).",
        "columns": {
            "seller_id": _key(
                "Labelled seller.", "unique", "not_null", _rel("stg_sellers", "seller_id")
            ),
            "label": _key(
                "1 = counterfeit_confirmed, 0 = genuine_confirmed.", "not_null", _accepted(0, 1)
            ),
            "label_decided_at": _key("When the deciding outcome was decided (UTC).", "not_null"),
            "label_source": _key("How it was established.", "not_null"),
            "label_origin": _key(
                "enforcement_outcomes or lead_decision.",
                "not_null",
                _accepted("enforcement_outcomes", "lead_decision"),
            ),
            "label_case_ref": _key("case_ref of the deciding outcome.", "not_null"),
        },
    },
    "int_seller_identifiers": {
        "description": "Every identifier a seller is known by (payment account, holder, device, IP, phone, email, ID document, business license, sender address and phone), lightly normalised, with when it was first seen on that seller. Sellers sharing one are likely one operation.",
        "columns": {
            "seller_id": _key("Seller identifier.", "not_null"),
            "identifier_kind": _key(
                "Kind of identifier.", "not_null", _accepted(*IDENTIFIER_KINDS)
            ),
            "identifier": _key("Normalised identifier value (at least 3 characters).", "not_null"),
            "first_seen_at": _key("When it was first seen on the seller (UTC).", "not_null"),
        },
        "tests": [
            {
                "unique_combination": {
                    "arguments": {"columns": ["seller_id", "identifier_kind", "identifier"]}
                }
            }
        ],
    },
    "int_listing_attributes": {
        "description": "Time-independent attributes of each listing's current version: price against the brand's reference price, text cues, completeness. status is deliberately not carried (it reflects takedowns).",
        "columns": ATTRIBUTE_COLUMNS,
    },
    "int_review_events": {
        "description": "Every review with what the consumer features need, computed once for the listing and seller grains: its seller, text flags, review text cues (var review_text_cues) and whether the reviewer had paid for the listing before.",
        "columns": {
            "review_id": _key(
                "Review identifier.", "unique", "not_null", _rel("stg_reviews", "review_id")
            ),
            "listing_id": LISTING_KEY,
            "seller_id": SELLER_KEY,
            "buyer_id": _key("Buyer who wrote the review."),
            "rating": _key("Star rating, 1 to 5."),
            "created_at": _key("When the review was written (UTC).", "not_null"),
            "has_text": _key("True if the review has non-blank text."),
            "text_len": _key("Length of the trimmed text in characters (0 without text)."),
            "no_prior_purchase": _key(
                "True if the reviewer had not paid for the listing before the review."
            ),
            **{
                f"cue_{cue}": _key(f"1 if the lower-cased text matches {text}.")
                for cue, text in REVIEW_CUES.items()
            },
        },
    },
    "int_listing_product_features": {
        "description": "Product features (prod_*) of each (listing, as_of) in int_listing_spine: price against the brand reference and the same brand's / category's earlier listings, suspicious wording, image and title reuse across sellers, unauthorized brand claims, category mismatch, completeness."
    },
    "int_listing_consumer_features": {
        "description": "Consumer-signal features (cons_*) of each (listing, as_of): orders, buyers, refunds, ratings, review text cues, bursts and reviewer overlap, from events before as_of, over windows var feature_windows + all."
    },
    "int_listing_report_features": {
        "description": "Report features (rep_*) of each (listing, as_of): reports about the listing before as_of by reporter type and reason over several windows; rights-holder claims kept apart from consumer complaints."
    },
    "int_seller_behaviour_features": {
        "description": "Seller-behaviour features (sell_*) of each (seller, as_of): account age, registration completeness, listing velocity and brand mix, authorizations, payment accounts, log-ins, identifiers shared with other sellers, inbound shipments."
    },
    "int_seller_shared_identifiers": {
        "description": "Other sellers that shared an identifier with the seller before as_of, per identifier kind and over any kind, for each (seller, as_of) of the seller spine with at least one (int_seller_behaviour_features reads 0 otherwise). Groups held by at least var shared_identifier_big_group sellers are counted through sets instead of pairs; the counts do not depend on it."
    },
    "int_seller_consumer_features": {
        "description": "Consumer-signal features (cons_*) of each (seller, as_of), over all the seller's listings."
    },
    "int_seller_report_features": {
        "description": "Report features (rep_*) of each (seller, as_of): reports naming the seller or about any of its listings before as_of."
    },
    "listing_features": {
        "description": "One row per listing: its feature vector as of int_feature_clock, for scoring. Columns: listing_id, seller_id, brand, category, status, created_at, features_as_of, then numeric features prefixed by family (prod_, cons_, rep_, sell_). status is for reference only: it reflects enforcement and is never a feature.",
        "columns": {
            "listing_id": _key(
                "Listing identifier.", "unique", "not_null", _rel("stg_listings", "listing_id")
            ),
            "seller_id": SELLER_KEY,
            "brand": _key("Brand the listing claims, if any."),
            "category": _key("Category of the listing.", "not_null"),
            "status": _key(
                "active or removed: an enforcement result, NOT a feature (label leakage).",
                "not_null",
                _accepted("active", "removed"),
            ),
            "created_at": _key("When the listing was created (UTC).", "not_null"),
            "features_as_of": _key(FEATURES_AS_OF, "not_null"),
        },
    },
    "training_set": {
        "description": "One row per listing with a listing-level enforcement outcome: the label (1 counterfeit_confirmed, 0 genuine_confirmed; latest decision wins) and the same features as listing_features, computed as of the label's decision time: no feature sees anything from that moment on.",
        "columns": {
            "listing_id": _key(
                "Labelled listing.", "unique", "not_null", _rel("listing_features", "listing_id")
            ),
            "seller_id": SELLER_KEY,
            "brand": _key("Brand the listing claims, if any."),
            "category": _key("Category of the listing.", "not_null"),
            "label_decided_at": _key(
                "When the label was decided (UTC); the features' as-of time.", "not_null"
            ),
            "label": _key(
                "1 = counterfeit_confirmed, 0 = genuine_confirmed.", "not_null", _accepted(0, 1)
            ),
        },
        "tests": [
            {"same_feature_columns": {"arguments": {"compare_model": "ref('listing_features')"}}},
        ],
    },
    "seller_features": {
        "description": "One row per seller: seller behaviour (sell_*), consumer signals over all its listings (cons_*) and reports about it or its listings (rep_*), as of int_feature_clock.",
        "columns": {
            "seller_id": _key(
                "Seller identifier.", "unique", "not_null", _rel("stg_sellers", "seller_id")
            ),
            "province": _key("Province of the seller's registered address."),
            "city": _key("City of the seller's registered address."),
            "features_as_of": _key(FEATURES_AS_OF, "not_null"),
        },
    },
    "seller_training_set": {
        "description": "One row per seller with a seller-level label (int_seller_labels: enforcement outcomes about sellers and investigators' lead decisions) and the seller_features vector as of the label's decision time (point in time).",
        "columns": {
            "seller_id": _key(
                "Labelled seller.", "unique", "not_null", _rel("seller_features", "seller_id")
            ),
            "province": _key("Province of the seller's registered address."),
            "city": _key("City of the seller's registered address."),
            "label_decided_at": _key("When the label was decided (UTC).", "not_null"),
            "label": _key(
                "1 = counterfeit_confirmed, 0 = genuine_confirmed.", "not_null", _accepted(0, 1)
            ),
            "label_origin": _key(
                "enforcement_outcomes or lead_decision.",
                "not_null",
                _accepted("enforcement_outcomes", "lead_decision"),
            ),
            "features_as_of": _key(
                "Equal to label_decided_at: only events before it count.", "not_null"
            ),
        },
        "tests": [
            {"same_feature_columns": {"arguments": {"compare_model": "ref('seller_features')"}}},
        ],
    },
}


def _columns(con: duckdb.DuckDBPyConnection, schema: str, model: str) -> list[tuple[str, str]]:
    rows = con.execute(
        "select column_name, lower(data_type) from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, model],
    ).fetchall()
    if not rows:
        raise SystemExit(f"{schema}.{model} not found: run `dbt build` on this home first")
    return rows


def model_yaml(con: duckdb.DuckDBPyConnection, schema: str, model: str) -> dict[str, Any]:
    """One model's YAML. Per-column not-null, flag and feature-range rules become ONE
    column_checks test per model (one scan instead of one dbt test per column); key columns
    (those tested `unique`) keep their own not_null, next to unique and relationships."""
    spec = MODELS[model]
    grain = FEATURE_GRAIN.get(model)
    key = "listing_id" if grain == "listing" else "seller_id"
    columns, flags, not_null = [], [], []
    for name, dtype in _columns(con, schema, model):
        entry: dict[str, Any] = {"name": name}
        if name in spec.get("columns", {}):
            col = spec["columns"][name]
            entry["description"] = col["description"]
            entry["data_type"] = dtype
            is_key = "unique" in col["tests"]
            kept = [t for t in col["tests"] if t != "not_null" or is_key]
            if "not_null" in col["tests"] and not is_key:
                not_null.append(name)
            if kept:
                entry["data_tests"] = kept
        elif grain and name == "as_of":
            entry.update(description=AS_OF, data_type=dtype)
            not_null.append(name)
        elif grain and name == key and schema == "intermediate":
            entry.update(description="Entity identifier.", data_type=dtype)
            not_null.append(name)
        elif grain:
            entry.update(describe_feature(name, grain), data_type=dtype)
            if entry["config"]["meta"]["unit"] == "flag 0/1":
                flags.append(name)
        else:
            raise SystemExit(f"{model}.{name}: undocumented column; add it to MODELS")
        columns.append(entry)
    tests = list(spec.get("tests", []))
    if grain and schema == "intermediate":
        tests.append({"unique_combination": {"arguments": {"columns": [key, "as_of"]}}})
    checks: dict[str, Any] = {}
    if not_null:
        checks["not_null"] = not_null
    if flags:
        checks["flags"] = flags
    if grain:
        checks["features"] = True
    if checks:
        # A short name: dbt would otherwise spell every argument into the test's name.
        tests.append({"column_checks": {"name": f"column_checks_{model}", "arguments": checks}})
    out: dict[str, Any] = {"name": model, "description": spec["description"]}
    if tests:
        out["data_tests"] = tests
    out["columns"] = columns
    return out


HEADER = "# Generated by dbt_project/scripts/feature_docs.py from a built warehouse; do not edit by\n# hand: change the script (descriptions, tests) and run it again.\n"


def main() -> None:
    home = Path(os.environ.get("CLOUDSWORD_HOME", sys.argv[1] if len(sys.argv) > 1 else ""))
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        for folder, schema in (("intermediate", "intermediate"), ("marts", "main")):
            names = sorted(p.stem for p in (PROJECT / "models" / folder).glob("*.sql"))
            missing = [n for n in names if n not in MODELS]
            if missing:
                raise SystemExit(f"models without a MODELS entry: {missing}")
            doc = {"version": 2, "models": [model_yaml(con, schema, n) for n in names]}
            path = PROJECT / "models" / folder / f"_{folder}__models.yml"
            text = yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True)
            path.write_text(HEADER + text, encoding="utf-8")
            print(f"wrote {path.relative_to(PROJECT)}: {len(doc['models'])} models")


if __name__ == "__main__":
    main()
