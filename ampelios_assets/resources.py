"""Dagster resources that carry Ampelios settings into assets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dagster import ConfigurableResource

from ampelios_assets.settings import Settings
from ampelios_assets.stores import SegmentStore, open_store


class AmpeliosSettings(ConfigurableResource):
    """Settings the assets need beyond their run config; see settings.py for each one's meaning."""

    output_dir: str
    earliest_event_tstamp_ms: int
    latest_event_tstamp_ms: int
    random_state: int = 0
    storage: str = "embedded"
    database_url: str = ""

    def settings(self) -> Settings:
        """Return the process settings with this resource's directories and storage."""
        return dataclasses.replace(
            Settings.from_env(),
            output_dir=Path(self.output_dir),
            storage=self.storage,
            database_url=self.database_url,
        )

    def store(self) -> SegmentStore:
        """Open the store that published results go to."""
        return open_store(self.settings())

    @classmethod
    def from_settings(cls, settings: Settings) -> "AmpeliosSettings":
        return cls(
            output_dir=str(settings.output_dir),
            earliest_event_tstamp_ms=settings.earliest_event_tstamp_ms,
            latest_event_tstamp_ms=settings.latest_event_tstamp_ms,
            random_state=settings.random_state,
            storage=settings.storage,
            database_url=settings.database_url,
        )
