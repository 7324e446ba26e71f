"""`ampelios add-source`: register a source partition on the Dagster instance."""

from __future__ import annotations

import argparse

from ampelios_assets.cli.arguments import source_id
from ampelios_assets.runs import add_source_partition, dagster_instance
from ampelios_assets.settings import Settings


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "add-source",
        help="register a source_id partition, before materialising it with the dagster CLI or UI",
        description="Add a source_id to the dynamic partitions of the Dagster instance. "
        "`ampelios run` does this by itself.",
    )
    parser.add_argument("--source-id", required=True, type=source_id, help="site to register")
    parser.set_defaults(handler=add_source)


def add_source(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    add_source_partition(dagster_instance(settings), args.source_id)
    print(f"source_id {args.source_id} is a partition of the instance in {settings.dagster_home}")
    return 0
