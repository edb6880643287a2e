"""Leads: ranked, evidence-backed case packages, and their exports for investigators."""

from datetime import timedelta

import dagster as dg

from ml.warehouse import utc_now
from orchestration.metadata import to_metadata
from orchestration.resources import CloudswordHome

# Investigators act on these: older than the daily refresh plus slack means something is stuck.
LEADS_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=50), warn_window=timedelta(hours=26)
)


@dg.asset(
    deps=["rings", "sources", "seller_scores", "listing_scores"],
    group_name="leads",
    kinds={"duckdb"},
    freshness_policy=LEADS_FRESHNESS,
)
def leads(context: dg.AssetExecutionContext, home: CloudswordHome) -> dg.MaterializeResult:
    """Ranked leads with stable ids, kept in the lead registry."""
    from ml.leads import build_leads
    from ml.model import explain_listings

    paths = home.paths
    with home.writing():
        # Scoring explains high scores only; sellers the network just tied into a ring get their
        # listings' reasons now, before their packages are built.
        explained = explain_listings(paths.warehouse, paths.mlflow_tracking_uri)
        summary = build_leads(paths.warehouse, now=utc_now())
    if explained:
        context.log.info(f"explained {explained} listings of sellers in rings")
    metadata = {**summary.dagster_metadata(), "listings_explained_for_leads": explained}
    return dg.MaterializeResult(metadata=to_metadata(metadata))


@dg.asset(
    deps=[leads],
    group_name="leads",
    kinds={"csv", "parquet", "html"},
    freshness_policy=LEADS_FRESHNESS,
)
def lead_exports(context: dg.AssetExecutionContext, home: CloudswordHome) -> dg.MaterializeResult:
    """exports/leads.csv, leads.parquet, index.html and a JSON and HTML report per lead (masked)."""
    from ml.leads import export_leads

    paths = home.paths
    with home.writing():
        summary = export_leads(paths.warehouse, paths.exports, paths.logs, now=utc_now())
    return dg.MaterializeResult(metadata=to_metadata(summary.dagster_metadata()))
