"""Events drawn from five known behaviour groups, to check that segmentation recovers them.

Each group draws a visitor's sessions, and each session's views, addtocarts and
transactions, from fixed inclusive ranges. The groups differ on at least one of the
per-visitor features (views, addtocarts, transactions, sessions, views per session,
purchase ratio) with ranges that do not overlap. In-session gaps are 5 s to 10 min
and gaps between sessions are 2 hours to 4 days, so a 30-minute sessionisation rule
finds exactly the planted sessions.
"""

from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from ampelios_assets.generation.event_format import (
    ADDTOCART,
    ITEM_ID_LIMIT,
    TRANSACTION,
    VIEW,
    EventRows,
    popular_item_ids,
    ranks_within,
    shuffled_events_frame,
    timestamps_in_window,
)

MIN_WITHIN_SESSION_GAP_MS = 5_000
MEAN_WITHIN_SESSION_GAP_MS = 60_000
MAX_WITHIN_SESSION_GAP_MS = 10 * 60_000
MIN_BETWEEN_SESSION_GAP_MS = 2 * 3_600_000
MAX_BETWEEN_SESSION_GAP_MS = 4 * 86_400_000
MIN_PLANTED_ITEMS = 100


@dataclass(frozen=True)
class BehaviourGroup:
    """Inclusive (low, high) ranges of a group's sessions and per-session event counts.

    A session's addtocarts take the items of its first views, and its transactions
    take the items of its first addtocarts, so the ranges keep
    transactions <= addtocarts <= views.
    """

    name: str
    sessions: tuple[int, int]
    views_per_session: tuple[int, int]
    addtocarts_per_session: tuple[int, int]
    transactions_per_session: tuple[int, int]


PLANTED_GROUPS = (
    BehaviourGroup("one_time_browser", (1, 1), (1, 2), (0, 0), (0, 0)),
    BehaviourGroup("engaged_browser", (6, 10), (4, 8), (0, 0), (0, 0)),
    BehaviourGroup("cart_abandoner", (1, 2), (3, 6), (2, 3), (0, 0)),
    BehaviourGroup("buyer", (1, 1), (2, 4), (1, 1), (1, 1)),
    BehaviourGroup("repeat_buyer", (4, 6), (2, 4), (1, 1), (1, 1)),
)
PLANTED_GROUP_NAMES = tuple(group.name for group in PLANTED_GROUPS)


@dataclass(frozen=True)
class PlantedSessions:
    """Session table: the visitor and event counts of each session, grouped by visitor."""

    visitor_id: np.ndarray
    views: np.ndarray
    addtocarts: np.ndarray
    transactions: np.ndarray


