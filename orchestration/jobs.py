"""Jobs: ingest one batch; refresh everything downstream of the raw tables.

Both run in one process: every step writes the same DuckDB file one after the other anyway, and
a subprocess per step would add seconds of imports to each of the ~40 steps and checks.
"""

from __future__ import annotations

import dagster as dg

ingest_batch_job = dg.define_asset_job(
    "ingest_batch",
    selection=dg.AssetSelection.groups("ingest"),
    description="Validate and load one landing batch (a partition) into the raw tables.",
    tags={"cloudsword/writes": "warehouse"},
    executor_def=dg.in_process_executor,
)

refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest"),
    description=(
        "Bring every asset downstream of the raw tables up to date: dbt features, the model "
        "(retrained only when enough new outcomes arrived), scores, network and leads."
    ),
    tags={"cloudsword/writes": "warehouse"},
    executor_def=dg.in_process_executor,
)
