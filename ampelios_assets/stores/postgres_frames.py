"""Move Polars frames in and out of PostgreSQL with COPY, and keep their exact schema.

Frames travel as CSV: Polars writes it and COPY ... FROM STDIN reads it, and
COPY ... TO STDOUT writes it back for Polars to read. Both sides print floats
in their shortest exact form, so values round-trip bit for bit. Columns a
table has no column for travel as one JSON object in a jsonb column, and the
frame's Polars schema is kept as an empty Arrow IPC file, so a read returns
the frame that was written: same columns, order and types.
"""

from __future__ import annotations

import io

import polars as pl
import psycopg
from psycopg import sql

# Bytes handed to COPY at a time, so a large frame is not copied twice in memory at once.
_COPY_CHUNK_BYTES = 8 * 1024 * 1024


def encode_schema(frame: pl.DataFrame) -> bytes:
    """Return the frame's schema as an empty Arrow IPC file."""
    buffer = io.BytesIO()
    frame.clear().write_ipc(buffer)
    return buffer.getvalue()


def decode_schema(payload: bytes) -> pl.Schema:
    """Return the schema stored by encode_schema."""
    return pl.read_ipc(io.BytesIO(payload)).schema


def with_extra_as_json(frame: pl.DataFrame, fixed_columns: list[str], extra_column: str) -> pl.DataFrame:
    """Return the fixed columns the frame has, plus every other column packed in one JSON string."""
    present = [name for name in fixed_columns if name in frame.columns]
    others = [name for name in frame.columns if name not in fixed_columns]
    if not others:
        return frame.select(present).with_columns(pl.lit(None, dtype=pl.String).alias(extra_column))
    return frame.select(*present, pl.struct(others).struct.json_encode().alias(extra_column))


def restore_frame(stored: pl.DataFrame, schema: pl.Schema, extra_column: str) -> pl.DataFrame:
    """Unpack the JSON column and cast every column back to `schema`, in its order."""
    others = {name: dtype for name, dtype in schema.items() if name not in stored.columns}
    if others:
        decoded = pl.col(extra_column).str.json_decode(pl.Struct(_json_types(others)))
        stored = stored.with_columns(decoded).unnest(extra_column)
    return stored.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def _json_types(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    # An Enum travels as its string; the final cast turns it back.
    return {name: pl.String if isinstance(dtype, (pl.Enum, pl.Categorical)) else dtype for name, dtype in schema.items()}


def copy_into(cursor: psycopg.Cursor, table: str, frame: pl.DataFrame, constants: dict[str, object] | None = None) -> None:
    """Append the frame's rows to `table` with COPY; `constants` adds columns with one value for every row."""
    constants = constants or {}
    frame = frame.with_columns(pl.lit(value).alias(name) for name, value in constants.items())
    frame = frame.with_columns(pl.col(pl.Enum, pl.Categorical).cast(pl.String))
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in frame.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(_table(table), columns)

    payload = io.BytesIO()
    frame.write_csv(payload, include_header=False)
    payload.seek(0)
    with cursor.copy(statement) as copy:
        while chunk := payload.read(_COPY_CHUNK_BYTES):
            copy.write(chunk)


def copy_out(cursor: psycopg.Cursor, query: sql.Composable, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run `query` through COPY ... TO STDOUT and read its rows with the given column types."""
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, HEADER)").format(query)
    payload = io.BytesIO()
    with cursor.copy(statement) as copy:
        for chunk in copy:
            payload.write(chunk)
    payload.seek(0)
    return pl.read_csv(payload, schema=schema)


def _table(name: str) -> sql.Composable:
    schema, _, table = name.partition(".")
    return sql.Identifier(schema, table)
