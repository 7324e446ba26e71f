"""Fold new events into a source's stored events and journeys, touching only their visitors.

Stored events are append-only and deduplicated on the natural key (every
column of the events schema), so a redelivered event is stored once. The
visitors a batch touches are re-sessionised from their full stored history,
which makes an event inside the gap of a visitor's last session extend it and
a late event land in the right session. Untouched visitors keep their rows, so
the result equals a batch run over all events by construction.
"""

from __future__ import annotations

import dataclasses

import polars as pl

from ampelios_assets.engine.journeys import journeys_with_features
from ampelios_assets.engine.ordering import distinct_sorted_events


@dataclasses.dataclass(frozen=True)
class IncrementalUpdate:
    """A source's events and journeys after a batch, and what the batch changed."""

    events: pl.DataFrame
    journeys: pl.DataFrame
    touched_visitors: pl.Series
    events_added: int
    redelivered: int


def merged_events(stored: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Return stored and new events with each natural key once, in the batch run's order."""
    return distinct_sorted_events(pl.concat([stored, new]))


def updated_journeys(
    stored_events: pl.DataFrame,
    stored_journeys: pl.DataFrame | None,
    new_events: pl.DataFrame,
    session_gap_minutes: int = 30,
    max_session_minutes: int | None = None,
) -> IncrementalUpdate:
    """Add `new_events` to a source and recompute the journeys of the visitors they touch.

    Every visitor in `new_events` counts as touched, redelivered events
    included, so rerunning a batch after a crash recomputes the same rows.
    `stored_journeys` None means the source has no journeys yet.
    """
    events = merged_events(stored_events, new_events)
    touched = new_events["visitor_id"].unique().sort()
    distinct_new = new_events.unique().height
    events_added = events.height - stored_events.height

    touched_history = events.filter(pl.col("visitor_id").is_in(touched.implode()))
    recomputed = journeys_with_features(touched_history, session_gap_minutes, max_session_minutes)
    if stored_journeys is None or stored_journeys.height == 0:
        journeys = recomputed
    else:
        kept = stored_journeys.filter(~pl.col("visitor_id").is_in(touched.implode()))
        journeys = pl.concat([kept, recomputed.cast(dict(kept.schema))]).sort("visitor_id")

    return IncrementalUpdate(
        events=events,
        journeys=journeys,
        touched_visitors=touched,
        events_added=events_added,
        redelivered=distinct_new - events_added,
    )
