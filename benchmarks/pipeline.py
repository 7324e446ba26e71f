"""Measure each pipeline stage on a full-size generated file, against a bare Polars read.

Each measurement runs in a fresh subprocess, so its peak RSS is its own.
Run: .venv/bin/python benchmarks/pipeline.py [--visitors N] [--repeats R]
Figures are quoted as ratios to the bare read in the same run, because these
machines are shared and absolute seconds drift.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FULL_SIZE_VISITORS = 1_407_580


def measure_floor(events_path: str) -> dict:
    import polars as pl

    start = time.perf_counter()
    frame = pl.read_csv(events_path, schema_overrides={"transactionid": pl.Int64})
    return {"read_csv": time.perf_counter() - start, "rows": frame.height}


def measure_engine(events_path: str) -> dict:
    from ampelios_assets.engine import (
        journey_features,
        read_event_csv,
        segment_visitors,
        session_journeys,
        sessionized_events,
        validated_events,
        visitor_journeys,
    )

    seconds = {}

    def timed(name, function, *args):
        start = time.perf_counter()
        value = function(*args)
        seconds[name] = time.perf_counter() - start
        return value

    raw = timed("read_csv_as_text", read_event_csv, events_path)
    validation = timed("validation", validated_events, raw, 946_684_800_000, 4_102_444_800_000)
    sessions = timed("sessionisation", sessionized_events, validation.events)
    per_session = timed("session_journeys", session_journeys, sessions)
    per_visitor = timed("visitor_journeys", visitor_journeys, per_session)
    features = timed("features", journey_features, per_visitor)
    timed("clustering", segment_visitors, features, 5)
    return seconds


def measure_dagster(events_path: str) -> dict:
    import dataclasses

    from ampelios_assets.runs import RunRequest, run_segmentation
    from ampelios_assets.settings import Settings

    with tempfile.TemporaryDirectory() as home:
        settings = dataclasses.replace(
            Settings.from_env(), output_dir=Path(home) / "data", dagster_home=Path(home) / "dagster_home"
        )
        request = RunRequest(1, Path(events_path), cluster_count=5, session_gap_minutes=30)
        start = time.perf_counter()
        result = run_segmentation(settings, request, log_level="WARNING")
        total = time.perf_counter() - start
    if not result.success:
        raise RuntimeError(result.error)
    return {"dagster_run": total, **{f"asset_{name}": meta["seconds"] for name, meta in result.metadata.items() if "seconds" in meta}}


MODES = {"floor": measure_floor, "engine": measure_engine, "dagster": measure_dagster}


def run_mode(mode: str, events_path: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--mode", mode, "--events", str(events_path)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=FULL_SIZE_VISITORS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--events", type=Path, help="use this file instead of generating one")
    parser.add_argument("--mode", choices=sorted(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.mode:
        figures = MODES[args.mode](str(args.events))
        figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    with tempfile.TemporaryDirectory() as tmp:
        events_path = args.events
        if events_path is None:
            from ampelios_assets.generation import retailrocket_events, write_events

            events_path = Path(tmp) / "events.csv"
            write_events(retailrocket_events(args.visitors, seed=0), events_path)

        samples: dict[str, list[dict]] = {mode: [] for mode in MODES}
        for _ in range(args.repeats):
            for mode in MODES:
                samples[mode].append(run_mode(mode, events_path))

    def median(mode: str, key: str) -> float:
        return statistics.median(sample[key] for sample in samples[mode])

    floor = median("floor", "read_csv")
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"events file: {args.visitors:,} visitors, {samples['floor'][0]['rows']:,} rows; median of {args.repeats} runs")
    print(f"{'measure':<28}{'seconds':>10}{'x bare read':>13}{'peak RSS MiB':>14}")
    print(f"{'bare Polars read (floor)':<28}{floor:>10.2f}{1.0:>13.1f}{median('floor', 'peak_rss_mib'):>14.0f}")
    for key in samples["engine"][0]:
        if key != "peak_rss_mib":
            value = median("engine", key)
            print(f"{'engine ' + key:<28}{value:>10.2f}{value / floor:>13.1f}")
    engine_total = sum(median("engine", key) for key in samples["engine"][0] if key != "peak_rss_mib")
    print(f"{'engine total':<28}{engine_total:>10.2f}{engine_total / floor:>13.1f}{median('engine', 'peak_rss_mib'):>14.0f}")
    for key in samples["dagster"][0]:
        if key != "peak_rss_mib":
            value = median("dagster", key)
            print(f"{key:<28}{value:>10.2f}{value / floor:>13.1f}")
    print(f"{'whole Dagster run, RSS':<28}{'':>10}{'':>13}{median('dagster', 'peak_rss_mib'):>14.0f}")


if __name__ == "__main__":
    main()
