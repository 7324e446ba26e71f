"""journeys: per-session counts, per-visitor totals and the six features."""


import polars as pl
from dagster import AssetExecutionContext, asset

from ampelios_assets.assets.timing import stopwatch
from ampelios_assets.engine.journeys import journeys_from_sessions
from ampelios_assets.partitions import source_partitions


@asset(partitions_def=source_partitions, group_name="segmentation")
def journeys(context: AssetExecutionContext, sessionized_events: pl.DataFrame) -> pl.DataFrame:
    """Build one row per visitor: the journey (counts per session), totals and features."""
    with stopwatch() as timing:
        result = journeys_from_sessions(sessionized_events)

    context.add_output_metadata(
        {
            "visitors": result.height,
            "sessions": int(result["sessions"].sum() or 0),
            "views": int(result["views"].sum() or 0),
            "addtocarts": int(result["addtocarts"].sum() or 0),
            "transactions": int(result["transactions"].sum() or 0),
            "seconds": timing["seconds"],
        }
    )
    return result
