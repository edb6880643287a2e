"""Network tracing on hand-built warehouses: resolution, hubs, rings, ids, propagation, SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ml.contract import TABLES
from ml.network import NetworkConfig, ring_svg, trace_network
from ml.network.config import INPUTS
from ml.network.identifiers import (
    address_resolution_quality,
    normalize_account_ref,
    normalize_address,
    normalize_email,
    normalize_phone,
    resolve_addresses,
)

T0 = datetime(2026, 3, 1, 12, 0, 0)
T1 = datetime(2026, 3, 2, 12, 0, 0)


def seller(seller_id: str, **extra) -> dict:
    row = {
        "seller_id": seller_id,
        "shop_name": f"shop {seller_id}",
        "registered_at": datetime(2025, 1, 1),
        "province": "Fujian",
        "city": "Putian",
        "business_license": None,
        "phone": None,
        "email": None,
        "id_document_hash": None,
    }
    row.update(extra)
    return row


def account(seller_id: str, ref: str, account_type: str = "bank_card", holder: str = "x") -> dict:
    return {
        "seller_id": seller_id,
        "account_type": account_type,
        "account_ref": ref,
        "bank_name": "ICBC",
        "holder_name": holder,
        "first_seen_at": datetime(2025, 2, 1),
    }


def login(seller_id: str, device: str, ip: str) -> dict:
    return {"seller_id": seller_id, "device_id": device, "ip": ip, "logged_in_at": T0}


def shipment(shipment_id: str, seller_id: str, address: str, city: str = "Guangzhou") -> dict:
    return {
        "shipment_id": shipment_id,
        "seller_id": seller_id,
        "sender_name": None,
        "sender_address": address,
        "sender_city": city,
        "sender_phone": None,
        "weight_kg": 5.0,
        "declared_category": "shoes",
        "received_at": T0,
    }


def listing(listing_id: str, seller_id: str) -> dict:
    return {
        "listing_id": listing_id,
        "seller_id": seller_id,
        "brand": "Nike",
        "category": "shoes",
        "title": "shoe",
        "description": None,
        "price": 100.0,
        "created_at": T0,
        "image_phash": None,
        "ship_from_city": "Putian",
        "ship_from_address": None,
        "status": "active",
    }


def order(order_id: str, listing_id: str, quantity: int = 1, price: float = 100.0) -> dict:
    return {
        "order_id": order_id,
        "listing_id": listing_id,
        "buyer_id": "b",
        "quantity": quantity,
        "unit_price": price,
        "paid_at": T0,
        "buyer_province": "Zhejiang",
        "buyer_city": "Hangzhou",
        "refund_requested": False,
    }


def outcome(case_ref: str, entity_id: str, result: str, entity_type: str = "seller") -> dict:
    return {
        "case_ref": case_ref,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "outcome": result,
        "source": "test_purchase",
        "decided_at": T0,
    }


def make_warehouse(
    path: Path,
    tables: dict[str, list[dict]],
    base_scores: dict[str, float] | None = None,
    listing_scores: dict[str, float] | None = None,
) -> Path:
    """A warehouse with every staging table of the network (empty unless given) and scores."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    for name in INPUTS:
        table = TABLES[name]
        cols = ", ".join(f"{c.name} {c.duckdb_type}" for c in table.columns)
        con.execute(f"CREATE OR REPLACE TABLE staging.stg_{name} ({cols})")
        for row in tables.get(name, []):
            values = [row[c] for c in table.column_names]
            marks = ", ".join("?" for _ in values)
            con.execute(f"INSERT INTO staging.stg_{name} VALUES ({marks})", values)
    con.execute(
        "CREATE OR REPLACE TABLE main.seller_base_scores (seller_id VARCHAR, "
        "base_risk_score DOUBLE, n_listings BIGINT, n_high_risk_listings BIGINT, "
        "model_version VARCHAR, scored_at TIMESTAMP)"
    )
    for seller_id, score in (base_scores or {}).items():
        con.execute(
            "INSERT INTO main.seller_base_scores VALUES (?, ?, 1, 0, 'v1', ?)",
            [seller_id, score, T0],
        )
    con.execute(
        "CREATE OR REPLACE TABLE main.listing_scores (listing_id VARCHAR, seller_id VARCHAR, "
        "counterfeit_score DOUBLE, model_version VARCHAR, scored_at TIMESTAMP, "
        "top_reasons VARCHAR[])"
    )
    for listing_id, score in (listing_scores or {}).items():
        seller_id = next(
            row["seller_id"] for row in tables["listings"] if row["listing_id"] == listing_id
        )
        con.execute(
            "INSERT INTO main.listing_scores VALUES (?, ?, ?, 'v1', ?, ['reason'])",
            [listing_id, seller_id, score, T0],
        )
    con.close()
    return path


