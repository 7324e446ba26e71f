"""Column names and types shared by every step, from the CSV to the segments."""

import polars as pl

# Columns of the Retailrocket events file, in its order.
CSV_COLUMNS = ("timestamp", "visitorid", "event", "itemid", "transactionid")

# The Enum's physical order is the tie-break for events with the same
# timestamp: a view comes before an addtocart, which comes before a transaction.
EVENT_NAMES = ("view", "addtocart", "transaction")
EVENT_TYPE = pl.Enum(EVENT_NAMES)

EVENTS_SCHEMA = pl.Schema(
    {
        "timestamp_ms": pl.Int64,
        "visitor_id": pl.Int64,
        "event": EVENT_TYPE,
        "item_id": pl.Int64,
        "transaction_id": pl.Int64,
    }
)

# The centroid coordinates, in the order users of the first prototype know.
FEATURE_NAMES = (
    "views",
    "addtocarts",
    "transactions",
    "sessions",
    "views_per_session",
    "purchase_ratio",
)

REJECTED_SCHEMA = pl.Schema(
    {
        "line_number": pl.Int64,
        **{column: pl.String for column in CSV_COLUMNS},
        "reason": pl.String,
    }
)
