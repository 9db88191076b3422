"""The DuckDB connections the graph is built and read with."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from mamori.investigate.kinds import CLASSIFY_MACROS


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory connection in UTC with the detection macros (is_ip, registrable_domain...)
    and the graph's classification macros."""
    from mamori.detect.rules.base import MACROS

    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    for macro in [*MACROS, *CLASSIFY_MACROS]:
        con.execute(macro)
    return con


def quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def view(
    con: duckdb.DuckDBPyConnection,
    name: str,
    files: Sequence[Path],
    schema: pa.Schema,
    *,
    filename: bool = False,
) -> None:
    """`name` as a view over Parquet `files` (read lazily), or an empty table of `schema`.
    Only the columns of `schema` are selected, so parts with more columns read the same; with
    `filename`, the file each row came from too."""
    if not files:
        empty = schema.empty_table()
        if filename:
            empty = empty.append_column("filename", pa.array([], pa.string()))
        con.register(name, empty)
        return
    columns = ", ".join([*(f'"{c}"' for c in schema.names), *(["filename"] if filename else [])])
    paths = "[" + ", ".join(quoted(p) for p in files) + "]"
    # Views take no bound parameters: the name is ours, the paths quoted.
    con.execute(
        f"CREATE OR REPLACE VIEW {name} AS SELECT {columns}"  # noqa: S608
        f" FROM read_parquet({paths}, union_by_name = true, filename = {filename})"
    )
