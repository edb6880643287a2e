"""The lead registry: stable lead ids, status lifecycle, history, and labels fed back to training.

Tables (schema ``cloudsword``):

* ``lead_registry``: lead_id (``L-000042``), lead_key (``ring:<ring_id>``, ``source:<id>`` or
  ``seller:<id>``; unique, so one lead per ring), kind, ring_id, seller_ids, source_ids, status,
  fingerprint (sha256 of the case package content), created_at, first_exported_at, updated_at.
* ``lead_status_history``: lead_id, status, changed_at, note, seller_ids (the sellers the status
  was decided on; accepted/rejected rows become labels).
* ``lead_packages``: lead_id, package (JSON text of the raw case package), evidence_summary,
  priority (JSON: candidate rank, score, components of the last build).
* sequence ``lead_id_seq``: lead numbers are never reused, even if a row is deleted.

Identity: a lead keeps its id while its key stays (a ring keeps its ring_id when it gains
members, so its lead is updated, not duplicated). A candidate with a key the registry has never
seen takes over the id of a registered lead that is no longer a candidate and most of whose
sellers (>= half) it contains (a lone seller that joined a ring, say); otherwise it gets a fresh
id. ``updated_at`` changes only when the fingerprint changes, so the same data twice changes
nothing. Status is the investigators': content changes never reset it.

Lifecycle: new -> exported -> accepted | rejected -> closed. ``export_leads`` moves new leads to
exported; ``set_status`` does the rest and refuses anything else with a clear error.

Labels: ``outcome_labels`` turns each lead's decision into rows shaped like the contract's
``enforcement_outcomes`` (one per seller the decision covered): accepted -> counterfeit_confirmed,
rejected -> genuine_confirmed, ``entity_type = 'seller'``, ``case_ref = <lead_id>:<seller_id>``,
``decided_at`` = when the status was set. The next training can union them with
``staging.stg_enforcement_outcomes`` (they are seller-level, so like other seller outcomes they do
not label individual listings).

Writers take no lock here: callers follow the one-writer rule (docs/architecture.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ml.leads.masking import masker_for
from ml.leads.package import CaseLead
from ml.warehouse import connect, table_exists

STATUSES = ("new", "exported", "accepted", "rejected", "closed")
#: Orders history rows that share a timestamp (the lifecycle only moves forward).
HISTORY_ORDER = (
    "changed_at, list_position(['new', 'exported', 'accepted', 'rejected', 'closed'], status)"
)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("exported",),
    "exported": ("accepted", "rejected"),
    "accepted": ("closed",),
    "rejected": ("closed",),
    "closed": (),
}
#: A registered lead is taken over by a new key when the new lead holds this share of its sellers.
ADOPT_SHARE = 0.5


class InvalidTransition(ValueError):
    """A status change the lifecycle does not allow."""


class UnknownLead(ValueError):
    """No lead with that id in the registry."""


def utc_naive(moment: datetime | None) -> datetime:
    """Timestamps are stored as naive UTC (the warehouse runs with TimeZone = 'UTC')."""
    moment = moment or datetime.now(UTC).replace(microsecond=0)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS cloudsword")
    con.execute("CREATE SEQUENCE IF NOT EXISTS cloudsword.lead_id_seq START 1")
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS cloudsword.lead_registry (
            lead_id VARCHAR PRIMARY KEY,
            lead_key VARCHAR NOT NULL UNIQUE,
            kind VARCHAR NOT NULL,
            ring_id VARCHAR,
            seller_ids VARCHAR[],
            source_ids VARCHAR[],
            status VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            first_exported_at TIMESTAMP,
            updated_at TIMESTAMP NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS cloudsword.lead_status_history (
            lead_id VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            changed_at TIMESTAMP NOT NULL,
            note VARCHAR,
            seller_ids VARCHAR[]
        )
        """
    )
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS cloudsword.lead_packages (
            lead_id VARCHAR PRIMARY KEY,
            package VARCHAR NOT NULL,
            evidence_summary VARCHAR,
            priority VARCHAR
        )
        """
    )


@dataclass
class SyncResult:
    lead_ids: dict[str, str]  # lead_key -> lead_id
    new: list[str]
    updated: list[str]
    unchanged: list[str]


def sync(
    con: duckdb.DuckDBPyConnection,
    leads: list[CaseLead],
    candidate_keys: set[str],
    summaries: dict[str, str],
    now: datetime,
) -> SyncResult:
    """Give every lead its id, record new and changed leads; the caller holds a transaction."""
    ensure_tables(con)
    registered = {
        row[1]: {"lead_id": row[0], "seller_ids": row[2] or [], "fingerprint": row[3]}
        for row in con.execute(
            "SELECT lead_id, lead_key, seller_ids, fingerprint FROM cloudsword.lead_registry"
        ).fetchall()
    }
    ids: dict[str, str] = {}
    for lead in leads:
        if lead.lead_key in registered:
            ids[lead.lead_key] = registered[lead.lead_key]["lead_id"]
    _adopt(leads, registered, candidate_keys, ids)

    result = SyncResult(lead_ids=ids, new=[], updated=[], unchanged=[])
    by_id = {r["lead_id"]: {**r, "lead_key": key} for key, r in registered.items()}
    registry_updates: list[list[Any]] = []
    package_updates: list[list[Any]] = []
    # Read once and compare here: most leads' packages do not change between builds, and one
    # UPDATE per lead that changes nothing still costs a statement each.
    stored_packages = {
        row[0]: tuple(row[1:])
        for row in con.execute(
            "SELECT lead_id, package, evidence_summary, priority FROM cloudsword.lead_packages"
        ).fetchall()
    }
    for lead in leads:
        fingerprint = lead.fingerprint
        package_json = json.dumps(lead.package, ensure_ascii=False, sort_keys=True)
        priority_json = json.dumps(
            {
                "candidate_rank": lead.candidate_rank,
                "priority_score": lead.priority_score,
                "components": lead.components,
            },
            sort_keys=True,
        )
        summary = summaries[lead.lead_key]
        lead_id = ids.get(lead.lead_key)
        if lead_id is None:
            number = con.execute("SELECT nextval('cloudsword.lead_id_seq')").fetchone()[0]
            lead_id = ids[lead.lead_key] = f"L-{number:06d}"
            con.execute(
                "INSERT INTO cloudsword.lead_registry "
                "VALUES (?, ?, ?, ?, ?, ?, 'new', ?, ?, NULL, ?)",
                [
                    lead_id,
                    lead.lead_key,
                    lead.kind,
                    lead.ring_id,
                    lead.seller_ids,
                    lead.source_ids,
                    fingerprint,
                    now,
                    now,
                ],
            )
            _history(con, lead_id, "new", now, f"created as {lead.lead_key}", lead.seller_ids)
            con.execute(
                "INSERT INTO cloudsword.lead_packages VALUES (?, ?, ?, ?)",
                [lead_id, package_json, summary, priority_json],
            )
            result.new.append(lead_id)
            continue
        if by_id[lead_id]["fingerprint"] != fingerprint:
            if by_id[lead_id].get("lead_key", lead.lead_key) != lead.lead_key:
                # An adopted id changes its (unique) key: one at a time, as it is rare.
                con.execute(
                    "UPDATE cloudsword.lead_registry SET lead_key = ? WHERE lead_id = ?",
                    [lead.lead_key, lead_id],
                )
            registry_updates.append(
                [
                    lead_id,
                    lead.kind,
                    lead.ring_id,
                    lead.seller_ids,
                    lead.source_ids,
                    fingerprint,
                ]
            )
            result.updated.append(lead_id)
        else:
            result.unchanged.append(lead_id)
        # The priority moves with the rest of the data even when the content does not.
        if stored_packages.get(lead_id) != (package_json, summary, priority_json):
            package_updates.append([lead_id, package_json, summary, priority_json])
    _update_from(
        con,
        "lead_registry",
        ["lead_id", "kind", "ring_id", "seller_ids", "source_ids", "fingerprint"],
        [pa.string(), pa.string(), pa.string(), _LIST, _LIST, pa.string()],
        registry_updates,
        extra="updated_at = $now",
        params={"now": now},
    )
    _update_from(
        con,
        "lead_packages",
        ["lead_id", "package", "evidence_summary", "priority"],
        [pa.string()] * 4,
        package_updates,
    )
    return result


_LIST = pa.list_(pa.string())


def _update_from(
    con: duckdb.DuckDBPyConnection,
    table: str,
    names: list[str],
    types: list[pa.DataType],
    rows: list[list[Any]],
    extra: str = "",
    params: dict[str, Any] | None = None,
) -> None:
    """One ``UPDATE ... FROM`` for many rows keyed by ``lead_id`` (a statement per lead costs
    tens of milliseconds in DuckDB, seconds for a few hundred leads)."""
    if not rows:
        return
    data = pa.table(
        {
            n: pa.array([r[i] for r in rows], t)
            for i, (n, t) in enumerate(zip(names, types, strict=True))
        }
    )
    sets = ", ".join(f"{n} = u.{n}" for n in names[1:]) + (f", {extra}" if extra else "")
    con.register("_lead_updates_arrow", data)
    try:
        con.execute(
            f"UPDATE cloudsword.{table} t SET {sets} FROM _lead_updates_arrow u "
            "WHERE t.lead_id = u.lead_id",
            params or {},
        )
    finally:
        con.unregister("_lead_updates_arrow")


def _adopt(
    leads: list[CaseLead],
    registered: dict[str, dict],
    candidate_keys: set[str],
    ids: dict[str, str],
) -> None:
    """Let unmatched leads take over the id of a vanished lead whose sellers they mostly hold."""
    claimed = set(ids.values())
    by_seller: dict[str, list[tuple[str, int]]] = {}
    for key, row in registered.items():
        if key in candidate_keys or row["lead_id"] in claimed:
            continue
        for seller in row["seller_ids"]:
            by_seller.setdefault(seller, []).append((row["lead_id"], len(row["seller_ids"])))
    for lead in leads:  # best first, so the strongest lead wins a contested id
        if lead.lead_key in ids:
            continue
        shared: dict[str, int] = {}
        sizes: dict[str, int] = {}
        for seller in lead.seller_ids:
            for lead_id, size in by_seller.get(seller, ()):
                shared[lead_id] = shared.get(lead_id, 0) + 1
                sizes[lead_id] = size
        eligible = [
            (n / sizes[lid], n, lid)
            for lid, n in shared.items()
            if lid not in claimed and n / sizes[lid] >= ADOPT_SHARE
        ]
        if eligible:
            # Highest share, then most shared sellers, then the oldest id.
            best = min(eligible, key=lambda e: (-e[0], -e[1], e[2]))[2]
            ids[lead.lead_key] = best
            claimed.add(best)


def _history(
    con: duckdb.DuckDBPyConnection,
    lead_id: str,
    status: str,
    changed_at: datetime,
    note: str,
    seller_ids: list[str] | None,
) -> None:
    con.execute(
        "INSERT INTO cloudsword.lead_status_history VALUES (?, ?, ?, ?, ?)",
        [lead_id, status, changed_at, note, seller_ids],
    )


def transition(
    con: duckdb.DuckDBPyConnection, lead_id: str, status: str, note: str, now: datetime
) -> dict[str, Any]:
    """Move one lead to ``status`` inside the caller's transaction; return its registry row."""
    if status not in STATUSES:
        raise InvalidTransition(f"unknown status {status!r}; statuses are {', '.join(STATUSES)}")
    row = con.execute(
        "SELECT status, seller_ids FROM cloudsword.lead_registry WHERE lead_id = ?", [lead_id]
    ).fetchone()
    if row is None:
        raise UnknownLead(f"no lead {lead_id!r} in the registry")
    current, seller_ids = row
    if status not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "nothing (it is final)"
        raise InvalidTransition(
            f"lead {lead_id} is {current!r}; it cannot become {status!r} (allowed: {allowed})"
        )
    con.execute(
        """
        UPDATE cloudsword.lead_registry
        SET status = $status,
            first_exported_at = CASE WHEN $status = 'exported'
                                     THEN coalesce(first_exported_at, $now)
                                     ELSE first_exported_at END
        WHERE lead_id = $lead_id
        """,
        {"status": status, "now": now, "lead_id": lead_id},
    )
    _history(con, lead_id, status, now, note, seller_ids)
    if table_exists(con, "main", "leads"):
        con.execute(
            "UPDATE main.leads l SET status = r.status, first_exported_at = r.first_exported_at "
            "FROM cloudsword.lead_registry r WHERE l.lead_id = r.lead_id AND r.lead_id = ?",
            [lead_id],
        )
    return _registry_row(con, lead_id)


