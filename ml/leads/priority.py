"""Priority of a lead: which case an investigator should open first.

Every component lies in 0..1; the score is their weighted sum scaled to 0..100::

    priority = 100 * (0.40 * risk + 0.20 * value + 0.20 * evidence + 0.10 * breadth
                      + 0.10 * recency)                      (weights: LeadConfig.weights)

    risk     = max(0.5 * max_seller_risk + 0.5 * mean_seller_risk, max_source_risk)
               seller risk = main.seller_scores.risk_score of its sellers (network-propagated),
               source risk = main.sources.risk_score of the sources supplying them (0 if none)
    value    = min(1, ln(1 + est_counterfeit_value) / ln(1 + value_cap_cny))   (cap 10M CNY)
    evidence = 1 - exp(-max(0, points) / 5), where
               points = 3 * confirmed counterfeit outcomes (latest outcome per listing/seller)
                      + 1 * rights-holder reports + 0.5 * platform-patrol reports
                      + 0.2 * consumer reports - 3 * confirmed genuine outcomes
    breadth  = 0.5 * min(1, ln(1 + n_sellers) / ln(1 + 50))
             + 0.5 * min(1, ln(1 + n_brands) / ln(1 + 20))
    recency  = 0.5 ** (days from the lead's last activity to as_of / 90)       (0 if no activity)
               last activity = latest listing, order, report or inbound shipment of its sellers;
               as_of = the latest event in the warehouse, capped at ``now``, so re-running the same
               data later gives the same scores.

Leads are ranked by priority (descending), ties broken by lead key, so the order is deterministic.
"""

from __future__ import annotations

from ml.leads.config import LeadConfig

COMPONENTS = ("risk", "value", "evidence", "breadth", "recency")


def component_sql(config: LeadConfig) -> dict[str, str]:
    """SQL expressions of each component over the columns of the per-lead aggregate."""
    c = config
    return {
        "risk": (
            "greatest(0.5 * coalesce(max_seller_risk, 0) + 0.5 * coalesce(mean_seller_risk, 0),"
            " coalesce(max_source_risk, 0))"
        ),
        "value": (
            f"least(1.0, ln(1 + greatest(est_counterfeit_value, 0)) / ln(1 + {c.value_cap_cny!r}))"
        ),
        "evidence": (
            "1 - exp(-greatest(0, 3 * n_counterfeit_confirmed + 1 * n_reports_rights_holder"
            " + 0.5 * n_reports_platform_patrol + 0.2 * n_reports_consumer"
            " - 3 * n_genuine_confirmed) / 5.0)"
        ),
        "breadth": (
            f"0.5 * least(1.0, ln(1 + n_sellers) / ln(1 + {int(c.sellers_cap)}))"
            f" + 0.5 * least(1.0, ln(1 + n_brands) / ln(1 + {int(c.brands_cap)}))"
        ),
        "recency": (
            "CASE WHEN last_activity_at IS NULL THEN 0.0 ELSE pow(0.5, greatest(0,"
            " epoch(as_of) - epoch(last_activity_at)) / 86400.0"
            f" / {float(c.recency_half_life_days)!r}) END"
        ),
    }


def priority_sql(config: LeadConfig) -> str:
    """SQL of the priority score over the component columns (named ``<component>_component``)."""
    w = config.weights
    terms = " + ".join(f"{getattr(w, name)!r} * {name}_component" for name in COMPONENTS)
    return f"round(100 * ({terms}), 4)"
