"""The vectorised engine against the plain-Python reference, on random inputs."""

import polars as pl
from hypothesis import given, settings, strategies as st

from ampelios_assets.engine import journey_features, session_journeys, sessionized_events, visitor_journeys
from ampelios_assets.engine.schema import FEATURE_NAMES
from tests.conftest import BASE_TSTAMP_MS, MINUTE_MS, events_frame
from tests.reference import reference_features, reference_sessions

# Offsets cluster around the 30-minute boundary so that many gaps land on it.
_offset_ms = st.one_of(
    st.integers(0, 3 * 60 * MINUTE_MS),
    st.sampled_from([0, 30 * MINUTE_MS, 30 * MINUTE_MS + 1, 30 * MINUTE_MS - 1, 60 * MINUTE_MS]),
)
_event = st.tuples(
    _offset_ms,
    st.integers(0, 6),
    st.sampled_from(["view", "view", "view", "addtocart", "transaction"]),
    st.integers(0, 4),
).map(lambda t: (BASE_TSTAMP_MS + t[0], t[1], t[2], t[3], 900 + t[1] if t[2] == "transaction" else None))


def _unique(rows):
    return list(dict.fromkeys(rows))


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(_event, max_size=60), gap=st.sampled_from([1, 20, 30]), cap=st.sampled_from([None, 15, 45]))
def test_session_numbers_match_reference(rows, gap, cap):
    rows = _unique(rows)
    expected = reference_sessions(rows, gap, cap)
    result = sessionized_events(events_frame(rows), session_gap_minutes=gap, max_session_minutes=cap)
    actual = {
        (r["timestamp_ms"], r["visitor_id"], r["event"], r["item_id"], r["transaction_id"]): r["session_number"]
        for r in result.iter_rows(named=True)
    }
    assert actual == expected


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(_event, max_size=60), gap=st.sampled_from([20, 30]))
def test_features_match_reference(rows, gap):
    rows = _unique(rows)
    expected = reference_features(rows, gap)
    sessions = sessionized_events(events_frame(rows), session_gap_minutes=gap)
    features = journey_features(visitor_journeys(session_journeys(sessions)))
    actual = {row[0]: tuple(row[1:]) for row in features.select("visitor_id", *FEATURE_NAMES).iter_rows()}
    assert actual.keys() == expected.keys()
    for visitor, values in expected.items():
        assert actual[visitor] == values, visitor


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(_event, min_size=1, max_size=60), seed=st.integers(0, 1000))
def test_shuffled_events_give_identical_journeys(rows, seed):
    rows = _unique(rows)
    frame = events_frame(rows)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    original = visitor_journeys(session_journeys(sessionized_events(frame)))
    reordered = visitor_journeys(session_journeys(sessionized_events(shuffled)))
    assert original.equals(reordered)


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(_event, max_size=60))
def test_totals_equal_sum_over_sessions(rows):
    sessions = session_journeys(sessionized_events(events_frame(_unique(rows))))
    visitors = visitor_journeys(sessions)
    for column in ("views", "addtocarts", "transactions"):
        assert visitors[column].sum() == sessions[column].sum()
    per_visitor = visitors.select(
        "sessions",
        journey_views=pl.col("journey").list.eval(pl.element().struct.field("views")).list.sum(),
        views=pl.col("views"),
        journey_length=pl.col("journey").list.len(),
    )
    assert (per_visitor["journey_views"] == per_visitor["views"]).all()
    assert (per_visitor["journey_length"] == per_visitor["sessions"]).all()
