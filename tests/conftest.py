"""Shared fixtures: small event frames and CSV files written by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from ampelios_assets.engine.schema import EVENTS_SCHEMA
from ampelios_assets.settings import Settings

SAMPLE_EVENTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "retailrocket-sample" / "events.csv"

# 2015-06-01 00:00 UTC, inside the Retailrocket date range.
BASE_TSTAMP_MS = int(dt.datetime(2015, 6, 1, tzinfo=dt.timezone.utc).timestamp() * 1000)
MINUTE_MS = 60_000

HEADER = "timestamp,visitorid,event,itemid,transactionid"


def events_frame(rows: list[tuple]) -> pl.DataFrame:
    """Build a validated-schema frame from (timestamp_ms, visitor_id, event, item_id, transaction_id)."""
    return pl.DataFrame(rows, schema=EVENTS_SCHEMA, orient="row")


def write_event_lines(path: Path, lines: list[str], header: str = HEADER) -> Path:
    """Write a CSV file of the given data lines below `header`."""
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


def run_request(path, source_id: int = 1, **kwargs):
    """Build a RunRequest with the small-fixture defaults: 2 segments, 30-minute gap."""
    from ampelios_assets.runs import RunRequest

    return RunRequest(
        source_id=source_id,
        events_path=path,
        cluster_count=kwargs.pop("cluster_count", 2),
        session_gap_minutes=kwargs.pop("session_gap_minutes", 30),
        **kwargs,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose Dagster instance and output files live in a temporary directory."""
    return Settings.from_env(
        {
            "AMPELIOS_OUTPUT_DIR": str(tmp_path / "data"),
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
            "AMPELIOS_DATA_DIR": str(tmp_path / "init-data"),
        }
    )


@pytest.fixture
def sample_events_path() -> Path:
    """The real Retailrocket sample, read where the shared data lives."""
    if not SAMPLE_EVENTS.is_file():
        pytest.skip(f"real Retailrocket sample not found at {SAMPLE_EVENTS}; tests that need it are skipped")
    return SAMPLE_EVENTS


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the whole session, started and stopped here."""
    from tests.postgres_server import start_server, stop_server

    try:
        server = start_server()
    except FileNotFoundError as error:
        pytest.skip(str(error))
    yield server
    stop_server(server)


@pytest.fixture
def database_url(postgres_server, request) -> str:
    """A new, empty database on the session's server, so each test starts from nothing."""
    import itertools

    import psycopg

    counter = postgres_server.__dict__.setdefault("_databases", itertools.count(1))
    name = f"test_{next(counter)}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return postgres_server.url(name)


@pytest.fixture(params=["embedded", "postgres"])
def store_settings(request, tmp_path: Path) -> Settings:
    """Settings for each store in turn: the embedded files, then a fresh PostgreSQL database."""
    environ = {
        "AMPELIOS_OUTPUT_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "AMPELIOS_DATA_DIR": str(tmp_path / "init-data"),
        "AMPELIOS_STORAGE": request.param,
    }
    if request.param == "postgres":
        environ["AMPELIOS_DATABASE_URL"] = request.getfixturevalue("database_url")
    return Settings.from_env(environ)
