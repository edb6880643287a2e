"""``build_leads``: candidates -> priority -> top case packages -> registry -> ``main.leads``."""

from __future__ import annotations

import html
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ml.leads import registry
from ml.leads.assemble import build_candidates, select_top
from ml.leads.config import LeadConfig
from ml.leads.inputs import lead_input_hashes, reusable_packages, save_inputs
from ml.leads.masking import masker_for
from ml.leads.package import CaseLead, evidence_summary, materialize
from ml.warehouse import connect

log = logging.getLogger(__name__)

#: ``main.leads`` columns, exactly those of the contract, in its order.
LEADS_COLUMNS = (
    "lead_id",
    "rank",
    "priority_score",
    "status",
    "province",
    "city",
    "ring_id",
    "seller_ids",
    "source_ids",
    "est_counterfeit_value",
    "evidence_summary",
    "first_exported_at",
    "updated_at",
)


@dataclass
class LeadsSummary:
    n_candidates: int
    n_leads: int
    new: int
    updated: int
    unchanged: int
    #: Registered leads that are not in this run's list (kept, with their status and files).
    not_current: int
    by_province: dict[str, int]
    top: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    #: Leads whose package was assembled from the warehouse (the others were unchanged and
    #: reused, ``ml.leads.inputs``).
    assembled: int = 0

    def preview_markdown(self) -> str:
        """The top leads as a Markdown table (for ``MetadataValue.md`` or a CLI)."""
        head = "| rank | lead | priority | province / city | sellers | est. value (CNY) |"
        lines = [head, "|---:|---|---:|---|---:|---:|"]
        for row in self.top:
            place = _md_cell(f"{row['province'] or '?'} / {row['city'] or '?'}")
            lines.append(
                f"| {row['rank']} | {_md_cell(row['lead_id'])} | {row['priority_score']:.1f} "
                f"| {place} "
                f"| {row['n_sellers']} | {row['est_counterfeit_value']:,.0f} |"
            )
        return "\n".join(lines)

    def dagster_metadata(self) -> dict[str, Any]:
        """Plain values for Dagster metadata (ml/ does not import dagster)."""
        return {
            "n_candidates": self.n_candidates,
            "n_leads": self.n_leads,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "not_current": self.not_current,
            "assembled": self.assembled,
            "by_province": ", ".join(f"{p} ({n})" for p, n in self.by_province.items()) or "none",
            "top_10": self.preview_markdown(),
            "seconds": round(self.seconds, 2),
        }


def _md_cell(value: object) -> str:
    """Data (a city is whatever a seller typed) cannot break the table or inject markup."""
    return html.escape(str(value)).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def build_leads(
    warehouse_path: Path,
    now: datetime,
    config: LeadConfig | None = None,
    incremental: bool = True,
) -> LeadsSummary:
    """Build ``main.leads`` and update the registry, in one transaction on one connection.

    Candidates and priorities are computed for every lead (ranks depend on all of them); case
    packages only for leads whose inputs changed since the last build (``ml.leads.inputs``),
    the others are reused as stored. ``incremental=False`` assembles every package.
    """
    started = time.perf_counter()
    config = config or LeadConfig()
    now = registry.utc_naive(now)
    with connect(warehouse_path) as con:
        n_candidates = build_candidates(con, now, config)
        select_top(con, config)
        hashes = lead_input_hashes(con, config)
        reuse = reusable_packages(con, hashes) if incremental else {}
        leads = materialize(con, config, {key: package for key, (package, _) in reuse.items()})
        summaries = {
            lead.lead_key: reuse[lead.lead_key][1]
            if lead.lead_key in reuse
            else evidence_summary(lead.package, masker_for(lead.package))
            for lead in leads
        }
        candidate_keys = {
            k for (k,) in con.execute("SELECT lead_key FROM _lead_candidates").fetchall()
        }
        con.execute("BEGIN")
        try:
            result = registry.sync(con, leads, candidate_keys, summaries, now)
            save_inputs(con, hashes, {lead.lead_key: lead.package for lead in leads}, summaries)
            _write_leads_table(con, leads, result.lead_ids, summaries)
            not_current = con.execute(
                "SELECT count(*) FROM cloudsword.lead_registry "
                "WHERE lead_id NOT IN (SELECT lead_id FROM main.leads)"
            ).fetchone()[0]
            top = _preview(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    by_province = Counter(lead.province or "unknown" for lead in leads)
    summary = LeadsSummary(
        n_candidates=n_candidates,
        n_leads=len(leads),
        new=len(result.new),
        updated=len(result.updated),
        unchanged=len(result.unchanged),
        not_current=int(not_current),
        by_province=dict(sorted(by_province.items(), key=lambda kv: (-kv[1], kv[0]))),
        top=top,
        seconds=time.perf_counter() - started,
        assembled=len(leads) - len([lead for lead in leads if lead.lead_key in reuse]),
    )
    log.info(
        "leads: %d candidates, %d leads (%d new, %d updated, %d unchanged)",
        n_candidates,
        summary.n_leads,
        summary.new,
        summary.updated,
        summary.unchanged,
    )
    return summary


def _write_leads_table(
    con: duckdb.DuckDBPyConnection,
    leads: list[CaseLead],
    lead_ids: dict[str, str],
    summaries: dict[str, str],
) -> None:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lead_rows (
            lead_id VARCHAR, rank INTEGER, priority_score DOUBLE, province VARCHAR, city VARCHAR,
            ring_id VARCHAR, seller_ids VARCHAR[], source_ids VARCHAR[],
            est_counterfeit_value DOUBLE, evidence_summary VARCHAR)
        """
    )
    rows = [
        [
            lead_ids[lead.lead_key],
            rank,
            lead.priority_score,
            lead.province,
            lead.city,
            lead.ring_id,
            lead.seller_ids,
            lead.source_ids,
            lead.est_counterfeit_value,
            summaries[lead.lead_key],
        ]
        for rank, lead in enumerate(leads, start=1)
    ]
    if rows:
        # One Arrow insert rather than a statement per lead.
        names = [
            "lead_id",
            "rank",
            "priority_score",
            "province",
            "city",
            "ring_id",
            "seller_ids",
            "source_ids",
            "est_counterfeit_value",
            "evidence_summary",
        ]
        types = [
            pa.string(),
            pa.int32(),
            pa.float64(),
            pa.string(),
            pa.string(),
            pa.string(),
            pa.list_(pa.string()),
            pa.list_(pa.string()),
            pa.float64(),
            pa.string(),
        ]
        table = pa.table(
            {
                n: pa.array([r[i] for r in rows], t)
                for i, (n, t) in enumerate(zip(names, types, strict=True))
            }
        )
        con.register("_lead_rows_arrow", table)
        try:
            con.execute("INSERT INTO _lead_rows SELECT * FROM _lead_rows_arrow")
        finally:
            con.unregister("_lead_rows_arrow")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE main.leads AS
        SELECT {
            ", ".join(
                f"n.{c}" if c not in ("status", "first_exported_at", "updated_at") else f"r.{c}"
                for c in LEADS_COLUMNS
            )
        }
        FROM _lead_rows n JOIN cloudsword.lead_registry r USING (lead_id)
        ORDER BY n.rank
        """
    )


def _preview(con: duckdb.DuckDBPyConnection, n: int = 10) -> list[dict[str, Any]]:
    cursor = con.execute(
        """
        SELECT lead_id, rank, priority_score, status, province, city, ring_id,
               len(seller_ids) AS n_sellers, len(source_ids) AS n_sources,
               est_counterfeit_value
        FROM main.leads ORDER BY rank LIMIT ?
        """,
        [n],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
