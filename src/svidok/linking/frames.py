"""Moving columns from the register into DuckDB for set-wise work.

DuckDB cannot reach SQLite or PostgreSQL here without extensions, so rows are
streamed out of the store in batches into Arrow tables, which DuckDB queries in
place without copying.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, Select

FETCH = 50_000


def to_arrow(conn: Connection, query: Select[Any], schema: pa.Schema) -> pa.Table:
    """Run `query` and collect its rows, batch by batch, into an Arrow table of `schema`."""
    result = conn.execute(query, execution_options={"stream_results": True, "yield_per": FETCH})
    batches = []
    names = schema.names
    while True:
        rows = result.fetchmany(FETCH)
        if not rows:
            break
        columns = list(zip(*rows, strict=True))
        batches.append(
            pa.record_batch(
                [pa.array(col, type=schema.field(n).type) for n, col in zip(names, columns, strict=True)],
                schema=schema,
            )
        )
    return pa.Table.from_batches(batches, schema=schema)


def duck() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for one linking run."""
    con = duckdb.connect(":memory:")
    con.execute("SET threads TO 2")
    return con


HAVERSINE_M = (
    "2 * 6371008.8 * asin(sqrt(pow(sin(radians({lat2} - {lat1}) / 2), 2) + "
    "cos(radians({lat1})) * cos(radians({lat2})) * pow(sin(radians({lon2} - {lon1}) / 2), 2)))"
)
"""Great-circle distance in metres between two points, as a DuckDB SQL expression template."""


def haversine_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    return HAVERSINE_M.format(lat1=lat1, lon1=lon1, lat2=lat2, lon2=lon2)
