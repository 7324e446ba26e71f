"""Segment history read from a store's run snapshots: transitions between runs and one visitor's path.

The CLI, the Dagster asset and the GraphQL fields call these. Each run's
assignments are a snapshot in the store, so history is a query over them.
"""

from __future__ import annotations

import polars as pl

from ampelios_assets.engine.transitions import segment_transitions, visitor_segment_history
from ampelios_assets.errors import AmpeliosError
from ampelios_assets.stores.base import NoSegmentsError, SegmentStore


def previous_model(store: SegmentStore, source_id: int) -> dict | None:
    """Return the model published with the source's latest run, or None before its first run."""
    try:
        return store.run_metadata(source_id).get("model")
    except NoSegmentsError:
        return None


def run_transitions(
    store: SegmentStore, source_id: int, from_run: str | None = None, to_run: str | None = None
) -> pl.DataFrame:
    """Return from/to segment ids and labels with visitor counts between two runs.

    By default to_run is the latest run and from_run the one before it.
    Raises AmpeliosError when the source has fewer than two runs.
    """
    run_ids = [run.run_id for run in store.runs(source_id)]
    if not run_ids:
        raise store._no_segments(source_id, None)
    to_run = to_run or run_ids[-1]
    if to_run not in run_ids:
        raise store._no_segments(source_id, to_run)
    if from_run is None:
        if run_ids.index(to_run) == 0:
            raise AmpeliosError(
                f"source_id {source_id} has no run before {to_run!r} to compare with; "
                "run it again with new events, or name the earlier run to compare with"
            )
        from_run = run_ids[run_ids.index(to_run) - 1]

    transitions = segment_transitions(store.assignments(source_id, from_run), store.assignments(source_id, to_run))
    from_labels = _labels(store, source_id, from_run).rename({"segment_id": "from_segment_id", "label": "from_label"})
    to_labels = _labels(store, source_id, to_run).rename({"segment_id": "to_segment_id", "label": "to_label"})
    return (
        transitions.join(from_labels, on="from_segment_id", how="left")
        .join(to_labels, on="to_segment_id", how="left")
        .select("from_segment_id", "from_label", "to_segment_id", "to_label", "visitors")
        .with_columns(pl.lit(from_run).alias("from_run"), pl.lit(to_run).alias("to_run"))
    )


def latest_transitions(store: SegmentStore, source_id: int) -> pl.DataFrame | None:
    """Return the transitions into the source's latest run, or None when it is the first run."""
    if len(store.runs(source_id)) < 2:
        return None
    return run_transitions(store, source_id)


def visitor_history(store: SegmentStore, source_id: int, visitor_id: int) -> pl.DataFrame:
    """Return run_id, published_at, segment_id and label of one visitor in every run, oldest first."""
    # NOTE: reads every run's whole assignments snapshot; a store that can filter by visitor should.
    runs = store.runs(source_id)
    if not runs:
        raise store._no_segments(source_id, None)
    snapshots = [(run.run_id, store.assignments(source_id, run.run_id)) for run in runs]
    history = visitor_segment_history(snapshots, visitor_id)
    published = pl.DataFrame(
        {"run_id": [run.run_id for run in runs], "published_at": [run.published_at for run in runs]}
    )
    labels = [
        _labels(store, source_id, run_id).with_columns(pl.lit(run_id).alias("run_id"))
        for run_id in history["run_id"].to_list()
    ]
    labelled = history.join(published, on="run_id")
    if labels:
        labelled = labelled.join(
            pl.concat(labels).with_columns(pl.col("segment_id").cast(pl.Int64)), on=["run_id", "segment_id"], how="left"
        )
    else:
        labelled = labelled.with_columns(label=pl.lit(None, pl.String))
    return labelled.select("run_id", "published_at", "segment_id", "label")


def _labels(store: SegmentStore, source_id: int, run_id: str) -> pl.DataFrame:
    segments = store.segments(source_id, run_id)
    if "label" not in segments.columns:
        segments = segments.with_columns(label=pl.lit(None, pl.String))
    return segments.select(pl.col("segment_id").cast(pl.Int32), "label")
