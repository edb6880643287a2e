"""A batch that arrives after later ones loses nothing (issue 18).

Rows of later batches that name listings or sellers only the late batch brings are held
(quarantined as pending) and admitted when it arrives; incremental staging then stages them, so
the warehouse ends up as if the batches had come in order.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ml.contract import INGEST_ORDER, TABLES
from ml.generate import generate
from ml.ingest import ingest_batch

CHECKOUT = Path(__file__).resolve().parent.parent
DBT = Path(sys.executable).with_name("dbt")

pytestmark = pytest.mark.slow


def _dbt_build(home: Path) -> None:
    project = str(CHECKOUT / "dbt_project")
    result = subprocess.run(
        [str(DBT), "build", "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(home / "dbt_target"), "--log-path", str(home / "dbt_logs")],
        env=dict(os.environ, CLOUDSWORD_HOME=str(home), CLOUDSWORD_DUCKDB_MEMORY_LIMIT="2GB"),
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("late_landing")
    summary = generate(root / "landing", root / "truth", scale="tiny", seed=5)
    return root / "landing", list(summary.batch_ids)


def _raw_rows(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple]]:
    """Every raw row with its batch and row number, without the ingestion time."""
    out = {}
    for name in INGEST_ORDER:
        cols = ", ".join(f'"{c}"' for c in TABLES[name].column_names)
        out[name] = con.execute(
            f"SELECT _batch_id, _row_number, {cols} FROM {catalog}.raw.{name} ORDER BY ALL"
        ).fetchall()
    return out


def test_a_late_batch_admits_the_rows_that_waited_for_it(
    landing: tuple[Path, list[str]], tmp_path: Path
) -> None:
    folder, batches = landing
    late = batches[1]
    in_order, out_of_order = tmp_path / "in_order", tmp_path / "out_of_order"
    for home in (in_order, out_of_order):
        home.mkdir()
    for batch_id in batches:
        assert ingest_batch(in_order / "warehouse.duckdb", folder, batch_id).rows_quarantined == 0
    _dbt_build(in_order)

    early = [b for b in batches if b != late]
    for batch_id in early:
        ingest_batch(out_of_order / "warehouse.duckdb", folder, batch_id)
    _dbt_build(out_of_order)  # staged without the late batch's rows
    with duckdb.connect(str(out_of_order / "warehouse.duckdb"), read_only=True) as con:
        held = con.execute("SELECT count(*) FROM cloudsword.quarantine WHERE pending").fetchone()
        reasons = con.execute(
            "SELECT DISTINCT regexp_replace(reason, ': \\S+ not found', ': ? not found') "
            "FROM cloudsword.quarantine WHERE pending"
        ).fetchall()
    assert held[0] > 0, "the scenario must hold rows for the late batch's references"
    assert all("not found in" in r[0] for r in reasons), reasons

    result = ingest_batch(out_of_order / "warehouse.duckdb", folder, late)
    assert result.out_of_order
    assert sum(result.admitted.values()) == held[0]
    _dbt_build(out_of_order)  # incremental: must stage the admitted rows too

    with duckdb.connect() as con:
        con.execute(f"ATTACH '{in_order / 'warehouse.duckdb'}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{out_of_order / 'warehouse.duckdb'}' AS b (READ_ONLY)")
        assert _raw_rows(con, "a") == _raw_rows(con, "b")
        for catalog in ("a", "b"):
            quarantined = f"SELECT count(*) FROM {catalog}.cloudsword.quarantine"
            assert con.execute(quarantined).fetchone() == (0,)
        counts = "SELECT batch_id, rows_loaded, rows_quarantined FROM {}.cloudsword.batches"
        assert sorted(con.execute(counts.format("a")).fetchall()) == sorted(
            con.execute(counts.format("b")).fetchall()
        )
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_catalog = 'a' AND table_schema IN ('staging', 'main') ORDER BY 1"
        ).fetchall()
        assert len(tables) >= 15
        for (table,) in tables:
            assert _differing_rows(con, table) == 0, table


def _differing_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows of ``table`` that differ between the two warehouses. Staging must match exactly but
    for ``_ingested_at`` (the time of each run); marts, matched on their key (the first column),
    to 1e-9 relative, since admitted rows sit elsewhere in the raw tables and sums add in another
    order."""
    schema, name = table.split(".")
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = 'a' "
        "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    if schema == "staging":
        kept = ", ".join(f'"{c}"' for c, _ in columns if c != "_ingested_at")
        a, b = (f"SELECT {kept} FROM {catalog}.{table}" for catalog in ("a", "b"))
        query = f"SELECT count(*) FROM (({a} EXCEPT ALL {b}) UNION ALL ({b} EXCEPT ALL {a}))"
        return con.execute(query).fetchone()[0]
    key = columns[0][0]
    differs = [f'(a."{key}" IS NULL OR b."{key}" IS NULL)']
    for column, data_type in columns[1:]:
        a, b = f'a."{column}"', f'b."{column}"'
        if data_type in ("DOUBLE", "FLOAT"):
            differs.append(
                f"({a} IS DISTINCT FROM {b} AND NOT coalesce("
                f"abs({a} - {b}) <= 1e-9 * greatest(abs({a}), abs({b})), false))"
            )
        else:
            differs.append(f"{a} IS DISTINCT FROM {b}")
    query = (
        f'SELECT count(*) FROM a.{table} AS a FULL JOIN b.{table} AS b ON a."{key}" = b."{key}" '
        f"WHERE {' OR '.join(differs)}"
    )
    return con.execute(query).fetchone()[0]
