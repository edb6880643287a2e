"""The cases: each takes a copy of a valid batch and plants exactly one defect in it.

A case's ``apply(where)`` edits ``where.batch`` (a copy of a valid generated batch whose
predecessor ``where.base`` is already ingested) and returns :class:`Planted`: what a correct
ingestion must do with it. ``outcome`` says which kind of result the test checks:

- ``error``: the batch fails with a :class:`ml.ingest.BatchError` matching ``match`` (which
  names the file), is recorded as failed, and nothing published changes;
- ``quarantine``: exactly the planted rows are quarantined with a reason matching ``match`` and
  every other row of the batch is loaded unchanged;
- ``loaded``: every row is loaded (values planted in ``kept`` exactly as written);
- ``refused``: the batch is never read (``match`` is the error); ``scan`` is where
  ``scan_landing`` must list it;
- ``idempotent`` and ``retry``: ingesting twice changes nothing; a fixed failed batch goes in.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bad_inputs.files import (
    append_rows,
    edit,
    read,
    retype,
    table_path,
    unreferenced_rows,
    write,
)


@dataclass(frozen=True)
class Where:
    landing: Path
    base: Path  # a valid batch, already ingested
    batch: Path  # a copy of the next valid batch: the one a case breaks
    outside: Path  # a folder next to landing, never to be read


@dataclass
class Planted:
    #: table -> 1-based row numbers that must be quarantined
    quarantined: dict[str, list[int]] = field(default_factory=dict)
    #: table -> rows whose values the case changed but which must load as written
    changed: dict[str, list[int]] = field(default_factory=dict)
    #: table -> rows of the valid batch that the case removed from the file
    removed: dict[str, list[int]] = field(default_factory=dict)
    #: table -> rows the case appended that must load
    added: dict[str, list[int]] = field(default_factory=dict)
    #: (table, key column, key, column, value) that must be in the raw table exactly
    kept: list[tuple[str, str, str, str, object]] = field(default_factory=list)
    #: files the ingestion must report as no contract table
    unknown_files: list[str] = field(default_factory=list)
    #: the batch id to ingest when it is not the folder's name
    batch_id: str | None = None
    #: ("invalid" | "incomplete", name): where scan_landing must list the batch
    scan: tuple[str, str] | None = None
    #: puts a failed batch right again (outcome "retry")
    fix: Callable[[], None] | None = None


@dataclass(frozen=True)
class Case:
    name: str
    defect: str
    outcome: str
    match: str
    apply: Callable[[Where], Planted]

    def __str__(self) -> str:
        return self.name


def _set(table: str, column: str, values: list, kind: pa.DataType | None = None, convert=str):
    """Set ``values`` in rows nothing else points to; those rows must be quarantined."""

    def apply(w: Where) -> Planted:
        if kind is not None:
            retype(w.batch, table, column, kind, convert)
        rows = unreferenced_rows(w.batch, table, len(values))
        return Planted(
            quarantined={table: edit(w.batch, table, column, dict(zip(rows, values, strict=True)))}
        )

    return apply


def _keep(table: str, column: str, values: list, kind: pa.DataType | None = None):
    """Set ``values`` in some rows; they must load exactly as written."""

    def apply(w: Where) -> Planted:
        rows = list(range(1, len(values) + 1))  # the second row on: row 1 is left as it was
        if kind is not None:
            retype(w.batch, table, column, kind, lambda v: v.encode())
            values_ = [v.encode() for v in values]
        else:
            values_ = values
        changed = edit(w.batch, table, column, dict(zip(rows, values_, strict=True)))
        key = _key_column(table)
        keys = read(w.batch, table).column(key).to_pylist()
        kept = [(table, key, keys[r], column, v) for r, v in zip(rows, values, strict=True)]
        return Planted(changed={table: changed}, kept=kept)

    return apply


def _key_column(table: str) -> str:
    from ml.contract import TABLES

    return TABLES[table].key[0]


def _drop_column(table: str, column: str):
    def apply(w: Where) -> Planted:
        write(w.batch, table, read(w.batch, table).drop_columns([column]))
        return Planted()

    return apply


def _add_columns(table: str, names: list[str]):
    def apply(w: Where) -> Planted:
        data = read(w.batch, table)
        for name in names:
            data = data.append_column(name, pa.array([f"extra {name}"] * data.num_rows))
        write(w.batch, table, data)
        return Planted()

    return apply


def _bytes(name: str, change: Callable[[bytes], bytes]):
    def apply(w: Where) -> Planted:
        path = w.batch / name
        path.write_bytes(change(path.read_bytes()))
        return Planted()

    return apply


def _csv_line(line_no: int, change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """Change physical line ``line_no`` (1-based, the header is line 1) of a CSV file."""

    def apply(data: bytes) -> bytes:
        lines = data.split(b"\n")
        lines[line_no - 1] = change(lines[line_no - 1])
        return b"\n".join(lines)

    return apply


def _open_quote(line: bytes) -> bytes:
    # The fourth field (rating) is unquoted: a quote opened there is never closed.
    fields = line.split(b",")
    fields[3] = b'"' + fields[3]
    return b",".join(fields)


def _replace_file(name: str, make: Callable[[Where, Path], None]):
    def apply(w: Where) -> Planted:
        path = w.batch / name
        make(w, path)
        return Planted()

    return apply


def _link_out(w: Where, path: Path) -> None:
    # The link points at a perfectly valid file: it must be refused for where it is, not what.
    w.outside.mkdir(exist_ok=True)
    target = w.outside / path.name
    shutil.move(path, target)
    path.symlink_to(target)


def _hard_link_out(w: Where, path: Path) -> None:
    # A hard link is a regular file that shares its bytes with one outside the batch.
    w.outside.mkdir(exist_ok=True)
    target = w.outside / path.name
    shutil.move(path, target)
    os.link(target, path)


def _misnamed(w: Where) -> Planted:
    """Orders sent as `Orders.parquet`: not read (the batch has no orders), but said so."""
    n = read(w.batch, "orders").num_rows
    (w.batch / "orders.parquet").rename(w.batch / "Orders.parquet")
    return Planted(removed={"orders": list(range(1, n + 1))}, unknown_files=["Orders.parquet"])


def _dangling(w: Where, path: Path) -> None:
    path.unlink()
    path.symlink_to(w.outside / "nothing-here.parquet")


def _directory(w: Where, path: Path) -> None:
    path.unlink()
    path.mkdir()


def _fifo(w: Where, path: Path) -> None:
    # Opening a FIFO for reading blocks until someone writes: ingestion must not even try.
    path.unlink()
    os.mkfifo(path)


def _nested(w: Where) -> Planted:
    data = read(w.batch, "listings")
    titles = pa.array([[t] for t in data.column("title").to_pylist()], pa.list_(pa.string()))
    write(
        w.batch, "listings", data.set_column(data.schema.get_field_index("title"), "title", titles)
    )
    return Planted()


def _both_formats(w: Where) -> Planted:
    pacsv.write_csv(read(w.batch, "listings"), w.batch / "listings.csv")
    return Planted()


def _semicolons(w: Where) -> Planted:
    data = read(w.batch, "reviews")
    pacsv.write_csv(data, w.batch / "reviews.csv", pacsv.WriteOptions(delimiter=";"))
    return Planted()


def _duplicate_rows(table: str):
    def apply(w: Where) -> Planted:
        data = read(w.batch, table)
        return Planted(quarantined={table: append_rows(w.batch, table, data.slice(1, 1))})

    return apply


def _resent_from_base(table: str, outcome_quarantine: bool):
    """Append a row of the already ingested base batch whose key the new batch lacks."""

    def apply(w: Where) -> Planted:
        key = _key_column(table)
        present = set(read(w.batch, table).column(key).to_pylist())
        base = read(w.base, table)
        i = next(i for i, k in enumerate(base.column(key).to_pylist()) if k not in present)
        rows = append_rows(w.batch, table, base.slice(i, 1))
        return (
            Planted(quarantined={table: rows})
            if outcome_quarantine
            else Planted(added={table: rows})
        )

    return apply


def _report_without_target(w: Where) -> Planted:
    rows = unreferenced_rows(w.batch, "reports", 1)
    edit(w.batch, "reports", "listing_id", dict.fromkeys(rows))
    return Planted(
        quarantined={"reports": edit(w.batch, "reports", "seller_id", dict.fromkeys(rows))}
    )


def _cascade(w: Where) -> Planted:
    """Break a listing that is new in the batch and has orders: they go to quarantine with it."""
    base_ids = set(read(w.base, "listings").column("listing_id").to_pylist())
    ordered = read(w.batch, "orders").column("listing_id").to_pylist()
    ids = read(w.batch, "listings").column("listing_id").to_pylist()
    i = next(i for i, lid in enumerate(ids) if lid not in base_ids and lid in ordered)
    target = ids[i]
    planted = Planted(quarantined={"listings": edit(w.batch, "listings", "price", {i: -1.0})})
    for table, column in (
        ("orders", "listing_id"),
        ("reviews", "listing_id"),
        ("reports", "listing_id"),
        ("enforcement_outcomes", "entity_id"),
    ):
        values = read(w.batch, table).column(column).to_pylist()
        hits = [n + 1 for n, v in enumerate(values) if v == target]
        if hits:
            planted.quarantined[table] = hits
    return planted


def _header_only(w: Where) -> Planted:
    path = w.batch / "reviews.csv"
    n = read(w.batch, "reviews").num_rows
    path.write_bytes(path.read_bytes().split(b"\n")[0] + b"\n")
    return Planted(removed={"reviews": list(range(1, n + 1))})


def _zero_rows(w: Where) -> Planted:
    data = read(w.batch, "orders")
    write(w.batch, "orders", data.slice(0, 0))
    return Planted(removed={"orders": list(range(1, data.num_rows + 1))})


def _reordered(w: Where) -> Planted:
    data = read(w.batch, "listings")
    write(w.batch, "listings", data.select(list(reversed(data.column_names))))
    return Planted()


def _offset_timestamp(w: Where) -> Planted:
    rows = unreferenced_rows(w.batch, "reviews", 1)
    changed = edit(w.batch, "reviews", "created_at", {rows[0]: "2026-02-16T10:37:26+08:00"})
    key = read(w.batch, "reviews").column("review_id")[rows[0]].as_py()
    kept = [("reviews", "review_id", key, "created_at", datetime(2026, 2, 16, 2, 37, 26))]
    return Planted(changed={"reviews": changed}, kept=kept)


# --- batches that must never be read ------------------------------------------------------


def _outside_copy(w: Where, name: str) -> Path:
    """A complete, valid batch outside landing: reading it would be the bug."""
    target = w.outside / name
    shutil.copytree(w.batch, target)
    return target


def _drop_nullable(table: str, column: str, as_csv: bool = False):
    """Leave out a nullable column (optionally sending the table as CSV): it loads as NULLs."""

    def apply(w: Where) -> Planted:
        data = read(w.batch, table).drop_columns([column])
        if as_csv:
            table_path(w.batch, table).unlink()
            pacsv.write_csv(data, w.batch / f"{table}.csv")
        else:
            write(w.batch, table, data)
        key = _key_column(table)
        keys = data.column(key).to_pylist()
        rows = list(range(1, data.num_rows + 1))
        return Planted(
            changed={table: rows}, kept=[(table, key, k, column, None) for k in keys[:3]]
        )

    return apply


def _case_twin(table: str, column: str, convert=lambda v: v):
    """Add a column whose name differs from ``column`` only in case, holding other values."""

    def apply(w: Where) -> Planted:
        data = read(w.batch, table)
        twin = pa.array(["not " + str(v) for v in data.column(column).to_pylist()])
        # First, so that a reader folding case would meet the twin before the real column.
        write(w.batch, table, data.add_column(0, column.capitalize(), twin))
        key = _key_column(table)
        kept = read(w.batch, table).select([key, column]).slice(0, 3).to_pylist()
        return Planted(kept=[(table, key, r[key], column, convert(r[column])) for r in kept])

    return apply


def _parquet_duplicate_column(w: Where) -> Planted:
    data = read(w.batch, "listings")
    twin = pa.array([1.0] * data.num_rows)
    pq.write_table(
        pa.Table.from_arrays([*data.columns, twin], names=[*data.column_names, "price"]),
        table_path(w.batch, "listings"),
    )
    return Planted()


def _no_header(table: str):
    """Send the table as CSV without its header row: its first row is read as the names."""

    def apply(w: Where) -> Planted:
        data = read(w.batch, table)
        table_path(w.batch, table).unlink()
        pacsv.write_csv(data, w.batch / f"{table}.csv", pacsv.WriteOptions(include_header=False))
        return Planted()

    return apply


def _trailing_newline(w: Where) -> Planted:
    name = w.batch.name + "\n"
    w.batch.rename(w.landing / name)
    return Planted(batch_id=name, scan=("invalid", name))


def _parent_path(w: Where) -> Planted:
    _outside_copy(w, w.batch.name)
    return Planted(batch_id=f"../{w.outside.name}/{w.batch.name}")


def _renamed(name: str):
    def apply(w: Where) -> Planted:
        w.batch.rename(w.landing / name)
        return Planted(batch_id=name, scan=("invalid", name))

    return apply


def _slash(w: Where) -> Planted:
    (w.landing / "sub").mkdir()
    w.batch.rename(w.landing / "sub" / w.batch.name)
    return Planted(batch_id=f"sub/{w.batch.name}", scan=("incomplete", "sub"))


def _linked_batch(w: Where) -> Planted:
    target = _outside_copy(w, "linked")
    shutil.rmtree(w.batch)
    w.batch.symlink_to(target, target_is_directory=True)
    return Planted(scan=("invalid", w.batch.name))


def _no_success(w: Where) -> Planted:
    (w.batch / "_SUCCESS").unlink()
    return Planted(scan=("incomplete", w.batch.name))


def _retry(w: Where) -> Planted:
    path = w.batch / "listings.parquet"
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    return Planted(fix=lambda: path.write_bytes(good))


LONG = "假货" * 250_000 + "end"  # 500,003 characters, 1.5 MB of UTF-8
CONTROL = "tab\there\r\nnew line\x00nul\x1b[31mansi\x07bell\u202eRTL\u200bzero-width\x7fdel"
EMOJI = "👍🏽 正品 🧧 👨‍👩‍👧 🇨🇳 ☃︎"
HOSTILE = "<script>alert('x')</script>&amp;"
FORMULA = '=HYPERLINK("http://evil.example","click")'

CASES: list[Case] = [
    # -- files that cannot be read: the batch fails, naming the file and the problem ---------
    Case(
        "missing_column",
        "listings.parquet lacks the required column price",
        "error",
        r"listings\.parquet: required column\(s\) missing: price",
        _drop_column("listings", "price"),
    ),
    Case(
        "missing_column_csv",
        "reviews.csv lacks the required column rating",
        "error",
        r"reviews\.csv: required column\(s\) missing: rating",
        _drop_column("reviews", "rating"),
    ),
    Case(
        "parquet_duplicate_column",
        "listings.parquet has two columns named price (DuckDB would read the first silently)",
        "error",
        r"listings\.parquet: column\(s\) named more than once: price",
        _parquet_duplicate_column,
    ),
    Case(
        "csv_without_header_personal",
        "sellers.csv sent without its header row: the error must not quote the first row",
        "error",
        r"sellers\.csv: required column\(s\) missing: .*found \d+ column\(s\); "
        r"is the header row missing\?\)$",
        _no_header("sellers"),
    ),
    Case(
        "empty_parquet_file",
        "listings.parquet has 0 bytes",
        "error",
        r"listings\.parquet: file is empty",
        _bytes("listings.parquet", lambda b: b""),
    ),
    Case(
        "empty_csv_file",
        "reviews.csv has 0 bytes (no header row)",
        "error",
        r"reviews\.csv: file is empty",
        _bytes("reviews.csv", lambda b: b""),
    ),
    Case(
        "truncated_parquet",
        "listings.parquet cut off half way (no footer)",
        "error",
        r"listings\.parquet: cannot be read as Parquet: .*magic bytes",
        _bytes("listings.parquet", lambda b: b[: len(b) // 2]),
    ),
    Case(
        "csv_named_parquet",
        "orders.parquet holds CSV text",
        "error",
        r"orders\.parquet: cannot be read as Parquet",
        _bytes("orders.parquet", lambda b: b"order_id,listing_id\nO1,L1\n" * 50),
    ),
    Case(
        "nested_column",
        "listings.parquet stores title as a list of strings",
        "error",
        r"listings\.parquet: column\(s\) hold lists or records.*title",
        _nested,
    ),
    Case(
        "csv_unterminated_quote",
        "reviews.csv line 5 opens a quote it never closes",
        "error",
        r"reviews\.csv: cannot be read as CSV.*Line: 5.*unterminated quote",
        _bytes("reviews.csv", _csv_line(5, _open_quote)),
    ),
    Case(
        "csv_extra_field",
        "reviews.csv line 4 has one field too many",
        "error",
        r"reviews\.csv: cannot be read as CSV.*Line: 4.*Expected Number of Columns: 6 Found: 7",
        _bytes("reviews.csv", _csv_line(4, lambda line: line + b",surplus")),
    ),
    Case(
        "csv_missing_field",
        "reviews.csv line 6 has one field too few",
        "error",
        r"reviews\.csv: cannot be read as CSV.*Line: 6.*Expected Number of Columns: 6 Found: 5",
        _bytes("reviews.csv", _csv_line(6, lambda line: line.rsplit(b",", 1)[0])),
    ),
    Case(
        "csv_latin1_bytes",
        "reviews.csv line 7 carries latin-1 bytes (caf\\xe9) in UTF-8 text",
        "error",
        r"reviews\.csv: cannot be read as CSV.*Line: 7.*not utf-8 encoded",
        _bytes("reviews.csv", _csv_line(7, lambda line: line.replace(b',"', b',"caf\xe9 ', 1))),
    ),
    Case(
        "csv_utf16",
        "reviews.csv is encoded as UTF-16",
        "error",
        r"reviews\.csv: header row is not UTF-8",
        _bytes("reviews.csv", lambda b: b.decode().encode("utf-16")),
    ),
    Case(
        "csv_semicolons",
        "reviews.csv uses ; as delimiter",
        "error",
        r"reviews\.csv: required column\(s\) missing: review_id",
        _semicolons,
    ),
    Case(
        "csv_duplicate_header",
        "reviews.csv names the column rating twice",
        "error",
        r"reviews\.csv: header row has duplicate or empty column names \['rating'\]",
        _bytes("reviews.csv", _csv_line(1, lambda line: line.replace(b'"text"', b'"rating"'))),
    ),
    Case(
        "csv_mixed_line_endings",
        "reviews.csv mixes CRLF and LF line ends",
        "error",
        r"reviews\.csv: cannot be read as CSV.*Line: 4",
        _bytes("reviews.csv", lambda b: b.replace(b"\n", b"\r\n", 3)),
    ),
    Case(
        "both_formats",
        "listings arrives as both listings.parquet and listings.csv",
        "error",
        r"both listings\.parquet and listings\.csv",
        _both_formats,
    ),
    Case(
        "symlink_out_of_landing",
        "listings.parquet is a link to a (valid) file outside landing",
        "error",
        r"listings\.parquet: is a link",
        _replace_file("listings.parquet", _link_out),
    ),
    Case(
        "hard_link_out_of_landing",
        "listings.parquet is a hard link to a (valid) file outside landing",
        "error",
        r"listings\.parquet: has 2 hard links",
        _replace_file("listings.parquet", _hard_link_out),
    ),
    Case(
        "dangling_symlink",
        "orders.parquet is a link to nothing",
        "error",
        r"orders\.parquet: is a link",
        _replace_file("orders.parquet", _dangling),
    ),
    Case(
        "table_is_directory",
        "reviews.csv is a directory",
        "error",
        r"reviews\.csv: is not a regular file",
        _replace_file("reviews.csv", _directory),
    ),
    Case(
        "table_is_fifo",
        "orders.parquet is a named pipe (reading it would hang)",
        "error",
        r"orders\.parquet: is not a regular file",
        _replace_file("orders.parquet", _fifo),
    ),
    # -- bad rows: quarantined with a reason, every good row loaded ---------------------------
    Case(
        "text_in_number_column",
        "listings.price stored as text; three values are not numbers",
        "quarantine",
        r"price: cannot parse (cheap|12,50|¥99) as float",
        _set("listings", "price", ["cheap", "12,50", "¥99"], pa.string(), repr),
    ),
    Case(
        "fractional_int",
        "orders.quantity stored as float; three values are 2.5",
        "quarantine",
        r"quantity: cannot parse 2\.5 as int",
        _set("orders", "quantity", [2.5, 2.5, 2.5], pa.float64(), float),
    ),
    Case(
        "int_overflow",
        "orders.quantity as text; values beyond 64-bit integers",
        "quarantine",
        r"quantity: cannot parse (1e20|99999999999999999999) as int",
        _set("orders", "quantity", ["1e20", "99999999999999999999"], pa.string()),
    ),
    Case(
        "bool_garbage",
        "orders.refund_requested as text; one value is 'maybe'",
        "quarantine",
        r"refund_requested: cannot parse maybe as bool",
        _set("orders", "refund_requested", ["maybe"], pa.string()),
    ),
    Case(
        "unparseable_timestamps_csv",
        "reviews.created_at: 'yesterday', month 13, d/m/y",
        "quarantine",
        r"created_at: cannot parse (yesterday|2026-13-45T00:00:00Z|31/12/2026) as",
        _set("reviews", "created_at", ["yesterday", "2026-13-45T00:00:00Z", "31/12/2026"]),
    ),
    Case(
        "unparseable_timestamps_parquet",
        "orders.paid_at stored as text; two are garbage",
        "quarantine",
        r"paid_at: cannot parse (soon|2026-02-30 10:00) as timestamp",
        _set(
            "orders", "paid_at", ["soon", "2026-02-30 10:00"], pa.string(), lambda v: v.isoformat()
        ),
    ),
    Case(
        "non_iso_timestamps",
        "reviews.created_at 'infinity', 'epoch', year 294247",
        "quarantine",
        r"created_at: cannot parse (infinity|epoch|294247-01-10 04:00:54) as timestamp",
        _set("reviews", "created_at", ["infinity", "epoch", "294247-01-10 04:00:54"]),
    ),
    Case(
        "unparseable_numbers_csv",
        "reviews.rating 'five', '4,5', 'NaN'",
        "quarantine",
        r"rating: cannot parse (five|4,5|NaN) as int",
        _set("reviews", "rating", ["five", "4,5", "NaN"]),
    ),
    Case(
        "non_finite_prices",
        "listings.price NaN, +inf, -inf",
        "quarantine",
        r"price: must be > 0 \(got (nan|inf|-inf)\)",
        _set("listings", "price", [float("nan"), float("inf"), float("-inf")]),
    ),
    Case(
        "negative_prices",
        "listings.price negative",
        "quarantine",
        r"price: must be > 0 \(got -10\.5\)",
        _set("listings", "price", [-10.5, -10.5]),
    ),
    Case(
        "zero_prices",
        "listings.price 0",
        "quarantine",
        r"price: must be > 0 \(got 0\.0\)",
        _set("listings", "price", [0.0, 0.0]),
    ),
    Case(
        "zero_unit_price",
        "orders.unit_price 0 and -1",
        "quarantine",
        r"unit_price: must be > 0 \(got (0\.0|-1\.0)\)",
        _set("orders", "unit_price", [0.0, -1.0]),
    ),
    Case(
        "negative_weight",
        "inbound_shipments.weight_kg -1",
        "quarantine",
        r"weight_kg: must be >= 0 \(got <value hidden>\)",
        _set("inbound_shipments", "weight_kg", [-1.0]),
    ),
    Case(
        "rating_out_of_range",
        "reviews.rating 0 and 6",
        "quarantine",
        r"rating: must be >= 1 and <= 5 \(got [06]\)",
        _set("reviews", "rating", ["0", "6"]),
    ),
    Case(
        "bad_image_phash",
        "listings.image_phash not 16 hex chars",
        "quarantine",
        r"image_phash: must (be )?match",
        _set("listings", "image_phash", ["not-a-hash"]),
    ),
    Case(
        "null_keys",
        "listings.listing_id null",
        "quarantine",
        r"listing_id: required value missing",
        _set("listings", "listing_id", [None, None]),
    ),
    Case(
        "blank_keys",
        "orders.order_id '' and '   '",
        "quarantine",
        r"order_id: key is blank",
        _set("orders", "order_id", ["", "   "]),
    ),
    Case(
        "null_in_composite_key",
        "seller_logins.device_id null",
        "quarantine",
        r"device_id: required value missing",
        _set("seller_logins", "device_id", [None]),
    ),
    Case(
        "personal_value_in_other_column",
        "a phone typed into sellers.registered_at: the reason must not quote it",
        "quarantine",
        r"^registered_at: cannot parse <value hidden> as timestamp$",
        _set("sellers", "registered_at", ["+86 138 0000 1111"], pa.string()),
    ),
    Case(
        "personal_value_not_utf8",
        "sellers.phone stored as bytes that are not UTF-8: the reason must not quote the phone",
        "quarantine",
        r"^phone: cannot parse <value hidden> as str$",
        _set("sellers", "phone", [b"+86 138\xff0000 1111"], pa.binary(), lambda v: v.encode()),
    ),
    Case(
        "null_required_value",
        "listings.title null",
        "quarantine",
        r"title: required value missing",
        _set("listings", "title", [None]),
    ),
    Case(
        "duplicate_key_in_batch_entity",
        "a listings row repeated in the same batch",
        "quarantine",
        r"duplicate key within batch \(first at row 2\)",
        _duplicate_rows("listings"),
    ),
    Case(
        "duplicate_key_in_batch_event",
        "an orders row repeated in the same batch",
        "quarantine",
        r"duplicate key within batch \(first at row 2\)",
        _duplicate_rows("orders"),
    ),
    Case(
        "duplicate_composite_key",
        "a seller_logins row repeated in the same batch",
        "quarantine",
        r"duplicate key within batch \(first at row 2\)",
        _duplicate_rows("seller_logins"),
    ),
    Case(
        "duplicate_key_across_batches",
        "an order of the previous batch sent again",
        "quarantine",
        r"duplicate key: already ingested in batch 2026-02-15",
        _resent_from_base("orders", True),
    ),
    Case(
        "broken_foreign_key",
        "orders.listing_id points to no listing",
        "quarantine",
        r"listing_id: L99999999 not found in listings",
        _set("orders", "listing_id", ["L99999999", "L99999999"]),
    ),
    Case(
        "broken_foreign_key_csv",
        "reviews.listing_id points to no listing",
        "quarantine",
        r"listing_id: NOPE not found in listings",
        _set("reviews", "listing_id", ["NOPE"]),
    ),
    Case(
        "broken_conditional_key",
        "enforcement_outcomes.entity_id names no listing",
        "quarantine",
        r"entity_id: X1 not found in (listings|sellers)",
        _set("enforcement_outcomes", "entity_id", ["X1"]),
    ),
    Case(
        "foreign_key_to_quarantined_row",
        "a new listing with orders has price -1: its orders, "
        "reviews, reports and outcomes follow it to quarantine",
        "quarantine",
        r"price: must be > 0|listing_id: \S+ not found in listings|entity_id: \S+ not found",
        _cascade,
    ),
    Case(
        "unknown_enum",
        "listings.status 'deleted' and 'Active'",
        "quarantine",
        r"status: unknown value (deleted|Active) \(expected active \| removed\)",
        _set("listings", "status", ["deleted", "Active"]),
    ),
    Case(
        "unknown_enum_csv",
        "reports.reporter_type 'police'",
        "quarantine",
        r"reporter_type: unknown value police",
        _set("reports", "reporter_type", ["police"]),
    ),
    Case(
        "report_without_target",
        "a report with neither listing_id nor seller_id",
        "quarantine",
        r"listing_id and seller_id are both null",
        _report_without_target,
    ),
    # -- odd but valid input: every row loads, values exactly as written -----------------------
    Case(
        "nullable_column_absent",
        "listings.parquet leaves out description, which the contract makes optional",
        "loaded",
        "",
        _drop_nullable("listings", "description"),
    ),
    Case(
        "nullable_column_absent_csv",
        "sellers sent as CSV without email, which the contract makes optional",
        "loaded",
        "",
        _drop_nullable("sellers", "email", as_csv=True),
    ),
    Case(
        "extra_column_differs_in_case",
        "listings.parquet has Price beside price: extra columns are ignored, names match exactly",
        "loaded",
        "",
        _case_twin("listings", "price"),
    ),
    Case(
        "extra_column_differs_in_case_csv",
        "reviews.csv has Rating beside rating",
        "loaded",
        "",
        _case_twin("reviews", "rating", int),
    ),
    Case(
        "csv_field_over_2mb",
        "a reviews.csv text of 3 MB (DuckDB's default line limit is 2 MB)",
        "loaded",
        "",
        _keep("reviews", "text", ["长" * 1_000_000]),
    ),
    Case(
        "misnamed_table_file",
        "orders sent as Orders.parquet: not a contract table, reported, not read",
        "loaded",
        "",
        _misnamed,
    ),
    Case(
        "extra_columns",
        "listings.parquet has an extra column",
        "loaded",
        "",
        _add_columns("listings", ["loyalty_tier"]),
    ),
    Case(
        "extra_columns_named_like_internal",
        "orders.parquet has _row_number, _batch_id and _ingested_at columns",
        "loaded",
        "",
        _add_columns("orders", ["_row_number", "_batch_id", "_ingested_at"]),
    ),
    Case(
        "extra_column_csv",
        "reviews.csv has an extra column",
        "loaded",
        "",
        _add_columns("reviews", ["source"]),
    ),
    Case(
        "columns_reordered", "listings.parquet columns in reverse order", "loaded", "", _reordered
    ),
    Case(
        "csv_utf8_bom",
        "reviews.csv starts with a UTF-8 byte order mark",
        "loaded",
        "",
        _bytes("reviews.csv", lambda b: b"\xef\xbb\xbf" + b),
    ),
    Case(
        "csv_crlf",
        "reviews.csv with CRLF line ends",
        "loaded",
        "",
        _bytes("reviews.csv", lambda b: b.replace(b"\n", b"\r\n")),
    ),
    Case("csv_header_only", "reviews.csv has a header and no rows", "loaded", "", _header_only),
    Case("parquet_zero_rows", "orders.parquet has a schema and no rows", "loaded", "", _zero_rows),
    Case(
        "very_long_strings",
        "a 500,003-character listing title",
        "loaded",
        "",
        _keep("listings", "title", [LONG]),
    ),
    Case(
        "very_long_strings_csv",
        "a 500,003-character review text in CSV",
        "loaded",
        "",
        _keep("reviews", "text", [LONG]),
    ),
    Case(
        "control_characters",
        "tab, CR/LF, NUL, ESC, BEL, RTL override, DEL in a title",
        "loaded",
        "",
        _keep("listings", "title", [CONTROL]),
    ),
    Case(
        "control_characters_csv",
        "the same control characters in a review text (CSV)",
        "loaded",
        "",
        _keep("reviews", "text", [CONTROL]),
    ),
    Case(
        "emoji",
        "emoji, ZWJ sequences and flags in a shop name",
        "loaded",
        "",
        _keep("sellers", "shop_name", [EMOJI]),
    ),
    Case(
        "html_and_formulas",
        "HTML/JS and a spreadsheet formula as listing titles",
        "loaded",
        "",
        _keep("listings", "title", [HOSTILE, FORMULA]),
    ),
    Case(
        "binary_strings",
        "listings.title stored as Parquet BINARY (no UTF8 annotation)",
        "loaded",
        "",
        _keep("listings", "title", ["仿冒 Nike 👟", "plain"], pa.binary()),
    ),
    Case(
        "timestamp_with_offset",
        "reviews.created_at with a +08:00 offset (converted to UTC)",
        "loaded",
        "",
        _offset_timestamp,
    ),
    Case(
        "entity_resent_across_batches",
        "a listing of the previous batch sent again (an upsert: a new version, not a duplicate)",
        "loaded",
        "",
        _resent_from_base("listings", False),
    ),
    # -- batches that are never read ---------------------------------------------------------
    Case(
        "batch_id_parent_path",
        "batch id '../outside/<id>' naming a valid batch outside landing",
        "refused",
        r"invalid batch id",
        _parent_path,
    ),
    Case(
        "batch_name_with_dots",
        "batch folder named '..2026-04-01'",
        "refused",
        r"invalid batch id",
        _renamed("..2026-04-01"),
    ),
    Case(
        "batch_id_with_slash",
        "batch id 'sub/2026-04-01' (a complete batch one level down)",
        "refused",
        r"invalid batch id",
        _slash,
    ),
    Case(
        "batch_name_not_ascii",
        "batch folder named '批次-2026'",
        "refused",
        r"invalid batch id",
        _renamed("批次-2026"),
    ),
    Case(
        "batch_name_too_long",
        "batch folder name of 65 characters",
        "refused",
        r"invalid batch id",
        _renamed("b" * 65),
    ),
    Case(
        "batch_dir_symlink",
        "the batch folder is a link to a valid batch outside landing",
        "refused",
        r"is a link; batches must be real folders",
        _linked_batch,
    ),
    Case(
        "batch_name_trailing_newline",
        "batch folder named '<id>\\n' (a regex `$` accepts the newline)",
        "refused",
        r"invalid batch id",
        _trailing_newline,
    ),
    Case("missing_success", "batch without _SUCCESS", "refused", r"not complete", _no_success),
    # -- running again ---------------------------------------------------------------------
    Case(
        "reingest_same_batch",
        "the same batch ingested twice",
        "idempotent",
        "",
        lambda w: Planted(),
    ),
    Case(
        "retry_after_failure",
        "a truncated listings.parquet is replaced by the good file and "
        "the failed batch is run again",
        "retry",
        r"listings\.parquet: cannot be read",
        _retry,
    ),
]
assert len({c.name for c in CASES}) == len(CASES)
