"""Asset checks: every stage boundary from staging to leads validated by its pandera schema.

Schemas live in ``ml/schemas.py`` (``STAGE_SCHEMAS``). Raw tables get no pandera check here:
ingestion already validates every row of every batch in SQL against the same contract and
quarantines what fails. Checks on the feature marts and the contract outputs are blocking: a table
that breaks its contract stops everything downstream in the same run, so bad features never
train a model, bad scores never reach the network and bad leads are never exported.

A check validates the rows a run changed, not the whole table (``ml.schemas.validate_changed``):
rows whose content hash no earlier passing check stored, with keys still unique over every row.
Setting the check's run config to ``{"full": true}`` (``ContractCheckConfig``) validates every
row instead.
"""

import dagster as dg

from ml.contract import PERSONAL_COLUMNS
from ml.schemas import STAGE_SCHEMAS, validate_changed
from ml.warehouse import connect
from orchestration.metadata import markdown_table
from orchestration.resources import CloudswordHome

#: dbt relations are keyed [schema, model] by dagster-dbt; our Python assets by bare name.
PYTHON_ASSETS = {"listing_scores", "seller_scores", "rings", "sources", "leads"}


def _asset_key(relation: str) -> dg.AssetKey:
    schema, table = relation.split(".")
    return dg.AssetKey(table) if table in PYTHON_ASSETS else dg.AssetKey([schema, table])


class ContractCheckConfig(dg.Config):
    """``full``: validate every row, not only the rows changed since the last passing check."""

    full: bool = False


def _contract_check(relation: str) -> dg.AssetChecksDefinition:
    table = relation.split(".")[1]

    @dg.asset_check(
        asset=_asset_key(relation),
        name=f"{table}_follows_contract",
        blocking=not relation.startswith("staging."),
        description=f"`{relation}` passes its pandera schema (ml/schemas.py).",
    )
    def _check(config: ContractCheckConfig, home: CloudswordHome) -> dg.AssetCheckResult:
        # Writable: a passing check stores the hashes of the rows it vouched for (the writer
        # lock is held anyway, so readers and other steps take turns as with any writer).
        with home.writing(), connect(home.paths.warehouse) as con:
            result = validate_changed(con, relation, full=config.full)
        report = result.report
        failures = report.failures.head(20).copy()
        personal = failures["column"].isin(PERSONAL_COLUMNS)
        failures["failure_case"] = failures["failure_case"].astype(str).where(~personal, "(hidden)")
        return dg.AssetCheckResult(
            passed=report.passed,
            metadata={
                "rows": result.total_rows,
                "rows_checked": result.checked_rows,
                "full": result.full,
                "failure_cases": len(report.failures),
                "first_failures": dg.MetadataValue.md(
                    markdown_table(failures[["column", "check", "failure_case"]].to_dict("records"))
                    if not failures.empty
                    else "none"
                ),
            },
        )

    return _check


contract_checks = [
    _contract_check(relation)
    for relation in STAGE_SCHEMAS
    if relation.startswith(("staging.", "main."))
]
