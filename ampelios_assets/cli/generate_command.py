"""`ampelios generate`: write realistic Retailrocket-shaped events for demos and benchmarks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from ampelios_assets.cli.arguments import non_negative_int, positive_int
from ampelios_assets.errors import AmpeliosError

# The real Retailrocket events.csv has this many visitors.
RETAILROCKET_VISITORS = 1_407_580


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "generate",
        help="write synthetic events in the Retailrocket format",
        description="Write synthetic events with the shape of the Retailrocket events file. "
        f"At --visitors {RETAILROCKET_VISITORS} the totals match the real file's.",
    )
    parser.add_argument(
        "--visitors", type=positive_int, default=RETAILROCKET_VISITORS,
        help=f"number of visitors (default {RETAILROCKET_VISITORS}, the real file's)",
    )
    parser.add_argument("--out", required=True, type=Path, help="CSV file to write; a .gz name compresses it")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--planted", action="store_true",
        help="draw visitors from five known behaviour groups and write each visitor's group "
        "to <out stem>.groups.csv",
    )
    parser.set_defaults(handler=generate)


def generate(args: argparse.Namespace) -> int:
    # Imported here so that other subcommands start without the generator.
    from ampelios_assets.generation import (
        groups_path_for,
        planted_events,
        retailrocket_events,
        write_events,
        write_groups,
    )

    console = Console(stderr=True, quiet=not sys.stderr.isatty())
    with console.status(f"generating events of {args.visitors:,} visitors"):
        try:
            if args.planted:
                events, groups = planted_events(args.visitors, seed=args.seed)
            else:
                events, groups = retailrocket_events(args.visitors, seed=args.seed), None
        except ValueError as error:
            raise AmpeliosError(f"invalid --visitors: {error}") from None
    with console.status(f"writing {events.height:,} events to {args.out}"):
        write_events(events, args.out)
        if groups is not None:
            write_groups(groups, groups_path_for(args.out))

    print(f"wrote {events.height:,} events of {args.visitors:,} visitors to {args.out}")
    if groups is not None:
        print(f"wrote each visitor's planted group to {groups_path_for(args.out)}")
    return 0
