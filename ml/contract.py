"""The input tables of ``shared/DATA_CONTRACT.md`` (contract_version 1), as data.

This module is the one place that spells the contract out in code. The generator writes these
tables, ingestion validates against them (in SQL, so it streams), and ``ml.schemas`` builds the
pandera schemas from them. Column names and types are exact; see the contract for their meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CONTRACT_VERSION = 1

BATCH_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SUCCESS_MARKER = "_SUCCESS"

# Logical types; each maps to one DuckDB type.
STR, FLOAT, INT, BOOL, TIMESTAMP = "str", "float", "int", "bool", "timestamp"
DUCKDB_TYPES = {
    STR: "VARCHAR",
    FLOAT: "DOUBLE",
    INT: "BIGINT",
    BOOL: "BOOLEAN",
    TIMESTAMP: "TIMESTAMP",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    #: Bounds a non-null numeric value must keep (``gt`` exclusive, ``ge``/``le`` inclusive).
    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    #: Regular expression a non-null string must match in full.
    pattern: str | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    def rule(self) -> tuple[str, str] | None:
        """The value rule as (SQL predicate over ``{col}``, wording), or None."""
        parts, words = [], []
        if self.type == FLOAT and (self.gt, self.ge, self.le) != (None, None, None):
            # DuckDB orders NaN above every number, so "> 0" alone would let NaN through.
            parts.append("isfinite({col})")
        for op, bound in ((">", self.gt), (">=", self.ge), ("<=", self.le)):
            if bound is not None:
                parts.append(f"{{col}} {op} {bound:g}")
                words.append(f"{op} {bound:g}")
        if self.pattern:
            parts.append(f"regexp_full_match({{col}}, '{self.pattern}')")
            words.append(f"match {self.pattern}")
        if not parts:
            return None
        return " AND ".join(parts), "must be " + " and ".join(words)


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]
    #: SQL predicate over the row; the key is only checked where it holds.
    when: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    #: Entity tables are upserts (latest batch wins); event tables are append-only.
    entity: bool = False
    foreign_keys: tuple[ForeignKey, ...] = ()
    #: Row-level rules that span columns: (SQL predicate that must hold, reason).
    row_checks: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _positive(name: str) -> Column:
    return Column(name, FLOAT, gt=0)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "brands",
            key=("brand",),
            entity=True,
            columns=(
                Column("brand", STR),
                Column("category", STR),
                _positive("reference_price"),
                Column("rights_holder", STR),
            ),
        ),
        Table(
            "sellers",
            key=("seller_id",),
            entity=True,
            columns=(
                Column("seller_id", STR),
                Column("shop_name", STR),
                Column("registered_at", TIMESTAMP),
                Column("province", STR),
                Column("city", STR),
                Column("business_license", STR, nullable=True),
                Column("phone", STR, nullable=True),
                Column("email", STR, nullable=True),
                Column("id_document_hash", STR, nullable=True),
            ),
        ),
        Table(
            "brand_authorizations",
            key=("brand", "seller_id"),
            columns=(
                Column("brand", STR),
                Column("seller_id", STR),
                Column("authorized_since", TIMESTAMP),
            ),
            foreign_keys=(
                ForeignKey(("brand",), "brands", ("brand",)),
                ForeignKey(("seller_id",), "sellers", ("seller_id",)),
            ),
        ),
        Table(
            "seller_payment_accounts",
            key=("seller_id", "account_type", "account_ref"),
            columns=(
                Column("seller_id", STR),
                Column("account_type", STR, enum=("alipay", "bank_card", "bank_account")),
                Column("account_ref", STR),
                Column("bank_name", STR, nullable=True),
                Column("holder_name", STR, nullable=True),
                Column("first_seen_at", TIMESTAMP),
            ),
            foreign_keys=(ForeignKey(("seller_id",), "sellers", ("seller_id",)),),
        ),
        Table(
            "seller_logins",
            key=("seller_id", "device_id", "ip", "logged_in_at"),
            columns=(
                Column("seller_id", STR),
                Column("device_id", STR),
                Column("ip", STR),
                Column("logged_in_at", TIMESTAMP),
            ),
            foreign_keys=(ForeignKey(("seller_id",), "sellers", ("seller_id",)),),
        ),
        Table(
            "listings",
            key=("listing_id",),
            entity=True,
            columns=(
                Column("listing_id", STR),
                Column("seller_id", STR),
                Column("brand", STR, nullable=True),
                Column("category", STR),
                Column("title", STR),
                Column("description", STR, nullable=True),
                _positive("price"),
                Column("created_at", TIMESTAMP),
                Column("image_phash", STR, nullable=True, pattern="[0-9a-fA-F]{16}"),
                Column("ship_from_city", STR),
                Column("ship_from_address", STR, nullable=True),
                Column("status", STR, enum=("active", "removed")),
            ),
            foreign_keys=(ForeignKey(("seller_id",), "sellers", ("seller_id",)),),
        ),
        Table(
            "orders",
            key=("order_id",),
            columns=(
                Column("order_id", STR),
                Column("listing_id", STR),
                Column("buyer_id", STR),
                Column("quantity", INT, ge=1),
                _positive("unit_price"),
                Column("paid_at", TIMESTAMP),
                Column("buyer_province", STR),
                Column("buyer_city", STR),
                Column("refund_requested", BOOL),
            ),
            foreign_keys=(ForeignKey(("listing_id",), "listings", ("listing_id",)),),
        ),
        Table(
            "reviews",
            key=("review_id",),
            columns=(
                Column("review_id", STR),
                Column("listing_id", STR),
                Column("buyer_id", STR),
                Column("rating", INT, ge=1, le=5),
                Column("text", STR, nullable=True),
                Column("created_at", TIMESTAMP),
            ),
            foreign_keys=(ForeignKey(("listing_id",), "listings", ("listing_id",)),),
        ),
        Table(
            "reports",
            key=("report_id",),
            columns=(
                Column("report_id", STR),
                Column("listing_id", STR, nullable=True),
                Column("seller_id", STR, nullable=True),
                Column("reporter_type", STR, enum=("consumer", "rights_holder", "platform_patrol")),
                Column(
                    "reason",
                    STR,
                    enum=("counterfeit", "ip_infringement", "quality", "misleading", "other"),
                ),
                Column("text", STR, nullable=True),
                Column("created_at", TIMESTAMP),
            ),
            foreign_keys=(
                ForeignKey(("listing_id",), "listings", ("listing_id",)),
                ForeignKey(("seller_id",), "sellers", ("seller_id",)),
            ),
            row_checks=(
                (
                    "listing_id IS NOT NULL OR seller_id IS NOT NULL",
                    "listing_id and seller_id are both null (at least one is required)",
                ),
            ),
        ),
        Table(
            "inbound_shipments",
            key=("shipment_id",),
            columns=(
                Column("shipment_id", STR),
                Column("seller_id", STR),
                Column("sender_name", STR, nullable=True),
                Column("sender_address", STR),
                Column("sender_city", STR),
                Column("sender_phone", STR, nullable=True),
                Column("weight_kg", FLOAT, ge=0),
                Column("declared_category", STR, nullable=True),
                Column("received_at", TIMESTAMP),
            ),
            foreign_keys=(ForeignKey(("seller_id",), "sellers", ("seller_id",)),),
        ),
        Table(
            "enforcement_outcomes",
            key=("case_ref",),
            columns=(
                Column("case_ref", STR),
                Column("entity_type", STR, enum=("listing", "seller")),
                Column("entity_id", STR),
                Column("outcome", STR, enum=("counterfeit_confirmed", "genuine_confirmed")),
                Column(
                    "source",
                    STR,
                    enum=("test_purchase", "rights_holder_verification", "police_raid", "appeal"),
                ),
                Column("decided_at", TIMESTAMP),
            ),
            foreign_keys=(
                ForeignKey(
                    ("entity_id",), "listings", ("listing_id",), when="entity_type = 'listing'"
                ),
                ForeignKey(
                    ("entity_id",), "sellers", ("seller_id",), when="entity_type = 'seller'"
                ),
            ),
        ),
    )
}

#: Tables in an order where every foreign key points to a table ingested earlier.
INGEST_ORDER: tuple[str, ...] = (
    "brands",
    "sellers",
    "brand_authorizations",
    "seller_payment_accounts",
    "seller_logins",
    "listings",
    "orders",
    "reviews",
    "reports",
    "inbound_shipments",
    "enforcement_outcomes",
)
assert set(INGEST_ORDER) == set(TABLES)


def is_valid_batch_id(batch_id: str) -> bool:
    # fullmatch: with match(), `$` also accepts a trailing newline ("2026-01-01\n").
    return bool(BATCH_ID_PATTERN.fullmatch(batch_id))


#: Columns that identify people or their accounts: never copied into logs or Dagster metadata
#: (exports mask the payment accounts, phones and ID hashes among them; see ml/leads/masking.py).
PERSONAL_COLUMNS = frozenset(
    {
        "phone", "email", "id_document_hash", "account_ref", "holder_name", "business_license",
        "sender_phone", "sender_name", "ip", "device_id",
    }
)  # fmt: skip


def holds_personal_data(table: Table) -> bool:
    """Whether a table has personal columns. A personal value can sit in any column of such a
    table (a phone typed into `registered_at`, a header-less file whose first row is read as
    column names), so no cell of it is ever quoted in a message."""
    return any(c.name in PERSONAL_COLUMNS for c in table.columns)
