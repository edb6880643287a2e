"""The naive benchmark reference (bench/naive) computes the product's features and rings.

The slow test builds a tiny generated marketplace with the real ingest and real `dbt build`,
then checks the pandas features cell by cell against main.listing_features and the networkx
rings against the product's igraph/Leiden rings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DBT = Path(sys.executable).parent / "dbt"
if str(ROOT) not in sys.path:  # bench/ is a folder of the checkout, not an installed package
    sys.path.insert(0, str(ROOT))

from bench.naive import __main__ as cli  # noqa: E402
from bench.naive.check import compare_features, summarize  # noqa: E402
from bench.naive.features import listing_features  # noqa: E402
from bench.naive.rings import (  # noqa: E402
    bipartite_graph,
    compare_rings,
    find_rings,
    seller_graph,
    trace_rings,
)
from ml.network import NetworkConfig, trace_network  # noqa: E402


def _sellers(rows: list[dict]) -> pd.DataFrame:
    cols = ["seller_id", "phone", "email", "id_document_hash", "business_license"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def test_rings_are_sets_of_sellers_tied_by_hard_identifiers() -> None:
    # S1..S3 share a phone (hard, written three ways); S4 and S5 share only an IP (soft, too weak).
    tables = {
        "sellers": _sellers(
            [
                {"seller_id": "S1", "phone": "+86 138-0013-8000"},
                {"seller_id": "S2", "phone": "13800138000"},
                {"seller_id": "S3", "phone": "0086 13800138000"},
                {"seller_id": "S4"},
                {"seller_id": "S5"},
            ]
        ),
        "seller_payment_accounts": pd.DataFrame(
            columns=["seller_id", "account_type", "account_ref"]
        ),
        "seller_logins": pd.DataFrame(
            {"seller_id": ["S4", "S5"], "device_id": ["d4", "d5"], "ip": ["1.2.3.4", "1.2.3.4"]}
        ),
    }
    config = NetworkConfig()
    rings = find_rings(seller_graph(bipartite_graph(tables), config), config)
    assert rings == [{"S1", "S2", "S3"}]


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny generated marketplace, ingested and built by dbt, with the product's rings."""
    from ml.generate import generate
    from ml.ingest import ingest_batch, scan_landing

    home = tmp_path_factory.mktemp("naive_home")
    generate(home / "landing", home / "truth", scale="tiny", seed=3)
    warehouse = home / "warehouse.duckdb"
    for batch_id in scan_landing(home / "landing").complete:
        ingest_batch(warehouse, home / "landing", batch_id)
    env = dict(os.environ, CLOUDSWORD_HOME=str(home), CLOUDSWORD_DUCKDB_MEMORY_LIMIT="2GB")
    project = str(ROOT / "dbt_project")
    result = subprocess.run(
        [str(DBT), "build", "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(home / "dbt_target"), "--log-path", str(home / "dbt_logs")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    trace_network(warehouse, datetime(2030, 1, 1))
    return warehouse


@pytest.mark.slow
def test_naive_features_equal_the_dbt_marts(tiny_warehouse: Path) -> None:
    naive = listing_features(tiny_warehouse)
    with duckdb.connect(str(tiny_warehouse), read_only=True) as con:
        n_listings = con.execute("SELECT count(*) FROM main.listing_features").fetchone()[0]
    assert len(naive) == n_listings > 0
    families = {c.split("_", 1)[0] for c in naive.columns}
    assert families == {"prod", "cons", "rep", "sell"} and naive.shape[1] >= 40
    summary = summarize(compare_features(naive, tiny_warehouse))
    assert summary["columns_not_in_mart"] == []
    assert summary["columns_with_mismatches"] == [], summary
    assert summary["columns"] == naive.shape[1]
    # The comparison notices a wrong value.
    naive.iloc[0, naive.columns.get_loc("prod_price")] += 1.0
    assert summarize(compare_features(naive, tiny_warehouse))["columns_with_mismatches"] == [
        "prod_price"
    ]


@pytest.mark.slow
def test_naive_rings_are_disjoint_seller_sets_close_to_the_product(tiny_warehouse: Path) -> None:
    rings = trace_rings(tiny_warehouse)
    with duckdb.connect(str(tiny_warehouse), read_only=True) as con:
        sellers = {
            r[0] for r in con.execute("SELECT seller_id FROM staging.stg_sellers").fetchall()
        }
    assert rings, "the tiny marketplace has rings"
    members = [s for ring in rings for s in ring]
    assert all(isinstance(r, set) and len(r) >= 3 for r in rings)
    assert set(members) <= sellers and len(members) == len(set(members))
    check = compare_rings(rings, tiny_warehouse)
    assert check is not None and check["product_rings"] > 0
    assert check["mean_best_jaccard"] >= 0.8, check


@pytest.mark.slow
def test_cli_reports_every_stage(tiny_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "naive.json"
    home = str(tiny_warehouse.parent)
    cli.main(["--home", home, "--json", str(out), "--trials", "1", "--pit-checks", "2"])
    report = json.loads(out.read_text())
    stages = {s["stage"]: s for s in report["stages"]}
    assert list(stages) == ["features", "train", "score", "rings"]
    assert all(s["wall_s"] > 0 and s["peak_rss_mb"] > 0 and s["rows"] > 0 for s in stages.values())
    assert stages["score"]["rows"] == stages["features"]["rows"]
    assert report["feature_check"]["cell_match_rate"] == 1.0
    # As of two label decision times (windows non-empty) the features equal training_set's too.
    pit = report["training_check"]
    assert pit["as_of_times"] == 2 and pit["cells"] > 0 and pit["cells_equal"] == pit["cells"]
