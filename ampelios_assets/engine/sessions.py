"""Split each visitor's events into sessions."""

from __future__ import annotations

import polars as pl

from ampelios_assets.engine.ordering import sorted_events

_MS_PER_MINUTE = 60_000


def sessionized_events(
    events: pl.DataFrame,
    session_gap_minutes: int = 30,
    max_session_minutes: int | None = None,
) -> pl.DataFrame:
    """Annotate each event with its visitor's `session_number` and a `session_id`.

    A session starts at a visitor's first event and whenever the gap to the
    visitor's previous event is strictly greater than `session_gap_minutes`.
    With `max_session_minutes`, a session is also cut into consecutive windows
    of that length measured from its first event. Session numbers start at 1
    per visitor and have no holes; `session_id` is "<visitor_id>-<session_number>".

    Works by one sort and shifts over the whole frame: per-visitor window
    expressions were measured to be two orders of magnitude slower on
    a million visitors.
    """
    if session_gap_minutes <= 0:
        raise ValueError(f"session_gap_minutes must be positive, got {session_gap_minutes}")
    if max_session_minutes is not None and max_session_minutes <= 0:
        raise ValueError(f"max_session_minutes must be positive or None, got {max_session_minutes}")

    ordered = sorted_events(events)
    visitor = pl.col("visitor_id")
    timestamp = pl.col("timestamp_ms")

    is_first_of_visitor = (visitor != visitor.shift(1)).fill_null(True)
    gap_ms = timestamp - timestamp.shift(1)
    starts_session = is_first_of_visitor | (gap_ms > session_gap_minutes * _MS_PER_MINUTE)
    annotated = ordered.with_columns(
        _is_first_of_visitor=is_first_of_visitor, _starts_session=starts_session
    )

    if max_session_minutes is not None:
        annotated = annotated.with_columns(
            _starts_session=_window_starts(max_session_minutes * _MS_PER_MINUTE)
        )

    # A running count of session starts numbers sessions over the whole frame;
    # subtracting the count at the visitor's first event makes it per visitor.
    global_number = pl.col("_starts_session").cum_sum()
    numbered = annotated.with_columns(_global_number=global_number.cast(pl.Int64))
    first_of_visitor = (
        pl.when(pl.col("_is_first_of_visitor")).then(pl.col("_global_number")).forward_fill()
    )
    session_number = (pl.col("_global_number") - first_of_visitor + 1).cast(pl.Int32)

    return numbered.with_columns(session_number=session_number).with_columns(
        session_id=pl.format("{}-{}", visitor, pl.col("session_number"))
    ).drop("_is_first_of_visitor", "_starts_session", "_global_number")


def _window_starts(max_session_ms: int) -> pl.Expr:
    # Within a gap-delimited session, an event starts a new session when its
    # window index, counted in max_session_ms from the session's first event,
    # differs from the previous event's.
    timestamp = pl.col("timestamp_ms")
    gap_session_start = pl.when(pl.col("_starts_session")).then(timestamp).forward_fill()
    window = (timestamp - gap_session_start) // max_session_ms
    return pl.col("_starts_session") | (window != window.shift(1)).fill_null(True)
