"""Incremental journeys and segments: replays in batches equal one batch run."""

import numpy as np
import polars as pl
import pytest

from ampelios_assets.engine.incremental import journeys_with_features, updated_journeys
from ampelios_assets.engine.incremental_segments import FitHistory, refit_due, refit_segments, updated_segments
from ampelios_assets.engine.schema import EVENTS_SCHEMA, FEATURE_NAMES
from ampelios_assets.engine.validation import validated_events
from ampelios_assets.generation import retailrocket_events
from tests.conftest import BASE_TSTAMP_MS, MINUTE_MS, events_frame

T = BASE_TSTAMP_MS


def _generated_events(visitors: int, seed: int) -> pl.DataFrame:
    raw = retailrocket_events(visitors, seed=seed).cast(pl.String)
    return validated_events(raw, 0, 2**62).events


def _replayed(events: pl.DataFrame, batch_count: int, seed: int = 0):
    # Shuffle, so that batches carry late events for visitors seen before.
    shuffled = events.sample(fraction=1.0, shuffle=True, seed=seed)
    stored, journeys = pl.DataFrame(schema=EVENTS_SCHEMA), None
    for batch in np.array_split(np.arange(shuffled.height), batch_count):
        update = updated_journeys(stored, journeys, shuffled[batch.tolist()])
        stored, journeys = update.events, update.journeys
    return stored, journeys


@pytest.mark.parametrize("batch_count", [1, 5, 50])
def test_replay_equals_batch_run(batch_count):
    events = _generated_events(400, seed=7)
    stored, journeys = _replayed(events, batch_count)
    assert stored.equals(events)
    assert journeys.equals(journeys_with_features(events, 30, None))


def test_event_within_gap_extends_last_session():
    stored = events_frame([(T, 1, "view", 10, None), (T + 5 * MINUTE_MS, 1, "view", 11, None)])
    first = updated_journeys(stored.clear(), None, stored)
    later = updated_journeys(first.events, first.journeys, events_frame([(T + 30 * MINUTE_MS, 1, "addtocart", 11, None)]))
    row = later.journeys.row(0, named=True)
    assert row["sessions"] == 1
    assert row["journey"] == [{"views": 2, "addtocarts": 1, "transactions": 0}]


def test_late_event_joins_two_sessions():
    stored = events_frame([(T, 1, "view", 10, None), (T + 50 * MINUTE_MS, 1, "view", 11, None)])
    first = updated_journeys(stored.clear(), None, stored)
    assert first.journeys["sessions"].to_list() == [2]
    late = events_frame([(T + 25 * MINUTE_MS, 1, "addtocart", 10, None)])
    later = updated_journeys(first.events, first.journeys, late)
    assert later.journeys["sessions"].to_list() == [1]
    assert later.journeys["addtocarts"].to_list() == [1]


def test_untouched_visitor_rows_kept():
    stored = events_frame([(T, 1, "view", 10, None), (T, 2, "view", 10, None)])
    first = updated_journeys(stored.clear(), None, stored)
    later = updated_journeys(first.events, first.journeys, events_frame([(T + MINUTE_MS, 2, "view", 12, None)]))
    assert later.touched_visitors.to_list() == [2]
    assert later.journeys.filter(visitor_id=1).equals(first.journeys.filter(visitor_id=1))
    assert later.journeys["views"].to_list() == [1, 2]


def test_redelivered_events_count_once():
    batch = events_frame([(T, 1, "view", 10, None), (T + MINUTE_MS, 1, "view", 11, None)])
    first = updated_journeys(batch.clear(), None, batch)
    again = updated_journeys(first.events, first.journeys, batch)
    assert again.events_added == 0
    assert again.redelivered == 2
    assert again.events.height == 2
    assert again.journeys.equals(first.journeys)


def _features(rows):
    return pl.DataFrame(
        [(visitor, *values) for visitor, values in rows],
        schema=["visitor_id", *FEATURE_NAMES],
        orient="row",
    ).cast({"visitor_id": pl.Int64, **{name: pl.Float64 for name in FEATURE_NAMES}})


# Two clear groups: single viewers and heavy buyers.
_BASE = [(v, (1, 0, 0, 1, 1.0, 0.0)) for v in range(1, 21)] + [
    (v, (30, 5, 3, 4, 7.5, 0.1)) for v in range(21, 31)
]


def test_changed_visitor_assigned_with_published_model():
    fitted = refit_segments(_features(_BASE), None, cluster_count=2)
    buyers_id = fitted.assignments.filter(visitor_id=21)["segment_id"].item()
    changed = _features([*_BASE[1:], (1, (28, 4, 3, 4, 7.0, 0.1))])
    update = updated_segments(
        changed, pl.Series([1]), fitted.assignments, fitted.model, fitted.history, 2, refit_changed_percent=50
    )
    assert not update.refitted
    assert update.model == fitted.model
    assert update.assignments.filter(visitor_id=1)["segment_id"].item() == buyers_id
    expected_sizes = {buyers_id: 11, 1 - buyers_id: 19}
    assert dict(update.segments.select("segment_id", "size").iter_rows()) == expected_sizes
    assert update.history == FitHistory(visitors_at_fit=30, changed_since_fit=1)


def test_refit_keeps_segment_ids():
    fitted = refit_segments(_features(_BASE), None, cluster_count=2)
    # Renumber the published ids, as a previous matching may have left them.
    swapped = fitted.assignments.with_columns(segment_id=1 - pl.col("segment_id"))
    refitted = refit_segments(_features(_BASE), swapped, cluster_count=2)
    assert refitted.assignments["segment_id"].to_list() == swapped["segment_id"].to_list()
    centers = np.asarray(refitted.model["centers"])
    assert np.allclose(centers[0], np.asarray(fitted.model["centers"])[1])


@pytest.mark.parametrize(
    ("history", "changed", "percent", "expected"),
    [
        (FitHistory(100, 0), 10, 10.0, False),
        (FitHistory(100, 5), 6, 10.0, True),
        (FitHistory(100, 0), 1, 0.0, True),
        (None, 0, 10.0, True),
    ],
)
def test_refit_due_threshold(history, changed, percent, expected):
    assert refit_due(history, changed, percent) is expected
