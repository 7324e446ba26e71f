"""A slow, obviously correct plain-Python sessioniser and feature builder.

The tests check the vectorised Polars engine against it on random inputs.
"""

from __future__ import annotations

from collections import defaultdict

EVENT_RANK = {"view": 0, "addtocart": 1, "transaction": 2}


def reference_sessions(events: list[tuple], gap_minutes: int, max_session_minutes: int | None = None) -> dict:
    """Return {(visitor, timestamp, event, item, transaction): session_number} for unique events."""
    by_visitor = defaultdict(set)
    for event in events:
        by_visitor[event[1]].add(event)

    numbers = {}
    for visitor, visitor_events in by_visitor.items():
        ordered = sorted(
            visitor_events,
            key=lambda e: (e[0], EVENT_RANK[e[2]], e[3], float("inf") if e[4] is None else e[4]),
        )
        session = 0
        previous_ts = None
        session_start = None
        window = None
        for event in ordered:
            timestamp = event[0]
            if previous_ts is None or timestamp - previous_ts > gap_minutes * 60_000:
                session += 1
                session_start = timestamp
                window = 0
            elif max_session_minutes is not None:
                event_window = (timestamp - session_start) // (max_session_minutes * 60_000)
                if event_window != window:
                    session += 1
                    window = event_window
            numbers[event] = session
            previous_ts = timestamp
    return numbers


def reference_features(events: list[tuple], gap_minutes: int) -> dict:
    """Return {visitor: (views, addtocarts, transactions, sessions, views_per_session, purchase_ratio)}."""
    sessions = reference_sessions(events, gap_minutes)
    totals = defaultdict(lambda: {"view": 0, "addtocart": 0, "transaction": 0, "sessions": set()})
    for event, session in sessions.items():
        visitor = event[1]
        totals[visitor][event[2]] += 1
        totals[visitor]["sessions"].add(session)

    features = {}
    for visitor, t in totals.items():
        session_count = len(t["sessions"])
        views = t["view"]
        features[visitor] = (
            views,
            t["addtocart"],
            t["transaction"],
            session_count,
            views / session_count,
            t["transaction"] / max(views, 1),
        )
    return features
