"""Scores: every active listing and every seller scored by the champion model, with reasons."""

import dagster as dg

from ml.warehouse import utc_now
from orchestration.metadata import markdown_table, to_metadata
from orchestration.resources import CloudswordHome


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "listing_scores",
            deps=["listing_model", dg.AssetKey(["main", "listing_features"])],
            description="Calibrated counterfeit probability and top reasons for every listing.",
            kinds={"lightgbm", "duckdb"},
        ),
        dg.AssetSpec(
            "seller_base_scores",
            deps=[
                "listing_model",
                dg.AssetKey(["main", "listing_features"]),
                dg.AssetKey(["main", "seller_features"]),
            ],
            description="Each seller's risk from its listings' scores, before the network.",
            kinds={"duckdb"},
        ),
    ],
    group_name="scoring",
)
def scores(context: dg.AssetExecutionContext, home: CloudswordHome):
    """Score with `models:/<name>@champion` and write both tables in one transaction."""
    from ml.model import score_listings

    paths = home.paths
    with home.writing():
        summary = score_listings(paths.warehouse, paths.mlflow_tracking_uri, scored_at=utc_now())
    context.log.info(
        f"scored {summary.n_listings} listings and {summary.n_sellers} sellers "
        f"with model version {summary.model_version}"
    )
    yield dg.MaterializeResult(
        asset_key="listing_scores",
        metadata=to_metadata(
            {
                "dagster/row_count": summary.n_listings,
                "model_version": summary.model_version,
                "above_0_5": summary.n_above_0_5,
                "score_quantiles": {k: round(v, 4) for k, v in summary.quantiles.items()},
                "model_listings_per_second": round(summary.listings_per_second),
                "top_10": markdown_table(summary.top),
                "seconds": round(summary.seconds, 2),
            }
        ),
    )
    yield dg.MaterializeResult(
        asset_key="seller_base_scores",
        metadata={
            "dagster/row_count": summary.n_sellers,
            "sellers_with_active_listings": summary.n_sellers_with_listings,
            "model_version": summary.model_version,
        },
    )
