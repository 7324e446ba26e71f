"""`ampelios produce`: send an events file to the Kafka topic the sensor watches."""

from __future__ import annotations

import argparse
from pathlib import Path

from ampelios_assets.cli.arguments import source_id
from ampelios_assets.settings import Settings


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "produce",
        help="send an events file to the Kafka topic, one JSON message per event",
        description="Send each row of an events CSV to AMPELIOS_KAFKA_TOPIC on AMPELIOS_KAFKA_BOOTSTRAP "
        "as a JSON message carrying --source-id, creating the topic if it is missing.",
    )
    parser.add_argument("--events", required=True, type=Path, help="events CSV, optionally .gz")
    parser.add_argument("--source-id", required=True, type=source_id, help="site the events belong to")
    parser.set_defaults(handler=produce)


def produce(args: argparse.Namespace) -> int:
    from ampelios_assets.kafka.producing import produce_events_file

    settings = Settings.from_env()
    count = produce_events_file(settings, args.events, args.source_id)
    print(f"sent {count:,} events of source_id {args.source_id} to topic {settings.kafka_topic!r} on {settings.kafka_bootstrap}")
    return 0
