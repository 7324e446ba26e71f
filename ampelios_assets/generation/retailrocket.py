"""Synthetic events in the Retailrocket format, shaped like the real events.csv.

The real file (Retailrocket e-commerce dataset, 2015) has 1,407,580 visitors with ids
0..1,407,579 and 2,756,101 rows between 2015-05-03 and 2015-09-18 UTC.
`retailrocket_events` reproduces its totals exactly at full size and scales them down
for fewer visitors. The pieces of the format it shares with `planted.py` (codes,
time window, item popularity, frame assembly) are in `event_format.py`.
"""

import logging
from dataclasses import dataclass

import numpy as np
import polars as pl

from ampelios_assets.engine.schema import CSV_COLUMNS as EVENT_COLUMNS
from ampelios_assets.generation.event_format import (
    ADDTOCART,
    ITEM_ID_LIMIT,
    TRANSACTION,
    VIEW,
    WINDOW_LENGTH_MS,
    WINDOW_START_MS,
    EventRows,
    popular_item_ids,
    ranks_within,
    shuffled_events_frame,
    timestamps_in_window,
)

logger = logging.getLogger(__name__)


# Totals of the real events.csv. The event counts include its exact duplicate rows.
FULL_SIZE_VISITORS = 1_407_580
FULL_SIZE_VIEWS = 2_664_312
FULL_SIZE_ADDTOCARTS = 69_332
FULL_SIZE_TRANSACTIONS = 22_457
FULL_SIZE_ITEMS = 235_061
FULL_SIZE_DUPLICATES = 460

BUYER_SHARE = 0.008  # visitors who view, add to cart and buy
ABANDONER_SHARE = 0.02  # visitors who add to cart and never buy
# Share of visitors whose extra views follow a heavy tail. Other browsers view once.
RETURNING_SHARE = 0.36
VIEW_TAIL_INDEX = 1.6  # Pareto index of view weights: lower means heavier visitors
CARTER_VIEW_WEIGHT = 2.0  # view weight factor for visitors who add to cart
SEPARATE_CHECKOUT_PROBABILITY = 0.75  # chance that a buyer's further purchase is a new checkout

# Chance that an event after a visitor's first starts a session. In a 5,000-visitor
# sample of the real events, 28% of a visitor's consecutive gaps exceed 30 minutes.
NEW_SESSION_PROBABILITY = 0.28
AFTER_PURCHASE_SESSION_PROBABILITY = 0.9  # the same chance for the event after a purchase
MEAN_WITHIN_SESSION_GAP_MS = 120_000
MAX_WITHIN_SESSION_GAP_MS = 25 * 60_000
MIN_EVENT_GAP_MS = 1_000
MEDIAN_BETWEEN_SESSION_GAP_MS = 40 * 3_600_000
BETWEEN_SESSION_GAP_SIGMA = 2.5  # log-normal shape
MIN_BETWEEN_SESSION_GAP_MS = 3_600_000
MAX_BETWEEN_SESSION_GAP_MS = 60 * 86_400_000


@dataclass(frozen=True)
class RetailrocketTotals:
    """Exact totals of a generated Retailrocket frame. Event counts include duplicates."""

    visitors: int
    views: int
    addtocarts: int
    transactions: int
    items: int
    duplicates: int

    @property
    def rows(self) -> int:
        return self.views + self.addtocarts + self.transactions


def retailrocket_totals(visitors: int) -> RetailrocketTotals:
    """Scale the real totals to `visitors` by round(total * visitors / 1,407,580).

    Views, addtocarts, transactions and distinct items are at least 1. Duplicates
    follow the same rule and may be 0. Rounding is Python's round, half to even.
    Raises ValueError when visitors is below 1 or needs more distinct items than
    the 466,868 item ids.
    """
    if visitors < 1:
        raise ValueError(f"visitors={visitors} is invalid; generate at least 1 visitor")

    def scaled(total: int, minimum: int) -> int:
        return max(minimum, round(total * visitors / FULL_SIZE_VISITORS))

    totals = RetailrocketTotals(
        visitors=visitors,
        views=scaled(FULL_SIZE_VIEWS, 1),
        addtocarts=scaled(FULL_SIZE_ADDTOCARTS, 1),
        transactions=scaled(FULL_SIZE_TRANSACTIONS, 1),
        items=scaled(FULL_SIZE_ITEMS, 1),
        duplicates=scaled(FULL_SIZE_DUPLICATES, 0),
    )
    if totals.items > ITEM_ID_LIMIT:
        most = max_visitors()
        raise ValueError(
            f"visitors={visitors} needs {totals.items} distinct items, but item ids "
            f"range over 0..{ITEM_ID_LIMIT - 1}; generate at most {most:,} visitors"
        )
    return totals


