"""The synthetic marketplace generator: contract conformance, determinism, truth, hubs, labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ml.contract import (
    INGEST_ORDER,
    SUCCESS_MARKER,
    TABLES,
    TIMESTAMP,
    is_valid_batch_id,
)
from ml.generate import SCALES, GenerationSummary, generate
from ml.generate.writer import ARROW_TYPES


@dataclass(frozen=True)
class Generated:
    summary: GenerationSummary
    landing: Path
    truth: Path


def _generate(root: Path, seed: int) -> Generated:
    landing, truth = root / "landing", root / "truth"
    return Generated(generate(landing, truth, scale="tiny", seed=seed), landing, truth)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    return _generate(tmp_path_factory.mktemp("gen0"), 0)


@pytest.fixture(scope="module")
def db(tiny: Generated) -> duckdb.DuckDBPyConnection:
    """Every table of every batch typed in DuckDB, with its batch position as ``_b``.

    Typing is done here, independently of ``ml.ingest``: Parquet as written, CSV read as text
    and cast, and a value that does not cast is kept as a failed cast count per table.
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name in INGEST_ORDER:
        table = TABLES[name]
        selects = []
        for b, batch_id in enumerate(tiny.summary.batch_ids):
            batch_dir = tiny.landing / batch_id
            pq_path, csv_path = batch_dir / f"{name}.parquet", batch_dir / f"{name}.csv"
            if pq_path.exists():
                cols = ", ".join(f'"{c.name}"' for c in table.columns)
                selects.append(f"SELECT {b} AS _b, {cols} FROM read_parquet('{pq_path}')")
            elif csv_path.exists():
                cols = ", ".join(
                    f'TRY_CAST("{c.name}" AS {"TIMESTAMPTZ" if c.type == TIMESTAMP else c.duckdb_type}) '
                    f'AS "{c.name}", "{c.name}" AS "_raw_{c.name}"'
                    for c in table.columns
                )
                selects.append(
                    f"SELECT {b} AS _b, {cols} FROM read_csv('{csv_path}', header = true, "
                    "all_varchar = true, quote = '\"', escape = '\"', strict_mode = true)"
                )
        assert selects, f"{name} never written"
        con.execute(f"CREATE TABLE {name} AS " + " UNION ALL BY NAME ".join(selects))
    return con


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


# -- batches and files ----------------------------------------------------------------------


