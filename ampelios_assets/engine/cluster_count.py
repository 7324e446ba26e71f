"""Choose how many segments to fit, so that no two segments are near-duplicates.

Distances are Euclidean in the scaled feature space (log1p, then standardised),
where 1.0 is one population standard deviation of a log-feature.

Distinct segments: when two centroids lie closer than `min_distance`, the
segmentation is refitted with one segment fewer, until no pair is that close
(or one segment is left). The dropped k values and the close pairs that caused
them are returned, so a run can report why it has fewer segments than requested.

`cluster_count="auto"`: k runs over AUTO_CLUSTER_COUNTS; each fit is made
distinct as above and labelled with the rules of `labels.py`. The smallest k
that reaches the most different labels wins, so auto gives as many kinds of
visitor as the labels can tell apart and adds no segment that only splits a
kind already found. The silhouette coefficient was tried first and rejected: on
Retailrocket-shaped data it peaks at k=2 (buyers against everyone else).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from ampelios_assets.engine.clustering import Segmentation, segment_visitors
from ampelios_assets.engine.labels import segment_labels
from ampelios_assets.engine.schema import FEATURE_NAMES

AUTO_CLUSTER_COUNTS = range(2, 11)


@dataclasses.dataclass(frozen=True)
class ClusterCountChoice:
    """The segmentation kept, and how its number of segments was chosen."""

    segmentation: Segmentation
    requested: int | str
    used: int
    merges: list[dict]
    # For cluster_count="auto": the number of different labels at each k tried.
    auto_scores: dict[int, int]

    def notes(self) -> list[str]:
        """Return one sentence per decision that changed the number of segments."""
        lines = []
        if self.auto_scores:
            counts = ", ".join(f"k={k}: {count}" for k, count in self.auto_scores.items())
            lines.append(
                f"cluster_count=auto chose k={self.used}, the smallest k with the most "
                f"different labels (different labels per k: {counts})"
            )
        for merge in self.merges:
            lines.append(
                f"k={merge['k']} gave segments {merge['segments'][0]} and {merge['segments'][1]} "
                f"only {merge['distance']:.3f} apart (minimum {merge['min_distance']}); refitted with k={merge['k'] - 1}"
            )
        return lines


def close_centroid_pairs(centers: np.ndarray, min_distance: float) -> list[tuple[int, int, float]]:
    """Return (i, j, distance) for every pair of rows of `centers` closer than min_distance, closest first."""
    pairs = []
    for i in range(len(centers)):
        for j in range(i + 1, len(centers)):
            distance = float(np.linalg.norm(centers[i] - centers[j]))
            if distance < min_distance:
                pairs.append((i, j, distance))
    return sorted(pairs, key=lambda pair: pair[2])


def distinct_segmentation(
    features: pl.DataFrame, cluster_count: int, min_distance: float, random_state: int = 0
) -> tuple[Segmentation, list[dict]]:
    """Fit with cluster_count segments, then one fewer while two centroids are closer than min_distance."""
    merges: list[dict] = []
    k = cluster_count
    while True:
        segmentation = segment_visitors(features, k, random_state)
        pairs = close_centroid_pairs(np.asarray(segmentation.model["centers"]), min_distance)
        if not pairs or k <= 1:
            return segmentation, merges
        i, j, distance = pairs[0]
        merges.append({"k": k, "segments": [i, j], "distance": round(distance, 4), "min_distance": min_distance})
        k = min(k, segmentation.segments.height) - 1


def choose_cluster_count(
    features: pl.DataFrame,
    cluster_count: int | str,
    min_distance: float,
    random_state: int = 0,
) -> ClusterCountChoice:
    """Fit a distinct segmentation for an int cluster_count, or pick k by its labels for "auto"."""
    if cluster_count != "auto":
        segmentation, merges = distinct_segmentation(features, int(cluster_count), min_distance, random_state)
        return ClusterCountChoice(segmentation, cluster_count, segmentation.segments.height, merges, {})

    population = {name: float(features[name].mean() or 0.0) for name in FEATURE_NAMES}
    best = None
    label_counts: dict[int, int] = {}
    for k in AUTO_CLUSTER_COUNTS:
        segmentation, merges = distinct_segmentation(features, k, min_distance, random_state)
        used = segmentation.segments.height
        if used in label_counts:
            continue
        labels = segment_labels(segmentation.segments, population)["label"]
        label_counts[used] = int(labels.str.replace(r"_\d+$", "").n_unique())
        if best is None or label_counts[used] > label_counts[best[0].segments.height]:
            best = (segmentation, merges)
    if best is None:
        best = distinct_segmentation(features, 1, min_distance, random_state)
    return ClusterCountChoice(best[0], "auto", best[0].segments.height, best[1], label_counts)


def scaled_features(features: pl.DataFrame, model: dict) -> np.ndarray:
    """Return the features in the model's scaled space (log1p, then standardised)."""
    matrix = features.select(FEATURE_NAMES).cast(pl.Float64).to_numpy()
    return (np.log1p(matrix) - np.asarray(model["mean"])) / np.asarray(model["scale"])

