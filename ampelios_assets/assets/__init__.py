"""Dagster assets: thin wrappers that call one engine step each and record metadata."""

from ampelios_assets.assets.clusters import clusters
from ampelios_assets.assets.journeys import journeys
from ampelios_assets.assets.raw_events import raw_events
from ampelios_assets.assets.sessionized_events import sessionized_events

ALL_ASSETS = [raw_events, sessionized_events, journeys, clusters]
