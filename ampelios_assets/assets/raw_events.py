"""raw_events and rejected_events: the events file, validated and deduplicated."""


from pathlib import Path

import polars as pl
from dagster import AssetExecutionContext, AssetOut, Config, MetadataValue, Output, multi_asset
from pydantic import Field

from ampelios_assets.engine import read_event_csv, validated_events
from ampelios_assets.engine.validation import no_valid_events_message
from ampelios_assets.errors import EventFileError
from ampelios_assets.engine.ordering import distinct_sorted_events
from ampelios_assets.assets.timing import stopwatch
from ampelios_assets.parquet_io_manager import asset_path
from ampelios_assets.partitions import source_partitions
from ampelios_assets.resources import AmpeliosSettings
from ampelios_assets.stores import open_store


class RawEventsConfig(Config):
    events_path: str = Field(
        default="init-data/events.csv",
        description="Events CSV (optionally .gz) with columns timestamp,visitorid,event,itemid,transactionid.",
    )
    is_initial_flow: bool = Field(
        default=True,
        description="True replaces the source's events with this file; false adds them to the stored events.",
    )


@multi_asset(
    outs={
        "raw_events": AssetOut(description="Valid events of one source, deduplicated, sorted by visitor and time."),
        "rejected_events": AssetOut(description="Rows that failed validation, with line number and reason."),
    },
    partitions_def=source_partitions,
    group_name="segmentation",
)
def raw_events(context: AssetExecutionContext, config: RawEventsConfig, ampelios: AmpeliosSettings):
    """Read and validate the events file of one source."""
    with stopwatch() as timing:
        validation = validated_events(
            read_event_csv(config.events_path),
            ampelios.earliest_event_tstamp_ms,
            ampelios.latest_event_tstamp_ms,
        )
        events = validation.events
        stored_count = 0
        if not config.is_initial_flow:
            events, stored_count = _with_stored_events(events, ampelios, context.partition_key)
    # Kept events of this file that the source had already, which an
    # incremental run adds nothing for.
    already_stored = validation.events.height - (events.height - stored_count)

    for column in validation.ignored_columns:
        context.log.info(f"column {column!r} is not part of the event schema and was ignored")
    rejected_total = validation.rejected.height
    if rejected_total:
        context.log.warning(
            f"{rejected_total} of {validation.rows_read} rows rejected: "
            + ", ".join(f"{reason}={count}" for reason, count in validation.rejected_by_reason.items() if count)
        )

    yield Output(
        validation.rejected,
        output_name="rejected_events",
        metadata={"rejected": rejected_total, "rejected_by_reason": MetadataValue.json(validation.rejected_by_reason)},
    )
    if validation.events.height == 0:
        # The rejected rows are stored above; failing here keeps the source's
        # stored events and published segments as they were.
        raise EventFileError(no_valid_events_message(config.events_path, validation))

    yield Output(
        events,
        output_name="raw_events",
        metadata={
            "events_path": str(Path(config.events_path)),
            "is_initial_flow": config.is_initial_flow,
            "rows_read": validation.rows_read,
            "events_kept": validation.events.height,
            "rejected": rejected_total,
            "rejected_by_reason": MetadataValue.json(validation.rejected_by_reason),
            "duplicates": validation.duplicate_count,
            "events_already_stored": already_stored,
            "events_stored": events.height,
            "visitors": events["visitor_id"].n_unique(),
            "ignored_columns": ", ".join(validation.ignored_columns) or "none",
            "seconds": timing["seconds"],
        },
    )


def _with_stored_events(
    events: pl.DataFrame, ampelios: AmpeliosSettings, source_id: str
) -> tuple[pl.DataFrame, int]:
    # An incremental file adds to what the source already has; an event seen
    # before is recognised as an exact duplicate and stored once.
    settings = ampelios.settings()
    if settings.storage == "postgres":
        stored = open_store(settings).read_events(int(source_id))
    else:
        stored_path = asset_path(Path(ampelios.output_dir), "raw_events", source_id)
        if not stored_path.exists():
            return events, 0
        stored = pl.read_parquet(stored_path)
    return distinct_sorted_events(pl.concat([stored, events])), stored.height
