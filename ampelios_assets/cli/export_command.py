"""`ampelios export`: write one CSV row per visitor with their segment and features."""

from __future__ import annotations

import argparse
from pathlib import Path

from ampelios_assets.cli.arguments import source_id
from ampelios_assets.engine.schema import FEATURE_NAMES
from ampelios_assets.results import load_assignments
from ampelios_assets.settings import Settings


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "export",
        help="write every visitor's segment and features as CSV",
        description="Write visitor_id, segment_id and the six features of every visitor of one source.",
    )
    parser.add_argument("--source-id", required=True, type=source_id, help="site to export")
    parser.add_argument("--out", required=True, type=Path, help="CSV file to write")
    parser.set_defaults(handler=export)


def export(args: argparse.Namespace) -> int:
    assignments = load_assignments(Settings.from_env(), args.source_id)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    assignments.select("visitor_id", "segment_id", *FEATURE_NAMES).sort("visitor_id").write_csv(args.out)
    print(f"wrote {assignments.height:,} visitors of source_id {args.source_id} to {args.out}")
    return 0
