"""The embedded store: publishing, history and reads."""

import polars as pl
import pytest

from ampelios_assets.stores.base import NoSegmentsError
from ampelios_assets.stores.embedded import EmbeddedStore


def _frames(sizes: list[int]):
    segments = pl.DataFrame({"segment_id": list(range(len(sizes))), "size": sizes})
    assignments = pl.DataFrame(
        {"visitor_id": list(range(sum(sizes))), "segment_id": [i for i, n in enumerate(sizes) for _ in range(n)]}
    )
    return segments, assignments


def test_latest_run_is_read_by_default(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.publish_run(1, "run-a", *_frames([2, 1]))
    store.publish_run(1, "run-b", *_frames([1]))
    assert store.segments(1)["size"].to_list() == [1]
    assert store.segments(1, "run-a")["size"].to_list() == [2, 1]
    assert [run.run_id for run in store.runs(1)] == ["run-a", "run-b"]
    assert store.latest_run(1).visitor_count == 1


def test_sources_listed_with_latest_run(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.publish_run(2, "run-x", *_frames([3]))
    store.publish_run(1, "run-y", *_frames([1, 1]))
    summaries = store.sources()
    assert [(s.source_id, s.last_run_id, s.visitor_count) for s in summaries] == [(1, "run-y", 2), (2, "run-x", 3)]


def test_republishing_a_run_replaces_it(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.publish_run(1, "run-a", *_frames([2]))
    store.publish_run(1, "run-a", *_frames([4]))
    assert len(store.runs(1)) == 1
    assert store.segments(1)["size"].to_list() == [4]


def test_unknown_source_and_run_raise(tmp_path):
    store = EmbeddedStore(tmp_path)
    with pytest.raises(NoSegmentsError, match="source_id 5 has no segments yet"):
        store.segments(5)
    store.publish_run(5, "run-a", *_frames([1]))
    with pytest.raises(NoSegmentsError, match="has no published run 'run-z'"):
        store.assignments(5, "run-z")
    assert store.sources()[0].source_id == 5


def test_metadata_published_with_run(tmp_path):
    store = EmbeddedStore(tmp_path)
    store.publish_run(1, "run-a", *_frames([1]), metadata={"model": {"mean": [0.5]}})
    store.publish_run(1, "run-b", *_frames([1]))
    assert store.run_metadata(1, "run-a") == {"model": {"mean": [0.5]}}
    assert store.run_metadata(1) == {}
