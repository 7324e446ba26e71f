"""Stores for published results: one interface, with embedded and PostgreSQL implementations."""

from ampelios_assets.stores.base import PublishedRun, SegmentStore, SourceSummary
from ampelios_assets.stores.factory import open_store

__all__ = ["PublishedRun", "SegmentStore", "SourceSummary", "open_store"]
