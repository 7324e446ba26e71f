"""Render segments as a terminal table or as JSON records."""

from __future__ import annotations

import polars as pl
from rich.console import Console
from rich.table import Table

from ampelios_assets.engine.schema import FEATURE_NAMES

_LABEL_COLUMNS = ("label", "name", "description")


def segments_as_records(segments: pl.DataFrame) -> list[dict]:
    """Return [{"id", "size", "label", "name", "description", "centroid": {feature: value}}] in segment order.

    Runs published before segments had labels have no label, name or description.
    """
    records = []
    for row in segments.iter_rows(named=True):
        record = {"id": row["segment_id"], "size": row["size"]}
        record.update({key: row[key] for key in _LABEL_COLUMNS if key in row})
        record["centroid"] = {name: row[name] for name in FEATURE_NAMES}
        records.append(record)
    return records


def print_segments(console: Console, segments: pl.DataFrame) -> None:
    """Print one row per segment: id, size, share of visitors and the centroid."""
    total = int(segments["size"].sum() or 0)
    table = Table(title="segments (centroid = mean of members)")
    table.add_column("id", justify="right")
    table.add_column("size", justify="right")
    table.add_column("share", justify="right")
    labelled = "label" in segments.columns
    if labelled:
        table.add_column("label")
    for name in FEATURE_NAMES:
        table.add_column(name, justify="right")
    for row in segments.iter_rows(named=True):
        share = row["size"] / total if total else 0.0
        table.add_row(
            str(row["segment_id"]),
            f"{row['size']:,}",
            f"{share:.1%}",
            *([row["label"]] if labelled else []),
            *(f"{row[name]:.3f}" for name in FEATURE_NAMES),
        )
    console.print(table)
