"""Planted events turned into sessions and features, for the segment tests."""

from __future__ import annotations

import functools

import polars as pl

from ampelios_assets.engine import journey_features, session_journeys, sessionized_events, visitor_journeys
from ampelios_assets.engine.schema import EVENTS_SCHEMA
from ampelios_assets.generation import planted_events


def validated(events: pl.DataFrame) -> pl.DataFrame:
    """Rename generated Retailrocket columns to the validated schema."""
    return events.select(
        timestamp_ms="timestamp",
        visitor_id="visitorid",
        event=pl.col("event").cast(EVENTS_SCHEMA["event"]),
        item_id="itemid",
        transaction_id="transactionid",
    )


@functools.cache
def planted(visitors: int = 3000, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Return (sessionized events, features, truth with visitor_id and group) of planted visitors."""
    events, truth = planted_events(visitors, seed=seed)
    sessionized = sessionized_events(validated(events))
    features = journey_features(visitor_journeys(session_journeys(sessionized)))
    return sessionized, features, truth.rename({"visitorid": "visitor_id"})
