"""Open the store that the settings select."""

from __future__ import annotations

from ampelios_assets.settings import Settings
from ampelios_assets.stores.base import SegmentStore


def open_store(settings: Settings) -> SegmentStore:
    """Return the store for settings.storage."""
    if settings.storage == "postgres":
        from ampelios_assets.stores.postgres import PostgresStore

        return PostgresStore(settings.database_url)

    from ampelios_assets.stores.embedded import EmbeddedStore

    return EmbeddedStore(settings.output_dir)
