"""`ampelios report`: write a self-contained HTML report of a source's latest segments."""

from __future__ import annotations

import argparse
from pathlib import Path

from ampelios_assets.cli.arguments import source_id
from ampelios_assets.report import segments_report_html
from ampelios_assets.settings import Settings
from ampelios_assets.stores import open_store


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "report",
        help="write an HTML report of a source's segments",
        description="Write one HTML file with the latest run's segments, quality figures and charts. "
        "It loads nothing from the network.",
    )
    parser.add_argument("--source-id", required=True, type=source_id, help="site to report on")
    parser.add_argument("--out", required=True, type=Path, help="HTML file to write")
    parser.set_defaults(handler=report)


def report(args: argparse.Namespace) -> int:
    document = segments_report_html(open_store(Settings.from_env()), args.source_id)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(document, encoding="utf-8")
    print(f"wrote the segment report of source_id {args.source_id} to {args.out}")
    return 0
