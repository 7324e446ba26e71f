"""journeys: per-session counts, per-visitor totals and the six features."""


import polars as pl
from dagster import AssetExecutionContext, asset

from ampelios_assets.assets.timing import stopwatch
from ampelios_assets.engine import journey_features, session_journeys, visitor_journeys
from ampelios_assets.partitions import source_partitions


@asset(partitions_def=source_partitions, group_name="segmentation")
def journeys(context: AssetExecutionContext, sessionized_events: pl.DataFrame) -> pl.DataFrame:
    """Build one row per visitor: the journey (counts per session), totals and features."""
    with stopwatch() as timing:
        visitors = visitor_journeys(session_journeys(sessionized_events))
        features = journey_features(visitors)
        result = visitors.join(
            features.select("visitor_id", "views_per_session", "purchase_ratio"), on="visitor_id"
        )

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
