"""Read, change and rewrite the table files of a landing batch, keeping each file's format.

CSV files are read with every column as text, so rewriting one changes only what a case changes.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ml.contract import TABLES


def table_path(batch: Path, name: str) -> Path:
    for suffix in ("parquet", "csv"):
        if (batch / f"{name}.{suffix}").exists():
            return batch / f"{name}.{suffix}"
    raise FileNotFoundError(f"{batch} has no {name} table")


def read(batch: Path, name: str) -> pa.Table:
    path = table_path(batch, name)
    if path.suffix == ".parquet":
        return pq.read_table(path)
    names = TABLES[name].column_names
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=64 << 20),  # cases plant fields of megabytes
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
        ),
    )


def write(batch: Path, name: str, data: pa.Table) -> Path:
    path = table_path(batch, name)
    if path.suffix == ".parquet":
        pq.write_table(data, path)
    else:
        pacsv.write_csv(data, path)
    return path


def edit(batch: Path, name: str, column: str, rows: dict[int, object], kind=None) -> list[int]:
    """Set ``column`` at 0-based ``rows`` (optionally retyping the column); return 1-based rows."""
    data = read(batch, name)
    values = data.column(column).to_pylist()
    for i, value in rows.items():
        values[i] = value
    field = data.schema.field(column)
    kind = kind or field.type
    new_field = pa.field(column, kind, nullable=True)
    data = data.set_column(data.schema.get_field_index(column), new_field, pa.array(values, kind))
    write(batch, name, data)
    return [i + 1 for i in rows]


def retype(batch: Path, name: str, column: str, kind: pa.DataType, convert) -> None:
    """Store ``column`` as ``kind``, each value passed through ``convert`` (None stays None)."""
    data = read(batch, name)
    values = [None if v is None else convert(v) for v in data.column(column).to_pylist()]
    index = data.schema.get_field_index(column)
    data = data.set_column(index, pa.field(column, kind), pa.array(values, kind))
    write(batch, name, data)


def append_rows(batch: Path, name: str, rows: pa.Table) -> list[int]:
    """Append ``rows`` (same columns) at the end; return their 1-based row numbers."""
    data = read(batch, name)
    rows = rows.select(data.column_names).cast(data.schema)
    write(batch, name, pa.concat_tables([data, rows]))
    return list(range(data.num_rows + 1, data.num_rows + rows.num_rows + 1))


def unreferenced_rows(batch: Path, name: str, count: int) -> list[int]:
    """0-based rows of ``name`` whose key no other table of the batch points to.

    Breaking such a row quarantines it alone: nothing in the batch cascades from it.
    """
    spec = TABLES[name]
    referenced: set[str] = set()
    for other in TABLES.values():
        for fk in other.foreign_keys:
            if fk.table == name and _has(batch, other.name):
                referenced.update(read(batch, other.name).column(fk.columns[0]).to_pylist())
    keys = read(batch, name).column(spec.key[0]).to_pylist()
    free = [i for i, k in enumerate(keys) if k not in referenced]
    if len(free) < count:
        raise ValueError(f"{batch.name}/{name}: only {len(free)} unreferenced rows")
    # Spread over the file: the first, the last and one in the middle when three are asked.
    step = max(1, (len(free) - 1) // max(1, count - 1))
    picked = [free[min(i * step, len(free) - 1)] for i in range(count)]
    return sorted(set(picked))


def _has(batch: Path, name: str) -> bool:
    return any((batch / f"{name}.{s}").exists() for s in ("parquet", "csv"))
