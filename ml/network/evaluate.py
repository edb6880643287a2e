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
  sources' address variants on their own (two variants of one source should resolve to one
  place, variants of two sources to two). ``address_precision_in_warehouse`` /
  ``address_recall_in_warehouse``: the same pairs as the published run resolved them, among every
  sender address of the warehouse (via ``cloudsword.source_registry`` members).
* hub guard: ``n_rings_mixing_true_rings`` (predicted rings holding members of two or more true
  rings), ``hub_sellers_glued`` (sellers tied to a true innocent hub that sit in a predicted ring
  whose majority is not their own true ring) and ``hub_identifiers_in_ring_links`` (true hub
  identifiers that tie two members of a predicted ring; 0 = the guard held).

Command line (writes the warehouse: it runs tracing first unless ``--no-trace``)::

    .venv/bin/python -m ml.network.evaluate --home /tmp/xhome [--stand-in-base-scores]
"""

from __future__ import annotations

import argparse
import json
import resource
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from ml.network.config import NetworkConfig
from ml.network.identifiers import (
    address_resolution_quality,
    normalize_account_ref,
    normalize_address,
    normalize_city,
    normalize_license,
    pairwise_quality,
)
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
    address_precision_in_warehouse: float | None
    address_recall_in_warehouse: float | None
    n_rings_mixing_true_rings: int
    hub_sellers_glued: int | None
    hub_identifiers_in_ring_links: int | None
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


def _majority_true_ring(predicted: pd.DataFrame, true_of: dict[str, str]) -> dict[str, str]:
    """Predicted ring -> the true ring most of its members belong to ("" for none)."""
    labels = predicted.assign(true=predicted["seller_id"].map(true_of).fillna(""))
    counts = labels.groupby(["ring_id", "true"]).size().reset_index(name="n")
    counts = counts.sort_values(["ring_id", "n", "true"], ascending=[True, False, True])
    return dict(counts.drop_duplicates("ring_id")[["ring_id", "true"]].itertuples(index=False))


def hub_guard_scores(
    truth_rings: pd.DataFrame,
    predicted: pd.DataFrame,
    hubs: pd.DataFrame | None,
    ring_link_ids: set[str],
    hub_places: dict[str, str],
) -> dict[str, int | None]:
    """Did innocent hubs glue rings? (see the module docstring)."""
    true_of = dict(zip(truth_rings["seller_id"], truth_rings["ring_id"].astype(str), strict=True))
    mixing = (
        predicted.assign(true=predicted["seller_id"].map(true_of))
        .dropna(subset=["true"])
        .groupby("ring_id")["true"]
        .nunique()
    )
    out: dict[str, int | None] = {
        "n_rings_mixing_true_rings": int((mixing > 1).sum()),
        "hub_sellers_glued": None,
        "hub_identifiers_in_ring_links": None,
    }
    if hubs is None:
        return out
    majority = _majority_true_ring(predicted, true_of)
    ring_of = dict(zip(predicted["seller_id"], predicted["ring_id"], strict=True))
    glued = {
        seller
        for seller in set(hubs["seller_id"])
        if seller in ring_of and majority[ring_of[seller]] != true_of.get(seller, "")
    }
    out["hub_sellers_glued"] = len(glued)

    def shown(kind: str, identifier: str) -> str | None:
        # The hub's identifier as the network writes it in ring_links.
        if kind == "logistics_hub":
            return hub_places.get(identifier)
        if kind == "shared_ip":
            return identifier.strip().lower()
        if kind == "operator_group":
            return normalize_license(identifier)
        return normalize_account_ref(identifier)

    hub_ids = {shown(k, i) for k, i in hubs[["hub_kind", "identifier"]].drop_duplicates().values}
    out["hub_identifiers_in_ring_links"] = len((hub_ids - {None}) & ring_link_ids)
    return out


def _read_outputs(warehouse_path: Path) -> dict[str, Any]:
    with connect(Path(warehouse_path), read_only=True) as con:
        return {
            "predicted": con.sql("SELECT ring_id, seller_id FROM main.rings").df(),
            "sources": con.sql(
                "SELECT s.source_id, s.risk_score, s.sender_address, r.members "
                "FROM main.sources s JOIN cloudsword.source_registry r USING (source_id)"
            ).df(),
            "ring_link_ids": {
                i
                for (i,) in con.execute(
                    "SELECT DISTINCT identifier FROM main.ring_links"
                ).fetchall()
            },
        }


def _source_scores(
    truth_dir: Path, sources: pd.DataFrame, top_k: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """Address resolution and top-k source metrics; also true source id -> network place."""
    variants = pd.read_parquet(truth_dir / "source_variants.parquet")
    truth_sources = pd.read_parquet(truth_dir / "sources.parquet")
    city_of = dict(zip(truth_sources["source_id"], truth_sources["city"], strict=True))
    addr_col = _first(variants, "sender_address", "address", "variant_address")
    rows = [
        (city_of.get(src), address, src)
        for src, address in zip(variants["source_id"], variants[addr_col], strict=True)
    ]
    isolated = address_resolution_quality(rows)

    # Predicted place of each variant as published: registry members are "city|normalized".
    predicted_of_key: dict[str, str] = {}
    place_of_source: dict[str, str] = {}
    for source_id, address, members in sources[["source_id", "sender_address", "members"]].values:
        for member in members:
            predicted_of_key[member] = source_id
        if len(members):
            place_of_source[source_id] = f"{address}, {members[0].split('|', 1)[0]}"
    keys = {_variant_key(c, a): src for c, a, src in rows}
    in_warehouse = pairwise_quality(
        {k: predicted_of_key[k] for k in keys if k in predicted_of_key}, keys
    )
    hub_places = {
        src: place_of_source[predicted_of_key[k]]
        for k, src in keys.items()
        if k in predicted_of_key and predicted_of_key[k] in place_of_source
    }

    flag = _first(truth_sources, "is_counterfeit_source", "is_counterfeit")
    cf_sources = set(truth_sources.loc[truth_sources[flag].astype(bool), "source_id"])
    top = sources.sort_values(["risk_score", "source_id"], ascending=[False, True]).head(top_k)
    found: set[str] = set()
    hits = 0
    for members in top["members"]:
        labels = sorted(keys[m] for m in members if m in keys)
        if not labels:
            continue
        best = max(sorted(set(labels)), key=labels.count)
        if best in cf_sources:
            hits += 1
            found.add(best)
    scores = {
        "source_recall_at_20": len(found) / min(top_k, len(cf_sources)) if cf_sources else None,
        "source_precision_at_20": hits / len(top) if len(top) else None,
        "n_true_counterfeit_sources": len(cf_sources),
        "address_precision": isolated.precision,
        "address_recall": isolated.recall,
        "address_precision_in_warehouse": in_warehouse.precision,
        "address_recall_in_warehouse": in_warehouse.recall,
    }
    return scores, hub_places


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
    outputs = _read_outputs(warehouse_path)
    predicted = outputs["predicted"]
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

    source_scores: dict[str, Any] = dict.fromkeys(
        (
            "source_recall_at_20",
            "source_precision_at_20",
            "n_true_counterfeit_sources",
            "address_precision",
            "address_recall",
            "address_precision_in_warehouse",
            "address_recall_in_warehouse",
        )
    )
    hub_places: dict[str, str] = {}
    if (truth_dir / "source_variants.parquet").exists() and (
        truth_dir / "sources.parquet"
    ).exists():
        source_scores, hub_places = _source_scores(truth_dir, outputs["sources"], top_k)
    hubs_file = truth_dir / "hubs.parquet"
    hubs = pd.read_parquet(hubs_file) if hubs_file.exists() else None
    guard = hub_guard_scores(truth_rings, predicted, hubs, outputs["ring_link_ids"], hub_places)

    return NetworkEvaluation(
        **scores,
        **source_scores,
        **guard,
        innocent_counterfeit_in_rings=innocent_cf,
        trace_seconds=summary.seconds if summary else None,
    )


def trace_and_evaluate(
    warehouse_path: Path, truth_dir: Path, config: NetworkConfig | None = None
) -> tuple[NetworkSummary, NetworkEvaluation]:
    """Run tracing (writes the warehouse) and evaluate it against the truth."""
    summary = trace_network(warehouse_path, utc_now(), config)
    return summary, evaluate_network(warehouse_path, truth_dir, summary=summary)


#: Evaluation only, never used by the pipeline: a base seller risk from complaint counts, for a
#: warehouse where scoring has not written ``main.seller_base_scores`` yet.
STAND_IN_BASE_SCORES = """
CREATE TABLE main.seller_base_scores AS
WITH complaints AS (
    SELECT coalesce(r.seller_id, l.seller_id) AS seller_id, count(*) AS n
    FROM staging.stg_reports r LEFT JOIN staging.stg_listings l USING (listing_id)
    WHERE r.reason IN ('counterfeit', 'ip_infringement')
    GROUP BY ALL
)
SELECT s.seller_id, 1 - exp(-coalesce(c.n, 0) / 4.0) AS base_risk_score
FROM staging.stg_sellers s LEFT JOIN complaints c USING (seller_id)
"""


def write_stand_in_base_scores(warehouse_path: Path) -> bool:
    """Create the stand-in ``main.seller_base_scores`` unless the table exists; True if made."""
    with connect(Path(warehouse_path)) as con:
        try:
            con.execute(STAND_IN_BASE_SCORES)
        except duckdb.CatalogException:  # already there: never overwrite real scores
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Trace the network and score it on the truth.")
    parser.add_argument("--home", type=Path, required=True, help="a CLOUDSWORD_HOME with truth/")
    parser.add_argument(
        "--stand-in-base-scores",
        action="store_true",
        help="create main.seller_base_scores from complaint counts if scoring has not run",
    )
    parser.add_argument("--no-trace", action="store_true", help="evaluate the published tables")
    args = parser.parse_args(argv)
    warehouse, truth = args.home / "warehouse.duckdb", args.home / "truth"
    made = write_stand_in_base_scores(warehouse) if args.stand_in_base_scores else False
    summary = None if args.no_trace else trace_network(warehouse, utc_now())
    evaluation = evaluate_network(warehouse, truth, summary=summary)
    report: dict[str, Any] = {"stand_in_base_scores": made, **evaluation.as_dict()}
    if summary is not None:
        report["timings"] = summary.timings
        report["rings"] = summary.rings_metadata()
        # Peak resident memory of this process (Linux: KiB), tracing included.
        report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
