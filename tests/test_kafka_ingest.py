"""The Kafka sensor and ingest runs against a real Tansu broker on 127.0.0.1."""

import dataclasses
import json
import uuid

import numpy as np
import polars as pl
import pytest
from dagster import RunRequest, SkipReason, build_sensor_context

from ampelios_assets.definitions import build_definitions
from ampelios_assets.generation import retailrocket_events
from ampelios_assets.kafka import ingest_job
from ampelios_assets.kafka.ingest_job import INGEST_JOB_NAME
from ampelios_assets.kafka.sensor import KAFKA_SENSOR_NAME, BrokerBackoff, evaluate_tick
from ampelios_assets.kafka.storage import SourceHistory, load_dead_letters, load_events
from ampelios_assets.parquet_io_manager import asset_path
from ampelios_assets.results import load_segments
from ampelios_assets.runs import RunRequest as SegmentRunRequest
from ampelios_assets.runs import dagster_instance, run_segmentation
from tests.conftest import BASE_TSTAMP_MS, HEADER
from tests.kafka_broker import free_port, start_broker, stop_broker

T = BASE_TSTAMP_MS


@pytest.fixture(scope="module")
def broker():
    started = start_broker()
    yield started
    stop_broker(started)


def _on_topic(settings, broker, topic: str, **changes):
    """Return `settings` reading `topic` on the test broker, with short timeouts and a refit every run."""
    return dataclasses.replace(
        settings,
        kafka_bootstrap=broker.bootstrap,
        kafka_topic=topic,
        kafka_group=f"group-{topic}",
        kafka_poll_timeout_s=2.0,
        kafka_run_timeout_s=60.0,
        kafka_backoff_s=0.0,
        refit_changed_percent=0.0,
        **changes,
    )


@pytest.fixture
def kafka_settings(settings, broker):
    topic = f"events-{uuid.uuid4().hex[:8]}"
    broker.create_topic(topic, partitions=2)
    return _on_topic(settings, broker, topic)


class SensorDriver:
    """Tick the sensor with Dagster's testing API and execute the runs it requests, in process."""

    def __init__(self, settings):
        self.settings = settings
        self.instance = dagster_instance(settings)
        self.definitions = build_definitions(settings)
        self.cursor = None

    def tick(self):
        sensor = self.definitions.resolve_sensor_def(KAFKA_SENSOR_NAME)
        context = build_sensor_context(instance=self.instance, cursor=self.cursor)
        decision = sensor(context)
        self.cursor = context.cursor
        return decision

    def run(self, request: RunRequest):
        job = self.definitions.resolve_job_def(INGEST_JOB_NAME)
        return job.execute_in_process(
            run_config=request.run_config, instance=self.instance, tags=request.tags, raise_on_error=False
        )

    def tick_and_run(self):
        decision = self.tick()
        assert isinstance(decision, RunRequest), decision
        result = self.run(decision)
        assert result.success
        return result


def _file_events(visitors=300, seed=5) -> pl.DataFrame:
    return retailrocket_events(visitors, seed=seed)


def _messages(events: pl.DataFrame, source_id: int) -> list:
    # Every other event is sent as a CSV line keyed by its source, the rest as JSON.
    messages = []
    for index, row in enumerate(events.iter_rows(named=True)):
        if index % 2:
            fields = [row[c] for c in ("timestamp", "visitorid", "event", "itemid", "transactionid")]
            line = ",".join("" if value is None else str(value) for value in fields)
            messages.append((str(source_id).encode(), line.encode()))
        else:
            messages.append((None, json.dumps({**row, "source_id": source_id}).encode()))
    return messages


def _produce(broker, topic, messages):
    broker.produce(topic, messages)


def _batch_run(tmp_path, settings_for_batch, events: pl.DataFrame):
    path = tmp_path / "batch.csv"
    events.write_csv(path)
    request = SegmentRunRequest(source_id=1, events_path=path, cluster_count=5, session_gap_minutes=30)
    result = run_segmentation(settings_for_batch, request)
    assert result.success, result.error
    return pl.read_parquet(asset_path(settings_for_batch.output_dir, "journeys", "1"))


@pytest.fixture
def batch_settings(settings, tmp_path):
    return dataclasses.replace(
        settings, output_dir=tmp_path / "batch-data", dagster_home=tmp_path / "batch-dagster"
    )


