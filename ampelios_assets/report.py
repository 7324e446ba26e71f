"""A self-contained HTML report of a source's latest run: tables and inline SVG, no network fetches."""

from __future__ import annotations

import html

from ampelios_assets.history import latest_transitions
from ampelios_assets.segment_views import profile_svg, sizes_svg, transitions_svg
from ampelios_assets.stores.base import SegmentStore

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:nth-child(2), th:nth-child(3), td:nth-child(2), td:nth-child(3) { text-align: left; }
"""

# Records on <body> how many segment bars the browser laid out with a non-zero
# width, so a headless browser's DOM dump shows that the charts rendered.
_RENDER_CHECK = (
    "document.body.dataset.renderedSegmentBars = Array.from("
    "document.querySelectorAll('.segment-bar rect')).filter(r => r.getBBox().width > 0).length;"
)


def segments_report_html(store: SegmentStore, source_id: int) -> str:
    """Return the report of the source's latest run: segments with quality figures, sizes, profiles, transitions."""
    latest = store.latest_run(source_id)
    if latest is None:
        raise store._no_segments(source_id, None)
    segments = store.segments(source_id)
    metadata = store.run_metadata(source_id)
    quality = metadata.get("quality", {})
    transitions = latest_transitions(store, source_id)

    parts = [
        f"<h1>Segments of source {source_id}</h1>",
        f"<p>Run {html.escape(latest.run_id)}, published {latest.published_at:%Y-%m-%d %H:%M} UTC, "
        f"{latest.visitor_count:,} visitors.</p>",
        _segments_table(segments, quality),
        _quality_paragraph(metadata),
        "<h2>Sizes</h2>",
        sizes_svg(segments),
        "<h2>Centroid profiles</h2>",
        "<p>Each cell is the segment's mean; blue is above the average visitor, orange below.</p>",
        profile_svg(segments),
    ]
    if transitions is not None:
        parts += ["<h2>Transitions from the previous run</h2>", transitions_svg(transitions)]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Ampelios segments, source {source_id}</title><style>{_STYLE}</style></head>"
        f"<body>\n{body}\n<script>{_RENDER_CHECK}</script>\n</body></html>\n"
    )


def _segments_table(segments, quality: dict) -> str:
    figures = {row["segment_id"]: row for row in quality.get("segments", [])}
    lift = {row["segment_id"]: row["lift"] for row in ((quality.get("predictive") or {}).get("segments") or [])}
    total = int(segments["size"].sum() or 1)
    header = (
        "<tr><th>segment</th><th>label</th><th>description</th><th>size</th><th>share</th>"
        "<th>buyer share</th><th>transaction share</th><th>stability</th><th>lift after cutoff</th></tr>"
    )
    rows = []
    for row in segments.iter_rows(named=True):
        quality_row = figures.get(row["segment_id"], {})
        cells = [
            row["segment_id"],
            html.escape(str(row.get("label"))),
            html.escape(str(row.get("description"))),
            f"{row['size']:,}",
            f"{row['size'] / total:.1%}",
            _format(quality_row.get("buyer_share"), "{:.1%}"),
            _format(quality_row.get("transaction_share"), "{:.1%}"),
            _format(quality_row.get("stability"), "{:.3f}"),
            _format(lift.get(row["segment_id"]), "{:.2f}"),
        ]
        cell_html = "".join(f"<td>{cell}</td>" for cell in cells)
        rows.append(f'<tr class="segment" data-segment-id="{row["segment_id"]}">{cell_html}</tr>')
    return f'<table id="segments">{header}{"".join(rows)}</table>'


def _quality_paragraph(metadata: dict) -> str:
    quality = metadata.get("quality", {})
    notes = [*metadata.get("warnings", []), *metadata.get("cluster_count_notes", [])]
    text = f"Silhouette on a sample of {quality.get('sample_size', 0):,} visitors: {_format(quality.get('silhouette'), '{:.3f}')}."
    predictive = quality.get("predictive")
    if predictive:
        text += (
            f" Predictive check: segments from events before {predictive['cutoff_date']}, "
            f"base purchase rate after it {predictive['base_rate']:.2%}."
        )
    items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    return f"<p>{text}</p>" + (f"<ul>{items}</ul>" if items else "")


def _format(value, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)
