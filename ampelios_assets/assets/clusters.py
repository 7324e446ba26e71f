"""clusters: every visitor's segment, with segment sizes and centroids as metadata."""


import polars as pl
from dagster import AssetExecutionContext, Config, MetadataValue, asset
from pydantic import Field

from ampelios_assets.assets.timing import stopwatch
from ampelios_assets.engine import journey_features, segment_visitors
from ampelios_assets.engine.schema import FEATURE_NAMES
from ampelios_assets.partitions import source_partitions
from ampelios_assets.resources import AmpeliosSettings
from ampelios_assets.settings import Settings

_DEFAULTS = Settings.from_env()


class ClusterConfig(Config):
    cluster_count: int = Field(
        default=_DEFAULTS.cluster_count, ge=1, le=50, description="Number of segments requested."
    )


@asset(partitions_def=source_partitions, group_name="segmentation")
def clusters(
    context: AssetExecutionContext,
    config: ClusterConfig,
    ampelios: AmpeliosSettings,
    journeys: pl.DataFrame,
) -> pl.DataFrame:
    """visitor_id, segment_id and the six features, one row per visitor."""
    with stopwatch() as timing:
        segmentation = segment_visitors(
            journey_features(journeys), config.cluster_count, ampelios.random_state
        )
    for message in segmentation.warnings:
        context.log.warning(message)
    published = ampelios.store().publish_run(
        int(context.partition_key),
        context.run.run_id,
        segmentation.segments,
        segmentation.assignments,
        metadata={"model": segmentation.model, "warnings": list(segmentation.warnings)},
    )

    segments = segmentation.segments
    context.add_output_metadata(
        {
            "cluster_count": config.cluster_count,
            "segments_found": segments.height,
            "visitors": segmentation.assignments.height,
            "segment_sizes": MetadataValue.json(
                {str(row["segment_id"]): row["size"] for row in segments.iter_rows(named=True)}
            ),
            "centroids": MetadataValue.md(_centroid_table(segments)),
            "warnings": "; ".join(segmentation.warnings) or "none",
            "published_run_id": published.run_id,
            "seconds": timing["seconds"],
        }
    )
    return segmentation.assignments


def _centroid_table(segments: pl.DataFrame) -> str:
    header = "| segment | size | " + " | ".join(FEATURE_NAMES) + " |"
    rule = "|" + "---|" * (len(FEATURE_NAMES) + 2)
    rows = [
        f"| {row['segment_id']} | {row['size']} | "
        + " | ".join(f"{row[name]:.3f}" for name in FEATURE_NAMES)
        + " |"
        for row in segments.iter_rows(named=True)
    ]
    return "\n".join([header, rule, *rows])
