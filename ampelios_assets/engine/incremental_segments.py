"""Keep a source's segments current as visitors change, without renumbering them.

Between fits, changed visitors are assigned to the nearest centroid of the
published model, so every segment id keeps its meaning. Once the visitor
updates since the last fit exceed a share of the visitors then fitted, the
model is refitted on every visitor and the new clusters take the ids of the
old segments they share most visitors with.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment

from ampelios_assets.engine.clustering import assign_segments, segment_summary, segment_visitors
from ampelios_assets.engine.schema import FEATURE_NAMES


@dataclasses.dataclass(frozen=True)
class FitHistory:
    """The model-fit counters that incremental runs publish and read back.

    `changed_since_fit` counts visitor updates, so a visitor changed in two
    runs counts twice; it errs towards refitting early.
    """

    visitors_at_fit: int
    changed_since_fit: int

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "FitHistory | None":
        return None if not data else cls(int(data["visitors_at_fit"]), int(data["changed_since_fit"]))


@dataclasses.dataclass(frozen=True)
class SegmentUpdate:
    """A source's assignments and segments after an incremental run."""

    assignments: pl.DataFrame
    segments: pl.DataFrame
    model: dict
    history: FitHistory
    refitted: bool
    warnings: tuple[str, ...]


def refit_due(history: FitHistory | None, changed: int, refit_changed_percent: float) -> bool:
    """Return True when the updates since the last fit, with `changed` more, exceed the threshold."""
    if history is None or history.visitors_at_fit == 0:
        return True
    changed_total = history.changed_since_fit + changed
    return changed_total * 100 > refit_changed_percent * history.visitors_at_fit


def updated_segments(
    features: pl.DataFrame,
    changed_visitors: pl.Series,
    previous_assignments: pl.DataFrame | None,
    model: dict | None,
    history: FitHistory | None,
    cluster_count: int,
    random_state: int = 0,
    refit_changed_percent: float = 10.0,
) -> SegmentUpdate:
    """Assign changed visitors with the published model, or refit when the threshold is passed.

    `features` has visitor_id and the six features of every visitor of the
    source; `previous_assignments` and `model` are the latest published ones,
    None when the source has none.
    """
    changed = features.filter(pl.col("visitor_id").is_in(changed_visitors.implode()))
    has_model = model is not None and previous_assignments is not None and len(model["centers"]) > 0
    if not has_model or refit_due(history, changed.height, refit_changed_percent):
        return refit_segments(features, previous_assignments, cluster_count, random_state)

    segment_ids = assign_segments(changed.select(FEATURE_NAMES).cast(pl.Float64).to_numpy(), model)
    changed_rows = changed.select(
        "visitor_id", pl.Series("segment_id", segment_ids, dtype=pl.Int32), *FEATURE_NAMES
    )
    kept = previous_assignments.filter(~pl.col("visitor_id").is_in(changed_visitors.implode()))
    assignments = pl.concat([kept, changed_rows.cast(dict(kept.schema))]).sort("visitor_id")
    return SegmentUpdate(
        assignments=assignments,
        segments=segment_summary(assignments),
        model=model,
        history=FitHistory(history.visitors_at_fit, history.changed_since_fit + changed.height),
        refitted=False,
        warnings=(),
    )


def refit_segments(
    features: pl.DataFrame,
    previous_assignments: pl.DataFrame | None,
    cluster_count: int,
    random_state: int = 0,
) -> SegmentUpdate:
    """Fit the model on every visitor and keep the previous segment ids where clusters persist.

    Each new cluster takes the id of the previous segment it shares most
    visitors with (a maximum-overlap matching); clusters left without a
    partner take the ids after the previous highest.
    """
    segmentation = segment_visitors(features, cluster_count, random_state)
    assignments = segmentation.assignments.sort("visitor_id")
    model = segmentation.model
    if previous_assignments is not None and previous_assignments.height and assignments.height:
        new_ids = _ids_matching_previous(assignments, previous_assignments)
        assignments = assignments.with_columns(
            pl.col("segment_id").replace_strict(new_ids, return_dtype=pl.Int32)
        )
        model = {**model, "centers": _centers_by_id(np.asarray(model["centers"]), new_ids).tolist()}

    return SegmentUpdate(
        assignments=assignments,
        segments=segment_summary(assignments),
        model=model,
        history=FitHistory(visitors_at_fit=assignments.height, changed_since_fit=0),
        refitted=True,
        warnings=segmentation.warnings,
    )


# NOTE: an id whose segment vanished in a refit keeps a row this far from any
# scaled feature vector, so that assign_segments never picks it; JSON has no infinity.
_UNUSED_CENTER = 1e6


def _centers_by_id(centers: np.ndarray, new_ids: dict[int, int]) -> np.ndarray:
    # assign_segments returns row numbers, so the centroid of id j sits in row j.
    rows = np.full((max(new_ids.values()) + 1, centers.shape[1]), _UNUSED_CENTER)
    for fitted_id, segment_id in new_ids.items():
        rows[segment_id] = centers[fitted_id]
    return rows


def _ids_matching_previous(assignments: pl.DataFrame, previous: pl.DataFrame) -> dict[int, int]:
    overlap = (
        assignments.select("visitor_id", fitted="segment_id")
        .join(previous.select("visitor_id", before="segment_id"), on="visitor_id")
        .group_by("fitted", "before")
        .len()
    )
    fitted_ids = sorted(assignments["segment_id"].unique().to_list())
    previous_ids = sorted(previous["segment_id"].unique().to_list())
    counts = np.zeros((len(fitted_ids), len(previous_ids)))
    for fitted, before, count in overlap.iter_rows():
        counts[fitted_ids.index(fitted), previous_ids.index(before)] = count

    rows, columns = linear_sum_assignment(counts, maximize=True)
    new_ids = {fitted_ids[row]: previous_ids[column] for row, column in zip(rows, columns)}
    next_id = max(previous_ids) + 1
    for fitted in fitted_ids:
        if fitted not in new_ids:
            new_ids[fitted] = next_id
            next_id += 1
    return new_ids
