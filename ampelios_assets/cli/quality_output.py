"""Render a run's quality report in the terminal or as JSON."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def quality_document(run_metadata: dict) -> dict:
    """Return the quality report, cluster count decisions and segment matches published with a run."""
    return {
        "cluster_count": run_metadata.get("cluster_count"),
        "notes": run_metadata.get("cluster_count_notes", []),
        "matches": run_metadata.get("matches", []),
        **run_metadata.get("quality", {}),
    }


def print_quality(console: Console, run_metadata: dict) -> None:
    """Print silhouette, per-segment stability, value shares, predictive lift and segment matches.

    The cluster count notes are not repeated here, because `ampelios run` prints them among the warnings.
    """
    quality = run_metadata.get("quality")
    if not quality:
        return
    predictive = quality.get("predictive") or {}
    lift = {row["segment_id"]: row for row in predictive.get("segments", [])}
    matches = {row["segment_id"]: row for row in run_metadata.get("matches", [])}

    title = f"quality (silhouette {_number(quality.get('silhouette'))} on {quality['sample_size']:,} visitors"
    if predictive:
        title += f"; purchases after {predictive['cutoff_date']}, base rate {predictive['base_rate']:.2%}"
    table = Table(title=title + ")")
    for column in ("id", "buyer share", "transaction share", "stability", "stable?", "purchase rate after", "lift", "previous id", "match distance"):
        table.add_column(column, justify="right")
    for row in quality["segments"]:
        after = lift.get(row["segment_id"], {})
        match = matches.get(row["segment_id"], {})
        table.add_row(
            str(row["segment_id"]),
            f"{row['buyer_share']:.1%}",
            f"{row['transaction_share']:.1%}",
            _number(row.get("stability")),
            row.get("stability_verdict") or "",
            "n/a" if after.get("purchase_rate") is None else f"{after['purchase_rate']:.2%}",
            _number(after.get("lift")),
            "new" if match.get("previous_segment_id") is None else str(match["previous_segment_id"]),
            _number(match.get("distance")),
        )
    console.print(table)
    if not predictive:
        console.print("predictive check skipped: the events span too few days (AMPELIOS_PREDICTIVE_MIN_SPAN_DAYS)")


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
