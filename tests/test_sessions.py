"""Sessionisation: the gap rule, numbering, ordering and the optional cap."""

import polars as pl

from ampelios_assets.engine import sessionized_events
from tests.conftest import BASE_TSTAMP_MS, MINUTE_MS, events_frame


def _session_numbers(events: pl.DataFrame, **kwargs) -> list[int]:
    return sessionized_events(events, **kwargs)["session_number"].to_list()


def test_gap_of_thirty_minutes_stays():
    events = events_frame(
        [(BASE_TSTAMP_MS, 1, "view", 10, None), (BASE_TSTAMP_MS + 30 * MINUTE_MS, 1, "view", 11, None)]
    )
    assert _session_numbers(events) == [1, 1]


def test_gap_just_over_thirty_minutes_splits():
    events = events_frame(
        [(BASE_TSTAMP_MS, 1, "view", 10, None), (BASE_TSTAMP_MS + 30 * MINUTE_MS + 1, 1, "view", 11, None)]
    )
    assert _session_numbers(events) == [1, 2]


def test_gap_setting_changes_boundary():
    events = events_frame(
        [(BASE_TSTAMP_MS, 1, "view", 10, None), (BASE_TSTAMP_MS + 25 * MINUTE_MS, 1, "view", 11, None)]
    )
    assert _session_numbers(events, session_gap_minutes=30) == [1, 1]
    assert _session_numbers(events, session_gap_minutes=20) == [1, 2]


def test_session_numbers_restart_per_visitor_without_holes():
    hour = 60 * MINUTE_MS
    events = events_frame(
        [
            (BASE_TSTAMP_MS + 5 * hour, 2, "view", 1, None),
            (BASE_TSTAMP_MS, 1, "view", 1, None),
            (BASE_TSTAMP_MS + hour, 1, "view", 1, None),
            (BASE_TSTAMP_MS + 3 * hour, 1, "view", 2, None),
            (BASE_TSTAMP_MS, 2, "view", 1, None),
        ]
    )
    result = sessionized_events(events)
    assert result.select("visitor_id", "session_number", "session_id").rows() == [
        (1, 1, "1-1"),
        (1, 2, "1-2"),
        (1, 3, "1-3"),
        (2, 1, "2-1"),
        (2, 2, "2-2"),
    ]


def test_same_timestamp_orders_view_cart_transaction():
    events = events_frame(
        [
            (BASE_TSTAMP_MS, 1, "transaction", 5, 77),
            (BASE_TSTAMP_MS, 1, "view", 5, None),
            (BASE_TSTAMP_MS, 1, "addtocart", 5, None),
        ]
    )
    assert sessionized_events(events)["event"].cast(pl.String).to_list() == ["view", "addtocart", "transaction"]


def test_shuffled_input_gives_identical_result():
    rows = [(BASE_TSTAMP_MS + i * 7 * MINUTE_MS, i % 3, "view", i, None) for i in range(60)]
    ordered = sessionized_events(events_frame(rows))
    shuffled = sessionized_events(events_frame(rows).sample(fraction=1.0, shuffle=True, seed=3))
    assert ordered.equals(shuffled)


def test_max_session_minutes_cuts_long_sessions():
    # Views every 10 minutes for 2 hours: one session by the gap rule alone,
    # and 60-minute windows from the first event with the cap.
    events = events_frame([(BASE_TSTAMP_MS + i * 10 * MINUTE_MS, 1, "view", i, None) for i in range(13)])
    assert _session_numbers(events) == [1] * 13
    assert _session_numbers(events, max_session_minutes=60) == [1] * 6 + [2] * 6 + [3]


def test_visitor_with_ten_thousand_events():
    # Bursts of 100 views one minute apart, with 2-hour pauses between bursts.
    rows = [
        (BASE_TSTAMP_MS + burst * 240 * MINUTE_MS + i * MINUTE_MS, 42, "view", i, None)
        for burst in range(100)
        for i in range(100)
    ]
    result = sessionized_events(events_frame(rows))
    assert result.height == 10_000
    assert result["session_number"].max() == 100
    counts = result.group_by("session_number").len()["len"]
    assert counts.min() == 100
    assert counts.max() == 100


def test_empty_frame_has_no_sessions():
    result = sessionized_events(events_frame([]))
    assert result.height == 0
    assert {"session_number", "session_id"} <= set(result.columns)
