"""clusters: every visitor's segment, with labelled segments, quality and charts as metadata."""


import polars as pl
from dagster import AssetExecutionContext, Config, MetadataValue, asset
from pydantic import Field

from ampelios_assets.assets.timing import stopwatch
from ampelios_assets.engine import journey_features
from ampelios_assets.engine.schema import FEATURE_NAMES
from ampelios_assets.engine.segment_run import SegmentRunOptions, segment_run
from ampelios_assets.history import latest_transitions, previous_model
from ampelios_assets.partitions import source_partitions
from ampelios_assets.resources import AmpeliosSettings
from ampelios_assets.segment_views import clusters_markdown
from ampelios_assets.settings import Settings

_DEFAULTS = Settings.from_env()


class ClusterConfig(Config):
    cluster_count: int = Field(
        default=_DEFAULTS.cluster_count, ge=1, le=50, description="Number of segments requested."
    )
    auto_cluster_count: bool = Field(
        default=False,
        description="Pick the number of segments automatically (the smallest k with the most "
        "different segment labels) and ignore cluster_count.",
    )


@asset(partitions_def=source_partitions, group_name="segmentation")
def clusters(
    context: AssetExecutionContext,
    config: ClusterConfig,
    ampelios: AmpeliosSettings,
    journeys: pl.DataFrame,
    sessionized_events: pl.DataFrame,
) -> pl.DataFrame:
    """visitor_id, segment_id and the six features, one row per visitor."""
    settings = ampelios.settings()
    store = ampelios.store()
    source_id = int(context.partition_key)
    options = SegmentRunOptions(
        cluster_count="auto" if config.auto_cluster_count else config.cluster_count,
        random_state=ampelios.random_state,
        min_centroid_distance=settings.min_centroid_distance,
        match_max_distance=settings.segment_match_max_distance,
        quality_sample_size=settings.quality_sample_size,
        bootstrap_resamples=settings.bootstrap_resamples,
        predictive_min_span_days=settings.predictive_min_span_days,
    )
    with stopwatch() as timing:
        run = segment_run(
            journey_features(journeys), previous_model(store, source_id), options, sessionized_events
        )
    for message in (*run.warnings, *run.metadata["cluster_count_notes"]):
        context.log.warning(message)
    published = store.publish_run(
        source_id,
        context.run.run_id,
        run.segments,
        run.assignments,
        metadata={"model": run.model, "warnings": list(run.warnings), **run.metadata},
    )
    transitions = latest_transitions(store, source_id)

    segments = run.segments
    context.add_output_metadata(
        {
            "cluster_count": config.cluster_count,
            "cluster_count_used": run.metadata["cluster_count"]["used"],
            "segments_found": segments.height,
            "visitors": run.assignments.height,
            "segment_sizes": MetadataValue.json(
                {str(row["segment_id"]): row["size"] for row in segments.iter_rows(named=True)}
            ),
            "segment_labels": MetadataValue.json(
                {str(row["segment_id"]): row["label"] for row in segments.iter_rows(named=True)}
            ),
            "centroids": MetadataValue.md(_centroid_table(segments)),
            "profile": MetadataValue.md(clusters_markdown(segments, run.metadata["quality"], transitions)),
            "quality": MetadataValue.json(run.metadata["quality"]),
            "segment_matches": MetadataValue.json(run.metadata["matches"]),
            "silhouette": run.metadata["quality"]["silhouette"] or float("nan"),
            "warnings": MetadataValue.json(list((*run.warnings, *run.metadata["cluster_count_notes"]))),
            "published_run_id": published.run_id,
            "seconds": timing["seconds"],
        }
    )
    return run.assignments


def _centroid_table(segments: pl.DataFrame) -> str:
    header = "| segment | label | size | " + " | ".join(FEATURE_NAMES) + " |"
    rule = "|" + "---|" * (len(FEATURE_NAMES) + 3)
    rows = [
        f"| {row['segment_id']} | {row['label']} | {row['size']} | "
        + " | ".join(f"{row[name]:.3f}" for name in FEATURE_NAMES)
        + " |"
        for row in segments.iter_rows(named=True)
    ]
    return "\n".join([header, rule, *rows])
