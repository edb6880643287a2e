"""Write contract tables as Parquet or CSV with fixed settings, so equal data gives equal bytes.

Column types come from ``ml.contract``. Parquet gets UTC timestamps and non-null columns marked
required; CSV gets ISO 8601 ``...Z`` timestamps, a header row and RFC 4180 quoting. A table with
no rows in a batch is not written at all (the contract allows a table to be absent).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ml.contract import BOOL, FLOAT, INT, STR, TIMESTAMP, Column, Table
from ml.generate import text

#: Tables written as CSV so that both accepted formats are exercised.
CSV_TABLES = frozenset({"brand_authorizations", "reviews", "reports"})
ARROW_TYPES = {
    STR: pa.string(),
    FLOAT: pa.float64(),
    INT: pa.int64(),
    BOOL: pa.bool_(),
    TIMESTAMP: pa.timestamp("us", tz="UTC"),
}
PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
}


def arrow_schema(table: Table, csv: bool = False) -> pa.Schema:
    fields = []
    for c in table.columns:
        kind = pa.string() if csv and c.type == TIMESTAMP else ARROW_TYPES[c.type]
        fields.append(pa.field(c.name, kind, nullable=c.nullable or csv))
    return pa.schema(fields)


def _array(column: Column, values: np.ndarray | pa.Array, csv: bool) -> pa.Array:
    if column.type == TIMESTAMP:
        return text.iso_utc(values) if csv else text.timestamps(values)
    kind = ARROW_TYPES[column.type]
    if isinstance(values, np.ndarray):
        return pa.array(values, type=kind)
    return values if values.type == kind else values.cast(kind)


def table_path(batch_dir: Path, table: Table) -> Path:
    suffix = "csv" if table.name in CSV_TABLES else "parquet"
    return batch_dir / f"{table.name}.{suffix}"


def write_table(
    batch_dir: Path, table: Table, chunks: Iterable[dict[str, np.ndarray | pa.Array]]
) -> int:
    """Write the chunks of one table into ``batch_dir``; return the number of rows."""
    csv = table.name in CSV_TABLES
    schema = arrow_schema(table, csv)
    path = table_path(batch_dir, table)
    writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
    rows = 0
    try:
        for chunk in chunks:
            n = len(next(iter(chunk.values())))
            if n == 0:
                continue
            arrays = [_array(c, chunk[c.name], csv) for c in table.columns]
            data = pa.Table.from_arrays(arrays, schema=schema)
            if writer is None:
                writer = (
                    pacsv.CSVWriter(
                        path,
                        schema,
                        write_options=pacsv.WriteOptions(
                            include_header=True, quoting_style="needed"
                        ),
                    )
                    if csv
                    else pq.ParquetWriter(path, schema, **PARQUET_OPTIONS)
                )
            if csv:
                writer.write_table(data)
            else:
                writer.write_table(data, row_group_size=n)
            rows += n
    finally:
        if writer is not None:
            writer.close()
    return rows
