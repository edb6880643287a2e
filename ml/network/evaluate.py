"""How well tracing recovers the generator's ground truth (``$CLOUDSWORD_HOME/truth/``).

Measures (definitions, so numbers can be compared between runs):

* ``ring_ari``: adjusted Rand index (scikit-learn) over the sellers that are in a true ring or in
  a predicted ring; each seller's label is its ring, and a seller outside every ring (on either
  side) is a singleton of its own. 1 = rings recovered exactly; ~0 = no better than chance.
* ``ring_member_precision`` / ``ring_member_recall``: share of predicted ring members that are true
  ring members / of true ring members that are in some predicted ring.
* ``innocent_in_rings``: predicted ring members that are in no true ring (and how many of them the
  truth calls counterfeit at all, when it says, e.g. lone counterfeiters).
* ``source_recall_at_20``: true counterfeit sources found among the 20 highest-risk predicted
  sources, divided by min(20, number of true counterfeit sources); a predicted source stands for
  the true source most of its shipments' address variants come from. ``source_precision_at_20``
  is the share of those 20 that stand for a true counterfeit source.
* ``address_precision`` / ``address_recall``: pairwise precision/recall of resolving the true
  sources' address variants (two variants of one source should resolve to one place).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import adjusted_rand_score

from ml.network.config import NetworkConfig
from ml.network.identifiers import address_resolution_quality, normalize_address, normalize_city
from ml.network.trace import NetworkSummary, trace_network
from ml.warehouse import connect, utc_now


@dataclass(frozen=True)
class NetworkEvaluation:
    ring_ari: float
    n_true_rings: int
    n_predicted_rings: int
    n_true_ring_members: int
    n_predicted_ring_members: int
    ring_member_precision: float
    ring_member_recall: float
    innocent_in_rings: int
    innocent_counterfeit_in_rings: int | None
    source_recall_at_20: float | None
    source_precision_at_20: float | None
    n_true_counterfeit_sources: int | None
    address_precision: float | None
    address_recall: float | None
    trace_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _first(frame: pd.DataFrame, *names: str) -> str:
    for name in names:
        if name in frame.columns:
            return name
    raise KeyError(f"none of {names} in {list(frame.columns)}")


def ring_scores(truth: pd.DataFrame, predicted: pd.DataFrame) -> dict[str, float | int]:
    """ARI and member precision/recall of predicted (ring_id, seller_id) against truth."""
    true_of = dict(zip(truth["seller_id"], truth["ring_id"].astype(str), strict=True))
    pred_of = dict(zip(predicted["seller_id"], predicted["ring_id"].astype(str), strict=True))
    universe = sorted(set(true_of) | set(pred_of))
    labels_true = [true_of.get(s, f"single:{s}") for s in universe]
    labels_pred = [pred_of.get(s, f"single:{s}") for s in universe]
    both = set(true_of) & set(pred_of)
    return {
        "ring_ari": float(adjusted_rand_score(labels_true, labels_pred)) if universe else 1.0,
        "n_true_rings": len(set(true_of.values())),
        "n_predicted_rings": len(set(pred_of.values())),
        "n_true_ring_members": len(true_of),
        "n_predicted_ring_members": len(pred_of),
        "ring_member_precision": len(both) / len(pred_of) if pred_of else 1.0,
        "ring_member_recall": len(both) / len(true_of) if true_of else 1.0,
        "innocent_in_rings": len(set(pred_of) - set(true_of)),
    }


def _variant_key(city: str | None, address: str | None) -> str:
    return f"{normalize_city(city)}|{normalize_address(address, city)}"


def evaluate_network(
    warehouse_path: Path,
    truth_dir: Path,
    *,
    summary: NetworkSummary | None = None,
    top_k: int = 20,
) -> NetworkEvaluation:
    """Compare the published network tables with the truth files (read-only)."""
    truth_rings = pd.read_parquet(truth_dir / "rings.parquet")
    truth_rings = truth_rings.rename(columns={_first(truth_rings, "ring_id", "ring"): "ring_id"})[
        ["ring_id", "seller_id"]
    ]
    with connect(Path(warehouse_path), read_only=True) as con:
        predicted = con.sql("SELECT ring_id, seller_id FROM main.rings").df()
        sources = con.sql(
            "SELECT s.source_id, s.risk_score, r.members FROM main.sources s "
            "JOIN cloudsword.source_registry r USING (source_id)"
        ).df()
    scores = ring_scores(truth_rings, predicted)

    innocent_cf: int | None = None
    sellers_file = truth_dir / "sellers.parquet"
    if sellers_file.exists():
        truth_sellers = pd.read_parquet(sellers_file)
        flags = ("is_counterfeit", "counterfeit", "is_counterfeiter")
        flag = next((c for c in flags if c in truth_sellers), None)
        if flag:
            cf = set(truth_sellers.loc[truth_sellers[flag].astype(bool), "seller_id"])
            innocent = set(predicted["seller_id"]) - set(truth_rings["seller_id"])
            innocent_cf = len(innocent & cf)

    recall = precision = n_cf_sources = None
    address_p = address_r = None
    variants_file = truth_dir / "source_variants.parquet"
    sources_file = truth_dir / "sources.parquet"
    if variants_file.exists() and sources_file.exists():
        variants = pd.read_parquet(variants_file)
        truth_sources = pd.read_parquet(sources_file)
        addr_col = _first(variants, "sender_address", "address", "variant_address")
        if "city" in variants.columns or "sender_city" in variants.columns:
            city_col = _first(variants, "sender_city", "city")
            variants = variants.assign(_city=variants[city_col])
        else:
            city_of = dict(zip(truth_sources["source_id"], truth_sources["city"], strict=True))
            variants = variants.assign(_city=variants["source_id"].map(city_of))
        rows = list(zip(variants["_city"], variants[addr_col], variants["source_id"], strict=True))
        quality = address_resolution_quality(rows)
        address_p, address_r = quality.precision, quality.recall

        true_source_of_key: dict[str, str] = {}
        for city, address, source_id in rows:
            true_source_of_key.setdefault(_variant_key(city, address), source_id)
        flag = _first(truth_sources, "is_counterfeit_source", "is_counterfeit")
        cf_sources = set(truth_sources.loc[truth_sources[flag].astype(bool), "source_id"])
        n_cf_sources = len(cf_sources)
        top = sources.sort_values(["risk_score", "source_id"], ascending=[False, True]).head(top_k)
        found: set[str] = set()
        hits = 0
        for members in top["members"]:
            labels = [true_source_of_key.get(m) for m in members]
            labels = [x for x in labels if x is not None]
            if not labels:
                continue
            best = max(sorted(set(labels)), key=labels.count)
            if best in cf_sources:
                hits += 1
                found.add(best)
        recall = len(found) / min(top_k, n_cf_sources) if n_cf_sources else None
        precision = hits / len(top) if len(top) else None

    return NetworkEvaluation(
        **scores,
        innocent_counterfeit_in_rings=innocent_cf,
        source_recall_at_20=recall,
        source_precision_at_20=precision,
        n_true_counterfeit_sources=n_cf_sources,
        address_precision=address_p,
        address_recall=address_r,
        trace_seconds=summary.seconds if summary else None,
    )


def trace_and_evaluate(
    warehouse_path: Path, truth_dir: Path, config: NetworkConfig | None = None
) -> tuple[NetworkSummary, NetworkEvaluation]:
    """Run tracing (writes the warehouse) and evaluate it against the truth."""
    summary = trace_network(warehouse_path, utc_now(), config)
    return summary, evaluate_network(warehouse_path, truth_dir, summary=summary)
