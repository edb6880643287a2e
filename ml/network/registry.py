"""Stable ids for rings and sources across runs.

``cloudsword.ring_registry`` and ``cloudsword.source_registry`` have one row per id ever issued:
id, members (the sellers of a ring; the resolved address variants ``city|normalized address`` of a
source) as of the last run that saw it, active (seen in the last run), first_seen_at,
last_seen_at. Rows are never deleted, so the next number (largest issued + 1) is never reused.

Matching a new run's groups to old ids:

* candidates are (new group, old id) pairs sharing members, with overlap coefficient
  ``|A & B| / min(|A|, |B|) >= min_id_overlap``; old ids that are inactive take part too, so a
  ring that disappears for a run and comes back gets its id back;
* greedy one-to-one: take the pair with the largest shared count (then larger Jaccard, then the
  older id, then the new group's key), drop both sides, repeat;
* unmatched groups get fresh ids in the order of their smallest member.

Same data twice gives the same ids; a ring that gains or loses a member keeps its id; a ring
that splits keeps its id on the bigger part.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from ml.network.sql import scalar, temp_table_from_arrow

REGISTRY_COLUMNS = (
    "{id} VARCHAR PRIMARY KEY, members VARCHAR[], n_members INTEGER, active BOOLEAN, "
    "first_seen_at TIMESTAMP, last_seen_at TIMESTAMP"
)


def ensure_registry(con: duckdb.DuckDBPyConnection, table: str, id_column: str) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS cloudsword")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS cloudsword.{table} ({REGISTRY_COLUMNS.format(id=id_column)})"
    )


def assign_ids(
    con: duckdb.DuckDBPyConnection,
    *,
    groups: str,
    registry: str,
    id_column: str,
    prefix: str,
    run_at: datetime,
    min_overlap: float,
    out: str,
) -> None:
    """Give every group of temp table ``groups`` (group_key, member) an id.

    Writes temp table ``out`` (group_key, id) and temp table ``<out>_registry``: the whole next
    content of ``cloudsword.<registry>``, to be swapped in with the other outputs.
    """
    ensure_registry(con, registry, id_column)
    candidates = con.execute(
        f"""
        WITH new_sizes AS (SELECT group_key, count(DISTINCT member) AS n_new
                           FROM {groups} GROUP BY ALL),
        old AS (SELECT {id_column} AS old_id, unnest(members) AS member, n_members AS n_old
                FROM cloudsword.{registry}),
        shared AS (
            SELECT g.group_key, o.old_id, count(DISTINCT g.member) AS n_shared,
                   any_value(o.n_old) AS n_old
            FROM (SELECT DISTINCT group_key, member FROM {groups}) g
            JOIN old o USING (member)
            GROUP BY ALL
        )
        SELECT s.group_key, s.old_id, s.n_shared,
               s.n_shared / (n.n_new + s.n_old - s.n_shared) AS jaccard
        FROM shared s JOIN new_sizes n USING (group_key)
        WHERE s.n_shared >= $min_overlap * least(n.n_new, s.n_old)
        ORDER BY s.n_shared DESC, jaccard DESC, s.old_id, s.group_key
        """,
        {"min_overlap": min_overlap},
    ).fetchall()
    assigned: dict[str, str] = {}
    taken: set[str] = set()
    for group_key, old_id, _, _ in candidates:
        if group_key in assigned or old_id in taken:
            continue
        assigned[group_key] = old_id
        taken.add(old_id)

    unmatched = [
        row[0]
        for row in con.execute(
            f"SELECT group_key FROM {groups} GROUP BY ALL ORDER BY min(member), group_key"
        ).fetchall()
        if row[0] not in assigned
    ]
    last = scalar(
        con,
        f"""SELECT coalesce(max(TRY_CAST(regexp_extract({id_column}, '(\\d+)$', 1) AS BIGINT)), 0)
            FROM cloudsword.{registry}""",
    )
    for offset, group_key in enumerate(unmatched, start=1):
        assigned[group_key] = f"{prefix}-{last + offset:06d}"

    table = pa.table(
        {
            "group_key": pa.array(list(assigned), pa.string()),
            "id": pa.array(list(assigned.values()), pa.string()),
        }
    )
    temp_table_from_arrow(con, out, table)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {out}_registry AS
        WITH current AS (
            SELECT i.id, list_sort(list(DISTINCT g.member)) AS members
            FROM {groups} g JOIN {out} i USING (group_key) GROUP BY ALL
        )
        SELECT coalesce(c.id, o.{id_column}) AS {id_column},
               coalesce(c.members, o.members) AS members,
               len(coalesce(c.members, o.members))::INTEGER AS n_members,
               c.id IS NOT NULL AS active,
               coalesce(o.first_seen_at, $run_at) AS first_seen_at,
               CASE WHEN c.id IS NOT NULL THEN $run_at ELSE o.last_seen_at END AS last_seen_at
        FROM current c FULL JOIN cloudsword.{registry} o ON o.{id_column} = c.id
        ORDER BY 1
        """,
        {"run_at": run_at},
    )