def max_visitors() -> int:
    """Return the largest visitor count whose scaled item count fits the item ids."""
    # round(items * v / visitors) <= ITEM_ID_LIMIT holds up to this v, give or take the rounding.
    most = (ITEM_ID_LIMIT * FULL_SIZE_VISITORS) // FULL_SIZE_ITEMS
    while round(FULL_SIZE_ITEMS * (most + 1) / FULL_SIZE_VISITORS) <= ITEM_ID_LIMIT:
        most += 1
    while round(FULL_SIZE_ITEMS * most / FULL_SIZE_VISITORS) > ITEM_ID_LIMIT:
        most -= 1
    return most


def retailrocket_events(visitors: int, seed: int = 0) -> pl.DataFrame:
    """Generate shuffled Retailrocket-format events for visitor ids 0..visitors-1.

    The totals are those of `retailrocket_totals(visitors)`, so at 1,407,580 visitors
    they equal the real file's. Each duplicate row copies a distinct base row. Of the
    duplicates, round(duplicates * transactions / rows) are transactions and
    round(duplicates * addtocarts / rows) are addtocarts, and the rest are views.
    About 0.8% of visitors buy and about 2% abandon a cart. A visitor's cart item is an
    item it viewed earlier, and its transaction item is an item it carted earlier.
    The transactions of one visitor session share a transaction id. Items follow a
    Zipf-like popularity, and every one of the distinct items appears at least once.
    The same seed gives the same frame.
    """
    totals = retailrocket_totals(visitors)
    rng = np.random.default_rng(seed)
    duplicates_by_code = _duplicates_by_event_code(totals)
    event_totals = np.array([totals.views, totals.addtocarts, totals.transactions])
    base_counts = event_totals - duplicates_by_code

    views, addtocarts, transactions = _events_per_visitor(visitors, base_counts, rng)
    rows = _ordered_rows(views, addtocarts, transactions, totals.items, rng)

    copied = _duplicate_row_indices(rows.event_code, duplicates_by_code, rng)
    rows = rows.take(np.concatenate([np.arange(len(rows.event_code)), copied]))

    logger.debug("generated %d Retailrocket rows for %d visitors", len(rows.event_code), visitors)
    return shuffled_events_frame(rows, rng)


def _duplicates_by_event_code(totals: RetailrocketTotals) -> np.ndarray:
    transactions = round(totals.duplicates * totals.transactions / totals.rows)
    addtocarts = round(totals.duplicates * totals.addtocarts / totals.rows)
    return np.array([totals.duplicates - addtocarts - transactions, addtocarts, transactions])


