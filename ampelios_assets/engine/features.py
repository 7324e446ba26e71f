"""Derive the six behaviour features of each visitor from their journey."""

from __future__ import annotations

import polars as pl

from ampelios_assets.engine.schema import FEATURE_NAMES


def journey_features(journeys: pl.DataFrame) -> pl.DataFrame:
    """Return `visitor_id` and the six features, in `FEATURE_NAMES` order.

    purchase_ratio is transactions per session divided by views per session,
    which is transactions / views. A visitor with no views counts as having
    one, so buying without a recorded view gives transactions / 1 instead of
    an infinite ratio, and a visitor with neither gets 0.
    """
    views = pl.col("views").cast(pl.Float64)
    return journeys.select(
        "visitor_id",
        pl.col("views", "addtocarts", "transactions", "sessions").cast(pl.Int64),
        views_per_session=views / pl.col("sessions"),
        purchase_ratio=pl.col("transactions") / pl.max_horizontal(views, pl.lit(1.0)),
    ).select("visitor_id", *FEATURE_NAMES)
