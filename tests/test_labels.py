"""Segment labels: the rules on hand-made centroids and on planted groups."""

import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from ampelios_assets.engine.labels import centroid_label, segment_labels
from ampelios_assets.engine.segment_run import SegmentRunOptions, segment_run
from tests.segment_data import planted

POPULATION = {"views": 4.0, "addtocarts": 0.2, "transactions": 0.1, "sessions": 1.5, "views_per_session": 2.0, "purchase_ratio": 0.02}


def _centroid(views=1.0, addtocarts=0.0, transactions=0.0, sessions=1.0):
    return {"views": views, "addtocarts": addtocarts, "transactions": transactions, "sessions": sessions,
            "views_per_session": views / sessions, "purchase_ratio": transactions / views}


@pytest.mark.parametrize(
    ("centroid", "expected"),
    [
        (_centroid(views=6, addtocarts=3, transactions=2.0, sessions=4), "repeat_buyer"),
        (_centroid(views=3, addtocarts=1, transactions=2.0, sessions=1), "buyer"),
        (_centroid(views=3, addtocarts=1, transactions=0.6, sessions=3), "buyer"),
        (_centroid(views=5, addtocarts=2.0, transactions=0.1, sessions=1.5), "cart_abandoner"),
        (_centroid(views=9, sessions=2.0), "engaged_browser"),
        (_centroid(views=3, sessions=3.0), "engaged_browser"),
        (_centroid(views=20, sessions=1.0), "single_visit_browser"),
        (_centroid(views=2.5, sessions=1.0), "single_visit_browser"),
        (_centroid(views=2.4, sessions=1.0), "one_time_browser"),
        (_centroid(views=1.2, sessions=1.1), "one_time_browser"),
        (_centroid(views=3, sessions=2.0), "returning_browser"),
    ],
)
def test_label_rules(centroid, expected):
    assert centroid_label(centroid, POPULATION) == expected


def test_duplicate_labels_get_suffix():
    segments = pl.DataFrame(
        [
            {"segment_id": 0, "size": 10, **_centroid(views=1.0)},
            {"segment_id": 1, "size": 5, **_centroid(views=1.5)},
            {"segment_id": 2, "size": 2, **_centroid(views=6, addtocarts=3, transactions=2.0, sessions=4)},
        ]
    )
    labels = segment_labels(segments, POPULATION)
    assert labels["label"].to_list() == ["one_time_browser", "one_time_browser_2", "repeat_buyer"]
    assert labels["description"][0].startswith("58.8% of visitors; 1.00 views, 0.2x the average")


def test_planted_groups_get_their_labels():
    _, features, truth = planted()
    run = segment_run(features, None, SegmentRunOptions(cluster_count=5, bootstrap_resamples=0))
    joined = run.assignments.join(truth, on="visitor_id").join(run.segments.select("segment_id", "label"), on="segment_id")

    assert joined.height == features.height
    assert adjusted_rand_score(joined["group"], joined["segment_id"]) >= 0.9
    matching = joined.filter(pl.col("group") == pl.col("label")).height
    assert matching / joined.height >= 0.95
    assert sorted(run.segments["label"]) == sorted(truth["group"].unique())


def test_auto_cluster_count_finds_planted_groups():
    _, features, truth = planted()
    run = segment_run(features, None, SegmentRunOptions(cluster_count="auto", bootstrap_resamples=0))
    assert run.metadata["cluster_count"]["used"] == 5
    assert run.metadata["cluster_count"]["requested"] == "auto"
    joined = run.assignments.join(truth, on="visitor_id")
    assert adjusted_rand_score(joined["group"], joined["segment_id"]) >= 0.9
    assert "cluster_count=auto chose k=5" in run.metadata["cluster_count_notes"][0]


def _label_rows(labels: dict[int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"segment_id": segment_id, "label": label, "name": label, "description": ""} for segment_id, label in labels.items()],
        schema={"segment_id": pl.Int32, "label": pl.String, "name": pl.String, "description": pl.String},
    )


def test_kept_label_must_still_meet_its_rule():
    from ampelios_assets.engine.segment_run import _stable_labels

    previous = {"labels": {"0": {"label": "engaged_browser", "name": "old"}, "1": {"label": "buyer_2", "name": "buyers"}}}
    fresh = _label_rows({0: "returning_browser", 1: "buyer", 2: "engaged_browser", 3: "buyer_2"})

    stable = _stable_labels(fresh, previous)

    assert stable["label"].to_list() == ["returning_browser", "buyer_2", "engaged_browser", "buyer"]
    assert stable["name"].to_list()[1] == "buyers"
    assert stable["label"].n_unique() == stable.height
