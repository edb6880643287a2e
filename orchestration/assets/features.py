"""Feature tables: the dbt project (staging -> intermediate -> marts), loaded by dagster-dbt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

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


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayeredTranslator(),
)
def dbt_features(context: dg.AssetExecutionContext, dbt: DbtCliResource, home: CloudswordHome):
    """`dbt build`: models and their tests (tests show as asset checks)."""
    # No fetch_row_counts(): it would open a second DuckDB connection while dbt holds the
    # writer, which DuckDB refuses across processes. Downstream assets report row counts.
    with home.writing():
        yield from dbt.cli(["build"], context=context).stream()
