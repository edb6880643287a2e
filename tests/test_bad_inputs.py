"""Every case of the bad-input catalog (tests/bad_inputs): one defect, one expected outcome.

Each case starts from a warehouse holding a valid generated batch (the base), breaks a copy of
the next valid batch and ingests it. Whatever the outcome, the base batch's rows, quarantine
and bookkeeping must be exactly as before: nothing already published changes.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from bad_inputs import CASES, Case, Planted
from bad_inputs.catalog import Where
from bad_inputs.files import read, write

from ml.contract import INGEST_ORDER, TABLES
from ml.generate import generate
from ml.ingest import BatchError, BatchResult, ingest_batch, scan_landing

LEAF_TABLES = ("orders", "seller_logins", "inbound_shipments", "reviews")
RowsByTable = dict[str, dict[int, tuple]]


class Warehouse:
    """Read-only queries on a warehouse file, over one connection per use."""

    def __init__(self, path: Path) -> None:
        self.con = duckdb.connect(str(path), read_only=True)

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def rows(self, batch_id: str) -> RowsByTable:
        """Raw rows of one batch, per table, by row number (without the ingestion time)."""
        out: RowsByTable = {}
        for name in INGEST_ORDER:
            cols = ", ".join(f'"{c}"' for c in TABLES[name].column_names)
            rows = self.query(
                f"SELECT _row_number, {cols} FROM raw.{name} WHERE _batch_id = ?", [batch_id]
            )
            out[name] = {r[0]: r[1:] for r in rows}
        return out

    def published(self, batch_id: str) -> tuple:
        """Everything a batch published: raw rows, quarantine and its bookkeeping row."""
        return (
            self.rows(batch_id),
            self.query(
                "SELECT * FROM cloudsword.quarantine WHERE batch_id = ? ORDER BY ALL", [batch_id]
            ),
            self.query("SELECT * FROM cloudsword.batches WHERE batch_id = ?", [batch_id]),
        )


class Base:
    """The session's valid material: two generated batches, the first one ingested."""

    def __init__(self, root: Path) -> None:
        summary = generate(root / "landing", root / "truth", scale="tiny", seed=11)
        self.landing = root / "landing"
        self.base_id, self.next_id = summary.batch_ids[:2]
        for batch_id in (self.base_id, self.next_id):
            # Fewer rows in the tables nothing points to: the batch stays valid, tests get faster.
            for name in LEAF_TABLES:
                write(self.landing / batch_id, name, read(self.landing / batch_id, name)[:150])
        self.warehouse = root / "base.duckdb"
        first = ingest_batch(self.warehouse, self.landing, self.base_id)
        assert first.rows_quarantined == 0 and first.rows_loaded > 0
        with Warehouse(self.warehouse) as wh:
            self.published = wh.published(self.base_id)
        # The clean next batch, ingested once: what every good row of a case must match.
        reference = root / "reference.duckdb"
        shutil.copy(self.warehouse, reference)
        clean = ingest_batch(reference, self.landing, self.next_id)
        assert clean.rows_quarantined == 0
        with Warehouse(reference) as wh:
            self.reference = wh.rows(self.next_id)


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return Base(tmp_path_factory.mktemp("bad_inputs_base"))


@pytest.fixture
def where(base: Base, tmp_path: Path) -> tuple[Where, Path]:
    landing = tmp_path / "landing"
    for batch_id in (base.base_id, base.next_id):
        shutil.copytree(base.landing / batch_id, landing / batch_id)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(base.warehouse, warehouse)
    w = Where(landing, landing / base.base_id, landing / base.next_id, tmp_path / "outside")
    w.outside.mkdir()
    return w, warehouse


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case: Case, base: Base, where: tuple[Where, Path]) -> None:
    w, path = where
    planted = case.apply(w)
    batch_id = planted.batch_id or w.batch.name
    check = {
        "error": _check_error,
        "refused": _check_refused,
        "quarantine": _check_loaded,
        "loaded": _check_loaded,
        "idempotent": _check_idempotent,
        "retry": _check_retry,
    }[case.outcome]
    after = check(case, planted, base, w, path, batch_id)
    with Warehouse(path) as wh:
        # Whatever happened, what the base batch published is exactly as it was.
        assert wh.published(base.base_id) == base.published
        after(wh)


Check = Callable[[Warehouse], None]


