"""Raw tables: one run per landing batch (a dynamic partition), in batch order."""

import dagster as dg

from ml.contract import INGEST_ORDER, TABLES
from ml.ingest import BatchError, ingest_batch
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
)
def raw_tables(context: dg.AssetExecutionContext, home: CloudswordHome):
    """Validate one landing batch against the contract; quarantine bad rows with reasons."""
    batch_id = context.partition_key
    paths = home.paths
    try:
        with home.writing():
            result = ingest_batch(paths.warehouse, paths.landing, batch_id)
    except BatchError as exc:
        raise dg.Failure(description=str(exc), metadata={"batch_id": batch_id}) from None
    if result.status == "already_ingested":
        context.log.info(f"batch {batch_id} was already ingested; nothing changed")
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
    for name, key in RAW_KEYS.items():
        table = result.tables.get(name)
        reasons = table.top_reasons if table else []
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "batch_id": batch_id,
                "status": result.status,
                "file": table.file if table and table.file else "(absent from batch)",
                "rows_read": table.rows_read if table else 0,
                "dagster/row_count": table.rows_loaded if table else 0,
                "rows_quarantined": table.rows_quarantined if table else 0,
                "out_of_order": result.out_of_order,
                "held_rows_admitted": sum(n for (_, t), n in result.admitted.items() if t == name),
                "quarantine_reasons": dg.MetadataValue.md(
                    "\n".join(f"- {n} × {r}" for r, n in reasons) or "none"
                ),
            },
        )