def planted_events(visitors: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Generate shuffled events of visitors 0..visitors-1 and each visitor's true group.

    Visitors are split at random into the groups of PLANTED_GROUPS, whose sizes differ
    by at most 1. Returns the events, with the columns and types of
    `retailrocket_events`, and a frame of `visitorid` (Int64) and `group` (String)
    sorted by visitorid. The transactions of one session share a transaction id.
    Raises ValueError when visitors is smaller than the number of groups.
    """
    if visitors < len(PLANTED_GROUPS):
        raise ValueError(
            f"visitors={visitors} is invalid; planted events need at least "
            f"{len(PLANTED_GROUPS)} visitors, one per group"
        )
    rng = np.random.default_rng(seed)

    members_by_group = np.array_split(rng.permutation(visitors), len(PLANTED_GROUPS))
    parts = [
        _group_sessions(group, members, rng)
        for group, members in zip(PLANTED_GROUPS, members_by_group, strict=True)
    ]
    sessions = PlantedSessions(
        *(
            np.concatenate([getattr(part, field.name) for part in parts])
            for field in fields(PlantedSessions)
        )
    )
    visitor_order = np.concatenate(members_by_group)
    rows = _session_rows(sessions, visitor_order, visitors, rng)

    truth = pl.DataFrame(
        {
            "visitorid": pl.Series(visitor_order, dtype=pl.Int64),
            "group": pl.Series(
                np.repeat(PLANTED_GROUP_NAMES, [len(members) for members in members_by_group]),
                dtype=pl.String,
            ),
        }
    ).sort("visitorid")
    return shuffled_events_frame(rows, rng), truth


def _group_sessions(
    group: BehaviourGroup, members: np.ndarray, rng: np.random.Generator
) -> PlantedSessions:
    sessions_per_visitor = _integers_in(group.sessions, len(members), rng)
    session_count = int(sessions_per_visitor.sum())
    return PlantedSessions(
        visitor_id=np.repeat(members, sessions_per_visitor).astype(np.int64),
        views=_integers_in(group.views_per_session, session_count, rng),
        addtocarts=_integers_in(group.addtocarts_per_session, session_count, rng),
        transactions=_integers_in(group.transactions_per_session, session_count, rng),
    )


def _integers_in(bounds: tuple[int, int], size: int, rng: np.random.Generator) -> np.ndarray:
    low, high = bounds
    return rng.integers(low, high + 1, size=size, dtype=np.int64)


def _session_rows(
    sessions: PlantedSessions, visitor_order: np.ndarray, visitors: int, rng: np.random.Generator
) -> EventRows:
    """Lay out each session as its views, then its addtocarts, then its transactions.

    Rows come out grouped by visitor in visitor_order, which is the order of
    sessions.visitor_id, and in time order within a visitor.
    """
    events_per_session = sessions.views + sessions.addtocarts + sessions.transactions
    session = np.repeat(np.arange(len(events_per_session)), events_per_session)
    rank = ranks_within(events_per_session)
    views, carts = sessions.views[session], sessions.addtocarts[session]
    event_code = np.where(
        rank < views, VIEW, np.where(rank < views + carts, ADDTOCART, TRANSACTION)
    ).astype(np.int8)

    # Addtocart k and transaction k of a session use the item of its view k.
    item_count = min(ITEM_ID_LIMIT, max(MIN_PLANTED_ITEMS, visitors))
    item_id = popular_item_ids(len(session), item_count, rng)
    first_row = (np.cumsum(events_per_session) - events_per_session)[session]
    view_rank = np.where(event_code == ADDTOCART, rank - views, rank - views - carts)
    reused = event_code != VIEW
    item_id[reused] = item_id[first_row[reused] + view_rank[reused]]

    sessions_with_purchase = np.flatnonzero(sessions.transactions > 0)
    session_transaction_id = np.full(len(events_per_session), -1, dtype=np.int64)
    session_transaction_id[sessions_with_purchase] = rng.permutation(len(sessions_with_purchase))
    transaction_id = np.where(event_code == TRANSACTION, session_transaction_id[session], -1)

    gap_ms = _planted_gaps_ms(sessions.visitor_id, session, rank, rng)
    events_per_visitor = np.bincount(
        sessions.visitor_id, weights=events_per_session, minlength=visitors
    )[visitor_order].astype(np.int64)
    timestamp_ms = timestamps_in_window(events_per_visitor, gap_ms, rng)
    visitor_id = sessions.visitor_id[session]
    return EventRows(timestamp_ms, visitor_id, event_code, item_id, transaction_id)


def _planted_gaps_ms(
    session_visitor: np.ndarray, session: np.ndarray, rank: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw each row's gap in ms since the same visitor's previous row.

    The gap is 0 on a visitor's first row, log-uniform between the session gap bounds
    on the first row of a later session, and exponential within a session.
    """
    first_session_of_visitor = np.ones(len(session_visitor), dtype=bool)
    first_session_of_visitor[1:] = session_visitor[1:] != session_visitor[:-1]
    row_count = len(session)

    within_ms = np.minimum(
        MIN_WITHIN_SESSION_GAP_MS + rng.exponential(MEAN_WITHIN_SESSION_GAP_MS, row_count),
        MAX_WITHIN_SESSION_GAP_MS,
    )
    log_bounds = np.log([MIN_BETWEEN_SESSION_GAP_MS, MAX_BETWEEN_SESSION_GAP_MS])
    between_ms = np.exp(rng.uniform(log_bounds[0], log_bounds[1], row_count))
    session_first_gap_ms = np.where(first_session_of_visitor[session], 0.0, between_ms)
    gap_ms = np.where(rank > 0, within_ms, session_first_gap_ms)
    return np.floor(gap_ms).astype(np.int64)
