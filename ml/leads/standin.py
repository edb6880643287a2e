"""Stand-in listing scores, for evaluating leads on a warehouse that has no model yet.

Only the evaluation command uses this (``python -m ml.leads.evaluate --stand-in``); the pipeline
never does. It writes ``main.listing_scores`` from a transparent noisy-or rule over a few
``main.listing_features`` columns (no labels, no training), so the leads step can be measured
before (or independently of) the LightGBM scorer. Real scores replace it on the next scoring run.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

MODEL_VERSION = "stand-in-rule-v1"

#: (feature condition, probability it adds, reason shown to the investigator)
RULES: tuple[tuple[str, float, str], ...] = (
    ("prod_price_below_half_ref = 1", 0.55, "price below half the brand reference price"),
    ("coalesce(cons_review_cue_fake_n_all, 0) > 0", 0.55, "buyer reviews call it fake"),
    ("coalesce(rep_rights_holder_all, 0) > 0", 0.35, "reported by the rights holder"),
    ("coalesce(prod_kw_cues_n, 0) > 0", 0.10, "title or description uses replica wording"),
    ("prod_brand_unauthorized = 1", 0.05, "seller not authorised for the brand"),
)


def write_standin_scores(con: duckdb.DuckDBPyConnection, scored_at: datetime) -> int:
    """Replace ``main.listing_scores`` with the rule's scores; return how many listings."""
    keep = " * ".join(f"(1 - CASE WHEN {cond} THEN {p!r} ELSE 0 END)" for cond, p, _ in RULES)
    reasons = ", ".join(f"CASE WHEN {cond} THEN '{why}' END" for cond, _, why in RULES)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE main.listing_scores AS
        SELECT listing_id, seller_id, round(1 - {keep}, 6)::DOUBLE AS counterfeit_score,
               '{MODEL_VERSION}' AS model_version, $scored_at::TIMESTAMP AS scored_at,
               list_filter([{reasons}], lambda r: r IS NOT NULL) AS top_reasons
        FROM main.listing_features
        ORDER BY listing_id
        """,
        {"scored_at": scored_at},
    )
    return int(con.execute("SELECT count(*) FROM main.listing_scores").fetchone()[0])
