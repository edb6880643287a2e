"""How good are the leads? Compare ``main.leads`` with the generator's ground truth.

Truth files (``$CLOUDSWORD_HOME/truth/``, written by ``ml.generate``; the pipeline never reads
them): ``sellers.parquet`` (seller_id, is_counterfeit), ``rings.parquet`` (one row per ring
member), ``sources.parquet`` (source_id, is_counterfeit_source, supplies_ring_ids) and
``source_variants.parquet`` (the spellings each source ships under).

* precision@k: share of the k best leads that are correct; a lead is correct when most (more
  than half) of its sellers are truly counterfeit.
* ring coverage@k: how many true rings have at least one seller in the k best leads
  (``touched``), and at least half of their sellers (``mostly``).
* source coverage@k: the same for true counterfeit sources, whose sellers are the members of the
  rings they supply plus every seller that received a shipment under one of their spellings
  (matched on the exact sender address in ``staging.stg_inbound_shipments``).

Command (``--stand-in`` first writes rule-based listing scores and traces the network, for a
warehouse without a model; see ``ml.leads.standin``)::

    python -m ml.leads.evaluate --home /tmp/h [--stand-in | --build] [--json]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ml.warehouse import connect, table_exists

KS = (10, 50, 100)


@dataclass
class LeadEvaluation:
    n_leads: int
    precision_at: dict[int, float | None] = field(default_factory=dict)
    #: lead kinds (ring / source / seller) among the k best leads
    kinds_at: dict[int, dict[str, int]] = field(default_factory=dict)
    n_true_rings: int = 0
    rings_touched_at: dict[int, int] = field(default_factory=dict)
    rings_mostly_at: dict[int, int] = field(default_factory=dict)
    n_true_sources: int = 0
    sources_touched_at: dict[int, int] = field(default_factory=dict)
    sources_mostly_at: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        """The numbers as a Markdown table (one row per k)."""
        lines = [
            "| top k | precision | ring / source / seller leads | true rings touched (mostly) "
            f"of {self.n_true_rings} | true sources touched (mostly) of {self.n_true_sources} |",
            "|---:|---:|---|---|---|",
        ]
        for k, precision in self.precision_at.items():
            kinds = self.kinds_at.get(k, {})
            shown = "n/a" if precision is None else f"{precision:.3f}"
            lines.append(
                f"| {k} | {shown} | {kinds.get('ring', 0)} / {kinds.get('source', 0)} / "
                f"{kinds.get('seller', 0)} | {self.rings_touched_at[k]} ({self.rings_mostly_at[k]})"
                f" | {self.sources_touched_at[k]} ({self.sources_mostly_at[k]}) |"
            )
        return "\n".join(lines)


def evaluate_leads(warehouse_path: Path, truth_dir: Path, ks: Sequence[int] = KS) -> LeadEvaluation:
    """Precision of the top k leads and the true rings and sources they cover (read-only)."""
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute(
            "SELECT l.seller_ids, r.kind FROM main.leads l "
            "LEFT JOIN cloudsword.lead_registry r USING (lead_id) ORDER BY l.rank"
        ).fetchall()
        shipped = _shipped_sellers(con, truth_dir / "source_variants.parquet")
    leads = [(list(sellers or []), kind or "?") for sellers, kind in rows]
    counterfeit = _counterfeit_sellers(truth_dir / "sellers.parquet")
    rings = _groups(pq.read_table(truth_dir / "rings.parquet"), "ring")
    sources = _source_groups(truth_dir / "sources.parquet", rings, shipped)
    result = LeadEvaluation(
        n_leads=len(leads), n_true_rings=len(rings), n_true_sources=len(sources)
    )
    for k in ks:
        top = leads[:k]
        correct = [sum(s in counterfeit for s in sellers) * 2 > len(sellers) for sellers, _ in top]
        result.precision_at[k] = round(sum(correct) / len(top), 4) if top else None
        kinds: dict[str, int] = {}
        for _, kind in top:
            kinds[kind] = kinds.get(kind, 0) + 1
        result.kinds_at[k] = dict(sorted(kinds.items()))
        covered = {s for sellers, _ in top for s in sellers}
        result.rings_touched_at[k], result.rings_mostly_at[k] = _coverage(rings.values(), covered)
        result.sources_touched_at[k], result.sources_mostly_at[k] = _coverage(
            sources.values(), covered
        )
    return result


def _coverage(groups: Iterable[set[str]], covered: set[str]) -> tuple[int, int]:
    touched = mostly = 0
    for members in groups:
        hit = len(members & covered)
        touched += hit > 0
        mostly += bool(members) and hit * 2 >= len(members)
    return touched, mostly


def _flag_column(table: pa.Table) -> str | None:
    for name in ("is_counterfeit", "is_counterfeit_source", "counterfeit"):
        if name in table.column_names:
            return name
    return None


def _counterfeit_sellers(path: Path) -> set[str]:
    table = pq.read_table(path)
    flag = _flag_column(table)
    if flag is None:
        raise ValueError(f"no counterfeit flag in {path} (columns {table.column_names})")
    return {
        str(s)
        for s, is_cf in zip(
            table.column("seller_id").to_pylist(), table.column(flag).to_pylist(), strict=True
        )
        if is_cf
    }


def _group_column(table: pa.Table, hint: str, avoid: str = "seller") -> str:
    names = [n for n in table.column_names if avoid not in n.lower()]
    for name in names:
        if hint in name.lower() and name.lower().endswith(("id", "_idx", "index", hint)):
            return name
    for name in names:
        if hint in name.lower():
            return name
    return names[0]


def _seller_column(table: pa.Table) -> str | None:
    return next((n for n in table.column_names if "seller" in n.lower()), None)


def _groups(table: pa.Table, hint: str) -> dict[str, set[str]]:
    """Group id -> member seller ids, from long (one row per member) or list-column tables."""
    key = _group_column(table, hint)
    sellers = _seller_column(table)
    if sellers is None:
        raise ValueError(f"no seller column in truth table with columns {table.column_names}")
    groups: dict[str, set[str]] = {}
    for group, members in zip(
        table.column(key).to_pylist(), table.column(sellers).to_pylist(), strict=True
    ):
        values = members if isinstance(members, list) else [members]
        groups.setdefault(str(group), set()).update(str(m) for m in values if m is not None)
    return groups


def _shipped_sellers(con: Any, variants_path: Path) -> dict[str, set[str]]:
    """True source -> sellers that received a shipment under one of its spellings."""
    if not variants_path.exists() or not table_exists(con, "staging", "stg_inbound_shipments"):
        return {}
    rows = con.execute(
        """
        SELECT DISTINCT v.source_id, sh.seller_id
        FROM read_parquet($path) v
        JOIN staging.stg_inbound_shipments sh ON sh.sender_address = v.sender_address
        """,
        {"path": str(variants_path)},
    ).fetchall()
    shipped: dict[str, set[str]] = {}
    for source, seller in rows:
        shipped.setdefault(str(source), set()).add(str(seller))
    return shipped


def _source_groups(
    path: Path, rings: dict[str, set[str]], shipped: dict[str, set[str]]
) -> dict[str, set[str]]:
    """Counterfeit source -> the sellers it supplies (through its rings and its shipments)."""
    table = pq.read_table(path)
    flag = _flag_column(table)
    if flag is not None:
        table = table.filter(table.column(flag))
    if _seller_column(table):
        return _groups(table, "source")
    key = _group_column(table, "source", avoid="ring")
    ring_col = next((n for n in table.column_names if "ring" in n.lower()), None)
    supplied_rings = table.column(ring_col).to_pylist() if ring_col else [None] * len(table)
    groups: dict[str, set[str]] = {}
    for source, supplied in zip(table.column(key).to_pylist(), supplied_rings, strict=True):
        members = set(shipped.get(str(source), set()))
        for ring in supplied if isinstance(supplied, list) else [supplied]:
            if ring is not None:
                members |= rings.get(str(ring), set())
        groups[str(source)] = members
    return groups


def prepare(home: Path, stand_in: bool, build: bool) -> list[str]:
    """Optionally (re)build what the evaluation reads; return what was done, for the report."""
    from ml.leads.build import build_leads
    from ml.warehouse import utc_now, writer_lock

    done: list[str] = []
    warehouse = home / "warehouse.duckdb"
    now = utc_now()
    with writer_lock(warehouse):
        if stand_in:
            from ml.leads.standin import MODEL_VERSION, write_standin_scores
            from ml.network import trace_network

            with connect(warehouse) as con:
                n = write_standin_scores(con, now)
            done.append(f"wrote {n} stand-in listing scores ({MODEL_VERSION})")
            net = trace_network(warehouse, now)
            done.append(f"traced the network: {net.n_rings} rings, {net.n_sources} sources")
        if stand_in or build:
            summary = build_leads(warehouse, now)
            done.append(
                f"built {summary.n_leads} leads from {summary.n_candidates} candidates "
                f"({summary.new} new, {summary.updated} updated, {summary.unchanged} unchanged)"
            )
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.leads.evaluate",
        description="Measure the leads of a cloudsword home against the generator's truth.",
    )
    parser.add_argument("--home", type=Path, required=True, help="the cloudsword home")
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--stand-in",
        action="store_true",
        help="first write rule-based listing scores, trace the network and build the leads "
        "(WRITES the warehouse; for a home without a trained model)",
    )
    how.add_argument("--build", action="store_true", help="first build the leads")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    home = args.home.expanduser().resolve()
    done = prepare(home, args.stand_in, args.build)
    result = evaluate_leads(home / "warehouse.duckdb", home / "truth")
    if args.json:
        print(json.dumps({"prepared": done, **result.to_dict()}, indent=2))
    else:
        for line in done:
            print(line)
        print(f"{result.n_leads} leads in main.leads")
        print(result.table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
