"""Clustering: one segment per visitor, centroids in feature units, warnings."""

import numpy as np
import polars as pl
import pytest

from ampelios_assets.engine import BehaviourSegmenter, segment_visitors
from ampelios_assets.engine.clustering import FewerSegmentsWarning, assign_segments
from ampelios_assets.engine.schema import FEATURE_NAMES


def _features(rows: list[tuple]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=["visitor_id", *FEATURE_NAMES], orient="row")
    return frame.with_columns(pl.col("views", "addtocarts", "transactions", "sessions").cast(pl.Int64))


def _three_groups(size: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for visitor in range(size * 3):
        group = visitor % 3
        views = int([1, 40, 8][group] + rng.integers(0, 2))
        carts = [0, 0, 3][group]
        buys = [0, 0, 2][group]
        sessions = [1, 6, 2][group]
        rows.append((visitor, views, carts, buys, sessions, views / sessions, buys / views))
    return _features(rows)


def test_every_visitor_in_exactly_one_segment():
    features = _three_groups(200)
    result = segment_visitors(features, cluster_count=3)
    assert result.assignments.height == features.height
    assert result.assignments["visitor_id"].n_unique() == features.height
    assert result.assignments["segment_id"].null_count() == 0
    assert result.segments["size"].sum() == features.height


def test_separated_groups_recovered():
    features = _three_groups(200)
    result = segment_visitors(features, cluster_count=3)
    segments_by_group = (
        result.assignments.with_columns(group=pl.col("visitor_id") % 3)
        .group_by("group")
        .agg(pl.col("segment_id").n_unique().alias("segments"), pl.col("segment_id").first())
    )
    assert segments_by_group["segments"].to_list() == [1, 1, 1]
    assert segments_by_group["segment_id"].n_unique() == 3


def test_centroids_are_member_means_in_feature_units():
    features = _three_groups(50)
    result = segment_visitors(features, cluster_count=3)
    joined = result.assignments.group_by("segment_id").agg(pl.col("views").mean()).sort("segment_id")
    assert result.segments["views"].to_list() == pytest.approx(joined["views"].to_list())
    buyer_segment = result.segments.filter(pl.col("transactions") > 0)
    assert buyer_segment.height == 1
    assert buyer_segment["addtocarts"].item() == pytest.approx(3.0)
    assert buyer_segment["transactions"].item() == pytest.approx(2.0)


def test_segment_ids_ordered_by_size():
    rows = [(v, 1, 0, 0, 1, 1.0, 0.0) for v in range(30)]
    rows += [(100 + v, 50, 0, 0, 10, 5.0, 0.0) for v in range(10)]
    result = segment_visitors(_features(rows), cluster_count=2)
    assert result.segments["size"].to_list() == [30, 10]
    assert result.segments["views"].to_list() == [1.0, 50.0]


def test_result_does_not_depend_on_row_order():
    features = _three_groups(100)
    first = segment_visitors(features, cluster_count=3).assignments.sort("visitor_id")
    shuffled = features.sample(fraction=1.0, shuffle=True, seed=9)
    second = segment_visitors(shuffled, cluster_count=3).assignments.sort("visitor_id")
    assert first.equals(second)


def test_fewer_distinct_vectors_than_requested_warns():
    rows = [(v, 1 + v % 2, 0, 0, 1, float(1 + v % 2), 0.0) for v in range(10)]
    with pytest.warns(FewerSegmentsWarning, match="found 2 distinct segments but cluster_count=5"):
        segmenter = BehaviourSegmenter(cluster_count=5).fit(_features(rows).select(FEATURE_NAMES).to_numpy())
    assert segmenter.n_segments_ == 2
    result = segment_visitors(_features(rows), cluster_count=5)
    assert result.segments.height == 2
    assert len(result.warnings) == 1


def test_no_visitors_gives_no_segments():
    result = segment_visitors(_features([]), cluster_count=5)
    assert result.assignments.height == 0
    assert result.segments.height == 0
    assert "found 0 distinct segments" in result.warnings[0]


def test_log_transform_keeps_heavy_tail_from_dominating():
    # Without the transform, one visitor with 5,000 views takes a segment of
    # its own and buyers merge with browsers; with it, buyers stand apart.
    rows = [(v, 1, 0, 0, 1, 1.0, 0.0) for v in range(100)]
    rows += [(200 + v, 2, 1, 1, 1, 2.0, 0.5) for v in range(20)]
    rows += [(999, 5000, 0, 0, 1, 5000.0, 0.0)]
    result = segment_visitors(_features(rows), cluster_count=2)
    buyers = result.assignments.filter(pl.col("transactions") > 0)["segment_id"].unique()
    browsers = result.assignments.filter(pl.col("views") == 1)["segment_id"].unique()
    assert buyers.len() == 1
    assert browsers.len() == 1
    assert buyers.item() != browsers.item()


def test_published_model_reassigns_members():
    features = _three_groups(60)
    result = segment_visitors(features, cluster_count=3)
    matrix = features.select(FEATURE_NAMES).cast(pl.Float64).to_numpy()
    reassigned = assign_segments(matrix, result.model)
    assert reassigned.tolist() == result.assignments["segment_id"].to_list()
