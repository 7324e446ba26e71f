"""The PostgreSQL tables of Ampelios, created and migrated idempotently.

Everything lives in the schema `ampelios`, so the Dagster instance may share
the database. Each migration runs once, in order, recorded in
ampelios.schema_migrations; an advisory lock serialises processes that open
the store at the same moment.
"""

from __future__ import annotations

import logging

import psycopg

logger = logging.getLogger(__name__)

SCHEMA = "ampelios"

# Any fixed number works, as long as nothing else in the database takes the same advisory lock.
_MIGRATION_LOCK_KEY = 72_201_409

# (version, statements). Append new migrations; never edit a published one.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            # One row per event of a source. The natural key makes a redelivered
            # event a no-op; NULLS NOT DISTINCT (PostgreSQL 15) counts events
            # without a transaction_id as equal too.
            """
            CREATE TABLE ampelios.events (
                source_id integer NOT NULL,
                visitor_id bigint NOT NULL,
                timestamp_ms bigint NOT NULL,
                event text NOT NULL,
                item_id bigint NOT NULL,
                transaction_id bigint,
                session_number integer,
                session_id text,
                CONSTRAINT events_natural_key UNIQUE NULLS NOT DISTINCT
                    (source_id, visitor_id, timestamp_ms, event, item_id, transaction_id)
            )
            """,
            # Asset values other than events (journeys): fixed key columns and
            # the whole row as JSONB, with the Polars schema to rebuild the frame.
            """
            CREATE TABLE ampelios.journeys (
                source_id integer NOT NULL,
                visitor_id bigint NOT NULL,
                journey_row jsonb NOT NULL,
                PRIMARY KEY (source_id, visitor_id)
            )
            """,
            """
            CREATE TABLE ampelios.frame_schemas (
                source_id integer NOT NULL,
                asset_name text NOT NULL,
                frame_schema bytea NOT NULL,
                PRIMARY KEY (source_id, asset_name)
            )
            """,
            # A row here is what makes a run visible: publish_run writes its
            # segments and assignments first and this row last, in one transaction.
            """
            CREATE TABLE ampelios.published_runs (
                source_id integer NOT NULL,
                run_id text NOT NULL,
                published_at timestamptz NOT NULL,
                visitor_count bigint NOT NULL,
                segment_count integer NOT NULL,
                metadata jsonb NOT NULL,
                segments_schema bytea NOT NULL,
                assignments_schema bytea NOT NULL,
                PRIMARY KEY (source_id, run_id)
            )
            """,
            "CREATE INDEX published_runs_latest ON ampelios.published_runs (source_id, published_at DESC)",
            # Segments and assignments keep the six features in columns and any
            # further column (labels, descriptions, ...) in `extra`.
            """
            CREATE TABLE ampelios.segments (
                source_id integer NOT NULL,
                run_id text NOT NULL,
                segment_id bigint NOT NULL,
                size bigint,
                views double precision,
                addtocarts double precision,
                transactions double precision,
                sessions double precision,
                views_per_session double precision,
                purchase_ratio double precision,
                extra jsonb,
                PRIMARY KEY (source_id, run_id, segment_id)
            )
            """,
            """
            CREATE TABLE ampelios.assignments (
                source_id integer NOT NULL,
                run_id text NOT NULL,
                visitor_id bigint NOT NULL,
                segment_id bigint NOT NULL,
                views double precision,
                addtocarts double precision,
                transactions double precision,
                sessions double precision,
                views_per_session double precision,
                purchase_ratio double precision,
                extra jsonb,
                PRIMARY KEY (source_id, run_id, visitor_id)
            )
            """,
            # The API lists a segment's visitors.
            "CREATE INDEX assignments_by_segment ON ampelios.assignments (source_id, run_id, segment_id)",
        ],
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]


def ensure_schema(connection: psycopg.Connection) -> int:
    """Apply the migrations this database lacks and return how many ran."""
    with connection.transaction():
        if _applied_version(connection) >= LATEST_VERSION:
            return 0

    applied = 0
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_KEY,))
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_migrations "
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = _applied_version(connection)
        for version, statements in MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                connection.execute(statement)
            connection.execute(f"INSERT INTO {SCHEMA}.schema_migrations (version) VALUES (%s)", (version,))
            logger.info("applied PostgreSQL schema migration %d", version)
            applied += 1
    return applied


def _applied_version(connection: psycopg.Connection) -> int:
    exists = connection.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_migrations",)).fetchone()[0]
    if exists is None:
        return 0
    return connection.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_migrations").fetchone()[0]
