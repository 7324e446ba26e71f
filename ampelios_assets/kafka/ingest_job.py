"""The ingest run: read the topic up to given offsets, store the events, update segments, commit.

Events, journeys and segments are written before the offsets are committed.
So a run that stops before its commit is read again by the next run
(at-least-once delivery), and the stored events' natural key counts each
event once (exactly-once results in effect).
"""

import dataclasses
from pathlib import Path

import polars as pl
from dagster import AssetMaterialization, Config, ConfigurableResource, MetadataValue, OpExecutionContext, job, op
from pydantic import Field

from ampelios_assets.engine.incremental import updated_journeys
from ampelios_assets.engine.incremental_segments import FitHistory, updated_segments
from ampelios_assets.engine.schema import FEATURE_NAMES
from ampelios_assets.kafka.consuming import PartitionRange, commit_offsets, read_messages
from ampelios_assets.kafka.decoding import decoded_messages
from ampelios_assets.kafka.storage import SourceHistory, write_asset_value, write_dead_letters
from ampelios_assets.partitions import source_partitions
from ampelios_assets.resources import AmpeliosSettings
from ampelios_assets.settings import Settings
from ampelios_assets.stores import open_store
from ampelios_assets.stores.base import NoSegmentsError

INGEST_JOB_NAME = "ingest_kafka_events"

_DEFAULTS = Settings.from_env()


class KafkaSettings(ConfigurableResource):
    """The Kafka and refit settings of ingest runs; see settings.py for each one's meaning."""

    bootstrap: str
    topic: str
    group: str
    poll_timeout_s: float
    run_timeout_s: float
    refit_changed_percent: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "KafkaSettings":
        return cls(
            bootstrap=settings.kafka_bootstrap,
            topic=settings.kafka_topic,
            group=settings.kafka_group,
            poll_timeout_s=settings.kafka_poll_timeout_s,
            run_timeout_s=settings.kafka_run_timeout_s,
            refit_changed_percent=settings.refit_changed_percent,
        )

    def applied_to(self, settings: Settings) -> Settings:
        """Return `settings` with this resource's values."""
        return dataclasses.replace(
            settings,
            kafka_bootstrap=self.bootstrap,
            kafka_topic=self.topic,
            kafka_group=self.group,
            kafka_poll_timeout_s=self.poll_timeout_s,
            kafka_run_timeout_s=self.run_timeout_s,
            refit_changed_percent=self.refit_changed_percent,
        )


class PartitionRangeConfig(Config):
    partition: int = Field(ge=0, description="Topic partition.")
    start_offset: int = Field(ge=0, description="First offset to read, unless the group has committed a later one.")
    end_offset: int = Field(ge=0, description="Read at least up to this offset (exclusive).")


class IngestConfig(Config):
    partitions: list[PartitionRangeConfig] = Field(description="Offset ranges the sensor found uncommitted.")
    session_gap_minutes: int = Field(default=_DEFAULTS.session_gap_minutes, gt=0)
    max_session_minutes: int = Field(default=_DEFAULTS.max_session_minutes, ge=0)
    cluster_count: int = Field(default=_DEFAULTS.cluster_count, ge=1, le=50)


@op
def ingest_kafka_batch(
    context: OpExecutionContext, config: IngestConfig, ampelios: AmpeliosSettings, kafka: KafkaSettings
) -> None:
    """Read the given offset ranges, store their events and dead letters, update segments, commit."""
    settings = kafka.applied_to(ampelios.settings())
    ranges = [PartitionRange(p.partition, p.start_offset, p.end_offset) for p in config.partitions]
    messages, next_offsets = read_messages(settings, ranges)
    batch = decoded_messages(messages, settings.earliest_event_tstamp_ms, settings.latest_event_tstamp_ms)
    context.log.info(
        f"read {len(messages)} messages from topic {settings.kafka_topic!r}: "
        f"{sum(frame.height for frame in batch.events_by_source.values())} distinct valid events "
        f"for sources {sorted(batch.events_by_source)}, {batch.dead_letters.height} dead letters"
    )

    if batch.dead_letters.height:
        write_dead_letters(settings.output_dir, settings.kafka_topic, batch.dead_letters)
        context.log.warning(f"dead-lettered {batch.dead_letters.height} messages: {batch.dead_letters_by_reason()}")
    for source_id, events in sorted(batch.events_by_source.items()):
        _update_source(context, settings, config, source_id, events)

    commit_offsets(settings, next_offsets)
    context.log.info(f"committed offsets {dict(sorted(next_offsets.items()))} for group {settings.kafka_group!r}")


@job(name=INGEST_JOB_NAME, description="Add new events from the Kafka topic and update the segments they touch.")
def ingest_kafka_events_job():
    ingest_kafka_batch()


def _update_source(
    context: OpExecutionContext, settings: Settings, config: IngestConfig, source_id: int, events: pl.DataFrame
) -> None:
    output_dir = Path(settings.output_dir)
    history = SourceHistory(settings)
    update = updated_journeys(
        history.events(source_id),
        history.journeys(source_id),
        events,
        config.session_gap_minutes,
        config.max_session_minutes or None,
    )
    history.replace(source_id, update.events, update.journeys)

    store = open_store(settings)
    previous, model, fit_history = _published_state(store, source_id)
    segments = updated_segments(
        update.journeys.select("visitor_id", *FEATURE_NAMES),
        update.touched_visitors,
        previous,
        model,
        fit_history,
        config.cluster_count,
        settings.random_state,
        settings.refit_changed_percent,
    )
    for message in segments.warnings:
        context.log.warning(message)
    write_asset_value(output_dir, "clusters", source_id, segments.assignments)
    published = store.publish_run(
        source_id,
        context.run.run_id,
        segments.segments,
        segments.assignments,
        metadata={
            "model": segments.model,
            "warnings": list(segments.warnings),
            "incremental": segments.history.as_dict(),
        },
    )
    _record_materializations(context, source_id, update, segments, published.run_id)


def _published_state(store, source_id: int) -> tuple[pl.DataFrame | None, dict | None, FitHistory | None]:
    try:
        previous = store.assignments(source_id)
    except NoSegmentsError:
        return None, None, None
    metadata = store.run_metadata(source_id)
    history = FitHistory.from_dict(metadata.get("incremental"))
    if history is None:
        # The latest run was a batch run, which fitted every visitor it published.
        history = FitHistory(visitors_at_fit=previous.height, changed_since_fit=0)
    return previous, metadata.get("model"), history


def _record_materializations(context, source_id: int, update, segments, published_run_id: str) -> None:
    partition = str(source_id)
    if not context.instance.has_dynamic_partition(source_partitions.name, partition):
        context.instance.add_dynamic_partitions(source_partitions.name, [partition])
    sizes = {str(row["segment_id"]): row["size"] for row in segments.segments.iter_rows(named=True)}
    context.log_event(
        AssetMaterialization(
            "raw_events",
            partition=partition,
            metadata={
                "events_added": update.events_added,
                "redelivered": update.redelivered,
                "events_stored": update.events.height,
            },
        )
    )
    context.log_event(
        AssetMaterialization(
            "journeys",
            partition=partition,
            metadata={"visitors": update.journeys.height, "visitors_recomputed": update.touched_visitors.len()},
        )
    )
    context.log_event(
        AssetMaterialization(
            "clusters",
            partition=partition,
            metadata={
                "visitors": segments.assignments.height,
                "segment_sizes": MetadataValue.json(sizes),
                "refitted": segments.refitted,
                "changed_since_fit": segments.history.changed_since_fit,
                "published_run_id": published_run_id,
            },
        )
    )
