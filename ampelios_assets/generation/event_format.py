"""The Retailrocket events format shared by the generators: codes, time window, item ids, frame assembly."""

from dataclasses import dataclass

import numpy as np
import polars as pl

from ampelios_assets.engine.schema import EVENT_NAMES

VIEW, ADDTOCART, TRANSACTION = 0, 1, 2

# 2015-05-03 00:00:00.000 UTC to 2015-09-18 23:59:59.999 UTC, both inclusive.
WINDOW_START_MS = 1_430_611_200_000
WINDOW_END_MS = 1_442_620_799_999
WINDOW_LENGTH_MS = WINDOW_END_MS - WINDOW_START_MS

ITEM_ID_LIMIT = 466_868  # item ids are drawn from 0..466_867
ITEM_RANK_OFFSET = 200  # item weight is (rank + offset) ** -exponent
ITEM_POPULARITY_EXPONENT = 1.2


@dataclass(frozen=True)
class EventRows:
    """Parallel arrays of event rows. transaction_id is -1 on non-transactions."""

    timestamp_ms: np.ndarray
    visitor_id: np.ndarray
    event_code: np.ndarray
    item_id: np.ndarray
    transaction_id: np.ndarray

    def take(self, indices: np.ndarray) -> "EventRows":
        return EventRows(
            self.timestamp_ms[indices],
            self.visitor_id[indices],
            self.event_code[indices],
            self.item_id[indices],
            self.transaction_id[indices],
        )


def ranks_within(counts: np.ndarray) -> np.ndarray:
    """Return 0..count-1 for each entry of counts, concatenated."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum())) - np.repeat(starts, counts)


def popular_item_ids(
    size: int, item_count: int, rng: np.random.Generator, cover_all: bool = False
) -> np.ndarray:
    """Draw size item ids from item_count random ids in 0..466,867 with Zipf-like popularity.

    With cover_all, each of the item_count ids appears at least once, which needs
    size >= item_count.
    """
    item_ids = rng.choice(ITEM_ID_LIMIT, size=item_count, replace=False).astype(np.int64)
    weights = (np.arange(1, item_count + 1) + ITEM_RANK_OFFSET) ** -ITEM_POPULARITY_EXPONENT
    ranks = rng.choice(item_count, size=size, p=weights / weights.sum())
    if cover_all:
        if size < item_count:
            raise ValueError(f"cannot cover {item_count} items with {size} rows")
        ranks[rng.choice(size, size=item_count, replace=False)] = np.arange(item_count)
    return item_ids[ranks]


def timestamps_in_window(
    events_per_visitor: np.ndarray, gap_ms: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Turn gaps into Unix ms timestamps, starting each visitor at a uniform random time.

    Rows are grouped by visitor in the order of events_per_visitor, every count is at
    least 1, gap_ms is 0 on each visitor's first row, and each visitor's gaps must sum
    to at most WINDOW_LENGTH_MS. The last timestamp is then at most WINDOW_END_MS.
    """
    cumulative_ms = np.cumsum(gap_ms)
    first_row = np.cumsum(events_per_visitor) - events_per_visitor
    last_row = first_row + events_per_visitor - 1
    offset_ms = cumulative_ms - np.repeat(cumulative_ms[first_row], events_per_visitor)
    span_ms = cumulative_ms[last_row] - cumulative_ms[first_row]
    if (span_ms > WINDOW_LENGTH_MS).any():
        raise ValueError(
            f"internal error: a visitor spans {span_ms.max()} ms, longer than the window of "
            f"{WINDOW_LENGTH_MS} ms"
        )

    start_ms = WINDOW_START_MS + np.floor(
        rng.random(len(events_per_visitor)) * (WINDOW_LENGTH_MS - span_ms + 1)
    ).astype(np.int64)
    return np.repeat(start_ms, events_per_visitor) + offset_ms


def shuffled_events_frame(rows: EventRows, rng: np.random.Generator) -> pl.DataFrame:
    """Assemble rows in random order as a frame with the Retailrocket columns and types."""
    order = rng.permutation(len(rows.event_code))
    rows = rows.take(order)
    frame = pl.DataFrame(
        {
            "timestamp": pl.Series(rows.timestamp_ms, dtype=pl.Int64),
            "visitorid": pl.Series(rows.visitor_id, dtype=pl.Int64),
            "event": pl.Series(rows.event_code, dtype=pl.Int8).replace_strict(
                list(range(len(EVENT_NAMES))), list(EVENT_NAMES), return_dtype=pl.String
            ),
            "itemid": pl.Series(rows.item_id, dtype=pl.Int64),
            "transactionid": pl.Series(rows.transaction_id, dtype=pl.Int64),
        }
    )
    return frame.with_columns(
        pl.when(pl.col("transactionid") >= 0).then(pl.col("transactionid")).alias("transactionid")
    )
