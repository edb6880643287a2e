"""Feature tables: the dbt project (staging -> intermediate -> marts), loaded by dagster-dbt."""

import importlib
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ml.warehouse import connect
from orchestration.manifest import DBT_PROJECT_DIR, ensure_manifest
from orchestration.resources import CloudswordHome

ensure_manifest()
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class LayeredTranslator(DagsterDbtTranslator):
    """Groups dbt models by layer (staging, intermediate, marts) in the lineage graph."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] != "model":
            return super().get_group_name(dbt_resource_props)
        layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "marts"
        return {"staging": "staging", "intermediate": "intermediate"}.get(layer, "features")


def _relations(manifest: Mapping[str, Any], translator: DagsterDbtTranslator) -> dict:
    """Asset key -> the DuckDB relation each dbt model builds."""
    return {
        translator.get_asset_key(node): f'"{node["schema"]}"."{node["alias"]}"'
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


TRANSLATOR = LayeredTranslator()

#: Jobs whose later steps need these modules (mlflow, LightGBM, igraph: 10 s or more of imports).
#: They are imported in the background while dbt builds, when this process only waits for dbt.
#: MLflow's SQL stores import SQLAlchemy and alembic on a client's first use: seconds more.
WARM_JOBS = {"process_batches", "refresh"}
WARM_MODULES = (
    "ml.model",
    "mlflow.lightgbm",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "ml.network",
    "ml.leads",
)


def _warm_imports() -> None:
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the step that needs it will import it again and report why
            return


def start_warming_imports(job_name: str) -> threading.Thread | None:
    """Import the later steps' libraries in a thread (a step that needs one before it is done
    waits on Python's import lock, as with any import)."""
    if job_name not in WARM_JOBS:
        return None
    thread = threading.Thread(target=_warm_imports, name="warm-imports", daemon=True)
    thread.start()
    return thread


def _staging_predates_incremental(warehouse: Path) -> bool:
    """Whether a staging table was built before staging kept ``_batch_id`` and
    ``_ingested_at``: its incremental build could not tell staged rows from new ones, so it
    must be rebuilt in full."""
    if not warehouse.exists():
        return False
    with connect(warehouse, read_only=True) as con:
        return bool(
            con.execute(
                "SELECT count(*) FROM duckdb_tables() t WHERE schema_name = 'staging' "
                "AND table_name LIKE 'stg_%' AND table_name <> 'stg_lead_status_history' "
                "AND NOT EXISTS (SELECT 1 FROM duckdb_columns() c WHERE c.table_oid = t.table_oid "
                "AND c.column_name = '_ingested_at')"
            ).fetchone()[0]
        )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_features(context: dg.AssetExecutionContext, dbt: DbtCliResource, home: CloudswordHome):
    """`dbt build`: models and their tests (tests show as asset checks), with row counts."""
    start_warming_imports(context.run.job_name)
    with home.writing():
        args = ["build"]
        if _staging_predates_incremental(home.paths.warehouse):
            context.log.info("staging tables predate incremental staging: full refresh once")
            args.append("--full-refresh")
        invocation = dbt.cli(args, context=context, target_path=home.paths.dbt_target)
        try:
            # Buffered, not streamed: DuckDB admits no second process while dbt writes, so the
            # row counts can only be read once dbt is done.
            events = list(invocation.stream())
        finally:
            # A failing step must not leave dbt running and holding the warehouse.
            if invocation.process.poll() is None:
                invocation.process.terminate()
                invocation.process.wait()
        relations = _relations(invocation.manifest, TRANSLATOR)
        with connect(home.paths.warehouse, read_only=True) as con:
            for event in events:
                if isinstance(event, dg.Output):
                    relation = relations.get(context.asset_key_for_output(event.output_name))
                    if relation is not None:
                        rows = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
                        event = event.with_metadata({**event.metadata, "dagster/row_count": rows})
                yield event