@pytest.mark.parametrize("batch_count", [1, 5])
def test_replay_through_kafka_equals_batch(broker, kafka_settings, batch_settings, tmp_path, batch_count):
    events = _file_events()
    batch_journeys = _batch_run(tmp_path, batch_settings, events)
    driver = SensorDriver(kafka_settings)

    messages = _messages(events, source_id=1)
    for part in np.array_split(np.arange(len(messages)), batch_count):
        _produce(broker, kafka_settings.kafka_topic, [messages[i] for i in part])
        driver.tick_and_run()

    journeys = pl.read_parquet(asset_path(kafka_settings.output_dir, "journeys", "1"))
    assert journeys.equals(batch_journeys)
    kafka_sizes = sorted(load_segments(kafka_settings, 1)["size"].to_list())
    batch_sizes = sorted(load_segments(batch_settings, 1)["size"].to_list())
    assert kafka_sizes == batch_sizes
    assert isinstance(driver.tick(), SkipReason)


def test_crash_before_commit_counts_events_once(broker, kafka_settings, batch_settings, tmp_path, monkeypatch):
    events = _file_events(120, seed=9)
    batch_journeys = _batch_run(tmp_path, batch_settings, events)
    distinct = events.unique().height
    driver = SensorDriver(kafka_settings)
    _produce(broker, kafka_settings.kafka_topic, _messages(events, source_id=1))

    def crash(*_):
        raise RuntimeError("process stopped between the write and the commit")

    with monkeypatch.context() as patch:
        patch.setattr(ingest_job, "commit_offsets", crash)
        request = driver.tick()
        assert isinstance(request, RunRequest)
        assert not driver.run(request).success
    assert load_events(kafka_settings.output_dir, 1).height == distinct

    result = driver.tick_and_run()
    materialization = next(
        m for m in result.get_asset_materialization_events()
        if m.asset_key.path[-1] == "raw_events"
    )
    metadata = materialization.step_materialization_data.materialization.metadata
    assert metadata["events_added"].value == 0
    assert metadata["redelivered"].value == distinct
    assert load_events(kafka_settings.output_dir, 1).height == distinct
    assert pl.read_parquet(asset_path(kafka_settings.output_dir, "journeys", "1")).equals(batch_journeys)
    assert isinstance(driver.tick(), SkipReason)


def test_bad_messages_dead_lettered(broker, kafka_settings):
    good = {"source_id": 2, "timestamp": T, "visitorid": 7, "event": "view", "itemid": 3, "transactionid": None}
    values = [
        json.dumps(good).encode(),                                          # offset 0: valid
        b"not json at all",                                                 # not_json
        json.dumps([1, 2]).encode(),                                        # not_an_object
        json.dumps({**good, "source_id": None}).encode(),                   # missing_source_id
        json.dumps({**good, "source_id": "two"}).encode(),                  # invalid_source_id
        json.dumps({k: v for k, v in good.items() if k != "timestamp"}).encode(),  # missing_timestamp
        json.dumps({**good, "event": "click"}).encode(),                    # unknown_event
        f"{T + 1},7,addtocart,3,".encode(),                                 # valid CSV line, key 2
        f"{T + 2},7,view,3".encode(),                                       # CSV line of four fields
    ]
    keys = [None] * 7 + [b"2", b"2"]
    producer_topic = kafka_settings.kafka_topic
    broker.produce(producer_topic, list(zip(keys, values)))
    driver = SensorDriver(kafka_settings)
    driver.tick_and_run()

    dead = load_dead_letters(kafka_settings.output_dir, producer_topic)
    assert sorted(dead["reason"].to_list()) == sorted(
        ["not_json", "not_an_object", "missing_source_id", "invalid_source_id",
         "missing_timestamp", "unknown_event", "not_json"]
    )
    assert dead.select("partition", "offset").is_unique().all()
    assert dead.filter(reason="unknown_event")["value"].item() == values[6].decode()
    assert load_events(kafka_settings.output_dir, 2).height == 2
    assert isinstance(driver.tick(), SkipReason)


def test_broker_paused_then_back(broker, kafka_settings, batch_settings, tmp_path):
    events = _file_events(80, seed=3)
    batch_journeys = _batch_run(tmp_path, batch_settings, events)
    _produce(broker, kafka_settings.kafka_topic, _messages(events, source_id=1))
    driver = SensorDriver(dataclasses.replace(kafka_settings, kafka_poll_timeout_s=1.0))

    broker.pause()
    try:
        first, second = driver.tick(), driver.tick()
    finally:
        broker.resume()
    assert isinstance(first, SkipReason)
    assert "did not respond within 1.0 s" in first.skip_message
    assert isinstance(second, SkipReason)
    assert BrokerBackoff.from_cursor(driver.cursor).failures == 2

    driver.tick_and_run()
    assert BrokerBackoff.from_cursor(driver.cursor).failures == 0
    assert pl.read_parquet(asset_path(kafka_settings.output_dir, "journeys", "1")).equals(batch_journeys)


