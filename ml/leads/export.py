"""``export_leads``: the investigators' files under ``exports/``.

Writes ``leads.csv`` and ``leads.parquet`` (``main.leads``, best first), ``leads/<lead_id>.json``
(the whole case package plus rank, priority, status and history), ``leads/<lead_id>.html`` (the
same as a readable report with the network picture) and ``index.html`` (current leads, best first,
and earlier leads whose reports are kept).

* Masked by default everywhere (``ml.leads.masking``); ``unmasked=True`` is returned in the
  summary, marked in every file, and logged in ``<logs_dir>/exports.log`` (every export logs
  a line).
* Files are written atomically, only when their bytes change, mode 0600 in 0700 folders
  (``ml.leads.files``), so exporting the same data twice rewrites nothing.
* A lead's report and JSON are not even rendered when nothing they are made from changed:
  ``cloudsword.lead_export_state`` keeps, per exports folder and lead, a hash of everything its
  two files are rendered from (its ``main.leads`` row, package, priority, status history,
  masking, the network rows its picture draws) and the size and mtime of the files as written.
  Same hash and the files untouched on disk: both are kept as they are (their mtime too).
  The CSV, Parquet and index always come from the whole ``main.leads`` (they are small) and
  stay consistent with it.
* CSV cells that a spreadsheet would run as a formula (starting ``= + - @``, tab or CR) get a
  leading ``'``.
* Reports of leads that left the current list (closed, or no longer a top candidate) are kept,
  not deleted; the index lists them under "Earlier leads". ``index.html`` always matches the
  current ``main.leads``.
* New leads become ``exported`` (first_exported_at = ``now``) in the same transaction; if
  writing fails, the status change is rolled back.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ml.leads import registry
from ml.leads.build import LEADS_COLUMNS
from ml.leads.files import FILE_MODE, atomic_write, remove_stale_temps, secure_dir
from ml.leads.html import case_html, index_html
from ml.leads.masking import masker_for
from ml.leads.package import evidence_summary
from ml.leads.svg import network_svg
from ml.warehouse import connect, table_exists

log = logging.getLogger(__name__)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LOG_NAME = "exports.log"

PARQUET_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("rank", pa.int32()),
        ("priority_score", pa.float64()),
        ("status", pa.string()),
        ("province", pa.string()),
        ("city", pa.string()),
        ("ring_id", pa.string()),
        ("seller_ids", pa.list_(pa.string())),
        ("source_ids", pa.list_(pa.string())),
        ("est_counterfeit_value", pa.float64()),
        ("evidence_summary", pa.string()),
        ("first_exported_at", pa.timestamp("us")),
        ("updated_at", pa.timestamp("us")),
    ]
)
assert tuple(PARQUET_SCHEMA.names) == LEADS_COLUMNS


@dataclass
class ExportSummary:
    exports_dir: Path
    n_leads: int
    unmasked: bool
    #: Lead ids that went from new to exported in this export.
    marked_exported: list[str] = field(default_factory=list)
    #: Files whose bytes changed (paths relative to exports_dir).
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    #: Leads whose files were not rendered at all (their inputs and files had not changed).
    skipped: int = 0
    log_line: str = ""

    def dagster_metadata(self) -> dict[str, Any]:
        """Plain values for Dagster metadata (ml/ does not import dagster)."""
        return {
            "exports_dir": str(self.exports_dir),
            "n_leads": self.n_leads,
            "masked": not self.unmasked,
            "marked_exported": len(self.marked_exported),
            "files_written": len(self.written),
            "files_unchanged": self.unchanged,
            "leads_not_rendered": self.skipped,
            "index": str(self.exports_dir / "index.html"),
        }


def export_leads(
    warehouse_path: Path,
    exports_dir: Path,
    logs_dir: Path,
    unmasked: bool = False,
    now: datetime | None = None,
) -> ExportSummary:
    """Write the export files of ``main.leads``; mark new leads exported."""
    now = registry.utc_naive(now)
    leads_dir = secure_dir(exports_dir / "leads")
    secure_dir(exports_dir)
    remove_stale_temps(exports_dir)
    remove_stale_temps(leads_dir)
    summary = ExportSummary(exports_dir=exports_dir, n_leads=0, unmasked=unmasked)
    with connect(warehouse_path) as con:
        if not table_exists(con, "main", "leads"):
            raise RuntimeError(f"no main.leads in {warehouse_path}: build the leads first")
        registry.ensure_tables(con)
        con.execute("BEGIN")
        try:
            summary.marked_exported = _mark_exported(con, now)
            files, summary.n_leads, rendered, kept = _render_all(con, exports_dir, unmasked)
            summary.skipped = len(kept)
            summary.unchanged += 2 * len(kept)
            # Written before the commit: a failed write leaves the leads "new".
            for relative, data in files.items():
                if atomic_write(exports_dir / relative, data):
                    summary.written.append(relative)
                else:
                    summary.unchanged += 1
            _save_export_state(con, exports_dir, rendered)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    summary.log_line = _log(logs_dir, now, summary)
    if unmasked:  # also to the caller's log (Dagster run log, console), not only the file
        log.warning("UNMASKED export of %d leads to %s", summary.n_leads, exports_dir)
    return summary


def _mark_exported(con: duckdb.DuckDBPyConnection, now: datetime) -> list[str]:
    fresh = [
        lead_id
        for (lead_id,) in con.execute(
            "SELECT lead_id FROM main.leads WHERE status = 'new' ORDER BY rank"
        ).fetchall()
    ]
    for lead_id in fresh:
        registry.transition(con, lead_id, "exported", "first export", now)
    return fresh


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


#: Bump when the rendering of reports or JSON changes, so every lead is rendered again.
RENDER_VERSION = "1"
EXPORT_STATE = "cloudsword.lead_export_state"


def _ensure_export_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {EXPORT_STATE} (
            exports_dir VARCHAR, lead_id VARCHAR, input_hash VARCHAR,
            json_size BIGINT, json_mtime_ns BIGINT, html_size BIGINT, html_mtime_ns BIGINT,
            masked_row VARCHAR, PRIMARY KEY (exports_dir, lead_id))
        """
    )


