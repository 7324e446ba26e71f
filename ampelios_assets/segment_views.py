"""Charts and tables of a run's segments: inline SVG and Markdown, with no external assets.

The same SVG goes into the HTML report and, as a base64 data URI image, into
the Markdown metadata of the clusters asset. The Dagster 1.13.27 UI's
Markdown sanitiser adds "data" to the allowed `src` protocols and its
content security policy sets no img-src, so data URI images show there.
"""

from __future__ import annotations

import base64
import html
import math

import polars as pl

from ampelios_assets.engine.schema import FEATURE_NAMES

_BAR_COLOUR = "#3b6ea8"
_ROW_HEIGHT = 26
_LABEL_WIDTH = 230


def sizes_svg(segments: pl.DataFrame) -> str:
    """Return a horizontal bar chart of segment sizes, one bar per segment."""
    width, bar_width = 720, 320
    largest = max(int(segments["size"].max() or 1), 1)
    total = int(segments["size"].sum() or 1)
    rows = []
    for index, row in enumerate(segments.iter_rows(named=True)):
        y = 10 + index * _ROW_HEIGHT
        length = max(1.0, bar_width * row["size"] / largest)
        rows.append(
            f'<g class="segment-bar" data-segment-id="{row["segment_id"]}">'
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 16}" text-anchor="end">{_segment_title(row)}</text>'
            f'<rect x="{_LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{_ROW_HEIGHT - 8}" fill="{_BAR_COLOUR}"/>'
            f'<text x="{_LABEL_WIDTH + length + 6:.1f}" y="{y + 16}">{row["size"]:,} ({row["size"] / total:.1%})</text>'
            "</g>"
        )
    return _svg(width, 20 + len(rows) * _ROW_HEIGHT, "Segment sizes", rows)


def profile_svg(segments: pl.DataFrame) -> str:
    """Return a heatmap of each centroid feature relative to the population mean (size-weighted).

    Cells show the centroid value; blue is above the mean, orange below,
    stronger with the log2 ratio to the mean.
    """
    cell_width = 92
    population = _population_means(segments)
    width = _LABEL_WIDTH + cell_width * len(FEATURE_NAMES) + 10
    rows = [
        f'<text x="{_LABEL_WIDTH + cell_width * i + cell_width / 2}" y="18" text-anchor="middle" font-size="11">{name}</text>'
        for i, name in enumerate(FEATURE_NAMES)
    ]
    for index, row in enumerate(segments.iter_rows(named=True)):
        y = 26 + index * _ROW_HEIGHT
        rows.append(f'<text x="{_LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end">{_segment_title(row)}</text>')
        for i, name in enumerate(FEATURE_NAMES):
            ratio = (row[name] + 1e-9) / (population[name] + 1e-9)
            rows.append(
                f'<rect x="{_LABEL_WIDTH + cell_width * i}" y="{y}" width="{cell_width - 2}" height="{_ROW_HEIGHT - 2}" '
                f'fill="{_diverging_colour(math.log2(ratio))}"/>'
                f'<text x="{_LABEL_WIDTH + cell_width * i + cell_width / 2}" y="{y + 17}" text-anchor="middle" '
                f'font-size="11">{row[name]:.2f}</text>'
            )
    return _svg(width, 36 + segments.height * _ROW_HEIGHT, "Centroid profiles", rows)


def transitions_svg(transitions: pl.DataFrame) -> str:
    """Return a from-segment by to-segment matrix of visitor counts; null rows are new or gone visitors."""
    from_keys = _transition_keys(transitions, "from")
    to_keys = _transition_keys(transitions, "to")
    counts = {
        (_key(row, "from"), _key(row, "to")): row["visitors"] for row in transitions.iter_rows(named=True)
    }
    largest = max(counts.values(), default=1)
    cell_width = 130
    # Two header lines, "to <id>" over the label, so long labels do not run into each other.
    rows = []
    for i, label in enumerate(to_keys):
        x = _LABEL_WIDTH + cell_width * i + cell_width / 2
        segment, _, name = label.partition(" ")
        first, second = ("to", label) if not segment.isdigit() else (f"to {segment}", name)
        rows.append(
            f'<text x="{x}" y="14" text-anchor="middle" font-size="11">{html.escape(first)}</text>'
            f'<text x="{x}" y="28" text-anchor="middle" font-size="10">{html.escape(second)}</text>'
        )
    for index, source in enumerate(from_keys):
        y = 36 + index * _ROW_HEIGHT
        rows.append(f'<text x="{_LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end">from {html.escape(source)}</text>')
        for i, target in enumerate(to_keys):
            count = counts.get((source, target), 0)
            shade = 0.08 + 0.85 * math.sqrt(count / largest) if count else 0.0
            rows.append(
                f'<rect class="transition" x="{_LABEL_WIDTH + cell_width * i}" y="{y}" width="{cell_width - 2}" '
                f'height="{_ROW_HEIGHT - 2}" fill="{_BAR_COLOUR}" fill-opacity="{shade:.2f}" stroke="#ccc"/>'
                f'<text x="{_LABEL_WIDTH + cell_width * i + cell_width / 2}" y="{y + 17}" text-anchor="middle" '
                f'font-size="11">{count:,}</text>'
            )
    width = _LABEL_WIDTH + cell_width * len(to_keys) + 10
    return _svg(width, 46 + len(from_keys) * _ROW_HEIGHT, "Transitions from the previous run", rows)


