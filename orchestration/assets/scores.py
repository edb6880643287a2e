"""Scores: active listings and sellers scored by the champion model, incrementally, with reasons
where investigators read them."""

import dagster as dg

from ml.warehouse import utc_now
from orchestration.metadata import markdown_table, to_metadata
from orchestration.resources import CloudswordHome


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "listing_scores",
            deps=["listing_model", dg.AssetKey(["main", "listing_features"])],
            description="Calibrated counterfeit probability for every active listing; top "
            "reasons for high scores and sellers under investigation. Only new/changed "
            "listings are rescored, all of them when the champion changes.",
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
    """Score with `models:/<name>@champion` (compiled when possible) and write both tables in one
    transaction."""
    from ml.model import score_listings

    paths = home.paths
    with home.writing():
        summary = score_listings(paths.warehouse, paths.mlflow_tracking_uri, scored_at=utc_now())
    if summary.predictor == "lightgbm":
        context.log.warning(f"scored with LightGBM, not compiled: {summary.predictor_note}")
    context.log.info(
        f"{'rescored all' if summary.full else 'rescored'} {summary.n_rescored} of "
        f"{summary.n_listings} active listings ({summary.n_explained} with reasons) and "
        f"{summary.n_sellers_recomputed} of {summary.n_sellers} sellers with model version "
        f"{summary.model_version} ({summary.predictor}: {summary.predictor_note})"
    )
    yield dg.MaterializeResult(
        asset_key="listing_scores",
        metadata=to_metadata(
            {
                "dagster/row_count": summary.n_listings,
                "model_version": summary.model_version,
                "above_0_5": summary.n_above_0_5,
                "rescored": summary.n_rescored,
                "rescored_all": summary.full,
                "explained": summary.n_explained,
                "predictor": summary.predictor,
                "score_quantiles": {k: round(v, 4) for k, v in summary.quantiles.items()},
                # NaN when nothing needed rescoring (no time in the model at all).
                "model_listings_per_second": (
                    round(summary.listings_per_second) if summary.n_rescored else None
                ),
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
            "recomputed": summary.n_sellers_recomputed,
            "model_version": summary.model_version,
        },
    )
