"""Read a source's published results from the configured store."""

from __future__ import annotations

import polars as pl

from ampelios_assets.settings import Settings
from ampelios_assets.stores import open_store
from ampelios_assets.stores.base import NoSegmentsError

__all__ = ["NoSegmentsError", "load_assignments", "load_segments"]


def load_assignments(settings: Settings, source_id: int) -> pl.DataFrame:
    """Return visitor_id, segment_id and the six features of every visitor of the source's latest run."""
    return open_store(settings).assignments(source_id)


def load_segments(settings: Settings, source_id: int) -> pl.DataFrame:
    """Return segment_id, size and the centroid features of each segment of the source's latest run."""
    return open_store(settings).segments(source_id)
