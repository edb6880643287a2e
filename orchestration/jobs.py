"""Jobs: ingest one batch; refresh everything downstream of the raw tables."""

from __future__ import annotations

import dagster as dg

ingest_batch_job = dg.define_asset_job(
    "ingest_batch",
    selection=dg.AssetSelection.groups("ingest"),
    description="Validate and load one landing batch (a partition) into the raw tables.",
    tags={"cloudsword/writes": "warehouse"},
)

refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest"),
    description=(
        "Bring every asset downstream of the raw tables up to date: dbt features, the model "
        "(retrained only when enough new outcomes arrived), scores, network and leads."
    ),
    tags={"cloudsword/writes": "warehouse"},
)
