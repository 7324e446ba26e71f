"""Name each segment from its centroid compared with the whole population.

The rules read the centroid in feature units (the mean over the segment's
members), first rule that applies wins:

| label | rule |
|---|---|
| `repeat_buyer` | transactions >= 1.5 and sessions >= 2: most members bought more than once, over several visits |
| `buyer` | transactions >= 0.5: most members bought |
| `cart_abandoner` | addtocarts >= 0.5: most members filled a cart but did not buy |
| `engaged_browser` | sessions or views at least twice the population mean, and at least 2 sessions |
| `single_visit_browser` | sessions < 1.5 and views_per_session >= 2.5: one visit that looked at several items, no purchase signal |
| `one_time_browser` | sessions < 1.5: most members came once, looked at about one item and neither carted nor bought |
| `returning_browser` | anything else: several visits, no purchase signal, ordinary activity |

When two segments get the same label, the later ones (by segment_id) get a
suffix `_2`, `_3`, so a label names one segment.
"""

from __future__ import annotations

import polars as pl

REPEAT_MIN_TRANSACTIONS = 1.5
REPEAT_MIN_SESSIONS = 2.0
BUYER_MIN_TRANSACTIONS = 0.5
CART_MIN_ADDTOCARTS = 0.5
ENGAGED_MIN_RATIO = 2.0
ENGAGED_MIN_SESSIONS = 2.0
ONE_TIME_MAX_SESSIONS = 1.5
SINGLE_VISIT_MIN_VIEWS_PER_SESSION = 2.5

LABEL_TEXT = {
    "repeat_buyer": "repeat high-value buyers",
    "buyer": "buyers",
    "cart_abandoner": "cart abandoners, likely to buy",
    "engaged_browser": "engaged browsers",
    "single_visit_browser": "single-visit browsers, several items viewed, no purchase signal",
    "one_time_browser": "one-time visitors, no purchase signal",
    "returning_browser": "returning browsers, no purchase signal",
}


def centroid_label(centroid: dict, population: dict) -> str:
    """Return the rule label of one centroid; both dicts map feature name to mean."""
    transactions, sessions = centroid["transactions"], centroid["sessions"]
    if transactions >= REPEAT_MIN_TRANSACTIONS and sessions >= REPEAT_MIN_SESSIONS:
        return "repeat_buyer"
    if transactions >= BUYER_MIN_TRANSACTIONS:
        return "buyer"
    if centroid["addtocarts"] >= CART_MIN_ADDTOCARTS:
        return "cart_abandoner"
    more_sessions = sessions >= ENGAGED_MIN_RATIO * population["sessions"]
    more_views = centroid["views"] >= ENGAGED_MIN_RATIO * population["views"]
    if (more_sessions or more_views) and sessions >= ENGAGED_MIN_SESSIONS:
        return "engaged_browser"
    if sessions < ONE_TIME_MAX_SESSIONS and centroid["views_per_session"] >= SINGLE_VISIT_MIN_VIEWS_PER_SESSION:
        return "single_visit_browser"
    if sessions < ONE_TIME_MAX_SESSIONS:
        return "one_time_browser"
    return "returning_browser"


def centroid_description(centroid: dict, population: dict, share: float) -> str:
    """Return one line: the share of visitors and how the centroid differs from the mean visitor."""
    parts = [f"{share:.1%} of visitors"]
    for name, noun in (("views", "views"), ("sessions", "sessions"), ("addtocarts", "cart adds"), ("transactions", "purchases")):
        value, mean = centroid[name], population[name]
        ratio = f", {value / mean:.1f}x the average" if mean > 0 else ""
        parts.append(f"{value:.2f} {noun}{ratio}")
    return "; ".join(parts)


def segment_labels(segments: pl.DataFrame, population: dict) -> pl.DataFrame:
    """Return segment_id, label, name and description for each row of `segments`.

    `segments` has segment_id, size and the centroid features; `population`
    maps each feature to its mean over all visitors.
    """
    total = int(segments["size"].sum() or 0)
    seen: dict[str, int] = {}
    rows = []
    for row in segments.sort("segment_id").iter_rows(named=True):
        label = centroid_label(row, population)
        seen[label] = seen.get(label, 0) + 1
        unique = label if seen[label] == 1 else f"{label}_{seen[label]}"
        share = row["size"] / total if total else 0.0
        rows.append(
            {
                "segment_id": row["segment_id"],
                "label": unique,
                "name": LABEL_TEXT[label],
                "description": centroid_description(row, population, share),
            }
        )
    return pl.DataFrame(
        rows,
        schema={"segment_id": segments.schema["segment_id"], "label": pl.String, "name": pl.String, "description": pl.String},
    )
