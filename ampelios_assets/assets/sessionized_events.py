"""sessionized_events: each event annotated with its visitor's session."""


import polars as pl
from dagster import AssetExecutionContext, Config, asset
from pydantic import Field

from ampelios_assets.assets.timing import stopwatch
from ampelios_assets.engine import sessions as engine_sessions
from ampelios_assets.partitions import source_partitions
from ampelios_assets.settings import Settings

_DEFAULTS = Settings.from_env()


class SessionConfig(Config):
    session_gap_minutes: int = Field(
        default=_DEFAULTS.session_gap_minutes,
        gt=0,
        description="A gap strictly greater than this starts a new session.",
    )
    max_session_minutes: int = Field(
        default=_DEFAULTS.max_session_minutes,
        ge=0,
        description="Cut sessions into windows of this length; 0 turns the cap off.",
    )


@asset(partitions_def=source_partitions, group_name="segmentation")
def sessionized_events(
    context: AssetExecutionContext, config: SessionConfig, raw_events: pl.DataFrame
) -> pl.DataFrame:
    """Events with session_number (from 1 per visitor) and session_id."""
    with stopwatch() as timing:
        result = engine_sessions.sessionized_events(
            raw_events,
            session_gap_minutes=config.session_gap_minutes,
            max_session_minutes=config.max_session_minutes or None,
        )

    context.add_output_metadata(
        {
            "session_gap_minutes": config.session_gap_minutes,
            "max_session_minutes": config.max_session_minutes,
            "events": result.height,
            "visitors": result["visitor_id"].n_unique(),
            "sessions": result["session_id"].n_unique(),
            "seconds": timing["seconds"],
        }
    )
    return result