def _check_error(case: Case, planted: Planted, base: Base, w: Where, path: Path, bid: str) -> Check:
    with pytest.raises(BatchError) as caught:
        ingest_batch(path, w.landing, bid)
    message = str(caught.value)
    assert re.search(case.match, message), message
    assert str(w.batch) in message, f"the message must name the file: {message}"

    def after(wh: Warehouse) -> None:
        assert all(not rows for rows in wh.rows(bid).values())
        quarantined = "SELECT count(*) FROM cloudsword.quarantine WHERE batch_id = ?"
        assert wh.query(quarantined, [bid]) == [(0,)]
        recorded = "SELECT status, error FROM cloudsword.batches WHERE batch_id = ?"
        assert wh.query(recorded, [bid]) == [("failed", message)]

    return after


def _check_refused(
    case: Case, planted: Planted, base: Base, w: Where, path: Path, bid: str
) -> Check:
    scan = scan_landing(w.landing)
    if planted.scan:
        kind, name = planted.scan
        assert name in getattr(scan, kind), scan
    assert bid not in scan.complete
    with pytest.raises(BatchError, match=case.match):
        ingest_batch(path, w.landing, bid)

    def after(wh: Warehouse) -> None:
        # Never read: no rows, no quarantine, not even a bookkeeping row for it.
        assert wh.query("SELECT DISTINCT batch_id FROM cloudsword.batches") == [(base.base_id,)]
        assert wh.query("SELECT DISTINCT batch_id FROM cloudsword.quarantine") == []
        for name in INGEST_ORDER:
            other = f"SELECT count(*) FROM raw.{name} WHERE _batch_id <> ?"
            assert wh.query(other, [base.base_id]) == [(0,)]

    return after


def _check_loaded(
    case: Case, planted: Planted, base: Base, w: Where, path: Path, bid: str
) -> Check:
    result = ingest_batch(path, w.landing, bid)
    assert result.status == "ingested"
    assert result.unknown_files == planted.unknown_files

    def after(wh: Warehouse) -> None:
        _assert_quarantine(case, planted, result, wh, bid)
        actual = wh.rows(bid)
        for name in INGEST_ORDER:
            dropped = set(planted.quarantined.get(name, [])) | set(planted.removed.get(name, []))
            added = set(planted.added.get(name, []))
            skip = dropped | added | set(planted.changed.get(name, []))
            expected = {n: r for n, r in base.reference[name].items() if n not in skip}
            assert {n: r for n, r in actual[name].items() if n not in skip} == expected, name
            # Every good row is loaded: all rows but the dropped ones, plus the appended ones.
            assert set(actual[name]) == (set(base.reference[name]) - dropped) | added, name
            assert result.tables[name].rows_loaded == len(actual[name])
        for table, key_col, key, column, value in planted.kept:
            stored = wh.query(
                f'SELECT "{column}" FROM raw.{table} WHERE "{key_col}" = ? AND _batch_id = ?',
                [key, bid],
            )
            assert stored == [(value,)], f"{table}.{column} for {key} changed on the way in"

    return after


def _assert_quarantine(
    case: Case, planted: Planted, result: BatchResult, wh: Warehouse, bid: str
) -> None:
    rows = wh.query(
        "SELECT table_name, row_number, reason, row_json FROM cloudsword.quarantine "
        "WHERE batch_id = ? ORDER BY ALL",
        [bid],
    )
    got: dict[str, list[int]] = {}
    for table, row_number, reason, row_json in rows:
        got.setdefault(table, []).append(row_number)
        assert re.search(case.match, reason), f"{table} row {row_number}: {reason}"
        assert row_json.startswith("{"), "the quarantined row is kept for inspection"
    assert got == {t: sorted(r) for t, r in planted.quarantined.items()}
    assert result.rows_quarantined == len(rows)


def _check_idempotent(
    case: Case, planted: Planted, base: Base, w: Where, path: Path, bid: str
) -> Check:
    first = ingest_batch(path, w.landing, bid)
    with Warehouse(path) as wh:
        after_first = wh.published(bid)
    again = ingest_batch(path, w.landing, bid)
    assert (first.status, again.status) == ("ingested", "already_ingested")

    def after(wh: Warehouse) -> None:
        assert wh.published(bid) == after_first
        assert after_first[0] == base.reference

    return after


def _check_retry(case: Case, planted: Planted, base: Base, w: Where, path: Path, bid: str) -> Check:
    with pytest.raises(BatchError, match=case.match):
        ingest_batch(path, w.landing, bid)
    assert planted.fix is not None
    planted.fix()
    assert ingest_batch(path, w.landing, bid).status == "ingested"

    def after(wh: Warehouse) -> None:
        assert wh.rows(bid) == base.reference
        recorded = "SELECT status, error FROM cloudsword.batches WHERE batch_id = ?"
        assert wh.query(recorded, [bid]) == [("ingested", None)]

    return after