def rings_of(path: Path) -> dict[str, set[str]]:
    con = duckdb.connect(str(path), read_only=True)
    rows = con.execute("SELECT ring_id, seller_id FROM main.rings").fetchall()
    con.close()
    rings: dict[str, set[str]] = {}
    for ring_id, seller_id in rows:
        rings.setdefault(ring_id, set()).add(seller_id)
    return rings


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# --- identifier normalization -------------------------------------------------------------------


def test_exact_identifiers_normalize_their_spellings():
    assert normalize_phone("+86 138-0013-8000") == normalize_phone("13800138000")
    assert normalize_phone("0086 13800138000") == "13800138000"
    assert normalize_phone("138 0013 8001") != normalize_phone("13800138000")
    assert normalize_email("Li.Wei+shop2@GMail.com") == normalize_email("liwei@gmail.com")
    # The key is dot-blind everywhere (people drop dots when typing a mailbox); domains differ.
    assert normalize_email("Li.Wei88@QQ.COM") == normalize_email("liwei88@qq.com")
    assert normalize_email("liwei88@qq.com") != normalize_email("liwei88@163.com")
    assert normalize_account_ref("6222 0212-3456 5678") == "6222021234565678"
    assert normalize_account_ref("+86 13800138000") == "13800138000"


def test_address_spellings_of_one_place_normalize_alike():
    variants = [
        "No. 88, Jin Hu Rd., Baiyun Dist., Guangzhou",
        "88 Jinhu Road, Baiyun District",
        "Guangdong Province Guangzhou City Baiyun District Jinhu Road No.88",
        "#88 jinhu rd baiyun dist",
    ]
    normalized = {normalize_address(v, "Guangzhou") for v in variants}
    resolved = resolve_addresses([("Guangzhou", v) for v in variants])
    assert len(set(resolved.cluster.tolist())) == 1, normalized


def test_different_house_numbers_and_cities_stay_apart():
    resolved = resolve_addresses(
        [
            ("Guangzhou", "88 Jinhu Road, Baiyun District"),
            ("Guangzhou", "90 Jinhu Road, Baiyun District"),
            ("Putian", "88 Jinhu Road, Baiyun District"),
            ("Guangzhou", "88 Jinshan Road, Huadu District"),
        ]
    )
    assert len(set(resolved.cluster.tolist())) == 4


def test_address_resolution_quality_counts_pairs():
    rows = [
        ("Guangzhou", "88 Jinhu Road", "A"),
        ("Guangzhou", "No.88 Jin Hu Rd.", "A"),
        ("Guangzhou", "12 Shiling Ave", "B"),
        ("Guangzhou", "12 Shi Ling Avenue", "B"),
        ("Guangzhou", "7 Xintang Ind. Zone", "C"),
    ]
    quality = address_resolution_quality(rows)
    assert quality.n_true_pairs == 2
    assert quality.precision == 1.0 and quality.recall == 1.0
    # Two true places written identically by mistake cannot both be right: precision drops.
    rows.append(("Guangzhou", "7 Xintang Industrial Zone", "D"))
    assert address_resolution_quality(rows).precision < 1.0


# --- the whole tracing run ----------------------------------------------------------------------


