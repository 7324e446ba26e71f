"""Transitions between runs and visitor history, from frames and from a store's snapshots."""

import polars as pl
import pytest

from ampelios_assets.engine.transitions import segment_transitions, visitor_segment_history
from ampelios_assets.errors import AmpeliosError
from ampelios_assets.history import run_transitions, visitor_history
from ampelios_assets.stores.base import NoSegmentsError
from ampelios_assets.stores.embedded import EmbeddedStore


def _assignments(pairs):
    return pl.DataFrame(pairs, schema={"visitor_id": pl.Int64, "segment_id": pl.Int32}, orient="row")


def _segments(labels):
    return pl.DataFrame(
        {"segment_id": list(labels), "size": [1] * len(labels), "label": list(labels.values())},
        schema={"segment_id": pl.Int32, "size": pl.Int64, "label": pl.String},
    )


PREVIOUS = _assignments([(1, 0), (2, 0), (3, 1), (4, 1)])
CURRENT = _assignments([(1, 0), (2, 1), (3, 1), (5, 2)])


def test_transitions_by_hand():
    transitions = segment_transitions(PREVIOUS, CURRENT)
    assert transitions.rows() == [(0, 0, 1), (0, 1, 1), (1, 1, 1), (1, None, 1), (None, 2, 1)]


def test_transitions_count_union_of_visitors():
    transitions = segment_transitions(PREVIOUS, CURRENT)
    assert transitions["visitors"].sum() == 5


def test_visitor_history_skips_missing_runs():
    history = visitor_segment_history([("a", PREVIOUS), ("b", CURRENT)], 4)
    assert history.rows() == [("a", 1)]
    assert visitor_segment_history([("a", PREVIOUS), ("b", CURRENT)], 2).rows() == [("a", 0), ("b", 1)]


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.publish_run(1, "run-a", _segments({0: "buyer", 1: "one_time_browser"}), PREVIOUS)
    store.publish_run(1, "run-b", _segments({0: "buyer", 1: "one_time_browser", 2: "cart_abandoner"}), CURRENT)
    return store


def test_store_transitions_carry_labels(store):
    transitions = run_transitions(store, 1)
    assert transitions["from_run"].unique().to_list() == ["run-a"]
    assert transitions["to_run"].unique().to_list() == ["run-b"]
    assert transitions.select("from_label", "to_label", "visitors").rows() == [
        ("buyer", "buyer", 1),
        ("buyer", "one_time_browser", 1),
        ("one_time_browser", "one_time_browser", 1),
        ("one_time_browser", None, 1),
        (None, "cart_abandoner", 1),
    ]


def test_store_transitions_need_two_runs(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.publish_run(1, "only", _segments({0: "buyer"}), _assignments([(1, 0)]))
    with pytest.raises(AmpeliosError, match="no run before 'only'"):
        run_transitions(store, 1)


def test_store_visitor_history(store):
    history = visitor_history(store, 1, 2)
    assert history.select("run_id", "segment_id", "label").rows() == [("run-a", 0, "buyer"), ("run-b", 1, "one_time_browser")]
    assert visitor_history(store, 1, 99).height == 0


def test_history_of_unknown_source(tmp_path):
    with pytest.raises(NoSegmentsError, match="source_id 3 has no segments yet"):
        visitor_history(EmbeddedStore(tmp_path), 3, 1)