def test_backoff_doubles_up_to_max(settings):
    unreachable = dataclasses.replace(
        settings,
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        kafka_poll_timeout_s=1.0,
        kafka_backoff_s=5.0,
        kafka_max_backoff_s=12.0,
    )
    decision, backoff = evaluate_tick(unreachable, BrokerBackoff(), now=1000.0, run_in_progress=False)
    assert isinstance(decision, SkipReason)
    assert backoff == BrokerBackoff(failures=1, retry_at=1005.0)

    decision, waiting = evaluate_tick(unreachable, backoff, now=1002.0, run_in_progress=False)
    assert "waiting 3 s more" in decision.skip_message
    assert waiting == backoff

    _, backoff = evaluate_tick(unreachable, backoff, now=1005.0, run_in_progress=False)
    assert backoff == BrokerBackoff(failures=2, retry_at=1015.0)
    _, backoff = evaluate_tick(unreachable, backoff, now=1015.0, run_in_progress=False)
    assert backoff == BrokerBackoff(failures=3, retry_at=1027.0)


def test_sensor_waits_for_run_in_progress(kafka_settings):
    decision, _ = evaluate_tick(kafka_settings, BrokerBackoff(), now=0.0, run_in_progress=True)
    assert isinstance(decision, SkipReason)
    assert "in progress" in decision.skip_message


def test_replay_on_postgres_store_equals_batch(broker, database_url, batch_settings, tmp_path):
    events = _file_events(visitors=150, seed=8)
    batch_journeys = _batch_run(tmp_path, batch_settings, events)
    topic = f"events-{uuid.uuid4().hex[:8]}"
    broker.create_topic(topic, partitions=2)
    postgres_settings = _on_topic(
        batch_settings,
        broker,
        topic,
        output_dir=tmp_path / "kafka-data",
        dagster_home=tmp_path / "kafka-dagster",
        storage="postgres",
        database_url=database_url,
    )
    driver = SensorDriver(postgres_settings)

    messages = _messages(events, source_id=1)
    for part in np.array_split(np.arange(len(messages)), 3):
        _produce(broker, topic, [messages[i] for i in part])
        driver.tick_and_run()

    history = SourceHistory(postgres_settings)
    assert history.events(1).height == events.unique().height
    stored = history.journeys(1).sort("visitor_id")
    assert stored.select(batch_journeys.columns).equals(batch_journeys.sort("visitor_id"))
    kafka_sizes = sorted(load_segments(postgres_settings, 1)["size"].to_list())
    batch_sizes = sorted(load_segments(batch_settings, 1)["size"].to_list())
    assert kafka_sizes == batch_sizes


def _ampelios_with(settings, *args):
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    env.update(
        {
            "AMPELIOS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "AMPELIOS_KAFKA_TOPIC": settings.kafka_topic,
            "AMPELIOS_KAFKA_POLL_TIMEOUT_S": "2",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "ampelios_assets.cli.main", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_produce_command_feeds_the_sensor(broker, settings, tmp_path):
    topic = f"produced-{uuid.uuid4().hex[:8]}"  # the command creates it
    produce_settings = _on_topic(settings, broker, topic)
    events = _file_events(visitors=80, seed=3)
    path = tmp_path / "events.csv"
    events.write_csv(path)

    completed = _ampelios_with(produce_settings, "produce", "--events", str(path), "--source-id", "4")
    assert completed.returncode == 0, completed.stderr
    assert f"sent {events.height:,} events of source_id 4 to topic '{topic}'" in completed.stdout

    SensorDriver(produce_settings).tick_and_run()
    assert load_events(produce_settings.output_dir, 4).height == events.unique().height


def test_produce_to_absent_broker_names_bootstrap(settings, tmp_path):
    absent = dataclasses.replace(settings, kafka_bootstrap=f"127.0.0.1:{free_port()}", kafka_topic="t")
    path = tmp_path / "events.csv"
    _file_events(visitors=5).write_csv(path)
    completed = _ampelios_with(absent, "produce", "--events", str(path), "--source-id", "1")
    assert completed.returncode == 1
    assert f"Kafka broker {absent.kafka_bootstrap} did not respond" in completed.stderr
    assert "AMPELIOS_KAFKA_BOOTSTRAP" in completed.stderr