def two_rings_and_hubs() -> dict[str, list[dict]]:
    """Ring A (a1-a3: phone + bank card), ring B (b1-b3: alipay + device), innocent hubs:
    a logistics address (25 sellers), a mall IP (20 sellers) and an agency account (14 sellers)
    that each touch both rings, and three nominee shops with identical registration details."""
    fillers = [f"f{i:02d}" for i in range(22)]
    nominees = ["n1", "n2", "n3"]
    sellers = [
        seller("a1", phone="+86 139-0000-0001"),
        seller("a2", phone="13900000001"),
        seller("a3", phone="0086 139 0000 0001"),
        seller("b1"),
        seller("b2"),
        seller("b3"),
        *[seller(f) for f in fillers],
        # Nominees: same shop name, province, city, registration time and account holder name.
        *[
            seller(n, shop_name="Best Shoes Outlet", province="Fujian", city="Jinjiang")
            for n in nominees
        ],
    ]
    accounts = [
        account("a1", "6222 0000 1111 2222"),
        account("a2", "6222000011112222"),
        account("a3", "6222-0000-1111-2222"),
        account("b1", "b.ring@example.com", "alipay"),
        account("b2", "B.Ring@example.com", "alipay"),
        account("b3", "b.ring@example.com", "alipay"),
        *[account(n, f"6999{i}", holder="Zhang San") for i, n in enumerate(nominees)],
    ]
    # The agency's account: a1, b1 and twelve fillers.
    accounts += [account(s, "AGENCY-001", "bank_account") for s in ["a1", "b1", *fillers[:12]]]
    logins = [
        login("b1", "dev-b", "10.0.0.1"),
        login("b2", "dev-b", "10.0.0.2"),
        login("b3", "dev-b", "10.0.0.3"),
    ]
    # The mall's public IP: a2, b2 and 18 fillers.
    logins += [login(s, f"dev-{s}", "203.0.113.7") for s in ["a2", "b2", *fillers[:18]]]
    # The logistics hub: a3, b3, every filler and one nominee send from it.
    shipments = [
        shipment(f"hub-{s}", s, "Baiyun Logistics Hub, 1 Airport Rd")
        for s in ["a3", "b3", *fillers, "n1"]
    ]
    return {
        "sellers": sellers,
        "seller_payment_accounts": accounts,
        "seller_logins": logins,
        "inbound_shipments": shipments,
    }


def test_hubs_do_not_merge_rings_and_nominees_do_not_link(tmp_path):
    path = make_warehouse(tmp_path / "w.duckdb", two_rings_and_hubs())
    summary = trace_network(path, scored_at=T0)
    rings = sorted(rings_of(path).values(), key=sorted)
    assert rings == [{"a1", "a2", "a3"}, {"b1", "b2", "b3"}]
    assert summary.n_rings == 2
    assert summary.n_hub_identifiers_dropped >= 2  # the hub address and the mall IP
    linked_by = dict(query(path, "SELECT seller_id, linked_by FROM main.rings"))
    assert set(linked_by["a1"]) == {"phone", "bank_card"}
    assert set(linked_by["b2"]) == {"alipay", "device"}
    links = query(
        path,
        "SELECT kind, identifier FROM main.ring_links WHERE seller_id = 'a1' AND "
        "other_seller_id = 'a2' ORDER BY kind",
    )
    assert links == [("bank_card", "6222000011112222"), ("phone", "13900000001")]
    # Nominees share registration details only: no ring, no raised risk.
    nominee_rows = query(
        path, "SELECT ring_id, risk_score FROM main.seller_scores WHERE seller_id LIKE 'n%'"
    )
    assert nominee_rows == [(None, 0.0)] * 3


def test_every_seller_gets_a_score_and_tables_have_contract_columns(tmp_path):
    path = make_warehouse(tmp_path / "w.duckdb", two_rings_and_hubs(), base_scores={"a1": 0.7})
    trace_network(path, scored_at=T0)
    n_sellers = query(path, "SELECT count(*) FROM staging.stg_sellers")[0][0]
    scores = query(path, "SELECT seller_id, risk_score, ring_id, scored_at FROM main.seller_scores")
    assert len(scores) == n_sellers
    assert all(0.0 <= r <= 1.0 and at == T0 for _, r, _, at in scores)
    columns = {
        t: [c for (c,) in query(path, f"SELECT column_name FROM (DESCRIBE main.{t})")]
        for t in ("rings", "ring_links", "sources", "seller_scores")
    }
    assert columns["rings"] == ["ring_id", "seller_id", "linked_by"]
    assert columns["ring_links"] == [
        "ring_id",
        "seller_id",
        "other_seller_id",
        "kind",
        "identifier",
    ]
    assert columns["sources"] == [
        "source_id",
        "sender_address",
        "sender_city",
        "linked_sellers",
        "risk_score",
        "est_counterfeit_value",
    ]


