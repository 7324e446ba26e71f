"""The Kafka sensor: request an ingest run when the topic has uncommitted messages.

The sensor only reads offsets; it never consumes or commits. While the broker
does not respond, it skips ticks with an exponential backoff kept in its
cursor, and once the broker is back the next run reads everything the group
has not committed, so nothing is lost.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time

from dagster import DagsterRunStatus, RunRequest, RunsFilter, SensorEvaluationContext, SkipReason, sensor

from ampelios_assets.kafka.consuming import BrokerUnavailableError, PartitionRange, pending_ranges
from ampelios_assets.kafka.ingest_job import INGEST_JOB_NAME
from ampelios_assets.settings import Settings

logger = logging.getLogger(__name__)

KAFKA_SENSOR_NAME = "kafka_events_sensor"
SENSOR_INTERVAL_S = 10

_ACTIVE_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]


@dataclasses.dataclass(frozen=True)
class BrokerBackoff:
    """Consecutive failed ticks and the time (Unix seconds) before which the sensor does not retry."""

    failures: int = 0
    retry_at: float = 0.0

    def to_cursor(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_cursor(cls, cursor: str | None) -> "BrokerBackoff":
        return cls(**json.loads(cursor)) if cursor else cls()

    def after_failure(self, now: float, backoff_s: float, max_backoff_s: float) -> "BrokerBackoff":
        """Return the state after one more failure: the wait doubles up to max_backoff_s."""
        failures = self.failures + 1
        wait_s = min(backoff_s * 2 ** (failures - 1), max_backoff_s)
        return BrokerBackoff(failures=failures, retry_at=now + wait_s)


def ingest_run_config(ranges: list[PartitionRange]) -> dict:
    """Return the run config of an ingest run over `ranges`."""
    partitions = [dataclasses.asdict(r) for r in ranges]
    return {"ops": {"ingest_kafka_batch": {"config": {"partitions": partitions}}}}


def evaluate_tick(settings: Settings, backoff: BrokerBackoff, now: float, run_in_progress: bool):
    """Decide one tick: return (a RunRequest or SkipReason, the next backoff state)."""
    if now < backoff.retry_at:
        return SkipReason(
            f"waiting {backoff.retry_at - now:.0f} s more before retrying Kafka broker "
            f"{settings.kafka_bootstrap} after {backoff.failures} failed attempts"
        ), backoff
    if run_in_progress:
        return SkipReason(f"an {INGEST_JOB_NAME} run is in progress; the next tick reads what it leaves"), backoff

    try:
        ranges = pending_ranges(settings)
    except BrokerUnavailableError as error:
        failed = backoff.after_failure(now, settings.kafka_backoff_s, settings.kafka_max_backoff_s)
        logger.warning(
            "%s (failed attempt %d); retrying in %.0f s", error, failed.failures, failed.retry_at - now
        )
        return SkipReason(f"{error}; failed attempt {failed.failures}, retrying after a backoff"), failed

    if backoff.failures:
        logger.info("Kafka broker %s responds again after %d failed attempts", settings.kafka_bootstrap, backoff.failures)
    if not ranges:
        return SkipReason(f"no uncommitted messages on topic {settings.kafka_topic!r}"), BrokerBackoff()
    offsets = ",".join(f"{r.partition}:{r.start_offset}-{r.end_offset}" for r in ranges)
    return RunRequest(run_config=ingest_run_config(ranges), tags={"ampelios/kafka_offsets": offsets}), BrokerBackoff()


def build_kafka_sensor(settings: Settings):
    """Return the sensor, reading the broker named in `settings`."""

    @sensor(
        name=KAFKA_SENSOR_NAME,
        job_name=INGEST_JOB_NAME,
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        description=f"Request an ingest run when topic {settings.kafka_topic!r} has uncommitted messages.",
    )
    def kafka_events_sensor(context: SensorEvaluationContext):
        active = context.instance.get_runs(
            filters=RunsFilter(job_name=INGEST_JOB_NAME, statuses=_ACTIVE_STATUSES), limit=1
        )
        decision, backoff = evaluate_tick(
            settings, BrokerBackoff.from_cursor(context.cursor), time.time(), bool(active)
        )
        context.update_cursor(backoff.to_cursor())
        return decision

    return kafka_events_sensor
