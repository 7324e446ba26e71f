"""Journeys and features worked out by hand."""

import pytest

from ampelios_assets.engine import journey_features, session_journeys, sessionized_events, visitor_journeys
from ampelios_assets.engine.schema import FEATURE_NAMES
from tests.conftest import BASE_TSTAMP_MS, MINUTE_MS, events_frame

HOUR = 60 * MINUTE_MS


@pytest.fixture
def buyer_journeys():
    # Visitor 7: session 1 has 2 views and a cart; session 2 has 1 view, a cart
    # and a transaction. Visitor 8 buys without a recorded view.
    events = events_frame(
        [
            (BASE_TSTAMP_MS, 7, "view", 1, None),
            (BASE_TSTAMP_MS + MINUTE_MS, 7, "view", 2, None),
            (BASE_TSTAMP_MS + 2 * MINUTE_MS, 7, "addtocart", 2, None),
            (BASE_TSTAMP_MS + 5 * HOUR, 7, "view", 2, None),
            (BASE_TSTAMP_MS + 5 * HOUR + MINUTE_MS, 7, "addtocart", 2, None),
            (BASE_TSTAMP_MS + 5 * HOUR + 2 * MINUTE_MS, 7, "transaction", 2, 55),
            (BASE_TSTAMP_MS, 8, "transaction", 3, 56),
        ]
    )
    return visitor_journeys(session_journeys(sessionized_events(events)))


def test_journey_lists_session_vectors(buyer_journeys):
    journey = buyer_journeys.filter(visitor_id=7)["journey"].to_list()[0]
    assert journey == [
        {"views": 2, "addtocarts": 1, "transactions": 0},
        {"views": 1, "addtocarts": 1, "transactions": 1},
    ]


def test_features_by_hand(buyer_journeys):
    features = journey_features(buyer_journeys)
    assert features.columns == ["visitor_id", *FEATURE_NAMES]
    rows = {row[0]: row[1:] for row in features.iter_rows()}
    # purchase_ratio = (1 transaction / 2 sessions) / (3 views / 2 sessions) = 1/3.
    assert rows[7] == (3, 2, 1, 2, 1.5, pytest.approx(1 / 3))
    # No views: the ratio divides by one view instead of zero.
    assert rows[8] == (0, 0, 1, 1, 0.0, 1.0)


def test_session_journey_duration(buyer_journeys):
    events = events_frame([(BASE_TSTAMP_MS, 1, "view", 1, None), (BASE_TSTAMP_MS + 90_500, 1, "view", 2, None)])
    sessions = session_journeys(sessionized_events(events))
    assert sessions["duration_s"].to_list() == [90.5]
    assert sessions["session_id"].to_list() == ["1-1"]