def test_spelling_variants_of_one_factory_are_one_source(tmp_path):
    variants = [
        "No. 88, Jin Hu Rd., Baiyun Dist.",
        "88 Jinhu Road, Baiyun District",
        "Guangzhou Baiyun District Jinhu Road No.88",
    ]
    tables = {
        "sellers": [seller(s) for s in ("s1", "s2", "s3", "s4")],
        "inbound_shipments": [shipment(f"sh{i}", f"s{i + 1}", v) for i, v in enumerate(variants)]
        + [shipment("sh9", "s4", "90 Jinhu Road, Baiyun District")],
    }
    path = make_warehouse(tmp_path / "w.duckdb", tables)
    trace_network(path, scored_at=T0)
    sources = query(
        path, "SELECT sender_address, sender_city, linked_sellers FROM main.sources ORDER BY 1"
    )
    assert len(sources) == 2
    by_sellers = {tuple(linked): (address, city) for address, city, linked in sources}
    assert by_sellers[("s1", "s2", "s3")][1] == "Guangzhou"
    assert "88" in by_sellers[("s1", "s2", "s3")][0]
    assert by_sellers[("s4",)][0].startswith("90 ")


def test_source_supplying_risky_sellers_ranks_above_one_supplying_a_genuine_shop(tmp_path):
    risky = ["r1", "r2", "r3", "r4"]
    tables = {
        "sellers": [seller(s) for s in [*risky, "g1"]],
        "listings": [listing(f"l-{s}", s) for s in [*risky, "g1"]],
        "orders": [order(f"o-{s}", f"l-{s}", quantity=3) for s in [*risky, "g1"]],
        "inbound_shipments": [shipment(f"x-{s}", s, "5 Chendai Road", "Jinjiang") for s in risky]
        + [shipment("y-g1", "g1", "9 Brand Warehouse Road", "Shanghai")],
    }
    path = make_warehouse(
        tmp_path / "w.duckdb",
        tables,
        base_scores={**dict.fromkeys(risky, 0.8), "g1": 0.05},
        listing_scores={**{f"l-{s}": 0.9 for s in risky}, "l-g1": 0.05},
    )
    trace_network(path, scored_at=T0)
    rows = query(
        path,
        "SELECT sender_city, risk_score, est_counterfeit_value FROM main.sources "
        "ORDER BY risk_score DESC",
    )
    assert [r[0] for r in rows] == ["Jinjiang", "Shanghai"]
    assert rows[0][1] > 0.5 > rows[1][1]
    assert rows[0][2] == pytest.approx(4 * 3 * 100.0 * 0.9)
    assert rows[1][2] == pytest.approx(3 * 100.0 * 0.05)


def test_ids_are_stable_across_runs_and_when_a_ring_gains_a_member(tmp_path):
    tables = two_rings_and_hubs()
    path = make_warehouse(tmp_path / "w.duckdb", tables)
    trace_network(path, scored_at=T0)
    first = rings_of(path)
    first_sources = query(path, "SELECT source_id, linked_sellers FROM main.sources ORDER BY 1")
    trace_network(path, scored_at=T1)
    assert rings_of(path) == first
    assert query(path, "SELECT source_id, linked_sellers FROM main.sources ORDER BY 1") == (
        first_sources
    )

    # a4 joins ring A (same phone); a new ring C (c1-c3) appears.
    tables["sellers"] += [
        seller("a4", phone="13900000001"),
        *[seller(c, id_document_hash="sha256:cccc") for c in ("c1", "c2", "c3")],
    ]
    tables["seller_payment_accounts"].append(account("a4", "6222000011112222"))
    make_warehouse(path, tables)
    trace_network(path, scored_at=T1)
    second = rings_of(path)
    id_a = next(r for r, m in first.items() if "a1" in m)
    id_b = next(r for r, m in first.items() if "b1" in m)
    assert second[id_a] == {"a1", "a2", "a3", "a4"}
    assert second[id_b] == {"b1", "b2", "b3"}
    id_c = next(r for r, m in second.items() if "c1" in m)
    assert id_c not in first
    assert int(id_c.split("-")[1]) > max(int(r.split("-")[1]) for r in first)
    registry = query(path, "SELECT ring_id, members, active FROM cloudsword.ring_registry")
    assert {r for r, _, active in registry if active} == set(second)


