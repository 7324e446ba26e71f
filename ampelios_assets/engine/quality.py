"""Measure how good a run's segments are: separation, stability, value and predictive power.

Every figure is computed on samples, so a run over 1.4 million visitors
stays within seconds:

- silhouette: scikit-learn's silhouette coefficient on `sample_size` visitors;
- bootstrap stability (Hennig's clusterwise Jaccard bootstrap): k-means is
  refitted on `resamples` bootstrap resamples of `sample_size` visitors. A
  segment's stability is the Jaccard similarity between its members in a
  resample and the most similar refitted cluster, averaged over resamples.
  Above 0.85 a segment is highly stable, below 0.6 unstable;
- value: each segment's share of the buyers (visitors with a transaction)
  and of the transactions;
- predictive check: see `predictive_check`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from sklearn.cluster import KMeans

from ampelios_assets.engine.clustering import assign_segments
from ampelios_assets.engine.features import journey_features
from ampelios_assets.engine.journeys import session_journeys, visitor_journeys
from ampelios_assets.engine.schema import FEATURE_NAMES

HIGHLY_STABLE_JACCARD = 0.85
UNSTABLE_JACCARD = 0.6
# The predictive check cuts the events at this fraction of their time span.
PREDICTIVE_CUTOFF_FRACTION = 0.75
DAY_MS = 86_400_000


def stability_verdict(jaccard: float) -> str:
    """Return "highly stable", "stable" or "unstable" for a mean Jaccard similarity."""
    if jaccard > HIGHLY_STABLE_JACCARD:
        return "highly stable"
    if jaccard < UNSTABLE_JACCARD:
        return "unstable"
    return "stable"


def bootstrap_stability(
    scaled: np.ndarray, labels: np.ndarray, resamples: int, random_state: int = 0
) -> dict[int, float]:
    """Return each segment's mean Jaccard similarity over bootstrap refits of `scaled` (rows = visitors)."""
    rng = np.random.default_rng(random_state)
    segment_ids = np.unique(labels)
    if len(segment_ids) == 0:
        return {}
    totals = {int(s): [] for s in segment_ids}
    for resample in range(resamples):
        drawn = np.unique(rng.integers(0, len(scaled), size=len(scaled)))
        # A small resample can hold fewer distinct visitors than there are segments.
        cluster_count = min(len(segment_ids), len(np.unique(scaled[drawn], axis=0)))
        refit = KMeans(n_clusters=cluster_count, n_init=3, random_state=random_state + resample)
        refit_labels = refit.fit(scaled[drawn]).labels_
        for segment in segment_ids:
            members = labels[drawn] == segment
            if not members.any():
                continue
            best = 0.0
            for cluster in np.unique(refit_labels):
                refitted = refit_labels == cluster
                union = np.count_nonzero(members | refitted)
                best = max(best, np.count_nonzero(members & refitted) / union)
            totals[int(segment)].append(best)
    return {segment: float(np.mean(values)) if values else float("nan") for segment, values in totals.items()}


def segment_value(assignments: pl.DataFrame) -> pl.DataFrame:
    """Return segment_id, buyers, buyer_share and transaction_share per segment."""
    return (
        assignments.group_by("segment_id")
        .agg(
            buyers=(pl.col("transactions") > 0).sum().cast(pl.Int64),
            segment_transactions=pl.col("transactions").sum().cast(pl.Int64),
        )
        .with_columns(
            buyer_share=_share(pl.col("buyers")),
            transaction_share=_share(pl.col("segment_transactions")),
        )
        .rename({"segment_transactions": "transactions"})
        .sort("segment_id")
    )


def _share(column: pl.Expr) -> pl.Expr:
    total = column.sum()
    return pl.when(total > 0).then(column / total).otherwise(0.0)


def predictive_check(sessionized: pl.DataFrame, model: dict, min_span_days: int) -> dict | None:
    """Assign visitors by their events before a cutoff and measure who buys after it.

    The cutoff is the UTC midnight at or before PREDICTIVE_CUTOFF_FRACTION of
    the events' time span. Each visitor seen before the cutoff gets the
    nearest centroid of `model`, computed from the features of those events
    alone. A segment's purchase rate is the share of its visitors with a
    transaction on or after the cutoff. Its lift is that rate over the rate
    of all visitors seen before the cutoff. Returns None when the events
    span fewer than min_span_days days.
    """
    first_ms = int(sessionized["timestamp_ms"].min())
    last_ms = int(sessionized["timestamp_ms"].max())
    if last_ms - first_ms < min_span_days * DAY_MS:
        return None
    cutoff_ms = first_ms + int((last_ms - first_ms) * PREDICTIVE_CUTOFF_FRACTION)
    cutoff_ms -= cutoff_ms % DAY_MS

    before = sessionized.filter(pl.col("timestamp_ms") < cutoff_ms)
    features = journey_features(visitor_journeys(session_journeys(before)))
    buyers_after = (
        sessionized.filter((pl.col("timestamp_ms") >= cutoff_ms) & (pl.col("event") == "transaction"))
        .select("visitor_id")
        .unique()
        .with_columns(bought_after=pl.lit(True))
    )
    matrix = features.select(FEATURE_NAMES).cast(pl.Float64).to_numpy()
    assigned = features.select("visitor_id").with_columns(
        segment_id=pl.Series(assign_segments(matrix, model), dtype=pl.Int32)
    ).join(buyers_after, on="visitor_id", how="left").with_columns(pl.col("bought_after").fill_null(False))

    base_rate = float(assigned["bought_after"].mean() or 0.0)
    per_segment = (
        assigned.group_by("segment_id")
        .agg(visitors=pl.len().cast(pl.Int64), buyers_after=pl.col("bought_after").sum().cast(pl.Int64))
        .with_columns(purchase_rate=pl.col("buyers_after") / pl.col("visitors"))
        .with_columns(lift=pl.col("purchase_rate") / base_rate if base_rate > 0 else pl.lit(None, pl.Float64))
        .sort("segment_id")
    )
    cutoff = dt.datetime.fromtimestamp(cutoff_ms / 1000, tz=dt.timezone.utc)
    return {
        "cutoff_date": cutoff.date().isoformat(),
        "visitors_before_cutoff": assigned.height,
        "base_rate": base_rate,
        "segments": per_segment.to_dicts(),
    }


def quality_report(
    assignments: pl.DataFrame,
    scaled: np.ndarray,
    sample_size: int,
    resamples: int,
    random_state: int = 0,
) -> dict:
    """Return the silhouette, stability and value figures of one run as a JSON-ready dict.

    `scaled` is the features of `assignments`' rows in the model's scaled space.
    """
    rng = np.random.default_rng(random_state)
    rows = assignments.height
    sample = np.arange(rows) if rows <= sample_size else np.sort(rng.choice(rows, sample_size, replace=False))
    labels = assignments["segment_id"].to_numpy()[sample]

    silhouette = None
    if 2 <= len(np.unique(labels)) < len(sample):
        from sklearn.metrics import silhouette_score

        silhouette = float(silhouette_score(scaled[sample], labels))
    stability = bootstrap_stability(scaled[sample], labels, resamples, random_state) if resamples else {}

    value = segment_value(assignments)
    segments = []
    for row in value.iter_rows(named=True):
        jaccard = stability.get(int(row["segment_id"]))
        segments.append(
            {
                **row,
                "stability": jaccard,
                "stability_verdict": stability_verdict(jaccard) if jaccard is not None else None,
            }
        )
    return {"sample_size": int(len(sample)), "silhouette": silhouette, "bootstrap_resamples": resamples, "segments": segments}
