"""Render segments as a terminal table or as JSON records."""

from __future__ import annotations

import polars as pl
from rich.console import Console
from rich.table import Table

from ampelios_assets.engine.schema import FEATURE_NAMES


def segments_as_records(segments: pl.DataFrame) -> list[dict]:
    """Return [{"id", "size", "centroid": {feature: value}}] in segment order."""
    return [
        {
            "id": row["segment_id"],
            "size": row["size"],
            "centroid": {name: row[name] for name in FEATURE_NAMES},
        }
        for row in segments.iter_rows(named=True)
    ]


def print_segments(console: Console, segments: pl.DataFrame) -> None:
    """Print one row per segment: id, size, share of visitors and the centroid."""
    total = int(segments["size"].sum() or 0)
    table = Table(title="segments (centroid = mean of members)")
    table.add_column("id", justify="right")
    table.add_column("size", justify="right")
    table.add_column("share", justify="right")
    for name in FEATURE_NAMES:
        table.add_column(name, justify="right")
    for row in segments.iter_rows(named=True):
        share = row["size"] / total if total else 0.0
        table.add_row(
            str(row["segment_id"]),
            f"{row['size']:,}",
            f"{share:.1%}",
            *(f"{row[name]:.3f}" for name in FEATURE_NAMES),
        )
    console.print(table)
