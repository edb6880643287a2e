"""Asset checks: each contract output is validated with its pandera schema.

The checks are blocking: an output that breaks its contract stops the assets downstream of it in
the same run, so bad scores never reach the network stage and bad leads are never exported.
"""

import dagster as dg

from ml.schemas import OUTPUT_SCHEMAS, validate_table
from ml.warehouse import connect
from orchestration.resources import CloudswordHome


def _contract_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(table),
        name=f"{table}_follows_contract",
        blocking=True,
        description=f"`main.{table}` passes its pandera schema (ml/schemas.py).",
    )
    def _check(home: CloudswordHome) -> dg.AssetCheckResult:
        with home.writing(), connect(home.paths.warehouse, read_only=True) as con:
            report = validate_table(con, table)
        failures = report.failures.head(20)
        return dg.AssetCheckResult(
            passed=report.passed,
            metadata={
                "rows": report.rows,
                "failure_cases": len(report.failures),
                "first_failures": dg.MetadataValue.md(
                    failures[["column", "check", "failure_case"]].to_markdown(index=False)
                    if not failures.empty
                    else "none"
                ),
            },
        )

    return _check


contract_checks = [_contract_check(table) for table in OUTPUT_SCHEMAS]
