"""Read a source's published results from the embedded store (Parquet files)."""

from __future__ import annotations

import polars as pl

from ampelios_assets.engine.clustering import segment_summary
from ampelios_assets.errors import AmpeliosError
from ampelios_assets.parquet_io_manager import asset_path
from ampelios_assets.settings import Settings


class NoSegmentsError(AmpeliosError):
    """The source has no segments yet."""


def load_assignments(settings: Settings, source_id: int) -> pl.DataFrame:
    """Return visitor_id, segment_id and the six features of every visitor of the source."""
    path = asset_path(settings.output_dir, "clusters", str(source_id))
    if not path.exists():
        raise NoSegmentsError(
            f"source_id {source_id} has no segments in {settings.output_dir}; "
            f"run `ampelios run --events PATH --source-id {source_id}` first"
        )
    return pl.read_parquet(path)


def load_segments(settings: Settings, source_id: int) -> pl.DataFrame:
    """Return segment_id, size and the centroid features of each segment of the source."""
    return segment_summary(load_assignments(settings, source_id))
