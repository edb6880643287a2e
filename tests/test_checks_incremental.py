"""Contract checks validate the rows a run changed, and stay honest about them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ml.schemas import validate_changed


@pytest.fixture()
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(
        "CREATE TABLE main.seller_scores AS SELECT 'S' || lpad(range::VARCHAR, 5, '0') "
        "AS seller_id, (range % 100) / 100.0 AS risk_score, NULL::VARCHAR AS ring_id, "
        "TIMESTAMP '2026-01-01' AS scored_at FROM range(1000)"
    )
    yield con
    con.close()


def failed_columns(result) -> set[str]:
    return set(result.report.failures["column"])


def test_only_changed_rows_are_validated_and_a_bad_changed_row_fails(con):
    first = validate_changed(con, "seller_scores")
    assert first.passed and first.full and first.checked_rows == 1000
    again = validate_changed(con, "seller_scores")
    assert again.passed and not again.full and again.checked_rows == 0

    # A run rewrites 3 rows: one of them breaks the contract.
    con.execute(
        "UPDATE main.seller_scores SET risk_score = 1.5, scored_at = TIMESTAMP '2026-01-02' "
        "WHERE seller_id = 'S00007'"
    )
    con.execute(
        "UPDATE main.seller_scores SET risk_score = 0.2, scored_at = TIMESTAMP '2026-01-02' "
        "WHERE seller_id IN ('S00008', 'S00009')"
    )
    bad = validate_changed(con, "seller_scores")
    assert not bad.passed and bad.checked_rows == 3
    assert failed_columns(bad) == {"risk_score"}
    # A failed check vouches for nothing: the bad row fails again next time, and in a full check.
    assert not validate_changed(con, "seller_scores").passed
    assert not validate_changed(con, "seller_scores", full=True).passed

    con.execute("UPDATE main.seller_scores SET risk_score = 0.5 WHERE seller_id = 'S00007'")
    fixed = validate_changed(con, "seller_scores")
    assert fixed.passed and fixed.checked_rows == 3
    assert validate_changed(con, "seller_scores").checked_rows == 0
    assert validate_changed(con, "seller_scores", full=True).checked_rows == 1000


def test_a_changed_row_that_duplicates_an_unchanged_key_fails(con):
    assert validate_changed(con, "seller_scores").passed
    con.execute(
        "INSERT INTO main.seller_scores VALUES ('S00001', 0.9, NULL, TIMESTAMP '2026-01-02')"
    )
    dup = validate_changed(con, "seller_scores")
    assert dup.checked_rows == 1 and not dup.passed
    assert "unique (all rows)" in set(dup.report.failures["check"])


def test_a_changed_table_layout_is_validated_in_full(con):
    assert validate_changed(con, "seller_scores").passed
    con.execute("ALTER TABLE main.seller_scores ADD COLUMN note VARCHAR")
    relaid = validate_changed(con, "seller_scores")
    assert relaid.full and relaid.checked_rows == 1000


def test_contract_checks_take_a_full_flag():
    from orchestration.checks import ContractCheckConfig, contract_checks

    assert ContractCheckConfig().full is False
    assert ContractCheckConfig(full=True).full is True
    names = {key.name for check in contract_checks for key in check.check_keys}
    assert "seller_scores_follows_contract" in names
    assert isinstance(contract_checks[0], dg.AssetChecksDefinition)
