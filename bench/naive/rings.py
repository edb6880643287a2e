"""Rings with networkx and Python loops (naive reference for ml/network).

A seller-identifier bipartite graph is built row by row from stg_sellers (phone, e-mail, ID
document, business licence), stg_seller_payment_accounts and stg_seller_logins (device, IP),
projected onto sellers with the product's weights and hub guard (ml/network/config.py), cut at
the strong-tie threshold; connected components of at most ``leiden_min_component`` sellers are
rings and bigger ones are split with networkx Louvain. Left out compared with the product:
addresses (fuzzy resolution), photo hashes, and the declared-operator-group rule.
"""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import duckdb
import networkx as nx
import pandas as pd

from ml.network.config import NetworkConfig
from ml.network.identifiers import (
    normalize_account_ref,
    normalize_email,
    normalize_license,
    normalize_phone,
    normalize_token,
)

SELLER_FIELDS = (
    ("phone", normalize_phone), ("email", normalize_email),
    ("id_document_hash", normalize_token), ("business_license", normalize_license),
)  # fmt: skip
KIND_OF_FIELD = {"id_document_hash": "id_document"}


def load_tables(warehouse: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")  # keep stdout clean
        return {
            t: con.execute(f"SELECT * FROM staging.stg_{t}").df()
            for t in ("sellers", "seller_payment_accounts", "seller_logins")
        }


def _value(v: object) -> str | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def bipartite_graph(tables: dict[str, pd.DataFrame]) -> nx.Graph:
    """Seller nodes ``("seller", id)`` linked to identifier nodes ``(kind, value)``."""
    graph = nx.Graph()
    for row in tables["sellers"].itertuples(index=False):
        graph.add_node(("seller", row.seller_id), bipartite=0)
        for field, normalize in SELLER_FIELDS:
            value = _value(getattr(row, field))
            ident = normalize(value) if value is not None else None
            if ident:
                graph.add_edge(("seller", row.seller_id), (KIND_OF_FIELD.get(field, field), ident))
    for row in tables["seller_payment_accounts"].itertuples(index=False):
        ident = normalize_account_ref(_value(row.account_ref))
        if ident:
            graph.add_edge(("seller", row.seller_id), (row.account_type, ident))
    for row in tables["seller_logins"].itertuples(index=False):
        for kind, value in (("device", row.device_id), ("ip", row.ip)):
            ident = normalize_token(_value(value))
            if ident:
                graph.add_edge(("seller", row.seller_id), (kind, ident))
    return graph


def seller_graph(bipartite: nx.Graph, config: NetworkConfig) -> nx.Graph:
    """Seller-seller projection: per pair, the sum over kinds of the strongest shared identifier."""
    pair_kind: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for node in bipartite.nodes:
        kind = node[0]
        if kind == "seller" or config.weight(kind) <= 0:
            continue
        sellers = sorted(n[1] for n in bipartite.neighbors(node))
        if len(sellers) < 2 or len(sellers) > config.max_sellers.get(kind, 10):
            continue  # shared by nobody, or a hub
        weight = config.weight(kind) / (1 + config.hub_decay * math.log(len(sellers) / 2.0))
        for a, b in combinations(sellers, 2):
            kinds = pair_kind[(a, b)]
            kinds[kind] = max(kinds.get(kind, 0.0), weight)
    graph = nx.Graph()
    for (a, b), kinds in pair_kind.items():
        graph.add_edge(a, b, weight=sum(kinds.values()), kinds=sorted(kinds))
    return graph


def find_rings(sellers: nx.Graph, config: NetworkConfig) -> list[set[str]]:
    """Rings as sets of seller ids, largest first."""
    strong = nx.Graph()
    strong.add_edges_from(
        (a, b, d) for a, b, d in sellers.edges(data=True) if d["weight"] >= config.strong_tie
    )
    rings: list[set[str]] = []
    for component in nx.connected_components(strong):
        if len(component) < config.min_ring_size:
            continue
        if len(component) <= config.leiden_min_component:
            rings.append(set(component))
            continue
        groups = nx.community.louvain_communities(
            strong.subgraph(component),
            weight="weight",
            resolution=config.leiden_resolution,
            seed=config.leiden_seed,
        )
        rings.extend(set(g) for g in groups if len(g) >= config.min_ring_size)
    return sorted(rings, key=lambda r: (-len(r), min(r)))


def trace_rings(warehouse: Path, config: NetworkConfig | None = None) -> list[set[str]]:
    config = config or NetworkConfig()
    bipartite = bipartite_graph(load_tables(warehouse))
    return find_rings(seller_graph(bipartite, config), config)


def compare_rings(naive: list[set[str]], warehouse: Path) -> dict[str, float | int] | None:
    """How well the naive rings recover main.rings (None when the product has not run yet)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")  # keep stdout clean
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE schema_name = 'main' AND table_name = 'rings'"
        ).fetchone()[0]
        if not exists:
            return None
        rows = con.execute("SELECT ring_id, seller_id FROM main.rings").fetchall()
    product: dict[str, set[str]] = defaultdict(set)
    for ring_id, seller_id in rows:
        product[ring_id].add(seller_id)
    best = [max((len(p & n) / len(p | n) for n in naive), default=0.0) for p in product.values()]
    in_naive = set().union(*naive) if naive else set()
    in_product = set().union(*product.values()) if product else set()
    return {
        "product_rings": len(product),
        "naive_rings": len(naive),
        "mean_best_jaccard": sum(best) / len(best) if best else 1.0,
        "product_ring_sellers_in_naive_rings": len(in_product & in_naive) / max(len(in_product), 1),
    }