def test_a_dissolved_ring_keeps_its_number_out_of_circulation(tmp_path):
    tables = two_rings_and_hubs()
    path = make_warehouse(tmp_path / "w.duckdb", tables)
    trace_network(path, scored_at=T0)
    first = rings_of(path)
    # Ring B's device and alipay go away: ring B dissolves; then ring D appears.
    tables["seller_payment_accounts"] = [
        a for a in tables["seller_payment_accounts"] if a["account_type"] != "alipay"
    ]
    tables["seller_logins"] = [x for x in tables["seller_logins"] if x["device_id"] != "dev-b"]
    tables["sellers"] += [seller(d, phone="13511112222") for d in ("d1", "d2", "d3")]
    make_warehouse(path, tables)
    trace_network(path, scored_at=T1)
    second = rings_of(path)
    assert len(second) == 2
    new_ids = set(second) - set(first)
    assert len(new_ids) == 1 and not (new_ids & set(first))


def test_propagation_raises_an_unlabelled_account_tied_to_a_confirmed_counterfeiter(tmp_path):
    tables = {
        "sellers": [
            seller("c", phone="13711112222"),
            seller("u", phone="137-1111-2222"),
            seller("v"),
            seller("g", phone="13600001111"),
            seller("h", phone="13600001111"),
        ],
        "seller_logins": [login("c", "dev-1", "1.2.3.4"), login("u", "dev-1", "1.2.3.5")],
        "enforcement_outcomes": [
            outcome("k1", "c", "counterfeit_confirmed"),
            outcome("k2", "g", "genuine_confirmed"),
        ],
    }
    base = {"c": 0.3, "u": 0.1, "v": 0.1, "g": 0.6, "h": 0.1}
    path = make_warehouse(tmp_path / "w.duckdb", tables, base_scores=base)
    trace_network(path, scored_at=T0)
    risk = dict(query(path, "SELECT seller_id, risk_score FROM main.seller_scores"))
    assert risk["c"] == pytest.approx(NetworkConfig().confirmed_counterfeit_score)
    assert risk["u"] > 0.4 > base["u"]
    assert risk["v"] == pytest.approx(base["v"])
    # Confirmed genuine pins low; its partner is not raised by it.
    assert risk["g"] == pytest.approx(NetworkConfig().confirmed_genuine_score)
    assert risk["h"] == pytest.approx(base["h"])


def test_ring_svg_is_well_formed_and_escapes_text(tmp_path):
    tables = two_rings_and_hubs()
    odd = "x<&>\"'"
    tables["sellers"] += [seller(odd, phone="13900000001")]
    tables["inbound_shipments"].append(shipment("s-odd", odd, "3 <Main> & Co Road", "Putian"))
    path = make_warehouse(tmp_path / "w.duckdb", tables, base_scores={"a1": 0.9})
    trace_network(path, scored_at=T0)
    ring_id = next(r for r, m in rings_of(path).items() if "a1" in m)
    svg = ring_svg(path, ring_id)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert odd in texts and "a1" in texts
    assert "13900000001" not in svg  # masked by default
    assert "****0001" in svg
    assert "href" not in svg and "<script" not in svg
    # Deterministic: same picture twice.
    assert ring_svg(path, ring_id) == svg
    with pytest.raises(KeyError):
        ring_svg(path, "R-999999")


