"""Turn sessions into journeys: counts per session and totals per visitor."""

from __future__ import annotations

import polars as pl

from ampelios_assets.engine.features import journey_features
from ampelios_assets.engine.sessions import sessionized_events

_COUNTS = {
    "views": pl.col("event") == "view",
    "addtocarts": pl.col("event") == "addtocart",
    "transactions": pl.col("event") == "transaction",
}


def session_journeys(sessionized: pl.DataFrame) -> pl.DataFrame:
    """Return one row per session with its event counts, start and end.

    Durations follow the `..._tstamp_ms` and `duration_s` vocabulary.
    """
    # Aggregating the session_id strings doubled the step's time on 2.7
    # million events, so the id is formatted again from its two parts.
    return (
        sessionized.group_by("visitor_id", "session_number")
        .agg(
            start_tstamp_ms=pl.col("timestamp_ms").min(),
            end_tstamp_ms=pl.col("timestamp_ms").max(),
            events=pl.len().cast(pl.Int64),
            **{name: flag.sum().cast(pl.Int64) for name, flag in _COUNTS.items()},
        )
        .with_columns(
            session_id=pl.format("{}-{}", pl.col("visitor_id"), pl.col("session_number")),
            duration_s=(pl.col("end_tstamp_ms") - pl.col("start_tstamp_ms")) / 1000,
        )
        .select(
            "visitor_id", "session_number", "session_id", "start_tstamp_ms", "end_tstamp_ms",
            "events", *_COUNTS, "duration_s",
        )
        .sort("visitor_id", "session_number")
    )


def visitor_journeys(sessions: pl.DataFrame) -> pl.DataFrame:
    """Return one row per visitor: totals over sessions and the journey itself.

    `journey` lists the (views, addtocarts, transactions) vector of each
    session in session order, which is the visitor's path through the site.
    """
    ordered = sessions.sort("visitor_id", "session_number")
    return (
        ordered.group_by("visitor_id", maintain_order=True)
        .agg(
            sessions=pl.len().cast(pl.Int64),
            views=pl.col("views").sum(),
            addtocarts=pl.col("addtocarts").sum(),
            transactions=pl.col("transactions").sum(),
            first_tstamp_ms=pl.col("start_tstamp_ms").min(),
            last_tstamp_ms=pl.col("end_tstamp_ms").max(),
            journey=pl.struct("views", "addtocarts", "transactions"),
        )
    )


def journeys_with_features(
    events: pl.DataFrame, session_gap_minutes: int = 30, max_session_minutes: int | None = None
) -> pl.DataFrame:
    """Return the journeys asset's rows for unsessionised `events`."""
    return journeys_from_sessions(sessionized_events(events, session_gap_minutes, max_session_minutes))


def journeys_from_sessions(sessionized: pl.DataFrame) -> pl.DataFrame:
    """Return one row per visitor: journey, totals, and the two ratio features."""
    visitors = visitor_journeys(session_journeys(sessionized))
    features = journey_features(visitors)
    return visitors.join(features.select("visitor_id", "views_per_session", "purchase_ratio"), on="visitor_id")
