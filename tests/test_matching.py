"""Stable segment ids: Hungarian matching of centroids across runs, and near-duplicate segments."""

import numpy as np
import polars as pl

from ampelios_assets.engine.cluster_count import close_centroid_pairs, distinct_segmentation
from ampelios_assets.engine.matching import match_segments
from ampelios_assets.engine.segment_run import SegmentRunOptions, segment_run
from tests.segment_data import planted

IDENTITY = {"mean": [0.0, 0.0], "scale": [1.0, 1.0]}


def _model(centers, segment_ids=None, next_segment_id=None):
    model = {**IDENTITY, "centers": centers}
    if segment_ids is not None:
        model["segment_ids"] = segment_ids
    if next_segment_id is not None:
        model["next_segment_id"] = next_segment_id
    return model


def test_first_run_numbers_rows():
    match = match_segments(None, _model([[0, 0], [5, 5]]), max_distance=1.0)
    assert match.segment_ids == [0, 1]
    assert match.distances == [None, None]
    assert match.next_segment_id == 2


def test_permuted_centroids_keep_ids():
    previous = _model([[0, 0], [5, 0], [0, 5]], segment_ids=[7, 3, 4])
    match = match_segments(previous, _model([[0.1, 5], [0, 0.2], [5, 0]]), max_distance=1.0)
    assert match.segment_ids == [4, 7, 3]
    assert match.previous_ids == [4, 7, 3]
    assert match.distances == [0.1, 0.2, 0.0]


def test_far_centroid_gets_new_id():
    previous = _model([[0, 0], [5, 0]], segment_ids=[0, 1], next_segment_id=6)
    match = match_segments(previous, _model([[0, 0], [5, 9]]), max_distance=1.0)
    assert match.segment_ids == [0, 6]
    assert match.previous_ids == [0, None]
    assert match.distances == [0.0, 9.0]
    assert match.next_segment_id == 7


def test_more_segments_keep_old_ids_and_add_new():
    previous = _model([[0, 0], [5, 0]], segment_ids=[0, 1])
    match = match_segments(previous, _model([[5, 0.5], [9, 9], [0, 0]]), max_distance=1.0)
    assert match.segment_ids == [1, 2, 0]
    assert match.previous_ids == [1, None, 0]


def test_fewer_segments_keep_matched_ids():
    previous = _model([[0, 0], [5, 0], [0, 5]], segment_ids=[0, 1, 2])
    match = match_segments(previous, _model([[0, 5]]), max_distance=1.0)
    assert match.segment_ids == [2]


def test_previous_centroids_rescaled_to_new_model():
    # log1p point 2.0 is centroid 1.0 under mean 1, scale 1 and centroid 0.5 under mean 1, scale 2;
    # log1p point -2.0 is centroid -3.0 under the first and -1.5 under the second.
    previous = {"mean": [1.0], "scale": [1.0], "centers": [[1.0], [-3.0]], "segment_ids": [0, 1]}
    model = {"mean": [1.0], "scale": [2.0], "centers": [[-1.5], [0.5]]}
    match = match_segments(previous, model, max_distance=0.1)
    assert match.segment_ids == [1, 0]
    assert match.distances == [0.0, 0.0]


def test_refit_on_same_data_keeps_every_id():
    _, features, _ = planted()
    options = SegmentRunOptions(cluster_count=5, bootstrap_resamples=0)
    first = segment_run(features, None, options)
    # A different seed permutes k-means' internal numbering; the ids must not move.
    second = segment_run(features, first.model, SegmentRunOptions(cluster_count=5, random_state=7, bootstrap_resamples=0))

    joined = first.assignments.join(second.assignments, on="visitor_id", suffix="_second")
    assert (joined["segment_id"] == joined["segment_id_second"]).all()
    assert second.segments["label"].to_list() == first.segments["label"].to_list()
    assert all(record["previous_segment_id"] == record["segment_id"] for record in second.metadata["matches"])
    assert max(record["distance"] for record in second.metadata["matches"]) < 0.01


def test_changed_cluster_count_is_honoured():
    _, features, _ = planted()
    first = segment_run(features, None, SegmentRunOptions(cluster_count=5, bootstrap_resamples=0))
    fewer = segment_run(features, first.model, SegmentRunOptions(cluster_count=3, bootstrap_resamples=0))
    assert fewer.segments.height == 3
    assert set(fewer.segments["segment_id"]) <= set(first.segments["segment_id"]) | {5, 6, 7}

    again = segment_run(features, fewer.model, SegmentRunOptions(cluster_count=5, bootstrap_resamples=0))
    assert again.segments.height == 5
    kept = {r["segment_id"] for r in again.metadata["matches"] if r["previous_segment_id"] is not None}
    assert kept <= set(fewer.segments["segment_id"])
    new = [r["segment_id"] for r in again.metadata["matches"] if r["previous_segment_id"] is None]
    assert all(segment_id >= fewer.model["next_segment_id"] for segment_id in new)


def test_close_pairs_found():
    centers = np.array([[0.0, 0.0], [0.3, 0.0], [5.0, 0.0], [5.0, 0.4]])
    pairs = close_centroid_pairs(centers, 0.5)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (2, 3)]
    assert pairs[0][2] == 0.3


def test_near_duplicate_segments_refitted_with_fewer():
    rng = np.random.default_rng(0)
    rows = [
        {"visitor_id": i, "views": int(rng.integers(1, 3)), "addtocarts": 0, "transactions": 0, "sessions": 1}
        for i in range(300)
    ] + [{"visitor_id": 300 + i, "views": 40, "addtocarts": 5, "transactions": 3, "sessions": 6} for i in range(50)]
    features = pl.DataFrame(rows).with_columns(
        views_per_session=pl.col("views") / pl.col("sessions"),
        purchase_ratio=pl.col("transactions") / pl.col("views"),
    )
    # 3 segments split the one- and two-view visitors, whose centroids lie about 2 apart.
    segmentation, merges = distinct_segmentation(features, 3, min_distance=3.0)
    assert segmentation.segments.height == 2
    assert merges[0]["k"] == 3
    assert merges[0]["distance"] < 3.0
    untouched, none = distinct_segmentation(features, 3, min_distance=0.5)
    assert untouched.segments.height == 3
    assert none == []


def test_gating_keeps_most_matches():
    # X-A 0 plus Y-B 1.5 is the cheapest pairing, but Y-B is beyond max_distance 1.0;
    # X-B 0.9 plus Y-A 0.9 keeps both ids.
    previous = _model([[0, 0], [0.9, 0]], segment_ids=[10, 11])
    new = _model([[0, 0], [-0.35, 0.8292]])
    match = match_segments(previous, new, max_distance=1.0)
    assert match.segment_ids == [11, 10]
    assert match.distances == [0.9, 0.9]


def test_new_segment_records_nearest_distance():
    previous = _model([[0, 0]], segment_ids=[0])
    match = match_segments(previous, _model([[0, 0.5], [0, 3]]), max_distance=1.0)
    assert match.segment_ids == [0, 1]
    assert match.distances == [0.5, 3.0]


def test_empty_refit_keeps_next_id():
    previous = _model([[0, 0], [5, 5]], segment_ids=[3, 7], next_segment_id=9)
    match = match_segments(previous, _model(np.zeros((0, 2)).tolist()), max_distance=1.0)
    assert match.segment_ids == []
    assert match.distances == []
    assert match.next_segment_id == 9
