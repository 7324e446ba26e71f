"""The quality report: stability, value shares and the predictive check, on data worked out by hand."""

import numpy as np
import polars as pl
import pytest

from ampelios_assets.engine import sessionized_events
from ampelios_assets.engine.quality import (
    bootstrap_stability,
    predictive_check,
    quality_report,
    segment_value,
    stability_verdict,
)
from ampelios_assets.engine.segment_run import SegmentRunOptions, segment_run
from tests.conftest import BASE_TSTAMP_MS, events_frame
from tests.segment_data import planted

DAY_MS = 86_400_000


def test_value_shares_by_hand():
    assignments = pl.DataFrame(
        {"segment_id": [0, 0, 0, 1, 1], "transactions": [0, 0, 1, 3, 0]}, schema={"segment_id": pl.Int32, "transactions": pl.Int64}
    )
    value = segment_value(assignments)
    assert value["buyers"].to_list() == [1, 1]
    assert value["buyer_share"].to_list() == [0.5, 0.5]
    assert value["transactions"].to_list() == [1, 3]
    assert value["transaction_share"].to_list() == [0.25, 0.75]


@pytest.mark.parametrize(("jaccard", "verdict"), [(0.9, "highly stable"), (0.85, "stable"), (0.6, "stable"), (0.59, "unstable")])
def test_stability_verdicts(jaccard, verdict):
    assert stability_verdict(jaccard) == verdict


def test_separated_blobs_are_stable():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [10, 0], [0, 10]])
    labels = np.repeat([0, 1, 2], 200)
    points = centers[labels] + rng.normal(0, 0.5, (600, 2))
    stability = bootstrap_stability(points, labels, resamples=4)
    assert set(stability) == {0, 1, 2}
    assert min(stability.values()) > 0.95


def test_random_labels_are_unstable():
    rng = np.random.default_rng(0)
    points = rng.normal(0, 1, (600, 2))
    labels = rng.integers(0, 3, 600)
    stability = bootstrap_stability(points, labels, resamples=4)
    assert max(stability.values()) < 0.6


def test_quality_report_on_planted_groups():
    _, features, _ = planted()
    run = segment_run(features, None, SegmentRunOptions(cluster_count=5, quality_sample_size=2000, bootstrap_resamples=3))
    quality = run.metadata["quality"]
    assert quality["sample_size"] == 2000
    assert quality["silhouette"] > 0.5
    assert [row["segment_id"] for row in quality["segments"]] == run.segments["segment_id"].to_list()
    assert all(row["stability"] > 0.85 for row in quality["segments"])
    assert sum(row["buyer_share"] for row in quality["segments"]) == pytest.approx(1.0)
    assert sum(row["transaction_share"] for row in quality["segments"]) == pytest.approx(1.0)
    labels = dict(zip(run.segments["segment_id"], run.segments["label"], strict=True))
    browsers = [row for row in quality["segments"] if labels[row["segment_id"]].endswith("browser")]
    assert all(row["buyer_share"] == 0 for row in browsers)


def test_quality_report_without_visitors():
    empty = pl.DataFrame(schema={"segment_id": pl.Int32, "transactions": pl.Int64})
    report = quality_report(empty, np.zeros((0, 6)), sample_size=100, resamples=2)
    assert report["silhouette"] is None
    assert report["segments"] == []


def _predictive_events():
    t = BASE_TSTAMP_MS
    rows = [
        (t, 1, "view", 10, None), (t + 1000, 1, "transaction", 10, 1),
        (t, 2, "view", 10, None), (t + 1000, 2, "transaction", 10, 2),
        *[(t, visitor, "view", 11, None) for visitor in (3, 4, 5, 6)],
        (t + 50 * DAY_MS, 1, "transaction", 10, 3),
        (t + 50 * DAY_MS, 3, "view", 10, None), (t + 50 * DAY_MS + 1000, 3, "transaction", 10, 4),
        (t + 60 * DAY_MS, 7, "transaction", 12, 5),
    ]
    return sessionized_events(events_frame(rows))


# Segment 4 contains the buyers (1 view, 1 transaction), segment 9 the one-view browsers.
_MODEL = {
    "mean": [0.0] * 6,
    "scale": [1.0] * 6,
    "centers": np.log1p([[1, 0, 1, 1, 1, 1], [1, 0, 0, 1, 1, 0]]).tolist(),
    "segment_ids": [4, 9],
}


def test_predictive_check_by_hand():
    check = predictive_check(_predictive_events(), _MODEL, min_span_days=28)
    # The events span 60 days; 3/4 of that is day 45, a UTC midnight.
    assert check["cutoff_date"] == "2015-07-16"
    assert check["visitors_before_cutoff"] == 6
    assert check["base_rate"] == pytest.approx(2 / 6)
    by_segment = {row["segment_id"]: row for row in check["segments"]}
    assert by_segment[4]["visitors"] == 2
    assert by_segment[4]["buyers_after"] == 1
    assert by_segment[4]["lift"] == pytest.approx(1.5)
    assert by_segment[9]["visitors"] == 4
    assert by_segment[9]["purchase_rate"] == pytest.approx(0.25)
    assert by_segment[9]["lift"] == pytest.approx(0.75)


def test_predictive_check_needs_span():
    assert predictive_check(_predictive_events(), _MODEL, min_span_days=61) is None
