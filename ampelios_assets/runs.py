"""Start the segmentation job for one source on the Dagster instance and collect its figures.

The CLI and the API both come through here, so there is one pipeline and
one way to run it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dagster import DagsterEventType, DagsterInstance
from dagster._core.instance.ref import InstanceRef
from dagster._core.utils import make_new_run_id

from ampelios_assets.definitions import SEGMENT_JOB_NAME, build_definitions
from ampelios_assets.errors import SettingError
from ampelios_assets.partitions import source_partitions
from ampelios_assets.settings import Settings

CLUSTER_COUNT_RANGE = (1, 50)
# GraphQL's Int and PostgreSQL's integer are 32-bit signed, so larger ids
# could be stored but never read back.
SOURCE_ID_RANGE = (1, 2**31 - 1)
# A gap longer than a week would merge visits that no analyst calls one session.
SESSION_GAP_MINUTES_RANGE = (1, 7 * 24 * 60)


@dataclasses.dataclass(frozen=True)
class RunRequest:
    """A run of one source: its events file and the parameters of each step."""

    source_id: int
    events_path: Path
    cluster_count: int
    session_gap_minutes: int
    max_session_minutes: int = 0
    is_initial_flow: bool = True
    # When set, the clusters step picks the number of segments itself and ignores cluster_count.
    auto_cluster_count: bool = False

    def check(self) -> None:
        """Raise SettingError naming the first invalid parameter."""
        low, high = SOURCE_ID_RANGE
        if not low <= self.source_id <= high:
            raise SettingError(f"source_id must be an integer between {low} and {high}, got {self.source_id}")
        low, high = CLUSTER_COUNT_RANGE
        if not low <= self.cluster_count <= high:
            raise SettingError(f"cluster_count must lie between {low} and {high}, got {self.cluster_count}")
        low, high = SESSION_GAP_MINUTES_RANGE
        if not low <= self.session_gap_minutes <= high:
            raise SettingError(
                f"session_gap_minutes must lie between {low} and {high} (one week), got {self.session_gap_minutes}"
            )
        if self.max_session_minutes < 0:
            raise SettingError(f"max_session_minutes must be 0 (off) or positive, got {self.max_session_minutes}")

    def run_config(self, log_level: str = "INFO") -> dict[str, Any]:
        """Return the Dagster run config of the segmentation job for this request."""
        return {
            "loggers": {"console": {"config": {"log_level": log_level}}},
            "ops": {
                "raw_events": {
                    "config": {
                        "events_path": str(self.events_path),
                        "is_initial_flow": self.is_initial_flow,
                    }
                },
                "sessionized_events": {
                    "config": {
                        "session_gap_minutes": self.session_gap_minutes,
                        "max_session_minutes": self.max_session_minutes,
                    }
                },
                "clusters": {
                    "config": {"cluster_count": self.cluster_count, "auto_cluster_count": self.auto_cluster_count}
                },
            }
        }


@dataclasses.dataclass(frozen=True)
class RunResult:
    run_id: str
    success: bool
    metadata: dict[str, dict[str, Any]]
    error: str | None


# Written when DAGSTER_HOME has no dagster.yaml: the embedded default keeps
# runs in SQLite there, and telemetry stays off so nothing leaves the machine.
_EMBEDDED_INSTANCE_YAML = "telemetry:\n  enabled: false\n"


def dagster_instance(settings: Settings) -> DagsterInstance:
    """Open the instance in settings.dagster_home, creating it if needed."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config_path = settings.dagster_home / "dagster.yaml"
    if not config_path.exists():
        config_path.write_text(_EMBEDDED_INSTANCE_YAML)
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(settings.dagster_home)))


def add_source_partition(instance: DagsterInstance, source_id: int) -> None:
    """Register the source as a partition unless it already is one."""
    key = str(source_id)
    if not instance.has_dynamic_partition(source_partitions.name, key):
        instance.add_dynamic_partitions(source_partitions.name, [key])


def run_segmentation(
    settings: Settings,
    request: RunRequest,
    on_step_done: Callable[[str], None] | None = None,
    log_level: str = "INFO",
    run_id: str | None = None,
) -> RunResult:
    """Materialise the four assets for one source in this process and return their metadata.

    `on_step_done` is called with each finished step's name, from a polling
    thread, so a terminal can show progress. `run_id` lets a caller that
    returns the id before the run starts choose it; by default a new one is made.
    """
    request.check()
    instance = dagster_instance(settings)
    add_source_partition(instance, request.source_id)
    job = build_definitions(settings).resolve_job_def(SEGMENT_JOB_NAME)
    run_id = run_id or make_new_run_id()

    finished = threading.Event()
    watcher = None
    if on_step_done is not None:
        watcher = threading.Thread(
            target=_report_steps, args=(instance, run_id, finished, on_step_done), daemon=True
        )
        watcher.start()
    try:
        result = job.execute_in_process(
            run_config=request.run_config(log_level),
            instance=instance,
            partition_key=str(request.source_id),
            run_id=run_id,
            raise_on_error=False,
            tags={"ampelios/source_id": str(request.source_id)},
        )
    finally:
        finished.set()
        if watcher is not None:
            watcher.join()

    metadata: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        name = materialization.asset_key.path[-1]
        metadata[name] = {key: value.value for key, value in materialization.metadata.items()}
    return RunResult(run_id=run_id, success=result.success, metadata=metadata, error=first_error(result.all_events))


def first_error(events) -> str | None:
    """Return the message of the first failed step (or of the run's failure) among Dagster events."""
    for event in events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            # A user error arrives wrapped; its cause carries the message to show.
            while error.cause is not None and "DagsterExecutionStepExecutionError" in error.cls_name:
                error = error.cause
            message = error.message.strip()
            prefix = f"{error.cls_name}: "
            return message.split(prefix, 1)[-1] if prefix in message else message
        if event.event_type == DagsterEventType.RUN_FAILURE and event.message:
            return event.message
    return None


def _report_steps(instance, run_id, finished, on_step_done) -> None:
    reported: set[str] = set()
    while True:
        done = finished.wait(0.2)
        for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_SUCCESS):
            step = record.step_key
            if step not in reported:
                reported.add(step)
                on_step_done(step)
        if done:
            return
