"""What every store promises, checked on the embedded and the PostgreSQL store alike."""

import polars as pl
import psycopg
import pytest

from ampelios_assets.engine.schema import EVENT_TYPE, FEATURE_NAMES
from ampelios_assets.stores import open_store
from ampelios_assets.stores.base import NoSegmentsError
from ampelios_assets.stores.postgres import PostgresStore
from ampelios_assets.stores.postgres_schema import LATEST_VERSION, ensure_schema
from tests.conftest import BASE_TSTAMP_MS, events_frame


def _segments(sizes: list[int]) -> pl.DataFrame:
    frame = pl.DataFrame({"segment_id": list(range(len(sizes))), "size": sizes})
    return frame.with_columns(pl.lit(0.1 * index, dtype=pl.Float64).alias(name) for index, name in enumerate(FEATURE_NAMES))


def _assignments(sizes: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"visitor_id": list(range(sum(sizes))), "segment_id": [i for i, n in enumerate(sizes) for _ in range(n)]}
    )


@pytest.fixture
def store(store_settings):
    return open_store(store_settings)


def test_latest_run_read_by_default(store):
    store.publish_run(1, "run-a", _segments([2, 1]), _assignments([2, 1]))
    store.publish_run(1, "run-b", _segments([1]), _assignments([1]))
    assert store.segments(1)["size"].to_list() == [1]
    assert store.segments(1, "run-a")["size"].to_list() == [2, 1]
    assert [run.run_id for run in store.runs(1)] == ["run-a", "run-b"]
    assert store.latest_run(1).visitor_count == 1


def test_extra_columns_round_trip(store):
    segments = _segments([2, 1]).with_columns(
        label=pl.Series(["browsers", "buyers"]),
        description=pl.Series(["view and leave", None]),
        scaled_views=pl.Series([-0.25, 1.0 / 3.0]),
        segment_id=pl.Series([0, 1], dtype=pl.Int32),
    )
    assignments = _assignments([2, 1]).with_columns(pl.lit(0.5).alias("views"))
    store.publish_run(1, "run-a", segments, assignments, metadata={"model": {"mean": [0.5, 1e-300]}})
    assert store.segments(1).equals(segments)
    assert store.segments(1).schema == segments.schema
    assert store.assignments(1).equals(assignments)
    assert store.run_metadata(1) == {"model": {"mean": [0.5, 1e-300]}}


def test_republishing_a_run_replaces_it(store):
    store.publish_run(1, "run-a", _segments([2]), _assignments([2]))
    store.publish_run(1, "run-a", _segments([4]), _assignments([4]))
    assert len(store.runs(1)) == 1
    assert store.segments(1)["size"].to_list() == [4]
    assert store.assignments(1).height == 4


def test_sources_kept_apart(store):
    store.publish_run(2, "run-x", _segments([3]), _assignments([3]))
    store.publish_run(1, "run-y", _segments([1, 1]), _assignments([1, 1]))
    summaries = store.sources()
    assert [(s.source_id, s.last_run_id, s.visitor_count) for s in summaries] == [(1, "run-y", 2), (2, "run-x", 3)]
    assert store.assignments(1)["visitor_id"].to_list() == [0, 1]
    assert store.assignments(2)["visitor_id"].to_list() == [0, 1, 2]
    with pytest.raises(NoSegmentsError):
        store.segments(1, "run-x")


def test_unknown_source_and_run_raise(store):
    with pytest.raises(NoSegmentsError, match="source_id 5 has no segments yet"):
        store.segments(5)
    store.publish_run(5, "run-a", _segments([1]), _assignments([1]))
    with pytest.raises(NoSegmentsError, match="has no published run 'run-z'"):
        store.assignments(5, "run-z")
    with pytest.raises(NoSegmentsError, match="source_id 6 has no segments yet"):
        store.run_metadata(6)


def test_schema_created_once(database_url):
    PostgresStore(database_url)
    PostgresStore(database_url)
    with psycopg.connect(database_url) as connection:
        assert ensure_schema(connection) == 0
        versions = connection.execute("SELECT version FROM ampelios.schema_migrations").fetchall()
    assert versions == [(LATEST_VERSION,)]


def test_events_deduplicated_by_natural_key(database_url):
    store = PostgresStore(database_url)
    t = BASE_TSTAMP_MS
    events = events_frame([(t, 1, "view", 10, None), (t, 1, "transaction", 10, 7), (t + 1, 2, "view", 11, None)])
    doubled = pl.concat([events, events])
    store.replace_events(1, doubled)
    store.replace_events(2, events.head(1))
    stored = store.read_events(1)
    assert stored.height == 3
    assert stored["event"].dtype == EVENT_TYPE
    assert stored.sort("visitor_id", "timestamp_ms", "event").equals(events.sort("visitor_id", "timestamp_ms", "event"))
    assert store.read_events(2).rows() == [(t, 1, "view", 10, None)]


def test_journeys_round_trip(database_url):
    store = PostgresStore(database_url)
    journeys = pl.DataFrame(
        {
            "visitor_id": [3, 8],
            "sessions": [2, 1],
            "journey": [[{"views": 1, "addtocarts": 0}, {"views": 2, "addtocarts": 1}], [{"views": 0, "addtocarts": 0}]],
            "purchase_ratio": [0.0, 1.0 / 7.0],
        }
    )
    store.replace_journeys(4, journeys)
    assert store.read_journeys(4).equals(journeys)
    with pytest.raises(NoSegmentsError):
        store.read_journeys(5)
