"""Cluster visitors into behaviour segments with k-means on transformed features."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import polars as pl
from sklearn.cluster import KMeans

from ampelios_assets.engine.schema import FEATURE_NAMES


class FewerSegmentsWarning(UserWarning):
    """Fewer distinct segments came out than were requested."""


class BehaviourSegmenter:
    """K-means on log1p-transformed, standardised behaviour features.

    Raw counts are heavy-tailed: a visitor with 2,000 views would otherwise
    dominate the distances and k-means would spend its clusters on the tail.
    log1p compresses the tail while keeping 0 at 0, and standardisation gives
    each feature the same weight.

    Identical feature vectors are clustered once with their count as sample
    weight, which gives the same centroids as clustering every row but is far
    faster, because most visitors share a handful of vectors.

    Segment ids are ordered by decreasing size, ties broken by centroid, so
    they do not depend on k-means' internal numbering.
    """

    def __init__(self, cluster_count: int = 5, random_state: int = 0, n_init: int = 10):
        self.cluster_count = cluster_count
        self.random_state = random_state
        self.n_init = n_init

    def fit(self, features: np.ndarray) -> "BehaviourSegmenter":
        """Fit on an (n_visitors, 6) array of raw features; set `labels_` and centroids."""
        if self.cluster_count < 1:
            raise ValueError(f"cluster_count must be at least 1, got {self.cluster_count}")
        features = np.asarray(features, dtype=np.float64)

        transformed = np.log1p(features)
        self.mean_ = transformed.mean(axis=0) if len(features) else np.zeros(features.shape[1])
        scale = transformed.std(axis=0) if len(features) else np.ones(features.shape[1])
        self.scale_ = np.where(scale > 0, scale, 1.0)
        scaled = self.transform(features)

        unique_rows, inverse, counts = _unique_rows(scaled)
        fitted_count = min(self.cluster_count, len(unique_rows))
        if fitted_count == 0:
            self.labels_ = np.zeros(0, dtype=np.int64)
            self.cluster_centers_ = np.zeros((0, features.shape[1]))
        else:
            kmeans = KMeans(
                n_clusters=fitted_count, random_state=self.random_state, n_init=self.n_init
            ).fit(unique_rows, sample_weight=counts)
            self.labels_, self.cluster_centers_ = _ordered_by_size(
                kmeans.labels_[inverse], kmeans.cluster_centers_
            )
        self.n_segments_ = len(np.unique(self.labels_))

        if self.n_segments_ < self.cluster_count:
            warnings.warn(
                f"k-means found {self.n_segments_} distinct segments but cluster_count="
                f"{self.cluster_count} were requested, because the visitors have only "
                f"{len(unique_rows)} distinct feature vectors; lower cluster_count",
                FewerSegmentsWarning,
                stacklevel=2,
            )
        return self


    def transform(self, features: np.ndarray) -> np.ndarray:
        """Return log1p-transformed features standardised with the fitted mean_ and scale_."""
        return (np.log1p(np.asarray(features, dtype=np.float64)) - self.mean_) / self.scale_

    def model(self) -> dict:
        """Return the fitted state as plain lists, to publish beside the segments.

        Row i of "centers" is segment i's centroid in the scaled space.
        """
        return {
            "feature_names": list(FEATURE_NAMES),
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "centers": self.cluster_centers_.tolist(),
        }


def assign_segments(features: np.ndarray, model: dict) -> np.ndarray:
    """Return the id of the nearest published centroid for each row of raw features.

    Row i of model["centers"] has id model["segment_ids"][i], or i in models without ids.
    """
    scaled = (np.log1p(np.asarray(features, dtype=np.float64)) - np.asarray(model["mean"])) / np.asarray(
        model["scale"]
    )
    centers = np.asarray(model["centers"])
    if len(centers) == 0:
        raise ValueError("the model has no centroids; run a full segmentation of the source first")
    # One column per centroid keeps memory at n x k instead of n x k x features.
    distances = np.stack([((scaled - center) ** 2).sum(axis=1) for center in centers], axis=1)
    segment_ids = np.asarray(model.get("segment_ids", range(len(centers))))
    return segment_ids[distances.argmin(axis=1)]


def _unique_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # np.unique(axis=0) took seconds on 1.4 million rows; a Polars group-by
    # and join give the same sorted unique rows, inverse index and counts.
    columns = [f"c{i}" for i in range(matrix.shape[1])]
    frame = pl.from_numpy(matrix, schema=columns)
    unique = frame.group_by(columns).agg(count=pl.len()).sort(columns).with_row_index("row")
    inverse = frame.join(unique, on=columns, how="left", maintain_order="left")["row"]
    return (
        unique.select(columns).to_numpy().reshape(-1, matrix.shape[1]),
        inverse.to_numpy().astype(np.int64),
        unique["count"].to_numpy(),
    )


def _ordered_by_size(labels: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.bincount(labels, minlength=len(centers))
    # np.lexsort sorts by its last key first: size descending, then centroid.
    order = np.lexsort((*centers.T[::-1], -sizes))
    new_id = np.empty_like(order)
    new_id[order] = np.arange(len(order))
    return new_id[labels], centers[order]


@dataclasses.dataclass(frozen=True)
class Segmentation:
    """Each visitor's segment, and each segment's size and centroid in feature units."""

    assignments: pl.DataFrame
    segments: pl.DataFrame
    requested_count: int
    warnings: tuple[str, ...]
    model: dict


def segment_visitors(
    features: pl.DataFrame, cluster_count: int = 5, random_state: int = 0
) -> Segmentation:
    """Assign every visitor in `features` to exactly one segment.

    `assignments` has visitor_id, segment_id and the six features.
    `segments` has segment_id, size and the six features of the centroid,
    which is the mean of the segment's members in the original units.
    """
    matrix = features.select(FEATURE_NAMES).cast(pl.Float64).to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FewerSegmentsWarning)
        segmenter = BehaviourSegmenter(cluster_count, random_state).fit(matrix)

    assignments = features.select(
        "visitor_id", pl.Series("segment_id", segmenter.labels_, dtype=pl.Int32), *FEATURE_NAMES
    )
    return Segmentation(
        assignments=assignments,
        segments=segment_summary(assignments),
        requested_count=cluster_count,
        warnings=tuple(str(w.message) for w in caught if issubclass(w.category, FewerSegmentsWarning)),
        model=segmenter.model(),
    )


def segment_summary(assignments: pl.DataFrame) -> pl.DataFrame:
    """Return segment_id, size and the mean of each feature over the segment's members."""
    return (
        assignments.group_by("segment_id")
        .agg(size=pl.len().cast(pl.Int64), *[pl.col(name).mean() for name in FEATURE_NAMES])
        .sort("segment_id")
    )
