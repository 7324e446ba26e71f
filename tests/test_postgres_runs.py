"""Runs against a real PostgreSQL server: the Dagster instance of deploy/, a run killed midway, the CLI."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import psycopg
import pytest
from dagster import DagsterInstance

from ampelios_assets.generation import retailrocket_events, write_events
from ampelios_assets.runs import RunRequest, dagster_instance, run_segmentation
from ampelios_assets.settings import Settings
from ampelios_assets.stores import open_store

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
AMPELIOS = [sys.executable, "-m", "ampelios_assets.cli.main"]


def _request(path, source_id=1, cluster_count=3):
    return RunRequest(source_id=source_id, events_path=path, cluster_count=cluster_count, session_gap_minutes=30)


@pytest.fixture
def events_path(tmp_path):
    path = tmp_path / "events.csv"
    write_events(retailrocket_events(visitors=2_000, seed=3), path)
    return path


@pytest.fixture
def postgres_environ(tmp_path, database_url):
    return {
        **os.environ,
        "AMPELIOS_OUTPUT_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "AMPELIOS_STORAGE": "postgres",
        "AMPELIOS_DATABASE_URL": database_url,
    }


def test_dagster_instance_from_deploy_config(tmp_path, postgres_server, database_url, events_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    database = database_url.rsplit("/", 1)[1]
    for name, value in {
        "DAGSTER_POSTGRES_HOST": "127.0.0.1",
        "DAGSTER_POSTGRES_PORT": str(postgres_server.port),
        "DAGSTER_POSTGRES_USER": postgres_server.user,
        "DAGSTER_POSTGRES_PASSWORD": "",
        "DAGSTER_POSTGRES_DB": database,
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env(
        {
            "AMPELIOS_OUTPUT_DIR": str(tmp_path / "data"),
            "DAGSTER_HOME": str(home),
            "AMPELIOS_STORAGE": "postgres",
            "AMPELIOS_DATABASE_URL": database_url,
        }
    )

    result = run_segmentation(settings, _request(events_path))

    assert result.success, result.error
    instance = dagster_instance(settings)
    assert isinstance(instance, DagsterInstance)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert instance.get_run_by_id(result.run_id).is_success
    with psycopg.connect(database_url) as connection:
        recorded = connection.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,)).fetchone()
        published = connection.execute("SELECT run_id FROM ampelios.published_runs").fetchall()
    assert recorded == ("SUCCESS",)
    assert published == [(result.run_id,)]


def test_killed_run_publishes_nothing(tmp_path, database_url, postgres_environ, events_path):
    settings = Settings.from_env(postgres_environ)
    first = run_segmentation(settings, _request(events_path))
    assert first.success, first.error
    store = open_store(settings)
    segments_before = store.segments(1)
    assignments_before = store.assignments(1)

    blocker = psycopg.connect(database_url)
    # A SHARE lock lets readers through but holds the publisher at its last
    # statement, the INSERT of the published_runs row, after it wrote every segment row.
    blocker.execute("LOCK TABLE ampelios.published_runs IN SHARE MODE")
    second_events = tmp_path / "second.csv"
    write_events(retailrocket_events(visitors=2_500, seed=4), second_events)
    stderr_path = tmp_path / "run.stderr"
    with stderr_path.open("w") as stderr:
        run = subprocess.Popen(
            [*AMPELIOS, "run", "--events", str(second_events), "--source-id", "1", "--json"],
            env=postgres_environ, stdout=subprocess.DEVNULL, stderr=stderr,
        )
    try:
        blocked_query = _wait_for_blocked_publisher(database_url, run, stderr_path)
        assert blocked_query.lstrip().startswith("INSERT INTO ampelios.published_runs")
        assert store.segments(1).equals(segments_before)
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            os.kill(run.pid, signal.SIGKILL)
            run.wait(timeout=60)
        blocker.close()

    assert [published.run_id for published in store.runs(1)] == [first.run_id]
    assert store.segments(1).equals(segments_before)
    assert store.assignments(1).equals(assignments_before)
    with psycopg.connect(database_url) as connection:
        stray = connection.execute(
            "SELECT (SELECT count(*) FROM ampelios.segments WHERE run_id <> %s)"
            " + (SELECT count(*) FROM ampelios.assignments WHERE run_id <> %s)",
            (first.run_id, first.run_id),
        ).fetchone()[0]
    assert stray == 0


def _wait_for_blocked_publisher(database_url: str, run: subprocess.Popen, stderr_path: Path) -> str:
    # Bounded: 600 polls of 0.2 s; fails with the run's stderr if it ended instead.
    with psycopg.connect(database_url, autocommit=True) as connection:
        for _ in range(600):
            row = connection.execute(
                "SELECT query FROM pg_stat_activity WHERE application_name = 'ampelios' AND wait_event_type = 'Lock'"
            ).fetchone()
            if row is not None:
                return row[0]
            if run.poll() is not None:
                pytest.fail(f"run ended before publishing, exit {run.returncode}: {stderr_path.read_text()}")
            time.sleep(0.2)
    pytest.fail("the run never reached its publish step")


def test_cli_run_and_export_match_embedded(tmp_path, postgres_environ, events_path):
    embedded_environ = {
        **postgres_environ,
        "AMPELIOS_STORAGE": "embedded",
        "AMPELIOS_OUTPUT_DIR": str(tmp_path / "embedded-data"),
        "DAGSTER_HOME": str(tmp_path / "embedded-home"),
    }
    documents = {}
    exports = {}
    for name, environ in (("postgres", postgres_environ), ("embedded", embedded_environ)):
        run = subprocess.run(
            [*AMPELIOS, "run", "--events", str(events_path), "--source-id", "4", "--cluster-count", "3", "--json"],
            env=environ, capture_output=True, text=True, timeout=600,
        )
        assert run.returncode == 0, run.stderr
        documents[name] = json.loads(run.stdout)
        out = tmp_path / f"{name}.csv"
        export = subprocess.run(
            [*AMPELIOS, "export", "--source-id", "4", "--out", str(out)],
            env=environ, capture_output=True, text=True, timeout=600,
        )
        assert export.returncode == 0, export.stderr
        exports[name] = out.read_text()

    assert documents["postgres"]["segments"] == documents["embedded"]["segments"]
    assert documents["postgres"]["counts"]["visitors"] == documents["embedded"]["counts"]["visitors"]
    assert exports["postgres"] == exports["embedded"]
    assert pl.read_csv(tmp_path / "postgres.csv").height == documents["postgres"]["counts"]["visitors"]


def test_export_without_database_names_setting(tmp_path):
    environ = {
        **os.environ,
        "AMPELIOS_STORAGE": "postgres",
        "AMPELIOS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "DAGSTER_HOME": str(tmp_path / "home"),
    }
    export = subprocess.run(
        [*AMPELIOS, "export", "--source-id", "1", "--out", str(tmp_path / "x.csv")],
        env=environ, capture_output=True, text=True, timeout=120,
    )
    assert export.returncode == 1
    assert "AMPELIOS_DATABASE_URL" in export.stderr
