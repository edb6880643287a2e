"""How good are the leads? Compare ``main.leads`` with the generator's ground truth.

Truth files (``$CLOUDSWORD_HOME/truth/``, written by ``ml.generate``; the pipeline never reads
them): ``sellers.parquet`` (seller_id, is_counterfeit), ``rings.parquet`` (one row per ring member,
or one row per ring with a list of members), ``sources.parquet`` (one row per source, with the
sellers or rings it supplies, and is_counterfeit when present).

* precision@k: share of the k best leads that are correct; a lead is correct when most (more
  than half) of its sellers are truly counterfeit.
* ring / source coverage@k: how many true rings (counterfeit sources) have at least one seller
  in the k best leads (``touched``), and at least half of their sellers (``mostly``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ml.warehouse import connect


@dataclass
class LeadEvaluation:
    n_leads: int
    precision_at: dict[int, float | None] = field(default_factory=dict)
    n_true_rings: int = 0
    rings_touched_at: dict[int, int] = field(default_factory=dict)
    rings_mostly_at: dict[int, int] = field(default_factory=dict)
    n_true_sources: int = 0
    sources_touched_at: dict[int, int] = field(default_factory=dict)
    sources_mostly_at: dict[int, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_leads(
    warehouse_path: Path, truth_dir: Path, ks: Sequence[int] = (10, 50, 100)
) -> LeadEvaluation:
    """Precision of the top k leads and the true rings and sources they cover."""
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute("SELECT seller_ids FROM main.leads ORDER BY rank").fetchall()
    leads = [list(sellers or []) for (sellers,) in rows]
    counterfeit = _counterfeit_sellers(truth_dir / "sellers.parquet")
    rings = _groups(pq.read_table(truth_dir / "rings.parquet"), "ring")
    sources = _source_groups(truth_dir / "sources.parquet", rings)
    result = LeadEvaluation(
        n_leads=len(leads), n_true_rings=len(rings), n_true_sources=len(sources)
    )
    for k in ks:
        top = leads[:k]
        correct = [sum(s in counterfeit for s in sellers) * 2 > len(sellers) for sellers in top]
        result.precision_at[k] = round(sum(correct) / len(top), 4) if top else None
        covered = {s for sellers in top for s in sellers}
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


def _counterfeit_sellers(path: Path) -> set[str]:
    table = pq.read_table(path, columns=["seller_id", "is_counterfeit"])
    return {
        str(s)
        for s, flag in zip(
            table.column("seller_id").to_pylist(),
            table.column("is_counterfeit").to_pylist(),
            strict=True,
        )
        if flag
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
    for name in table.column_names:
        if "seller" in name.lower():
            return name
    return None


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


def _source_groups(path: Path, rings: dict[str, set[str]]) -> dict[str, set[str]]:
    """Counterfeit source -> the sellers it supplies (directly or through the rings it supplies)."""
    table = pq.read_table(path)
    if "is_counterfeit" in table.column_names:
        table = table.filter(pc.equal(table.column("is_counterfeit"), True))
    if _seller_column(table):
        return _groups(table, "source")
    key = _group_column(table, "source", avoid="ring")
    ring_col = next(n for n in table.column_names if "ring" in n.lower())
    groups: dict[str, set[str]] = {}
    for source, supplied in zip(
        table.column(key).to_pylist(), table.column(ring_col).to_pylist(), strict=True
    ):
        members: set[str] = set()
        for ring in supplied if isinstance(supplied, list) else [supplied]:
            members |= rings.get(str(ring), set())
        groups[str(source)] = members
    return groups