def test_a_declared_operator_group_is_no_ring_unless_a_member_is_confirmed(tmp_path):
    """Three genuine shops of one company share its licence, account and office device."""
    licence = "91440101MA5CXXXX1Y"
    tables = {
        "sellers": [seller(s, business_license=licence) for s in ("o1", "o2", "o3")],
        "seller_payment_accounts": [
            account(s, "6222 1111 2222 3333", "bank_account") for s in ("o1", "o2", "o3")
        ],
        "seller_logins": [login(s, "office-pc", "10.1.1.1") for s in ("o1", "o2", "o3")],
        "listings": [listing("l-o1", "o1")],
    }
    path = make_warehouse(tmp_path / "w.duckdb", tables)
    summary = trace_network(path, scored_at=T0)
    assert rings_of(path) == {}
    assert summary.n_declared_operator_groups == 1
    # A confirmed counterfeit listing of one shop makes the same group a ring.
    tables["enforcement_outcomes"] = [outcome("k1", "l-o1", "counterfeit_confirmed", "listing")]
    make_warehouse(path, tables)
    summary = trace_network(path, scored_at=T1)
    assert list(rings_of(path).values()) == [{"o1", "o2", "o3"}]
    assert summary.n_declared_operator_groups == 0


def test_factory_supplying_several_risky_rings_ranks_above_one_ring_and_a_genuine_shop(tmp_path):
    """Rings A, B, C each have one confirmed counterfeiter; factory F supplies A and B, factory H
    supplies C, warehouse G supplies one genuine shop."""
    tables: dict[str, list[dict]] = {"sellers": [], "enforcement_outcomes": []}
    for ring, phone in (("a", "13700000001"), ("b", "13700000002"), ("c", "13700000003")):
        tables["sellers"] += [seller(f"{ring}{i}", phone=phone) for i in (1, 2, 3)]
        tables["enforcement_outcomes"].append(
            outcome(f"k-{ring}", f"{ring}1", "counterfeit_confirmed")
        )
    tables["sellers"].append(seller("g1"))
    tables["inbound_shipments"] = [
        shipment(f"f-{s}", s, "12 Chendai Road, Jinjiang", "Quanzhou")
        for s in ("a2", "a3", "b2", "b3")
    ] + [
        shipment("h-c2", "c2", "7 Xibin Road", "Quanzhou"),
        shipment("g-g1", "g1", "9 Brand Warehouse Road", "Shanghai"),
    ]
    path = make_warehouse(tmp_path / "w.duckdb", tables, base_scores={"g1": 0.05})
    trace_network(path, scored_at=T0)
    risk = dict(query(path, "SELECT seller_id, risk_score FROM main.seller_scores"))
    # Unlabelled members tied to a confirmed counterfeiter rise from 0.
    assert all(risk[f"{r}{i}"] > 0.2 for r in "abc" for i in (2, 3))
    ranked = [
        address
        for address, _ in query(
            path, "SELECT sender_address, risk_score FROM main.sources ORDER BY risk_score DESC"
        )
    ]
    assert [a.split()[1] for a in ranked] == ["chendai", "xibin", "brand"]
    source_risk = dict(query(path, "SELECT sender_address, risk_score FROM main.sources"))
    assert source_risk[ranked[1]] > 2 * source_risk[ranked[2]]


def test_a_source_keeps_its_id_when_a_new_spelling_and_receiver_appear(tmp_path):
    tables = {
        "sellers": [seller(s) for s in ("s1", "s2", "s3")],
        "inbound_shipments": [
            shipment("sh1", "s1", "No. 88, Jin Hu Rd., Baiyun Dist."),
            shipment("sh2", "s2", "88 Jinhu Road, Baiyun District"),
        ],
    }
    path = make_warehouse(tmp_path / "w.duckdb", tables)
    trace_network(path, scored_at=T0)
    (first,) = query(path, "SELECT source_id, linked_sellers FROM main.sources")
    tables["inbound_shipments"].append(shipment("sh3", "s3", "Baiyun Jinhu Road #88"))
    make_warehouse(path, tables)
    trace_network(path, scored_at=T1)
    (second,) = query(path, "SELECT source_id, linked_sellers FROM main.sources")
    assert second == (first[0], ["s1", "s2", "s3"])