def _events_per_visitor(
    visitors: int, base_counts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw the views, addtocarts and transactions of each visitor, summing to base_counts.

    Every visitor views at least once, and a visitor views at least as often as it
    adds to cart and adds to cart at least as often as it buys.
    """
    view_total, addtocart_total, transaction_total = (int(count) for count in base_counts)
    buyer_count = min(max(1, round(BUYER_SHARE * visitors)), transaction_total)
    abandoner_count = min(
        round(ABANDONER_SHARE * visitors),
        addtocart_total - transaction_total,
        visitors - buyer_count,
    )
    order = rng.permutation(visitors)
    buyers = order[:buyer_count]
    carters = order[: buyer_count + abandoner_count]

    transactions = np.zeros(visitors, dtype=np.int64)
    transactions[buyers] = 1 + _multinomial_split(
        transaction_total - buyer_count, 1.0 + rng.pareto(1.5, buyer_count), rng
    )

    addtocarts = np.zeros(visitors, dtype=np.int64)
    addtocarts[carters] = np.maximum(transactions[carters], 1)
    addtocarts[carters] += _multinomial_split(
        addtocart_total - int(addtocarts.sum()), 1.0 + rng.pareto(1.5, len(carters)), rng
    )

    # A zero weight keeps a visitor at its minimum of views. Returning visitors get
    # heavy-tailed weights, which produce the few visitors with thousands of views.
    returning = rng.random(visitors) < RETURNING_SHARE
    returning[carters] = True
    view_weights = np.where(returning, 1.0 + rng.pareto(VIEW_TAIL_INDEX, visitors), 0.0)
    view_weights[carters] *= CARTER_VIEW_WEIGHT
    views = np.maximum(addtocarts, 1)
    views += _multinomial_split(view_total - int(views.sum()), view_weights, rng)
    return views, addtocarts, transactions


def _multinomial_split(total: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split total into len(weights) non-negative counts, in proportion to weights on average."""
    if total < 0:
        raise ValueError(f"internal error: cannot split a negative total {total}")
    if len(weights) == 0:
        return np.zeros(0, dtype=np.int64)
    return rng.multinomial(total, weights / weights.sum()).astype(np.int64)


def _ordered_rows(
    views: np.ndarray,
    addtocarts: np.ndarray,
    transactions: np.ndarray,
    item_count: int,
    rng: np.random.Generator,
) -> EventRows:
    """Build the base rows, sorted by visitor and time, from per-visitor event counts."""
    counts = (views, addtocarts, transactions)
    visitor = np.concatenate([np.repeat(np.arange(len(views)), count) for count in counts])
    event_code = np.concatenate(
        [np.full(int(count.sum()), code, dtype=np.int8) for code, count in enumerate(counts)]
    )
    sort_key = _chain_sort_keys(views, addtocarts, transactions, rng)
    item_id = _chain_item_ids(views, addtocarts, transactions, item_count, rng)

    # lexsort is stable, and views, addtocarts and transactions are concatenated in
    # that order, so a tie of sort keys still puts a view before its addtocart.
    order = np.lexsort((sort_key, visitor))
    visitor, event_code, item_id = visitor[order], event_code[order], item_id[order]

    events_per_visitor = views + addtocarts + transactions
    gap_ms, session_start = _gaps_ms(visitor, event_code, events_per_visitor, rng)
    timestamp_ms = timestamps_in_window(events_per_visitor, gap_ms, rng)
    transaction_id = _session_transaction_ids(event_code, session_start, rng)
    return EventRows(timestamp_ms, visitor, event_code, item_id, transaction_id)


def _chain_sort_keys(
    views: np.ndarray, addtocarts: np.ndarray, transactions: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw sort keys that order each view before its addtocart and that before its purchase.

    Keys are returned for views, then addtocarts, then transactions, each block grouped
    by visitor. The k-th addtocart of a visitor carts its k-th view's item, and its
    k-th transaction buys its k-th addtocart's item. A visitor's transactions form a
    few checkouts, whose transactions get adjacent keys so that they share a session.
    """
    view_visitor = np.repeat(np.arange(len(views)), views)
    cart_visitor = np.repeat(np.arange(len(views)), addtocarts)
    purchase_visitor = np.repeat(np.arange(len(views)), transactions)
    view_rank = ranks_within(views)
    cart_rank = ranks_within(addtocarts)
    purchase_rank = ranks_within(transactions)
    cart_start = np.cumsum(addtocarts) - addtocarts
    purchase_start = np.cumsum(transactions) - transactions
    # A chained event lands a few positions before the event it leads to.
    spread = 3.0 / (views + addtocarts + transactions)

    checkouts = np.where(
        transactions > 0,
        1 + rng.binomial(np.maximum(transactions - 1, 0), SEPARATE_CHECKOUT_PROBABILITY),
        0,
    )
    checkout_key = rng.random(int(checkouts.sum()))
    checkout_index = purchase_rank * checkouts[purchase_visitor] // transactions[purchase_visitor]
    checkout_start = np.cumsum(checkouts) - checkouts
    purchase_checkout = checkout_start[purchase_visitor] + checkout_index
    purchase_key = checkout_key[purchase_checkout] + 1e-9 * purchase_rank

    cart_key = rng.random(len(cart_visitor))
    bought = cart_rank < transactions[cart_visitor]
    bought_visitor = cart_visitor[bought]
    cart_key[bought] = purchase_key[purchase_start[bought_visitor] + cart_rank[bought]] - spread[
        bought_visitor
    ] * (1.0 - rng.random(len(bought_visitor)))

    view_key = rng.random(len(view_visitor))
    carted = view_rank < addtocarts[view_visitor]
    carted_visitor = view_visitor[carted]
    view_key[carted] = cart_key[cart_start[carted_visitor] + view_rank[carted]] - spread[
        carted_visitor
    ] * (1.0 - rng.random(len(carted_visitor)))

    return np.concatenate([view_key, cart_key, purchase_key])


def _chain_item_ids(
    views: np.ndarray,
    addtocarts: np.ndarray,
    transactions: np.ndarray,
    item_count: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw item ids in the layout of `_chain_sort_keys`.

    Addtocarts and transactions reuse the item of the view at the head of their chain.
    """
    view_item = popular_item_ids(int(views.sum()), item_count, rng, cover_all=True)
    view_start = np.cumsum(views) - views
    cart_start = np.cumsum(addtocarts) - addtocarts
    cart_visitor = np.repeat(np.arange(len(views)), addtocarts)
    purchase_visitor = np.repeat(np.arange(len(views)), transactions)

    cart_item = view_item[view_start[cart_visitor] + ranks_within(addtocarts)]
    purchase_item = cart_item[cart_start[purchase_visitor] + ranks_within(transactions)]
    return np.concatenate([view_item, cart_item, purchase_item])


def _gaps_ms(
    visitor: np.ndarray,
    event_code: np.ndarray,
    events_per_visitor: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw the time since each row's previous row of the same visitor, 0 on its first.

    Returns the gaps and a mask of the rows that start a session, first rows included.
    In-session gaps are 1 s to 25 min, and gaps between sessions are at least an
    hour, except for visitors with thousands of sessions (see _gaps_fitted_to_window).
    A transaction never starts a session, so a checkout's transactions share one.
    """
    row_count = len(visitor)
    first = ranks_within(events_per_visitor) == 0
    after_purchase = np.zeros(row_count, dtype=bool)
    after_purchase[1:] = event_code[:-1] == TRANSACTION
    session_probability = np.where(
        after_purchase, AFTER_PURCHASE_SESSION_PROBABILITY, NEW_SESSION_PROBABILITY
    )
    starts_session = ~first & (rng.random(row_count) < session_probability)
    starts_session &= event_code != TRANSACTION

    within_ms = np.minimum(
        MIN_EVENT_GAP_MS + rng.exponential(MEAN_WITHIN_SESSION_GAP_MS, row_count),
        MAX_WITHIN_SESSION_GAP_MS,
    )
    between_ms = np.clip(
        rng.lognormal(np.log(MEDIAN_BETWEEN_SESSION_GAP_MS), BETWEEN_SESSION_GAP_SIGMA, row_count),
        MIN_BETWEEN_SESSION_GAP_MS,
        MAX_BETWEEN_SESSION_GAP_MS,
    )
    gap_ms = np.where(first, 0.0, np.where(starts_session, between_ms, within_ms))
    gap_ms = _gaps_fitted_to_window(gap_ms, visitor, starts_session, len(events_per_visitor))
    return np.floor(gap_ms).astype(np.int64), first | starts_session


def _gaps_fitted_to_window(
    gap_ms: np.ndarray, visitor: np.ndarray, starts_session: np.ndarray, visitors: int
) -> np.ndarray:
    """Shrink the between-session gaps of visitors whose events would outlast the window."""
    target_ms = 0.99 * WINDOW_LENGTH_MS
    span_ms = np.bincount(visitor, weights=gap_ms, minlength=visitors)
    excess_ms = np.bincount(
        visitor,
        weights=np.where(starts_session, gap_ms - MIN_BETWEEN_SESSION_GAP_MS, 0.0),
        minlength=visitors,
    )
    too_long = span_ms > target_ms
    factor = np.ones(visitors)
    fixed_ms = span_ms[too_long] - excess_ms[too_long]
    factor[too_long] = np.clip(
        (target_ms - fixed_ms) / np.maximum(excess_ms[too_long], 1.0), 0.0, 1.0
    )
    gap_ms = np.where(
        starts_session,
        MIN_BETWEEN_SESSION_GAP_MS + (gap_ms - MIN_BETWEEN_SESSION_GAP_MS) * factor[visitor],
        gap_ms,
    )

    # NOTE: a visitor with more than about 3,000 sessions still does not fit, so all
    # its gaps shrink alike and some between-session gaps fall under 30 minutes.
    span_ms = np.bincount(visitor, weights=gap_ms, minlength=visitors)
    squeeze = np.where(span_ms > target_ms, target_ms / np.maximum(span_ms, 1.0), 1.0)
    return gap_ms * squeeze[visitor]


def _session_transaction_ids(
    event_code: np.ndarray, session_start: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Give the transactions of each session one id, numbered 0.. in random order, -1 elsewhere.

    Rows must be sorted by visitor and time, and session_start marks the first row of
    every session, each visitor's first row included.
    """
    session = np.cumsum(session_start)
    is_purchase = event_code == TRANSACTION
    transaction_id = np.full(len(event_code), -1, dtype=np.int64)
    _, session_index = np.unique(session[is_purchase], return_inverse=True)
    id_count = int(session_index.max(initial=-1)) + 1
    transaction_id[is_purchase] = rng.permutation(id_count)[session_index]
    return transaction_id


def _duplicate_row_indices(
    event_code: np.ndarray, duplicates_by_code: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Pick distinct rows to copy, duplicates_by_code[code] of each event code."""
    picked = [
        rng.choice(np.flatnonzero(event_code == code), size=int(count), replace=False)
        for code, count in enumerate(duplicates_by_code)
    ]
    return np.concatenate(picked).astype(np.int64)


