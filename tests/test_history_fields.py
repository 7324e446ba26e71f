"""The GraphQL history fields, executed by Strawberry against a real embedded store."""

import polars as pl
import pytest
import strawberry

from ampelios_api.history_fields import HistoryQuery
from ampelios_assets.stores.embedded import EmbeddedStore

SCHEMA = strawberry.Schema(query=HistoryQuery)


def _frame(pairs):
    return pl.DataFrame(pairs, schema={"visitor_id": pl.Int64, "segment_id": pl.Int32}, orient="row")


@pytest.fixture
def store(tmp_path):
    store = EmbeddedStore(tmp_path)
    segments = pl.DataFrame({"segment_id": [0, 1], "size": [1, 1], "label": ["buyer", "one_time_browser"]},
                            schema={"segment_id": pl.Int32, "size": pl.Int64, "label": pl.String})
    store.publish_run(1, "run-a", segments, _frame([(1, 0), (2, 1)]))
    store.publish_run(1, "run-b", segments, _frame([(1, 1), (2, 1), (3, 0)]))
    return store


def test_transitions_field(store):
    result = SCHEMA.execute_sync(
        "{ transitions(sourceId: 1, fromRun: \"run-a\", toRun: \"run-b\") "
        "{ fromRun toRun transitions { fromSegmentId fromLabel toSegmentId toLabel visitors } } }",
        context_value={"store": store},
    )
    assert result.errors is None
    data = result.data["transitions"]
    assert (data["fromRun"], data["toRun"]) == ("run-a", "run-b")
    counts = [(t["fromLabel"], t["toLabel"], t["visitors"]) for t in data["transitions"]]
    assert counts == [("buyer", "one_time_browser", 1), ("one_time_browser", "one_time_browser", 1), (None, "buyer", 1)]


def test_visitor_field(store):
    result = SCHEMA.execute_sync(
        "{ visitor(sourceId: 1, visitorId: 1) { visitorId history { runId segmentId label publishedAt } } }",
        context_value={"store": store},
    )
    assert result.errors is None
    history = result.data["visitor"]["history"]
    assert [(h["runId"], h["segmentId"], h["label"]) for h in history] == [("run-a", 0, "buyer"), ("run-b", 1, "one_time_browser")]


def test_unknown_run_is_not_found(store):
    result = SCHEMA.execute_sync(
        "{ transitions(sourceId: 1, fromRun: \"run-a\", toRun: \"nope\") { toRun } }", context_value={"store": store}
    )
    assert result.errors[0].extensions["code"] == "NOT_FOUND"
    assert "no published run 'nope'" in result.errors[0].message


def test_single_run_is_bad_request(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.publish_run(2, "only", pl.DataFrame({"segment_id": [0], "size": [1]}, schema={"segment_id": pl.Int32, "size": pl.Int64}), _frame([(1, 0)]))
    result = SCHEMA.execute_sync("{ transitions(sourceId: 2) { toRun } }", context_value={"store": store})
    assert result.errors[0].extensions["code"] == "INVALID_ARGUMENT"
