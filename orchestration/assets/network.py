"""Network tracing: rings of sellers tied by shared identifiers, and their upstream sources."""

import dagster as dg

from ml.network.config import INPUTS
from ml.warehouse import utc_now
from orchestration.metadata import to_metadata
from orchestration.resources import CloudswordHome

# Identifiers, shipments and orders come straight from staging.
STAGING = [dg.AssetKey(["staging", f"stg_{table}"]) for table in INPUTS]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "rings",
            deps=["seller_base_scores", "listing_scores", *STAGING],
            description="Seller rings tied by shared payment accounts, phones, devices, addresses.",
            kinds={"igraph", "duckdb"},
        ),
        dg.AssetSpec(
            "sources",
            deps=["seller_base_scores", "listing_scores", *STAGING],
            description="Upstream senders (factories, warehouses) resolved across spellings.",
            kinds={"duckdb"},
        ),
        dg.AssetSpec(
            "seller_scores",
            deps=["seller_base_scores", *STAGING],
            description="Seller risk raised through the network, with each seller's ring.",
            kinds={"duckdb"},
        ),
    ],
    group_name="network",
)
def network(context: dg.AssetExecutionContext, home: CloudswordHome):
    from ml.network import trace_network

    paths = home.paths
    with home.writing():
        summary = trace_network(paths.warehouse, scored_at=utc_now())
    for key, values in (
        ("rings", summary.rings_metadata()),
        ("sources", summary.sources_metadata()),
        ("seller_scores", summary.seller_metadata()),
    ):
        yield dg.MaterializeResult(asset_key=key, metadata=to_metadata(values))
