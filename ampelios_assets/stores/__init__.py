"""Where published results live: one interface, an embedded and a PostgreSQL implementation."""

from ampelios_assets.stores.base import PublishedRun, SegmentStore, SourceSummary
from ampelios_assets.stores.factory import open_store

__all__ = ["PublishedRun", "SegmentStore", "SourceSummary", "open_store"]
