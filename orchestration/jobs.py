"""Jobs: the batch path (new batches to leads) and the training path, kept apart.

* ``process_batches``: what the landing sensor starts, one run for every batch that completed
  since its last tick: ingest (a partition range) and everything downstream, in one run, so a
  batch pays one run launch, not two.
* ``ingest_batch`` and ``refresh``: the same work split in two, for ``cloudsword run`` (which
  executes in-process, where a run costs no launch) and for re-running one half from the UI.
* ``train``: retrain the listing model, then re-score, re-trace and re-export so the leads use
  the new champion. Started by ``train_when_due``, ``weekly_retrain`` and ``cloudsword train``.

The batch path never trains once a champion exists (``listing_model``'s ``train: auto`` means
``if_due`` in the ``train`` job and ``if_no_champion`` everywhere else): a batch's leads never
wait for training, and a fresh home still gets scores from its first run.

Every job runs in one process: every step writes the same DuckDB file one after the other
anyway, and a subprocess per step would add seconds of imports to each of the ~50 steps and
checks.
"""

import dagster as dg

from orchestration.assets.model import TRAIN_JOB

WRITES = {"cloudsword/writes": "warehouse"}
INGEST = dg.AssetSelection.groups("ingest")
#: The model and everything that must follow a new champion.
MODEL_ONWARDS = dg.AssetSelection.assets("listing_model").downstream()

ingest_batch_job = dg.define_asset_job(
    "ingest_batch",
    selection=INGEST,
    description="Validate and load one landing batch (a partition) into the raw tables.",
    tags=WRITES,
    executor_def=dg.in_process_executor,
)

refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all() - INGEST,
    description=(
        "Bring every asset downstream of the raw tables up to date with the current champion: "
        "dbt features, scores, network and leads. Trains only a home without a champion."
    ),
    tags=WRITES,
    executor_def=dg.in_process_executor,
)

process_batches_job = dg.define_asset_job(
    "process_batches",
    selection=dg.AssetSelection.all(),
    description=(
        "Ingest the batches of this run's partition range, then refresh features, scores, "
        "network and leads with the current champion, in one run. Trains only a home without "
        "a champion."
    ),
    tags=WRITES,
    executor_def=dg.in_process_executor,
)

train_job = dg.define_asset_job(
    TRAIN_JOB,
    selection=MODEL_ONWARDS,
    description=(
        "Retrain the listing model when due (no champion, or enough new outcomes; "
        "`train: always` forces it), then re-score, re-trace and re-export with the champion."
    ),
    tags=WRITES,
    executor_def=dg.in_process_executor,
)