def profile_table_markdown(segments: pl.DataFrame, quality: dict) -> str:
    """Return a Markdown table: id, label, size, share, buyers, transactions, stability and lift per segment."""
    by_id = {row["segment_id"]: row for row in quality.get("segments", [])}
    lift = {row["segment_id"]: row["lift"] for row in ((quality.get("predictive") or {}).get("segments") or [])}
    total = int(segments["size"].sum() or 1)
    lines = [
        "| segment | label | description | size | share | buyer share | transaction share | stability | lift after cutoff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in segments.iter_rows(named=True):
        figures = by_id.get(row["segment_id"], {})
        lines.append(
            f"| {row['segment_id']} | {row['label']} | {row['description']} | {row['size']:,} | "
            f"{row['size'] / total:.1%} | {_percent(figures.get('buyer_share'))} | "
            f"{_percent(figures.get('transaction_share'))} | {_number(figures.get('stability'))} | "
            f"{_number(lift.get(row['segment_id']))} |"
        )
    return "\n".join(lines)


def clusters_markdown(segments: pl.DataFrame, quality: dict, transitions: pl.DataFrame | None) -> str:
    """Return the Markdown shown on a clusters materialisation: profile table and charts."""
    parts = [
        "### Segments",
        profile_table_markdown(segments, quality),
        f"Silhouette on {quality.get('sample_size', 0):,} visitors: {_number(quality.get('silhouette'))}",
        "### Sizes",
        _markdown_image("segment sizes", sizes_svg(segments)),
        "### Centroid profiles",
        _markdown_image("centroid profiles", profile_svg(segments)),
    ]
    if transitions is not None:
        parts += ["### Transitions", _markdown_image("transitions", transitions_svg(transitions))]
    return "\n\n".join(parts)


def _markdown_image(alt: str, svg: str) -> str:
    encoded = base64.b64encode(svg.encode()).decode()
    return f"![{alt}](data:image/svg+xml;base64,{encoded})"


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="sans-serif" font-size="12" role="img"><title>{html.escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _segment_title(row: dict) -> str:
    return html.escape(f"{row['segment_id']} {row.get('label') or ''}".strip())


def _population_means(segments: pl.DataFrame) -> dict[str, float]:
    total = float(segments["size"].sum() or 1)
    return {name: float((segments[name] * segments["size"]).sum()) / total for name in FEATURE_NAMES}


def _diverging_colour(log_ratio: float) -> str:
    strength = min(abs(log_ratio) / 3.0, 1.0)
    red, green, blue = (59, 110, 168) if log_ratio > 0 else (230, 140, 50)
    mix = [round(255 - (255 - channel) * strength) for channel in (red, green, blue)]
    return f"rgb({mix[0]},{mix[1]},{mix[2]})"


def _transition_keys(transitions: pl.DataFrame, side: str) -> list[str]:
    keys = []
    for row in transitions.sort(f"{side}_segment_id", nulls_last=True).iter_rows(named=True):
        key = _key(row, side)
        if key not in keys:
            keys.append(key)
    return keys


def _key(row: dict, side: str) -> str:
    segment_id = row[f"{side}_segment_id"]
    if segment_id is None:
        return "new visitors" if side == "from" else "not in run"
    return f"{segment_id} {row.get(f'{side}_label') or ''}".strip()


def _percent(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _number(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"
