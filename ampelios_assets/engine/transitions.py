"""Compare the segment snapshots of runs: transitions between two runs and one visitor's history."""

from __future__ import annotations

import polars as pl


def segment_transitions(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """Return from_segment_id, to_segment_id and visitors for two runs' assignments.

    Every visitor of either run is counted once, so the visitors column sums
    to the size of the union: a visitor new in `current` has a null
    from_segment_id, one missing from `current` a null to_segment_id.
    """
    joined = previous.select("visitor_id", from_segment_id="segment_id").join(
        current.select("visitor_id", to_segment_id="segment_id"), on="visitor_id", how="full", coalesce=True
    )
    return (
        joined.group_by("from_segment_id", "to_segment_id")
        .agg(visitors=pl.len().cast(pl.Int64))
        .sort("from_segment_id", "to_segment_id", nulls_last=True)
    )


def visitor_segment_history(snapshots: list[tuple[str, pl.DataFrame]], visitor_id: int) -> pl.DataFrame:
    """Return run_id and segment_id of one visitor in each snapshot (run_id, assignments) they appear in.

    Snapshots are given oldest first; the result keeps that order.
    """
    rows = []
    for run_id, assignments in snapshots:
        found = assignments.filter(pl.col("visitor_id") == visitor_id)
        if found.height:
            rows.append({"run_id": run_id, "segment_id": int(found["segment_id"][0])})
    return pl.DataFrame(rows, schema={"run_id": pl.String, "segment_id": pl.Int64})
