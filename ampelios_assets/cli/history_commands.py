"""`ampelios transitions` and `ampelios history`: how visitors moved between segments across runs."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

from ampelios_assets.cli.arguments import non_negative_int, source_id
from ampelios_assets.history import run_transitions, visitor_history
from ampelios_assets.settings import Settings
from ampelios_assets.stores import open_store


def add_parsers(commands) -> None:
    transitions = commands.add_parser(
        "transitions",
        help="count visitors moving between segments from one run to another",
        description="Print from segment, to segment and visitor count between two runs of a source "
        "(default: the latest run and the one before it).",
    )
    transitions.add_argument("--source-id", required=True, type=source_id, help="site to read")
    transitions.add_argument("--from-run", help="earlier run id (default: the run before --to-run)")
    transitions.add_argument("--to-run", help="later run id (default: the latest run)")
    transitions.add_argument("--json", action="store_true", help="print one JSON document and nothing else on stdout")
    transitions.set_defaults(handler=print_transitions)

    history = commands.add_parser(
        "history",
        help="print one visitor's segment in every run",
        description="Print the run id, publication time, segment id and label of one visitor in each run of a source.",
    )
    history.add_argument("--source-id", required=True, type=source_id, help="site to read")
    history.add_argument("--visitor-id", required=True, type=non_negative_int, help="visitor to follow")
    history.add_argument("--json", action="store_true", help="print one JSON document and nothing else on stdout")
    history.set_defaults(handler=print_history)


def print_transitions(args: argparse.Namespace) -> int:
    frame = run_transitions(open_store(Settings.from_env()), args.source_id, args.from_run, args.to_run)
    if args.json:
        document = {
            "source_id": args.source_id,
            "from_run": frame["from_run"][0] if frame.height else args.from_run,
            "to_run": frame["to_run"][0] if frame.height else args.to_run,
            "transitions": frame.drop("from_run", "to_run").to_dicts(),
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    table = Table(title=f"transitions from run {frame['from_run'][0]} to run {frame['to_run'][0]}")
    for column in ("from segment", "to segment", "visitors"):
        table.add_column(column, justify="right" if column == "visitors" else "left")
    for row in frame.iter_rows(named=True):
        table.add_row(_segment(row, "from", "new"), _segment(row, "to", "gone"), f"{row['visitors']:,}")
    Console(width=None if sys.stdout.isatty() else 140).print(table)
    return 0


def print_history(args: argparse.Namespace) -> int:
    frame = visitor_history(open_store(Settings.from_env()), args.source_id, args.visitor_id)
    if args.json:
        rows = [{**row, "published_at": row["published_at"].isoformat()} for row in frame.to_dicts()]
        json.dump({"source_id": args.source_id, "visitor_id": args.visitor_id, "history": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if frame.height == 0:
        print(f"visitor_id {args.visitor_id} is in no run of source_id {args.source_id}")
        return 0
    table = Table(title=f"visitor {args.visitor_id} of source_id {args.source_id}")
    for column in ("run id", "published at", "segment"):
        table.add_column(column)
    for row in frame.iter_rows(named=True):
        table.add_row(row["run_id"], f"{row['published_at']:%Y-%m-%d %H:%M:%S}", f"{row['segment_id']} {row['label'] or ''}")
    Console(width=None if sys.stdout.isatty() else 140).print(table)
    return 0


def _segment(row: dict, side: str, missing: str) -> str:
    segment_id = row[f"{side}_segment_id"]
    if segment_id is None:
        return missing
    return f"{segment_id} {row[f'{side}_label'] or ''}".strip()