def _ring_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per ring of a current lead, a digest of the network rows its picture is drawn from
    (``ml.network.draw``: members and their risk, ring links, sources of its members)."""
    rows = con.execute(
        """
        WITH members AS (
            SELECT ring_id, seller_id FROM main.rings
            WHERE ring_id IN (SELECT ring_id FROM main.leads WHERE ring_id IS NOT NULL)
        ),
        sellers AS (
            SELECT m.ring_id, string_agg(m.seller_id || ':' || coalesce(sc.risk_score, 0.0),
                                         ',' ORDER BY m.seller_id) AS x
            FROM members m LEFT JOIN main.seller_scores sc USING (seller_id) GROUP BY ALL
        ),
        links AS (
            SELECT ring_id, string_agg(y, ',' ORDER BY y) AS x FROM (
                SELECT ring_id, concat_ws('|', seller_id, other_seller_id, kind, identifier) AS y
                FROM main.ring_links
                WHERE ring_id IN (SELECT ring_id FROM members))
            GROUP BY ALL
        ),
        supplied AS (
            SELECT DISTINCT m.ring_id, x.source_id
            FROM (SELECT source_id, unnest(linked_sellers) AS seller_id FROM main.sources) x
            JOIN members m USING (seller_id)
        ),
        sources AS (
            SELECT s.ring_id,
                   string_agg(concat_ws('|', so.source_id, so.sender_address, so.risk_score,
                                        list_sort(so.linked_sellers)::VARCHAR),
                              ',' ORDER BY so.source_id) AS x
            FROM supplied s JOIN main.sources so USING (source_id) GROUP BY ALL
        )
        SELECT s.ring_id, md5(concat_ws('#', s.x, l.x, src.x))
        FROM sellers s LEFT JOIN links l USING (ring_id) LEFT JOIN sources src USING (ring_id)
        """
    ).fetchall()
    return dict(rows)


def _input_hash(parts: list[Any]) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=_jsonable)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


def _save_export_state(
    con: duckdb.DuckDBPyConnection, exports_dir: Path, rendered: dict[str, tuple[str, str]]
) -> None:
    """Record the input hash, the files' size and mtime and the masked table row of every lead
    rendered this time."""
    rows = []
    for lead_id, (input_hash, masked_row) in rendered.items():
        json_stat = _stat(exports_dir / "leads" / f"{lead_id}.json")
        html_stat = _stat(exports_dir / "leads" / f"{lead_id}.html")
        if json_stat and html_stat:
            rows.append(
                [
                    str(exports_dir.resolve()),
                    lead_id,
                    input_hash,
                    *json_stat,
                    *html_stat,
                    masked_row,
                ]
            )
    if not rows:
        return
    # One delete and one Arrow insert: a statement per lead costs seconds for a few hundred.
    names = [
        "exports_dir",
        "lead_id",
        "input_hash",
        "json_size",
        "json_mtime_ns",
        "html_size",
        "html_mtime_ns",
        "masked_row",
    ]
    types = [pa.string()] * 3 + [pa.int64()] * 4 + [pa.string()]
    table = pa.table(
        {
            name: pa.array([row[i] for row in rows], kind)
            for i, (name, kind) in enumerate(zip(names, types, strict=True))
        }
    )
    con.register("_lead_export_state_arrow", table)
    try:
        con.execute(
            f"DELETE FROM {EXPORT_STATE} WHERE (exports_dir, lead_id) IN "
            "(SELECT (exports_dir, lead_id) FROM _lead_export_state_arrow)"
        )
        con.execute(f"INSERT INTO {EXPORT_STATE} SELECT * FROM _lead_export_state_arrow")
    finally:
        con.unregister("_lead_export_state_arrow")


#: Timestamp columns of the leads table, turned back into datetimes from the cached row.
_ROW_TIMES = ("first_exported_at", "updated_at")


def _row_from_cache(text: str) -> dict[str, Any]:
    row = json.loads(text)
    for name in _ROW_TIMES:
        if row.get(name) is not None:
            row[name] = datetime.fromisoformat(row[name])
    return row


def _render_all(
    con: duckdb.DuckDBPyConnection, exports_dir: Path, unmasked: bool
) -> tuple[dict[str, bytes], int, dict[str, tuple[str, str]], list[str]]:
    """Export files' bytes by path relative to ``exports_dir``, the lead count, the input hash
    and masked row of each lead rendered, and the leads not rendered (inputs and files
    unchanged)."""
    _ensure_export_state(con)
    previous = {
        row[0]: (row[1], (row[2], row[3]), (row[4], row[5]), row[6])
        for row in con.execute(
            f"SELECT * EXCLUDE (exports_dir) FROM {EXPORT_STATE} WHERE exports_dir = ?",
            [str(exports_dir.resolve())],
        ).fetchall()
    }
    digests = _ring_digests(con)
    raw = {
        lead_id: (package, priority)
        for lead_id, package, priority in con.execute(
            "SELECT lead_id, package, priority FROM cloudsword.lead_packages "
            "WHERE lead_id IN (SELECT lead_id FROM main.leads)"
        ).fetchall()
    }
    leads = _records(
        con.execute(f"SELECT {', '.join(LEADS_COLUMNS)} FROM main.leads ORDER BY rank")
    )
    histories: dict[str, list[dict[str, Any]]] = {}
    for row in _records(
        con.execute(
            "SELECT lead_id, status, changed_at, note FROM cloudsword.lead_status_history "
            "WHERE lead_id IN (SELECT lead_id FROM main.leads) "
            f"ORDER BY lead_id, {registry.HISTORY_ORDER}"
        )
    ):
        histories.setdefault(row.pop("lead_id"), []).append(row)

    files: dict[str, bytes] = {}
    table_rows: list[dict[str, Any]] = []
    index_rows: list[dict[str, Any]] = []
    rendered: dict[str, tuple[str, str]] = {}
    kept: list[str] = []
    for lead in leads:
        lead_id = lead["lead_id"]
        package_text, priority_text = raw[lead_id]
        history = histories.get(lead_id, [])
        input_hash = _input_hash(
            [
                RENDER_VERSION,
                unmasked,
                lead,
                package_text,
                priority_text,
                history,
                digests.get(lead["ring_id"]) if lead["ring_id"] else "",
            ]
        )
        json_path = exports_dir / "leads" / f"{lead_id}.json"
        html_path = exports_dir / "leads" / f"{lead_id}.html"
        before = previous.get(lead_id)
        if (
            before is not None
            and before[0] == input_hash
            and before[3] is not None
            and _stat(json_path) == before[1]
            and _stat(html_path) == before[2]
        ):
            # Nothing its files or its masked row are made from changed: reuse the row.
            row = _row_from_cache(before[3])
            table_rows.append(row)
            index_rows.append({**row, "n_sellers": len(row["seller_ids"] or [])})
            kept.append(lead_id)
            continue
        package = json.loads(package_text)
        priority = json.loads(priority_text) if priority_text else {}
        masker = masker_for(package, enabled=not unmasked)
        row = dict(lead)
        if unmasked:
            row["evidence_summary"] = evidence_summary(package, masker)
        row = {k: masker.text(v) if isinstance(v, str) else v for k, v in row.items()}
        table_rows.append(row)
        index_rows.append({**row, "n_sellers": len(row["seller_ids"] or [])})
        doc = _case_document(row, package, priority, history, unmasked)
        doc = masker.package(doc)
        svg = masker.text(network_svg(con, package, masked=not unmasked))
        files[f"leads/{lead_id}.json"] = _json_bytes(doc)
        files[f"leads/{lead_id}.html"] = case_html(doc, svg, unmasked).encode("utf-8")
        rendered[lead_id] = (input_hash, json.dumps(row, default=_jsonable, ensure_ascii=False))

    current = {lead["lead_id"] for lead in leads}
    earlier = [
        row
        for row in _records(
            con.execute(
                "SELECT lead_id, status, updated_at FROM cloudsword.lead_registry ORDER BY lead_id"
            )
        )
        if row["lead_id"] not in current
        and (exports_dir / "leads" / f"{row['lead_id']}.html").exists()
    ]
    files["leads.csv"] = _csv_bytes(table_rows)
    files["leads.parquet"] = _parquet_bytes(table_rows)
    files["index.html"] = index_html(index_rows, earlier, unmasked).encode("utf-8")
    return files, len(leads), rendered, kept


def _case_document(
    row: dict[str, Any],
    package: dict[str, Any],
    priority: dict[str, Any],
    history: list[dict[str, Any]],
    unmasked: bool,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        **row,
        "priority_components": priority.get("components", {}),
        "masked": not unmasked,
        "status_history": history,
    }
    for key, value in package.items():
        doc.setdefault(key, value)
    return doc


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json_bytes(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2, default=_jsonable) + "\n").encode()


def neutralise_cell(value: str) -> str:
    """Stop a spreadsheet from running a cell as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    elif isinstance(value, datetime | date):
        value = value.isoformat()
    elif isinstance(value, float):
        value = repr(value)
    return neutralise_cell(str(value))


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LEADS_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in LEADS_COLUMNS])
    return buffer.getvalue().encode("utf-8")


def _parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    table = pa.Table.from_pylist([{c: r[c] for c in LEADS_COLUMNS} for r in rows], PARQUET_SCHEMA)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _log(logs_dir: Path, now: datetime, summary: ExportSummary) -> str:
    """Append one line per export; unmasked exports are flagged so they can be audited."""
    if not logs_dir.exists():
        secure_dir(logs_dir)
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = str(os.getuid())
    line = (
        f"{now.isoformat()}Z export {'UNMASKED' if summary.unmasked else 'masked'} "
        f"user={user} leads={summary.n_leads} marked_exported={len(summary.marked_exported)} "
        f"written={len(summary.written)} unchanged={summary.unchanged} "
        f"dir={summary.exports_dir}"
    )
    fd = os.open(logs_dir / LOG_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return line
