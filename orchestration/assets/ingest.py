"""Raw tables: landing batches (dynamic partitions) validated and loaded in arrival order.

A run ingests one batch (``ingest_batch``, ``cloudsword run``) or a range of batches
(``process_batches``, started by the landing sensor for every batch that completed since its last
tick): each batch is still its own transaction and its own partition, and ingesting a batch
again changes nothing, so a range run that fails halfway can simply run again.
"""

from collections import Counter

import dagster as dg

from ml.contract import INGEST_ORDER, TABLES
from ml.ingest import BatchError, BatchResult, ingest_batch
from orchestration.metadata import markdown_table
from orchestration.resources import CloudswordHome

batch_partitions = dg.DynamicPartitionsDefinition(name="batches")

RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in INGEST_ORDER}


def _describe(table: str) -> str:
    spec = TABLES[table]
    kind = "entity table (upsert by key)" if spec.entity else "event table (append-only)"
    return (
        f"Contract table `{table}`: {kind}, key ({', '.join(spec.key)}). Valid rows of each batch."
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, group_name="ingest", description=_describe(name), kinds={"duckdb"})
        for name, key in RAW_KEYS.items()
    ],
    partitions_def=batch_partitions,
    # Every raw table of a batch lands in one transaction, so they materialize together.
    can_subset=False,
    # A range of batches (several landed at once) is ingested by one run, in partition order.
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def raw_tables(context: dg.AssetExecutionContext, home: CloudswordHome):
    """Validate landing batches against the contract; quarantine bad rows with reasons."""
    paths = home.paths
    results: list[BatchResult] = []
    # Partition order is arrival order: the sensor adds batches as they complete, sorted.
    for batch_id in context.partition_keys:
        try:
            with home.writing():
                result = ingest_batch(paths.warehouse, paths.landing, batch_id)
        except BatchError as exc:
            done = ", ".join(r.batch_id for r in results) or "none"
            raise dg.Failure(
                description=f"batch {batch_id}: {exc}",
                metadata={"batch_id": batch_id, "ingested_before_it": done},
            ) from None
        if result.status == "already_ingested":
            context.log.info(f"batch {batch_id} was already ingested; nothing changed")
        _log_surprises(context, result)
        results.append(result)
    for name, key in RAW_KEYS.items():
        yield dg.MaterializeResult(asset_key=key, metadata=_table_metadata(name, results))


def _log_surprises(context: dg.AssetExecutionContext, result: BatchResult) -> None:
    """What an operator should hear about although the batch went in: a late batch, the rows it
    let in, files that are no contract table."""
    batch_id = result.batch_id
    if result.unknown_files:
        context.log.warning(
            f"batch {batch_id}: not contract tables, not read: {', '.join(result.unknown_files)}"
        )
    if result.out_of_order:
        context.log.warning(
            f"batch {batch_id} arrived after a later batch: rows that waited for it are admitted"
        )
    for (held_in, table_name), n in result.admitted.items():
        context.log.warning(f"{held_in}/{table_name}: {n} held rows admitted (references arrived)")


def _table_metadata(name: str, results: list[BatchResult]) -> dict:
    """One table's metadata: as before for one batch; summed, with a row per batch, for more."""
    tables = [r.tables.get(name) for r in results]
    reasons: Counter[str] = Counter()
    for table in tables:
        for reason, n in table.top_reasons if table else []:
            reasons[reason] += n
    metadata = {
        "batch_id": ", ".join(r.batch_id for r in results),
        "status": ", ".join(sorted({r.status for r in results})),
        "file": ", ".join(sorted({t.file for t in tables if t and t.file}))
        or "(absent from batch)",
        "rows_read": sum(t.rows_read for t in tables if t),
        "dagster/row_count": sum(t.rows_loaded for t in tables if t),
        "rows_quarantined": sum(t.rows_quarantined for t in tables if t),
        "out_of_order": ", ".join(r.batch_id for r in results if r.out_of_order) or "none",
        "held_rows_admitted": sum(
            n for r in results for (_, t), n in r.admitted.items() if t == name
        ),
        "quarantine_reasons": dg.MetadataValue.md(
            "\n".join(f"- {n} × {r}" for r, n in reasons.most_common()) or "none"
        ),
    }
    if len(results) > 1:
        metadata["per_batch"] = dg.MetadataValue.md(
            markdown_table(
                [
                    {
                        "batch_id": r.batch_id,
                        "status": r.status,
                        "rows_loaded": t.rows_loaded if t else 0,
                        "rows_quarantined": t.rows_quarantined if t else 0,
                    }
                    for r, t in zip(results, tables, strict=True)
                ]
            )
        )
    return metadata
