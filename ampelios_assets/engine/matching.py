"""Keep segment ids stable across runs by matching centroids to the previous run's.

The previous centroids are mapped back to log1p units with the previous
model's mean and scale, then scaled with the new model's, so both sets of
centroids are compared in the new run's scaled space. scipy's
`linear_sum_assignment` (the Hungarian method) pairs them at the smallest
total Euclidean distance, among assignments with the most pairs within
`max_distance`. A pair farther apart than that is not a match: the new segment
gets a fresh id, one above every id the source has used.
When k changes, the extra segments on either side stay unmatched.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclasses.dataclass(frozen=True)
class SegmentMatch:
    """The id of each new centroid, and how each one was matched.

    A distance is to the matched previous centroid, or for a new segment to
    the nearest previous centroid.
    """

    segment_ids: list[int]
    previous_ids: list[int | None]
    distances: list[float | None]
    next_segment_id: int

    def records(self) -> list[dict]:
        """Return one dict per new segment: segment_id, previous_segment_id and distance."""
        return [
            {"segment_id": new, "previous_segment_id": old, "distance": distance}
            for new, old, distance in zip(self.segment_ids, self.previous_ids, self.distances, strict=True)
        ]


def model_segment_ids(model: dict) -> list[int]:
    """Return the id of each centroid row of a published model (row order for models without ids)."""
    return list(model.get("segment_ids", range(len(model["centers"]))))


def centers_in_model_space(previous: dict, model: dict) -> np.ndarray:
    """Return the previous model's centroids scaled with the new model's mean and scale."""
    log_centers = np.asarray(previous["centers"]) * np.asarray(previous["scale"]) + np.asarray(previous["mean"])
    return (log_centers - np.asarray(model["mean"])) / np.asarray(model["scale"])


def match_segments(previous: dict | None, model: dict, max_distance: float) -> SegmentMatch:
    """Return stable ids for the centroid rows of `model`, given the previous run's published model."""
    new_count = len(model["centers"])
    if previous is None or len(previous.get("centers", [])) == 0:
        return SegmentMatch(list(range(new_count)), [None] * new_count, [None] * new_count, new_count)

    previous_ids = model_segment_ids(previous)
    next_id = max(int(previous.get("next_segment_id", 0)), max(previous_ids) + 1)
    if new_count == 0:
        return SegmentMatch([], [], [], next_id)
    old_centers = centers_in_model_space(previous, model)
    new_centers = np.asarray(model["centers"])
    cost = np.linalg.norm(new_centers[:, None, :] - old_centers[None, :, :], axis=2)
    # Pairs beyond max_distance cost more than any set of allowed pairs, so the
    # assignment first maximises the number of allowed matches.
    gated = np.where(cost <= max_distance, cost, cost.max() * (len(cost) + 1) + 1)
    rows, columns = linear_sum_assignment(gated)

    ids: list[int | None] = [None] * new_count
    matched_from: list[int | None] = [None] * new_count
    distances: list[float | None] = [None] * new_count
    for row, column in zip(rows, columns, strict=True):
        distances[row] = round(float(cost[row, column]), 4)
        if cost[row, column] <= max_distance:
            ids[row] = previous_ids[column]
            matched_from[row] = previous_ids[column]
    for row in range(new_count):
        if ids[row] is None:
            ids[row] = next_id
            next_id += 1
            distances[row] = round(float(cost[row].min()), 4)
    return SegmentMatch([int(i) for i in ids], matched_from, distances, next_id)