def test_batches_are_valid_ordered_and_complete(tiny: Generated) -> None:
    ids = tiny.summary.batch_ids
    assert len(ids) == SCALES["tiny"].batches
    assert all(is_valid_batch_id(b) for b in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert sorted(p.name for p in tiny.landing.iterdir()) == ids
    for batch_id in ids:
        batch_dir = tiny.landing / batch_id
        success = batch_dir / SUCCESS_MARKER
        assert success.is_file()
        files = [p for p in batch_dir.iterdir() if p.name != SUCCESS_MARKER]
        assert {p.suffix for p in files} == {".parquet", ".csv"}
        assert all(p.stem in TABLES for p in files)
        assert max(p.stat().st_mtime_ns for p in files) <= success.stat().st_mtime_ns


def test_summary_matches_files(tiny: Generated, db: duckdb.DuckDBPyConnection) -> None:
    for name in INGEST_ORDER:
        assert tiny.summary.rows[name] == _one(db, f"SELECT count(*) FROM {name}") > 0
    assert all(p.exists() for p in tiny.summary.files)
    assert tiny.summary.truth_counts["listings"] == pytest.approx(1_000, rel=0.01)


def test_columns_and_parquet_types_follow_the_contract(tiny: Generated) -> None:
    for batch_id in tiny.summary.batch_ids:
        for path in (tiny.landing / batch_id).glob("*.parquet"):
            table = TABLES[path.stem]
            schema = pq.read_schema(path)
            assert schema.names == table.column_names, path
            for column in table.columns:
                field = schema.field(column.name)
                assert field.type == ARROW_TYPES[column.type], (path, column.name)
                assert field.nullable == column.nullable, (path, column.name)
        for path in (tiny.landing / batch_id).glob("*.csv"):
            header = path.read_text(encoding="utf-8").splitlines()[0]
            assert header.replace('"', "").split(",") == TABLES[path.stem].column_names


def test_csv_values_parse(db: duckdb.DuckDBPyConnection) -> None:
    for name, table in TABLES.items():
        raw_cols = [r[0] for r in db.execute(f"DESCRIBE {name}").fetchall()]
        for c in table.columns:
            if f"_raw_{c.name}" not in raw_cols:
                continue
            bad = _one(
                db,
                f'SELECT count(*) FROM {name} WHERE "_raw_{c.name}" IS NOT NULL AND "{c.name}" IS NULL',
            )
            assert bad == 0, (name, c.name)
            if c.type == TIMESTAMP:  # ISO 8601 in UTC
                pattern = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
                bad = _one(
                    db,
                    f"SELECT count(*) FROM {name} WHERE NOT regexp_matches(\"_raw_{c.name}\", '{pattern}')",
                )
                assert bad == 0, (name, c.name)


def test_values_keep_nullability_enums_and_checks(db: duckdb.DuckDBPyConnection) -> None:
    for name, table in TABLES.items():
        for c in table.columns:
            col = f'"{c.name}"'
            if not c.nullable:
                assert _one(db, f"SELECT count(*) FROM {name} WHERE {col} IS NULL") == 0, (name, c)
            else:  # the generator exercises nulls wherever the contract allows them
                assert _one(db, f"SELECT count(*) FROM {name} WHERE {col} IS NULL") > 0, (name, c)
            if c.enum:
                allowed = ", ".join(f"'{v}'" for v in c.enum)
                assert _one(db, f"SELECT count(*) FROM {name} WHERE {col} NOT IN ({allowed})") == 0
                assert _one(db, f"SELECT count(DISTINCT {col}) FROM {name}") == len(c.enum), (
                    name,
                    c.name,
                )
            rule = c.rule()
            if rule:
                cond = rule[0].replace("{col}", col)
                bad = _one(
                    db, f"SELECT count(*) FROM {name} WHERE {col} IS NOT NULL AND NOT ({cond})"
                )
                assert bad == 0, (name, c.name)
            if c.type == "str":
                empty = _one(db, f"SELECT count(*) FROM {name} WHERE {col} = ''")
                assert empty == 0, (name, c.name)
        for predicate, reason in table.row_checks:
            assert _one(db, f"SELECT count(*) FROM {name} WHERE NOT ({predicate})") == 0, reason


def test_keys_unique_within_batches_and_events_across_batches(
    db: duckdb.DuckDBPyConnection,
) -> None:
    for name, table in TABLES.items():
        key = ", ".join(f'"{k}"' for k in table.key)
        within = _one(
            db,
            f"SELECT count(*) FROM (SELECT _b, {key} FROM {name} GROUP BY ALL HAVING count(*) > 1)",
        )
        assert within == 0, name
        if not table.entity:
            across = _one(
                db,
                f"SELECT count(*) FROM (SELECT {key} FROM {name} GROUP BY ALL HAVING count(*) > 1)",
            )
            assert across == 0, name


def test_foreign_keys_point_to_same_or_earlier_batches(db: duckdb.DuckDBPyConnection) -> None:
    for name, table in TABLES.items():
        for fk in table.foreign_keys:
            on = " AND ".join(
                f't."{c}" = r."{rc}"' for c, rc in zip(fk.columns, fk.ref_columns, strict=True)
            )
            applies = " AND ".join(f't."{c}" IS NOT NULL' for c in fk.columns)
            if fk.when:
                applies += f" AND t.{fk.when}"
            dangling = _one(
                db,
                f"SELECT count(*) FROM {name} t WHERE {applies} AND NOT EXISTS "
                f"(SELECT 1 FROM {fk.table} r WHERE {on} AND r._b <= t._b)",
            )
            assert dangling == 0, (name, fk)


def test_events_fall_in_their_batch_window(tiny: Generated, db: duckdb.DuckDBPyConnection) -> None:
    ids = tiny.summary.batch_ids
    for name, col in (
        ("orders", "paid_at"),
        ("reviews", "created_at"),
        ("seller_logins", "logged_in_at"),
        ("enforcement_outcomes", "decided_at"),
        ("inbound_shipments", "received_at"),
        ("reports", "created_at"),
    ):
        for b, batch_id in enumerate(ids):
            latest = _one(db, f"SELECT max({col})::DATE::VARCHAR FROM {name} WHERE _b = {b}")
            assert latest <= batch_id, (name, batch_id)
            if b > 0:
                earliest = _one(db, f"SELECT min({col})::DATE::VARCHAR FROM {name} WHERE _b = {b}")
                assert earliest > ids[b - 1], (name, batch_id)
    # Reviews come from buyers who ordered the listing, after they paid.
    orphan = _one(
        db,
        "SELECT count(*) FROM reviews r WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE "
        "o.listing_id = r.listing_id AND o.buyer_id = r.buyer_id AND o.paid_at < r.created_at)",
    )
    assert orphan == 0


def test_later_batches_upsert_entities(db: duckdb.DuckDBPyConnection) -> None:
    resent = _one(
        db, "SELECT count(*) FROM (SELECT listing_id FROM listings GROUP BY 1 HAVING count(*) > 1)"
    )
    assert resent > 0
    removed_later = _one(
        db,
        "SELECT count(*) FROM listings a JOIN listings b USING (listing_id) "
        "WHERE a._b < b._b AND a.status = 'active' AND b.status = 'removed'",
    )
    price_changed = _one(
        db,
        "SELECT count(*) FROM listings a JOIN listings b USING (listing_id) "
        "WHERE a._b < b._b AND a.price <> b.price",
    )
    phone_changed = _one(
        db,
        "SELECT count(*) FROM sellers a JOIN sellers b USING (seller_id) "
        "WHERE a._b < b._b AND a.phone IS DISTINCT FROM b.phone",
    )
    assert removed_later > 0 and price_changed > 0 and phone_changed > 0


def test_ingest_accepts_every_row(tiny: Generated, tmp_path: Path) -> None:
    from ml.ingest import ingest_batch, scan_landing

    scan = scan_landing(tiny.landing)
    assert scan.complete == tiny.summary.batch_ids
    for batch_id in scan.complete:
        result = ingest_batch(tmp_path / "warehouse.duckdb", tiny.landing, batch_id)
        assert result.rows_quarantined == 0, {
            t: r.top_reasons for t, r in result.tables.items() if r.rows_quarantined
        }
        assert result.rows_loaded == sum(tiny.summary.rows_per_batch[batch_id].values())


# -- determinism ----------------------------------------------------------------------------


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes(tiny: Generated, tmp_path: Path) -> None:
    again = _generate(tmp_path, 0)
    first = _files(tiny.landing) | {f"truth/{k}": v for k, v in _files(tiny.truth).items()}
    second = _files(again.landing) | {f"truth/{k}": v for k, v in _files(again.truth).items()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_different_seed_gives_different_data(tiny: Generated, tmp_path: Path) -> None:
    other = _generate(tmp_path, 1)
    batch = tiny.summary.batch_ids[0]
    for name in ("listings.parquet", "orders.parquet", "sellers.parquet"):
        a = pq.read_table(tiny.landing / batch / name)
        b = pq.read_table(other.landing / batch / name)
        assert not a.equals(b), name


def test_refuses_to_overwrite_batches_unless_asked(tiny: Generated, tmp_path: Path) -> None:
    with pytest.raises(FileExistsError):
        generate(tiny.landing, tmp_path / "truth", scale="tiny", seed=0)
    with pytest.raises(ValueError, match="unknown scale"):
        generate(tmp_path / "l", tmp_path / "t", scale="huge")


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    generate(tmp_path / "l", tmp_path / "t", "tiny", 3, lambda s, d, t: calls.append((s, d, t)))
    stages = {s for s, _, _ in calls}
    assert {"world", "batches", "truth"} <= stages
    batches = [(d, t) for s, d, t in calls if s == "batches"]
    assert batches[-1][0] == batches[-1][1] and all(d <= t for d, t in batches)
    assert [d for d, _ in batches] == sorted(d for d, _ in batches)


# -- truth ----------------------------------------------------------------------------------


def test_truth_is_consistent(tiny: Generated, db: duckdb.DuckDBPyConnection) -> None:
    t = tiny.truth
    db.execute(f"CREATE OR REPLACE VIEW t_sellers AS SELECT * FROM '{t / 'sellers.parquet'}'")
    db.execute(f"CREATE OR REPLACE VIEW t_listings AS SELECT * FROM '{t / 'listings.parquet'}'")
    db.execute(f"CREATE OR REPLACE VIEW t_rings AS SELECT * FROM '{t / 'rings.parquet'}'")
    db.execute(f"CREATE OR REPLACE VIEW t_sources AS SELECT * FROM '{t / 'sources.parquet'}'")
    kinds = {r[0] for r in db.execute("SELECT DISTINCT kind FROM t_sellers").fetchall()}
    assert kinds == {
        "genuine",
        "authorized_reseller",
        "discounter",
        "ring_member",
        "lone_counterfeiter",
    }
    # Ring membership and kinds agree, both ways.
    assert (
        _one(
            db,
            "SELECT count(*) FROM t_rings r JOIN t_sellers s USING (seller_id) "
            "WHERE s.kind <> 'ring_member' OR s.ring_id <> r.ring_id",
        )
        == 0
    )
    assert (
        _one(
            db,
            "SELECT count(*) FROM t_sellers WHERE (kind = 'ring_member') <> (ring_id IS NOT NULL)",
        )
        == 0
    )
    assert (
        _one(
            db,
            "SELECT count(*) FROM t_sellers WHERE is_counterfeit <> "
            "(kind IN ('ring_member', 'lone_counterfeiter'))",
        )
        == 0
    )
    # Every counterfeit listing belongs to a counterfeit seller, and not every listing of one is.
    assert (
        _one(
            db,
            "SELECT count(*) FROM t_listings l JOIN t_sellers s USING (seller_id) "
            "WHERE l.is_counterfeit AND NOT s.is_counterfeit",
        )
        == 0
    )
    assert (
        _one(
            db,
            "SELECT count(*) FROM t_listings l JOIN t_sellers s USING (seller_id) "
            "WHERE NOT l.is_counterfeit AND s.is_counterfeit",
        )
        > 0
    )
    # Truth covers exactly the landed entities.
    assert _one(db, "SELECT count(DISTINCT listing_id) FROM listings") == _one(
        db, "SELECT count(*) FROM t_listings"
    )
    assert (
        _one(
            db,
            "SELECT count(*) FROM t_listings t JOIN (SELECT DISTINCT listing_id, seller_id FROM "
            "listings) l USING (listing_id) WHERE t.seller_id <> l.seller_id",
        )
        == 0
    )
    sizes = [r[0] for r in db.execute("SELECT count(*) FROM t_rings GROUP BY ring_id").fetchall()]
    assert len(sizes) >= 2 and min(sizes) >= 3 and max(sizes) <= 15
    # Counterfeit sources supply the rings; every ring has a supplier.
    supplied = _one(
        db,
        "SELECT count(DISTINCT r) FROM (SELECT unnest(supplies_ring_ids) AS r FROM t_sources "
        "WHERE is_counterfeit_source)",
    )
    assert supplied == len(sizes)
    assert set(r[0] for r in db.execute("SELECT DISTINCT kind FROM t_sources").fetchall()) == {
        "factory",
        "warehouse",
        "genuine_distributor",
        "logistics_hub",
    } - (
        set() if _one(db, "SELECT count(*) FROM t_sources WHERE kind = 'factory'") else {"factory"}
    )


def _norm_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def _norm_email(value: str) -> str:
    local, _, domain = value.lower().partition("@")
    return local.replace(".", "") + "@" + domain


def _norm_ref(value: str) -> str:
    return _norm_email(value) if "@" in value else _norm_phone(value)


def test_ring_members_share_identifiers_in_the_data(
    tiny: Generated, db: duckdb.DuckDBPyConnection
) -> None:
    """Each ring member shares at least one (normalized) identifier with another member, and
    registration details alone (names, ID documents) never link two members."""
    rings = pq.read_table(tiny.truth / "rings.parquet").to_pylist()
    members: dict[str, list[str]] = {}
    for row in rings:
        members.setdefault(row["ring_id"], []).append(row["seller_id"])
    idents: dict[str, set[str]] = {}

    def add(seller: str, kind: str, value: str | None, norm=lambda v: v) -> None:
        if value:
            idents.setdefault(seller, set()).add(f"{kind}:{norm(value)}")

    for s, phone, email, lic in db.execute(
        "SELECT seller_id, phone, email, business_license FROM sellers"
    ).fetchall():
        add(s, "phone", phone, _norm_phone)
        add(s, "email", email, _norm_email)
        add(s, "license", lic, str.upper)
    for s, ref in db.execute(
        "SELECT seller_id, account_ref FROM seller_payment_accounts"
    ).fetchall():
        add(s, "pay", ref, _norm_ref)
    for s, device, ip in db.execute(
        "SELECT DISTINCT seller_id, device_id, ip FROM seller_logins"
    ).fetchall():
        add(s, "device", device)
        add(s, "ip", ip)
    for ring, sellers in members.items():
        for s in sellers:
            others = set().union(*(idents.get(o, set()) for o in sellers if o != s))
            assert idents.get(s, set()) & others, (ring, s)
    # Nominee accounts: ID document hashes never repeat across sellers.
    assert (
        _one(
            db,
            "SELECT count(*) FROM (SELECT id_document_hash FROM (SELECT DISTINCT seller_id, "
            "id_document_hash FROM sellers WHERE id_document_hash IS NOT NULL) GROUP BY 1 "
            "HAVING count(*) > 1)",
        )
        == 0
    )


def test_sources_appear_under_several_spellings(
    tiny: Generated, db: duckdb.DuckDBPyConnection
) -> None:
    variants = pq.read_table(tiny.truth / "source_variants.parquet").to_pylist()
    sources = {r["source_id"]: r for r in pq.read_table(tiny.truth / "sources.parquet").to_pylist()}
    shipped = {
        (r[0], r[1], r[2])
        for r in db.execute(
            "SELECT DISTINCT sender_name, sender_address, sender_phone FROM inbound_shipments"
        ).fetchall()
    }
    known = {(v["sender_name"], v["sender_address"], v["sender_phone"]) for v in variants}
    assert shipped <= known
    used = [v for v in variants if v["shipments"] > 0]
    assert {(v["sender_name"], v["sender_address"], v["sender_phone"]) for v in used} == shipped
    counterfeit_spellings: dict[str, set[str]] = {}
    for v in used:
        if sources[v["source_id"]]["is_counterfeit_source"]:
            counterfeit_spellings.setdefault(v["source_id"], set()).add(v["sender_address"])
    assert max(len(s) for s in counterfeit_spellings.values()) >= 3


def test_innocent_hubs_link_genuine_and_counterfeit_sellers(
    tiny: Generated, db: duckdb.DuckDBPyConnection
) -> None:
    hubs = pq.read_table(tiny.truth / "hubs.parquet").to_pylist()
    kinds = {h["hub_kind"] for h in hubs}
    assert {"shared_ip", "agency_bank_account", "logistics_hub"} <= kinds
    db.execute(
        f"CREATE OR REPLACE VIEW t_sellers AS SELECT * FROM '{tiny.truth / 'sellers.parquet'}'"
    )
    mall_ip = next(h["identifier"] for h in hubs if h["hub_kind"] == "shared_ip")
    genuine, fake = db.execute(
        "SELECT count(DISTINCT seller_id) FILTER (NOT is_counterfeit), "
        "count(DISTINCT seller_id) FILTER (is_counterfeit) "
        "FROM seller_logins JOIN t_sellers USING (seller_id) WHERE ip = ?",
        [mall_ip],
    ).fetchone()
    assert genuine >= 5 and fake >= 1
    agency = next(h["identifier"] for h in hubs if h["hub_kind"] == "agency_bank_account")
    agency_sellers = _one(
        db,
        "SELECT count(DISTINCT seller_id) FROM seller_payment_accounts JOIN t_sellers "
        f"USING (seller_id) WHERE replace(account_ref, ' ', '') = '{agency}' AND NOT is_counterfeit",
    )
    assert agency_sellers >= 5
    hub_source = next(h["identifier"] for h in hubs if h["hub_kind"] == "logistics_hub")
    variants = pq.read_table(tiny.truth / "source_variants.parquet").to_pylist()
    addresses = [v["sender_address"] for v in variants if v["source_id"] == hub_source]
    genuine, fake = db.execute(
        "SELECT count(DISTINCT seller_id) FILTER (NOT is_counterfeit), "
        "count(DISTINCT seller_id) FILTER (is_counterfeit) FROM inbound_shipments "
        "JOIN t_sellers USING (seller_id) WHERE list_contains(?, sender_address)",
        [addresses],
    ).fetchone()
    assert genuine >= 5 and fake >= 1


# -- labels and cues ------------------------------------------------------------------------


def test_labels_support_a_time_split(tiny: Generated, db: duckdb.DuckDBPyConnection) -> None:
    n_batches = len(tiny.summary.batch_ids)
    half = n_batches // 2
    listing_outcomes = _one(
        db, "SELECT count(*) FROM enforcement_outcomes WHERE entity_type = 'listing'"
    )
    assert listing_outcomes >= 120
    for period in (f"_b < {half}", f"_b >= {half}"):
        classes = _one(
            db,
            "SELECT count(DISTINCT outcome) FROM enforcement_outcomes "
            f"WHERE entity_type = 'listing' AND {period}",
        )
        assert classes == 2, period
    # Decisions come after the listing went up, and some entity is decided twice (override).
    assert (
        _one(
            db,
            "SELECT count(*) FROM enforcement_outcomes o JOIN (SELECT listing_id, min(created_at) AS c "
            "FROM listings GROUP BY 1) l ON o.entity_id = l.listing_id WHERE o.decided_at <= l.c",
        )
        == 0
    )
    assert (
        _one(
            db,
            "SELECT count(*) FROM (SELECT entity_id FROM enforcement_outcomes GROUP BY 1 "
            "HAVING count(DISTINCT outcome) > 1)",
        )
        > 0
    )
    sources = {
        r[0] for r in db.execute("SELECT DISTINCT source FROM enforcement_outcomes").fetchall()
    }
    assert sources == {"test_purchase", "rights_holder_verification", "police_raid", "appeal"}
    # Discounters are among the cleared listings: cheap is not proof.
    db.execute(
        f"CREATE OR REPLACE VIEW t_sellers AS SELECT * FROM '{tiny.truth / 'sellers.parquet'}'"
    )
    cleared_discounters = _one(
        db,
        "SELECT count(*) FROM enforcement_outcomes o JOIN (SELECT DISTINCT listing_id, seller_id "
        "FROM listings) l ON o.entity_id = l.listing_id JOIN t_sellers s USING (seller_id) "
        "WHERE o.outcome = 'genuine_confirmed' AND s.kind = 'discounter'",
    )
    assert cleared_discounters > 0


def test_counterfeit_cues_are_partial(tiny: Generated, db: duckdb.DuckDBPyConnection) -> None:
    db.execute(
        f"CREATE OR REPLACE VIEW t_listings AS SELECT * FROM '{tiny.truth / 'listings.parquet'}'"
    )
    db.execute(
        "CREATE OR REPLACE TABLE cues AS SELECT t.is_counterfeit AS cf, "
        "l.price / b.reference_price AS rel, "
        "regexp_matches(lower(l.title), '1:1|aaa|a a a|replica|r3plica|rep1ica|1比1|高仿|mirror|m1rror|copy|imitation') "
        "AS wording FROM listings l JOIN t_listings t USING (listing_id) "
        "JOIN (SELECT brand, first(reference_price) AS reference_price FROM brands GROUP BY 1) b "
        "USING (brand) WHERE l._b = (SELECT min(_b) FROM listings x WHERE x.listing_id = l.listing_id)"
    )
    cheap_genuine, cheap_fake, pricey_fake = db.execute(
        "SELECT count(*) FILTER (NOT cf AND rel < 0.6), count(*) FILTER (cf AND rel < 0.6), "
        "count(*) FILTER (cf AND rel > 0.8) FROM cues"
    ).fetchone()
    assert cheap_genuine > 0 and cheap_fake > 0 and pricey_fake > 0
    worded_fake, plain_fake = db.execute(
        "SELECT count(*) FILTER (cf AND wording), count(*) FILTER (cf AND NOT wording) FROM cues"
    ).fetchone()
    assert worded_fake > 0 and plain_fake > worded_fake / 3
    # Photos reused across different sellers exist, among counterfeiters above all.
    reused = _one(
        db,
        "SELECT count(*) FROM (SELECT image_phash FROM listings WHERE image_phash IS NOT NULL "
        "GROUP BY 1 HAVING count(DISTINCT seller_id) > 1)",
    )
    assert reused > 0
