"""Document tables: the columns every shard carries, and conversion between pyarrow and polars.

Steps work on ``pyarrow.Table``; users may hand in a ``polars.DataFrame`` and get the same type back.
"""

from __future__ import annotations

from typing import Any, Union

import pyarrow as pa

#: the core document columns (flat and typed); steps add their own beside them
DOCUMENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("url", pa.string()),
        ("date", pa.string()),
        ("source", pa.string()),
    ]
)

TableLike = Union[pa.Table, "Any"]  # pa.Table | polars.DataFrame (polars is imported lazily)


def to_arrow(table: TableLike) -> pa.Table:
    """A ``pyarrow.Table`` for a Table, RecordBatch, polars DataFrame or list of dicts."""
    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    if isinstance(table, list):
        return pa.Table.from_pylist(table)
    if type(table).__module__.startswith("polars"):
        return table.to_arrow()
    if hasattr(table, "__arrow_c_stream__"):
        return pa.table(table)
    raise TypeError(f"expected a pyarrow.Table or polars.DataFrame of documents, got {type(table).__name__}")


def from_arrow(table: pa.Table, like: TableLike) -> TableLike:
    """Return ``table`` in the type of ``like`` (polars in, polars out)."""
    if type(like).__module__.startswith("polars"):
        import polars as pl

        return pl.from_arrow(table)
    return table


def text_bytes(table: pa.Table) -> int:
    """UTF-8 bytes of the ``text`` column (0 when there is none)."""
    if "text" not in table.column_names or table.num_rows == 0:
        return 0
    import pyarrow.compute as pc

    total = pc.sum(pc.binary_length(table.column("text"))).as_py()
    return int(total or 0)


def set_column(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    """``table`` with column ``name`` replaced by ``values`` in place, or appended when it has no such column."""
    index = table.schema.get_field_index(name)
    if index >= 0:
        return table.set_column(index, name, values)
    return table.append_column(name, values)
