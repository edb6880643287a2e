"""Ground truth of a generated marketplace. The pipeline never reads it; evaluations do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ml.contract import CONTRACT_VERSION
from ml.generate.population import KINDS
from ml.generate.world import World
from ml.generate.writer import PARQUET_OPTIONS


def ring_ids(n: int) -> list[str]:
    return [f"R{r + 1:04d}" for r in range(n)]


def _write(path: Path, columns: dict[str, pa.Array | list | np.ndarray]) -> int:
    table = pa.table(columns)
    pq.write_table(table, path, **PARQUET_OPTIONS)
    return table.num_rows


def write_truth(
    world: World, truth_dir: Path, variant_shipments: np.ndarray, batch_ids: list[str]
) -> dict[str, int]:
    """Write every truth file; return the entity counts recorded in the manifest."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    s, lst, src = world.sellers, world.listings, world.sellers.sources
    rings = ring_ids(len(s.rings))
    ring_of = [rings[r] if r >= 0 else None for r in s.ring.tolist()]
    _write(
        truth_dir / "sellers.parquet",
        {
            "seller_id": world.seller_ids,
            "kind": pa.array([KINDS[k] for k in s.kind.tolist()]),
            "is_counterfeit": pa.array(s.is_counterfeit),
            "ring_id": pa.array(ring_of, pa.string()),
        },
    )
    _write(
        truth_dir / "listings.parquet",
        {
            "listing_id": world.listing_ids,
            "seller_id": world.seller_ids.take(pa.array(lst.seller)),
            "is_counterfeit": pa.array(lst.is_counterfeit),
        },
    )
    ring_rows = [(rings[r], int(m)) for r, members in enumerate(s.rings) for m in members]
    _write(
        truth_dir / "rings.parquet",
        {
            "ring_id": pa.array([r for r, _ in ring_rows], pa.string()),
            "seller_id": world.seller_ids.take(pa.array([m for _, m in ring_rows], pa.int64())),
            "shares": pa.array(
                [s.ring_shared[int(r[1:]) - 1][m] for r, m in ring_rows],
                pa.list_(pa.string()),
            ),
        },
    )
    source_ids = src.source_ids
    _write(
        truth_dir / "sources.parquet",
        {
            "source_id": pa.array(source_ids),
            "kind": pa.array(src.kind),
            "canonical_name": pa.array(src.name),
            "canonical_address": pa.array(src.address),
            "city": pa.array([world.city_names[c].as_py() for c in src.city.tolist()]),
            "is_counterfeit_source": pa.array(src.is_counterfeit),
            "supplies_ring_ids": pa.array(
                [[rings[r] for r in rs] for rs in src.supplies_rings], pa.list_(pa.string())
            ),
        },
    )
    variant_source = [i for i in range(src.n) for _ in src.variants.row(i)]
    variant_index = [v for i in range(src.n) for v in src.variants.row(i)]
    _write(
        truth_dir / "source_variants.parquet",
        {
            "source_id": pa.array([source_ids[i] for i in variant_source], pa.string()),
            "sender_name": pa.array([src.variant_name[v] for v in variant_index], pa.string()),
            "sender_address": pa.array([src.variant_address[v] for v in variant_index]),
            "sender_phone": pa.array([src.variant_phone[v] for v in variant_index], pa.string()),
            "shipments": pa.array(variant_shipments[variant_index].astype(np.int64)),
        },
    )
    hubs = _hub_rows(world)
    _write(truth_dir / "hubs.parquet", hubs)

    counts = {
        "sellers": s.n,
        "counterfeit_sellers": int(s.is_counterfeit.sum()),
        "listings": lst.n,
        "counterfeit_listings": int(lst.is_counterfeit.sum()),
        "rings": len(s.rings),
        "ring_members": int(sum(len(m) for m in s.rings)),
        "sources": src.n,
        "counterfeit_sources": int(src.is_counterfeit.sum()),
        "source_variants": len(variant_index),
        "brands": world.brands.n,
        "buyers": world.n_buyers,
        "outcomes": len(world.outcomes.entity),
        "hub_links": len(hubs["seller_id"]),
    }
    counts.update({f"sellers_{k}": int((s.kind == i).sum()) for i, k in enumerate(KINDS)})
    manifest = {
        "scale": world.scale.name,
        "seed": world.seed,
        "contract_version": CONTRACT_VERSION,
        "batch_ids": batch_ids,
        "counts": counts,
        "files": sorted(p.name for p in truth_dir.glob("*.parquet")),
    }
    (truth_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return counts


def _hub_rows(world: World) -> dict[str, pa.Array]:
    """One row per seller tied to an innocent hub: which hub, and the identifier it shares."""
    s, src = world.sellers, world.sellers.sources
    hubs = s.hubs
    kind: list[str] = []
    identifier: list[str] = []
    member: list[int] = []
    for seller in hubs.mall_sellers:
        kind.append("shared_ip")
        identifier.append(hubs.mall_ip)
        member.append(seller)
    for seller in hubs.agency_sellers:
        kind.append("agency_bank_account")
        identifier.append(hubs.agency_account)
        member.append(seller)
    for h, users in enumerate(hubs.hub_users):
        for seller in users:
            kind.append("logistics_hub")
            identifier.append(src.source_ids[int(src.hubs[h])])
            member.append(seller)
    for g, group in enumerate(hubs.operator_groups):
        for seller in group:
            kind.append("operator_group")
            identifier.append(s.business_license[group[0]] or f"group-{g + 1}")
            member.append(seller)
    return {
        "hub_kind": pa.array(kind, pa.string()),
        "identifier": pa.array(identifier, pa.string()),
        "seller_id": world.seller_ids.take(pa.array(member, pa.int64())),
        "seller_is_counterfeit": pa.array(s.is_counterfeit[np.array(member, dtype=np.int64)]),
    }
