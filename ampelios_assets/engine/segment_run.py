"""One run's segmentation: distinct segments, stable ids, labels and the quality report."""

from __future__ import annotations

import dataclasses
import re

import polars as pl

from ampelios_assets.engine.cluster_count import choose_cluster_count, scaled_features
from ampelios_assets.engine.clustering import segment_summary
from ampelios_assets.engine.labels import segment_labels
from ampelios_assets.engine.matching import match_segments
from ampelios_assets.engine.quality import predictive_check, quality_report
from ampelios_assets.engine.schema import FEATURE_NAMES


@dataclasses.dataclass(frozen=True)
class SegmentRunOptions:
    """The parameters of one run's segmentation; settings.py documents each one."""

    cluster_count: int | str = 5
    random_state: int = 0
    min_centroid_distance: float = 0.5
    match_max_distance: float = 1.5
    quality_sample_size: int = 10_000
    bootstrap_resamples: int = 5
    predictive_min_span_days: int = 28


@dataclasses.dataclass(frozen=True)
class SegmentRun:
    """Assignments and labelled segments under stable ids, the model to publish and the run's metadata."""

    assignments: pl.DataFrame
    segments: pl.DataFrame
    model: dict
    metadata: dict
    warnings: tuple[str, ...]


def segment_run(
    features: pl.DataFrame,
    previous_model: dict | None,
    options: SegmentRunOptions,
    sessionized: pl.DataFrame | None = None,
) -> SegmentRun:
    """Segment visitors, keep the previous run's ids where centroids persist, label and assess them.

    `features` has visitor_id and the six features. `previous_model` is the
    model published with the source's previous run, or None for its first run.
    `sessionized`, when given, feeds the predictive check.
    """
    choice = choose_cluster_count(
        features, options.cluster_count, options.min_centroid_distance, options.random_state
    )
    segmentation = choice.segmentation

    match = match_segments(previous_model, segmentation.model, options.match_max_distance)
    id_of_row = dict(enumerate(match.segment_ids))
    assignments = segmentation.assignments.with_columns(
        pl.col("segment_id").replace_strict(id_of_row, return_dtype=pl.Int32)
    )
    model = {**segmentation.model, "segment_ids": match.segment_ids, "next_segment_id": match.next_segment_id}

    population = {name: float(features[name].mean() or 0.0) for name in FEATURE_NAMES}
    labels = _stable_labels(segment_labels(segment_summary(assignments), population), previous_model)
    segments = segment_summary(assignments).join(labels, on="segment_id").sort("segment_id")
    model["labels"] = {
        str(row["segment_id"]): {"label": row["label"], "name": row["name"]} for row in labels.iter_rows(named=True)
    }

    scaled = scaled_features(features, model)
    quality = quality_report(
        assignments, scaled, options.quality_sample_size, options.bootstrap_resamples, options.random_state
    )
    if sessionized is not None and sessionized.height:
        quality["predictive"] = predictive_check(sessionized, model, options.predictive_min_span_days)
    metadata = {
        "cluster_count": {"requested": options.cluster_count, "used": choice.used, "auto_scores": choice.auto_scores},
        "cluster_count_notes": choice.notes(),
        "matches": match.records(),
        "quality": quality,
    }
    return SegmentRun(assignments, segments, model, metadata, segmentation.warnings)


def _stable_labels(labels: pl.DataFrame, previous_model: dict | None) -> pl.DataFrame:
    """Keep a matched segment's previous label while its centroid still meets that label's rule.

    Labels stay unique within the run: a kept label is reserved first, and a
    new label that is already taken gets the next free `_2`, `_3` suffix.
    """
    previous = (previous_model or {}).get("labels", {})
    rows = labels.sort("segment_id").to_dicts()
    kept_ids = set()
    for row in rows:
        kept = previous.get(str(row["segment_id"]))
        if kept and _rule_label(kept["label"]) == _rule_label(row["label"]):
            row.update(label=kept["label"], name=kept["name"])
            kept_ids.add(row["segment_id"])

    taken = {row["label"] for row in rows if row["segment_id"] in kept_ids}
    for row in rows:
        if row["segment_id"] in kept_ids:
            continue
        base = _rule_label(row["label"])
        candidate, suffix = base, 1
        while candidate in taken:
            suffix += 1
            candidate = f"{base}_{suffix}"
        row["label"] = candidate
        taken.add(candidate)
    return pl.DataFrame(rows, schema=labels.schema)


def _rule_label(label: str) -> str:
    # "buyer_2" was labelled by the buyer rule; the suffix only keeps it unique.
    return re.sub(r"_\d+$", "", label)
