"""The PostgreSQL store: published runs, and the events and journeys of each source.

Every table is keyed by source_id first, so two sites never see each other's
visitors and the same visitor_id may exist in both. Rows go in with COPY.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import polars as pl
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from ampelios_assets.errors import AmpeliosError
from ampelios_assets.engine.schema import EVENTS_SCHEMA, FEATURE_NAMES
from ampelios_assets.stores.base import PublishedRun, SegmentStore, SourceSummary
from ampelios_assets.stores.postgres_frames import (
    copy_into,
    copy_out,
    decode_schema,
    encode_schema,
    restore_frame,
    with_extra_as_json,
)
from ampelios_assets.stores.postgres_schema import ensure_schema

logger = logging.getLogger(__name__)

_SEGMENT_COLUMNS = ["segment_id", "size", *FEATURE_NAMES]
_ASSIGNMENT_COLUMNS = ["visitor_id", "segment_id", *FEATURE_NAMES]
_STORED_TYPES = {
    "segment_id": pl.Int64,
    "size": pl.Int64,
    "visitor_id": pl.Int64,
    **{name: pl.Float64 for name in FEATURE_NAMES},
    "extra": pl.String,
}
_SESSION_COLUMNS = {"session_number": pl.Int32, "session_id": pl.String}


class DatabaseUnavailableError(AmpeliosError):
    """The PostgreSQL server of AMPELIOS_DATABASE_URL cannot be reached or refuses the login."""


def _where(database_url: str) -> str:
    # Names host, port and database but never the password.
    try:
        parts = conninfo_to_dict(database_url)
    except psycopg.ProgrammingError:
        return "(unparsable AMPELIOS_DATABASE_URL)"
    return f"host={parts.get('host', '(PGHOST)')} port={parts.get('port', '(PGPORT)')} dbname={parts.get('dbname', '(PGDATABASE)')}"


class PostgresStore(SegmentStore):
    """Tables in the schema `ampelios` of one PostgreSQL database.

    `database_url` is a libpq connection string or URL; an empty one means
    libpq's PG* environment variables. Each call opens its own connection,
    so one store may serve several threads.
    """

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.location = "the PostgreSQL schema ampelios"
        with self._connect() as connection:
            ensure_schema(connection)

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.database_url, application_name="ampelios")
        except psycopg.OperationalError as error:
            raise DatabaseUnavailableError(
                f"cannot connect to PostgreSQL {_where(self.database_url)}: {str(error).strip()}; "
                "check AMPELIOS_DATABASE_URL (or the PG* variables) and that the server is running"
            ) from None

    # Published runs.

    def publish_run(self, source_id, run_id, segments, assignments, metadata=None) -> PublishedRun:
        published = PublishedRun(
            source_id=source_id,
            run_id=run_id,
            published_at=dt.datetime.now(dt.timezone.utc),
            visitor_count=assignments.height,
            segment_count=segments.height,
        )
        keys = {"source_id": source_id, "run_id": run_id}
        with self._connect() as connection, connection.transaction(), connection.cursor() as cursor:
            for table in ("segments", "assignments"):
                cursor.execute(
                    sql.SQL("DELETE FROM ampelios.{} WHERE source_id = %s AND run_id = %s").format(sql.Identifier(table)),
                    (source_id, run_id),
                )
            copy_into(cursor, "ampelios.segments", with_extra_as_json(segments, _SEGMENT_COLUMNS, "extra"), keys)
            copy_into(cursor, "ampelios.assignments", with_extra_as_json(assignments, _ASSIGNMENT_COLUMNS, "extra"), keys)
            # The runs row goes last: until this transaction commits, readers see the previous run.
            cursor.execute(
                """
                INSERT INTO ampelios.published_runs (source_id, run_id, published_at, visitor_count, segment_count,
                                           metadata, segments_schema, assignments_schema)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (source_id, run_id) DO UPDATE SET
                    published_at = EXCLUDED.published_at, visitor_count = EXCLUDED.visitor_count,
                    segment_count = EXCLUDED.segment_count, metadata = EXCLUDED.metadata,
                    segments_schema = EXCLUDED.segments_schema, assignments_schema = EXCLUDED.assignments_schema
                """,
                (
                    source_id, run_id, published.published_at, published.visitor_count, published.segment_count,
                    json.dumps(metadata or {}), encode_schema(segments), encode_schema(assignments),
                ),
            )
        logger.info("published run %s of source_id %d: %d segments", run_id, source_id, segments.height)
        return published

    def runs(self, source_id) -> list[PublishedRun]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT source_id, run_id, published_at, visitor_count, segment_count FROM ampelios.published_runs "
                "WHERE source_id = %s ORDER BY published_at, run_id",
                (source_id,),
            ).fetchall()
        return [PublishedRun(*row) for row in rows]

    def sources(self) -> list[SourceSummary]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT DISTINCT ON (source_id) source_id, run_id, published_at, visitor_count "
                "FROM ampelios.published_runs ORDER BY source_id, published_at DESC, run_id DESC"
            ).fetchall()
        return [SourceSummary(*row) for row in rows]

    def run_metadata(self, source_id, run_id=None) -> dict:
        with self._connect() as connection:
            return self._run_row(connection, source_id, run_id, "metadata")[1]

    def segments(self, source_id, run_id=None) -> pl.DataFrame:
        return self._run_frame(source_id, run_id, "segments", _SEGMENT_COLUMNS, "segment_id")

    def assignments(self, source_id, run_id=None) -> pl.DataFrame:
        return self._run_frame(source_id, run_id, "assignments", _ASSIGNMENT_COLUMNS, "visitor_id")

    def _run_row(self, connection, source_id: int, run_id: str | None, column: str) -> tuple[str, object]:
        # Finding the run and reading its rows happen in one transaction, so a
        # publish that commits in between cannot mix two runs.
        query = sql.SQL("SELECT run_id, {} FROM ampelios.published_runs WHERE source_id = %s").format(sql.Identifier(column))
        if run_id is None:
            row = connection.execute(query + sql.SQL(" ORDER BY published_at DESC, run_id DESC LIMIT 1"), (source_id,)).fetchone()
        else:
            row = connection.execute(query + sql.SQL(" AND run_id = %s"), (source_id, run_id)).fetchone()
        if row is None:
            raise self._no_segments(source_id, run_id)
        return row

    def _run_frame(self, source_id, run_id, table: str, fixed_columns: list[str], order_by: str) -> pl.DataFrame:
        with self._connect() as connection, connection.transaction(), connection.cursor() as cursor:
            found_run_id, payload = self._run_row(connection, source_id, run_id, f"{table}_schema")
            schema = decode_schema(payload)
            columns = [name for name in fixed_columns if name in schema] + ["extra"]
            query = sql.SQL("SELECT {} FROM ampelios.{} WHERE source_id = {} AND run_id = {} ORDER BY {}").format(
                sql.SQL(", ").join(sql.Identifier(name) for name in columns),
                sql.Identifier(table),
                sql.Literal(source_id),
                sql.Literal(found_run_id),
                sql.Identifier(order_by),
            )
            stored = copy_out(cursor, query, {name: _STORED_TYPES[name] for name in columns})
        return restore_frame(stored, schema, "extra")

    # Events and journeys of each source, the values the assets pass along.

    def replace_events(self, source_id: int, events: pl.DataFrame) -> None:
        """Make `events` the source's events, with session columns when the frame has them."""
        with self._connect() as connection, connection.transaction(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM ampelios.events WHERE source_id = %s", (source_id,))
            cursor.execute(
                "CREATE TEMPORARY TABLE events_batch (LIKE ampelios.events INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            copy_into(cursor, "pg_temp.events_batch", events, {"source_id": source_id})
            # An event already there, by its natural key, is kept once.
            cursor.execute("INSERT INTO ampelios.events SELECT * FROM events_batch ON CONFLICT DO NOTHING")
            stored = cursor.rowcount
        logger.info("stored %d events of source_id %d", stored, source_id)

    def read_events(self, source_id: int, with_sessions: bool = False) -> pl.DataFrame:
        """Return the source's events in event order; with_sessions adds session_number and session_id."""
        schema = dict(EVENTS_SCHEMA) | (_SESSION_COLUMNS if with_sessions else {})
        query = sql.SQL(
            "SELECT {} FROM ampelios.events WHERE source_id = {} "
            "ORDER BY visitor_id, timestamp_ms, array_position(ARRAY['view', 'addtocart', 'transaction'], event), "
            "item_id, transaction_id NULLS LAST"
        ).format(sql.SQL(", ").join(sql.Identifier(name) for name in schema), sql.Literal(source_id))
        with self._connect() as connection, connection.cursor() as cursor:
            stored = copy_out(cursor, query, {name: pl.String if name == "event" else dtype for name, dtype in schema.items()})
        return stored.with_columns(pl.col("event").cast(EVENTS_SCHEMA["event"]))

    def replace_journeys(self, source_id: int, journeys: pl.DataFrame) -> None:
        """Make `journeys` the source's journeys, one JSONB row per visitor."""
        rows = journeys.select(
            "visitor_id", pl.struct(journeys.columns).struct.json_encode().alias("journey_row")
        )
        with self._connect() as connection, connection.transaction(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM ampelios.journeys WHERE source_id = %s", (source_id,))
            copy_into(cursor, "ampelios.journeys", rows, {"source_id": source_id})
            cursor.execute(
                "INSERT INTO ampelios.frame_schemas (source_id, asset_name, frame_schema) VALUES (%s, 'journeys', %s) "
                "ON CONFLICT (source_id, asset_name) DO UPDATE SET frame_schema = EXCLUDED.frame_schema",
                (source_id, encode_schema(journeys)),
            )

    def read_journeys(self, source_id: int) -> pl.DataFrame:
        """Return the source's journeys as they were stored, by visitor_id."""
        with self._connect() as connection, connection.transaction(), connection.cursor() as cursor:
            row = cursor.execute(
                "SELECT frame_schema FROM ampelios.frame_schemas WHERE source_id = %s AND asset_name = 'journeys'",
                (source_id,),
            ).fetchone()
            if row is None:
                raise self._no_segments(source_id, None)
            query = sql.SQL("SELECT journey_row FROM ampelios.journeys WHERE source_id = {} ORDER BY visitor_id").format(
                sql.Literal(source_id)
            )
            stored = copy_out(cursor, query, {"journey_row": pl.String})
        return restore_frame(stored.rename({"journey_row": "extra"}), decode_schema(row[0]), "extra")
