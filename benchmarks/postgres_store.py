"""Seconds to store and read a full-size source in PostgreSQL against the embedded store, in one run.

    .venv/bin/ampelios generate --visitors 1407580 --out /tmp/ampelios-bench/events.csv
    .venv/bin/python benchmarks/postgres_store.py /tmp/ampelios-bench/events.csv

The engine computes events, sessions, journeys and segments once; then each
store writes and reads the same frames. Without --database-url the script
starts a throwaway PostgreSQL server from Debian's binaries on 127.0.0.1,
as the tests do, and stops it at the end.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ampelios_assets.engine import (  # noqa: E402
    journey_features,
    read_event_csv,
    segment_visitors,
    session_journeys,
    sessionized_events,
    validated_events,
    visitor_journeys,
)
from ampelios_assets.parquet_io_manager import write_parquet_atomically  # noqa: E402
from ampelios_assets.settings import Settings  # noqa: E402
from ampelios_assets.stores.embedded import EmbeddedStore  # noqa: E402
from ampelios_assets.stores.postgres import PostgresStore  # noqa: E402

SOURCE_ID = 1


def timed(label: str, figures: dict[str, float], action):
    start = time.perf_counter()
    value = action()
    figures[label] = time.perf_counter() - start
    print(f"  {label}: {figures[label]:.2f} s", file=sys.stderr)
    return value


def computed_frames(events_path: Path) -> dict[str, object]:
    settings = Settings.from_env({})
    validation = validated_events(
        read_event_csv(events_path), settings.earliest_event_tstamp_ms, settings.latest_event_tstamp_ms
    )
    sessionized = sessionized_events(validation.events)
    journeys = visitor_journeys(session_journeys(sessionized))
    segmentation = segment_visitors(journey_features(journeys), settings.cluster_count, settings.random_state)
    return {"events": validation.events, "sessionized": sessionized, "journeys": journeys, "segmentation": segmentation}


def measure_embedded(frames: dict, directory: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    store = EmbeddedStore(directory)
    events_file = directory / "raw_events" / f"source_id={SOURCE_ID}.parquet"
    sessionized_file = directory / "sessionized_events" / f"source_id={SOURCE_ID}.parquet"
    segmentation = frames["segmentation"]
    timed("load events", figures, lambda: write_parquet_atomically(frames["events"], events_file))
    timed("load sessionized events", figures, lambda: write_parquet_atomically(frames["sessionized"], sessionized_file))
    timed("read events", figures, lambda: pl.read_parquet(events_file))
    timed("publish run", figures, lambda: store.publish_run(
        SOURCE_ID, "bench", segmentation.segments, segmentation.assignments, {"model": segmentation.model}
    ))
    timed("read segments", figures, lambda: store.segments(SOURCE_ID))
    read = timed("read assignments", figures, lambda: store.assignments(SOURCE_ID))
    assert read.equals(segmentation.assignments)
    return figures


def measure_postgres(frames: dict, database_url: str) -> dict[str, float]:
    figures: dict[str, float] = {}
    store = PostgresStore(database_url)
    segmentation = frames["segmentation"]
    timed("load events", figures, lambda: store.replace_events(SOURCE_ID, frames["events"]))
    timed("load sessionized events", figures, lambda: store.replace_events(SOURCE_ID, frames["sessionized"]))
    timed("read events", figures, lambda: store.read_events(SOURCE_ID))
    timed("publish run", figures, lambda: store.publish_run(
        SOURCE_ID, "bench", segmentation.segments, segmentation.assignments, {"model": segmentation.model}
    ))
    timed("read segments", figures, lambda: store.segments(SOURCE_ID))
    read = timed("read assignments", figures, lambda: store.assignments(SOURCE_ID))
    assert read.equals(segmentation.assignments)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=Path, help="events CSV, e.g. from `ampelios generate --visitors 1407580`")
    parser.add_argument("--database-url", help="an existing PostgreSQL database; default: start a throwaway server")
    args = parser.parse_args()

    print("computing frames with the engine", file=sys.stderr)
    frames = computed_frames(args.events)
    server = None
    if args.database_url is None:
        from tests.postgres_server import start_server

        server = start_server()
    try:
        with tempfile.TemporaryDirectory() as directory:
            print("embedded store", file=sys.stderr)
            embedded = measure_embedded(frames, Path(directory))
        print("postgres store", file=sys.stderr)
        postgres = measure_postgres(frames, args.database_url or server.url())
    finally:
        if server is not None:
            from tests.postgres_server import stop_server

            stop_server(server)

    print(f"events {frames['events'].height:,}, visitors {frames['journeys'].height:,}, "
          f"segments {frames['segmentation'].segments.height}; {platform.platform()}, "
          f"{platform.processor() or platform.machine()}")
    print("| step | embedded (s) | PostgreSQL (s) |")
    print("|---|---:|---:|")
    for step in embedded:
        print(f"| {step} | {embedded[step]:.2f} | {postgres[step]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
