"""`ampelios run`: materialise the four assets for one source and print its segments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ampelios_assets.cli.arguments import cluster_count, non_negative_int, positive_int, source_id
from ampelios_assets.cli.quality_output import print_quality, quality_document
from ampelios_assets.cli.segments_output import print_segments, segments_as_records
from ampelios_assets.errors import AmpeliosError
from ampelios_assets.results import load_segments
from ampelios_assets.run_status import source_run_ids
from ampelios_assets.runs import RunRequest, dagster_instance, run_segmentation
from ampelios_assets.settings import Settings
from ampelios_assets.stores import open_store

# Dagster's console logger would print a failed step's whole stack trace;
# the CLI reports the error itself in one line.
_DAGSTER_LOG_LEVEL = "CRITICAL"

_STEPS = ("raw_events", "sessionized_events", "journeys", "clusters")


def add_parser(commands) -> None:
    defaults = Settings.from_env()
    parser = commands.add_parser(
        "run",
        help="segment the visitors of one events file",
        description="Materialise raw_events, sessionized_events, journeys and clusters "
        "for one source through Dagster, then print the segments.",
    )
    parser.add_argument("--events", required=True, type=Path, help="events CSV, optionally .gz")
    parser.add_argument("--source-id", required=True, type=source_id, help="site the events belong to")
    parser.add_argument(
        "--cluster-count", type=cluster_count, default=defaults.cluster_count,
        help=f"number of segments, or auto to pick it from the segment labels (default {defaults.cluster_count})",
    )
    parser.add_argument(
        "--session-gap-minutes", type=positive_int, default=defaults.session_gap_minutes,
        help=f"a longer gap starts a new session (default {defaults.session_gap_minutes})",
    )
    parser.add_argument(
        "--max-session-minutes", type=non_negative_int, default=defaults.max_session_minutes,
        help="cut longer sessions into windows of this length; 0 turns the cap off (default)",
    )
    parser.add_argument(
        "--incremental", action="store_true",
        help="add these events to the source's stored events instead of replacing them",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document and nothing else on stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    request = RunRequest(
        source_id=args.source_id,
        events_path=args.events.resolve(),
        cluster_count=defaults_if_auto(args.cluster_count, settings),
        auto_cluster_count=args.cluster_count == "auto",
        session_gap_minutes=args.session_gap_minutes,
        max_session_minutes=args.max_session_minutes,
        is_initial_flow=not args.incremental,
    )
    request.check()
    if request.events_path.is_dir():
        raise AmpeliosError(f"--events '{args.events}' is a directory; give the events file inside it")
    if not request.events_path.is_file():
        raise AmpeliosError(f"events file '{args.events}' not found; check the --events path")
    _check_no_unfinished_run(settings, request.source_id)

    result = _run_with_progress(settings, request, show=not args.json and sys.stderr.isatty())
    if not result.success:
        raise AmpeliosError(f"run {result.run_id} failed: {result.error}")

    counts = run_counts(result.metadata)
    segments = load_segments(settings, request.source_id)
    run_metadata = open_store(settings).run_metadata(request.source_id)
    if args.json:
        document = {
            "run_id": result.run_id,
            "source_id": request.source_id,
            "counts": counts,
            "segments": segments_as_records(segments),
            "quality": quality_document(run_metadata),
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        # Wide enough for every feature name when stdout is a file or a pipe.
        console = Console(width=None if sys.stdout.isatty() else 140)
        console.print(f"run {result.run_id} for source_id {request.source_id}")
        _print_counts(console, counts)
        print_segments(console, segments)
        print_quality(console, run_metadata)
    return 0


def defaults_if_auto(requested: int | str, settings: Settings) -> int:
    """Return the cluster_count to send with a request: the setting's default when "auto" is requested."""
    return settings.cluster_count if requested == "auto" else requested


def _check_no_unfinished_run(settings: Settings, source_id: int) -> None:
    # Two runs of one source would race to publish; the API rejects a
    # trigger in the same case.
    unfinished = source_run_ids(dagster_instance(settings), source_id, unfinished_only=True)
    if unfinished:
        raise AmpeliosError(
            f"source_id {source_id} has an unfinished run {unfinished[0]}; wait for it to finish, "
            "or, if its process has died, terminate it in the Dagster UI and run again"
        )


def run_counts(metadata: dict) -> dict:
    """Pick the figures a user checks after a run from the assets' metadata."""
    raw = metadata["raw_events"]
    clusters = metadata["clusters"]
    return {
        "rows_read": raw["rows_read"],
        "events_kept": raw["events_kept"],
        "rejected": raw["rejected"],
        "rejected_by_reason": {k: v for k, v in raw["rejected_by_reason"].items() if v},
        "duplicates": raw["duplicates"],
        "events_already_stored": raw["events_already_stored"],
        "events_stored": raw["events_stored"],
        "visitors": metadata["journeys"]["visitors"],
        "sessions": metadata["sessionized_events"]["sessions"],
        "segments": clusters["segments_found"],
        "warnings": list(clusters["warnings"]),
        "seconds": {step: metadata[step]["seconds"] for step in _STEPS},
    }


def _run_with_progress(settings, request, show: bool):
    if not show:
        return run_segmentation(settings, request, log_level=_DAGSTER_LOG_LEVEL)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"source {request.source_id}: {_STEPS[0]}", total=len(_STEPS))

        def step_done(step: str) -> None:
            done = _STEPS.index(step) + 1 if step in _STEPS else 0
            following = _STEPS[done] if done < len(_STEPS) else "done"
            progress.update(task, completed=done, description=f"source {request.source_id}: {following}")

        return run_segmentation(settings, request, on_step_done=step_done, log_level=_DAGSTER_LOG_LEVEL)


def _print_counts(console: Console, counts: dict) -> None:
    rejected = ", ".join(f"{reason} {n}" for reason, n in counts["rejected_by_reason"].items())
    console.print(
        f"rows read {counts['rows_read']:,}: kept {counts['events_kept']:,}, "
        f"rejected {counts['rejected']:,}{f' ({rejected})' if rejected else ''}, "
        f"duplicates {counts['duplicates']:,}"
    )
    if counts["events_already_stored"]:
        console.print(
            f"{counts['events_already_stored']:,} of the kept events were already stored for the source; "
            f"it now has {counts['events_stored']:,}"
        )
    console.print(
        f"visitors {counts['visitors']:,}, sessions {counts['sessions']:,}, "
        f"segments {counts['segments']}, seconds {sum(counts['seconds'].values()):.1f}"
    )
    for warning in counts["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}")