def _registry_row(con: duckdb.DuckDBPyConnection, lead_id: str) -> dict[str, Any]:
    cursor = con.execute("SELECT * FROM cloudsword.lead_registry WHERE lead_id = ?", [lead_id])
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    if row is None:
        raise UnknownLead(f"no lead {lead_id!r} in the registry")
    return dict(zip(names, row, strict=True))


def set_status(
    warehouse_path: Path, lead_id: str, status: str, note: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """Change a lead's status (validated against the lifecycle); return its registry row."""
    with connect(warehouse_path) as con:
        ensure_tables(con)
        con.execute("BEGIN")
        try:
            row = transition(con, lead_id, status, note, utc_naive(now))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return row


def list_leads(
    warehouse_path: Path,
    status: str | None = None,
    limit: int | None = None,
    include_earlier: bool = False,
) -> list[dict[str, Any]]:
    """The current leads (``main.leads``), best first; with ``include_earlier`` also registered
    leads that left the list (their rank and priority are None). Summaries are masked."""
    with connect(warehouse_path, read_only=True) as con:
        if not table_exists(con, "cloudsword", "lead_registry"):
            return []
        if table_exists(con, "main", "leads"):
            current = "main.leads"
        else:  # registry without a leads table: nothing is current
            current = (
                "(SELECT NULL::VARCHAR AS lead_id, NULL::INTEGER AS rank, "
                + ", ".join(
                    f"NULL AS {c}"
                    for c in ("priority_score", "province", "city", "est_counterfeit_value")
                )
                + ", NULL::VARCHAR AS evidence_summary WHERE false)"
            )
        where, params = [], []
        if not include_earlier:
            where.append("l.lead_id IS NOT NULL")
        if status:
            where.append("r.status = ?")
            params.append(status)
        cursor = con.execute(
            f"""
            SELECT r.lead_id, l.rank, l.priority_score, r.status, r.kind, r.lead_key, r.ring_id,
                   l.province, l.city, r.seller_ids, r.source_ids, l.est_counterfeit_value,
                   coalesce(l.evidence_summary, p.evidence_summary) AS evidence_summary,
                   r.created_at, r.first_exported_at, r.updated_at
            FROM cloudsword.lead_registry r
            LEFT JOIN {current} l USING (lead_id)
            LEFT JOIN cloudsword.lead_packages p USING (lead_id)
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY l.rank NULLS LAST, r.lead_id
            {"LIMIT " + str(int(limit)) if limit is not None else ""}
            """,
            params,
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def get_lead(warehouse_path: Path, lead_id: str, unmasked: bool = False) -> dict[str, Any] | None:
    """A lead's registry row with its case package (masked unless ``unmasked``), last priority
    and status history; None when there is no such lead."""
    with connect(warehouse_path, read_only=True) as con:
        if not table_exists(con, "cloudsword", "lead_registry"):
            return None
        try:
            lead = _registry_row(con, lead_id)
        except UnknownLead:
            return None
        stored = con.execute(
            "SELECT package, evidence_summary, priority FROM cloudsword.lead_packages "
            "WHERE lead_id = ?",
            [lead_id],
        ).fetchone()
        package = json.loads(stored[0]) if stored else None
        if package is not None:
            package = masker_for(package, enabled=not unmasked).package(package)
        lead["package"] = package
        lead["evidence_summary"] = stored[1] if stored else None
        lead["priority"] = json.loads(stored[2]) if stored and stored[2] else None
        lead["history"] = status_history(con, lead_id)
        lead["masked"] = not unmasked
    return lead


def status_history(con: duckdb.DuckDBPyConnection, lead_id: str) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT status, changed_at, note FROM cloudsword.lead_status_history "
        f"WHERE lead_id = ? ORDER BY {HISTORY_ORDER}",
        [lead_id],
    ).fetchall()
    return [{"status": s, "changed_at": c, "note": n} for s, c, n in rows]


LABEL_SCHEMA = pa.schema(
    [
        ("case_ref", pa.string()),
        ("entity_type", pa.string()),
        ("entity_id", pa.string()),
        ("outcome", pa.string()),
        ("source", pa.string()),
        ("decided_at", pa.timestamp("us")),
    ]
)


def outcome_labels(
    warehouse_path: Path,
    accepted_source: str = "police_raid",
    rejected_source: str = "appeal",
) -> pa.Table:
    """Decided leads as ``enforcement_outcomes`` rows (see the module docstring)."""
    with connect(warehouse_path, read_only=True) as con:
        if not table_exists(con, "cloudsword", "lead_status_history"):
            return LABEL_SCHEMA.empty_table()
        rows = con.execute(
            """
            WITH decisions AS (
                SELECT lead_id, status, changed_at, seller_ids
                FROM cloudsword.lead_status_history
                WHERE status IN ('accepted', 'rejected')
                QUALIFY row_number() OVER (PARTITION BY lead_id ORDER BY changed_at DESC) = 1
            )
            SELECT lead_id || ':' || seller_id AS case_ref, 'seller' AS entity_type,
                   seller_id AS entity_id,
                   CASE status WHEN 'accepted' THEN 'counterfeit_confirmed'
                               ELSE 'genuine_confirmed' END AS outcome,
                   CASE status WHEN 'accepted' THEN $accepted ELSE $rejected END AS source,
                   changed_at AS decided_at
            FROM (SELECT lead_id, status, changed_at, unnest(seller_ids) AS seller_id
                  FROM decisions)
            ORDER BY case_ref
            """,
            {"accepted": accepted_source, "rejected": rejected_source},
        ).fetchall()
    return pa.Table.from_pylist(
        [dict(zip(LABEL_SCHEMA.names, row, strict=True)) for row in rows], LABEL_SCHEMA
    )
