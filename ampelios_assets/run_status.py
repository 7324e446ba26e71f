"""Read a segmentation run's status, current step and counts from the Dagster instance.

Everything here reads the instance's run storage and event log, so it
covers runs started by the API, by `ampelios run` and by the Dagster UI alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._core.storage.dagster_run import RunsFilter

from ampelios_assets.runs import first_error

SOURCE_ID_TAG = "ampelios/source_id"
# Dagster tags every run of a partitioned job with its partition key, which is the source_id.
PARTITION_TAG = "dagster/partition"

# Dagster's run statuses folded into the four a caller acts on.
_STATUS_BY_DAGSTER_STATUS = {
    DagsterRunStatus.QUEUED: "queued",
    DagsterRunStatus.NOT_STARTED: "queued",
    DagsterRunStatus.MANAGED: "started",
    DagsterRunStatus.STARTING: "started",
    DagsterRunStatus.STARTED: "started",
    DagsterRunStatus.SUSPENDED: "started",
    DagsterRunStatus.CANCELING: "started",
    DagsterRunStatus.SUCCESS: "success",
    DagsterRunStatus.FAILURE: "failure",
    DagsterRunStatus.CANCELED: "failure",
}

UNFINISHED_DAGSTER_STATUSES = [
    status for status, folded in _STATUS_BY_DAGSTER_STATUS.items() if folded in ("queued", "started")
]

# (asset, metadata key) of each count, in the order the steps produce them.
_COUNT_SOURCES = {
    "rows_read": ("raw_events", "rows_read"),
    "events_kept": ("raw_events", "events_kept"),
    "rejected": ("raw_events", "rejected"),
    "duplicates": ("raw_events", "duplicates"),
    "sessions": ("sessionized_events", "sessions"),
    "visitors": ("journeys", "visitors"),
    "segments": ("clusters", "segments_found"),
}


@dataclasses.dataclass(frozen=True)
class RunStatus:
    """A run's state as a polling caller gets it; counts cover only the steps done so far."""

    run_id: str
    source_id: int | None
    status: str
    current_step: str | None
    counts: dict[str, int]
    error: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def read_run_status(instance: DagsterInstance, run_id: str) -> RunStatus | None:
    """Return the run's status from the instance, or None when the instance has no such run."""
    record = _run_record(instance, run_id)
    if record is None:
        return None
    run = record.dagster_run
    status = _STATUS_BY_DAGSTER_STATUS[run.status]
    events = [entry.dagster_event for entry in instance.all_logs(run_id) if entry.is_dagster_event]

    return RunStatus(
        run_id=run_id,
        source_id=_source_id(run.tags),
        status=status,
        current_step=_current_step(events) if status == "started" else None,
        counts=_counts(events),
        error=first_error(events) if status == "failure" else None,
        started_at=_utc(record.start_time),
        finished_at=_utc(record.end_time),
    )


def source_run_ids(instance: DagsterInstance, source_id: int, unfinished_only: bool = False) -> list[str]:
    """Return the ids of the source's segmentation runs, newest first."""
    statuses = UNFINISHED_DAGSTER_STATUSES if unfinished_only else []
    runs_filter = RunsFilter(tags={PARTITION_TAG: str(source_id)}, statuses=statuses)
    return [run.run_id for run in instance.get_runs(filters=runs_filter)]


def _run_record(instance: DagsterInstance, run_id: str):
    records = instance.get_run_records(filters=RunsFilter(run_ids=[run_id]), limit=1)
    return records[0] if records else None


def _current_step(events) -> str | None:
    started: list[str] = []
    finished: set[str] = set()
    for event in events:
        if event.event_type == DagsterEventType.STEP_START:
            started.append(event.step_key)
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            finished.add(event.step_key)
    running = [step for step in started if step not in finished]
    return running[-1] if running else None


def _counts(events) -> dict[str, int]:
    metadata: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            name = materialization.asset_key.path[-1]
            metadata[name] = {key: value.value for key, value in materialization.metadata.items()}
    counts = {}
    for count, (asset, key) in _COUNT_SOURCES.items():
        if key in metadata.get(asset, {}):
            counts[count] = int(metadata[asset][key])
    return counts


def _source_id(tags: dict[str, str]) -> int | None:
    text = tags.get(SOURCE_ID_TAG) or tags.get(PARTITION_TAG)
    return int(text) if text and text.isdigit() else None


def _utc(timestamp: float | None) -> dt.datetime | None:
    return None if timestamp is None else dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)
