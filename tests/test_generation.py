"""Tests of the synthetic Retailrocket and planted-group event generators and writers."""

import gzip

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ampelios_assets.generation import (
    PLANTED_GROUP_NAMES,
    PLANTED_GROUPS,
    RetailrocketTotals,
    groups_path_for,
    planted_events,
    retailrocket_events,
    retailrocket_totals,
    write_events,
    write_groups,
)

WINDOW_START_MS = 1_430_611_200_000  # 2015-05-03 00:00:00.000 UTC
WINDOW_END_MS = 1_442_620_799_999  # 2015-09-18 23:59:59.999 UTC
SESSION_GAP_MS = 30 * 60_000
EXPECTED_SCHEMA = pl.Schema(
    {
        "timestamp": pl.Int64,
        "visitorid": pl.Int64,
        "event": pl.String,
        "itemid": pl.Int64,
        "transactionid": pl.Int64,
    }
)

MID_VISITORS = 20_000
# round(total * 20_000 / 1_407_580) for the real totals 2,664,312 views, 69,332
# addtocarts, 22,457 transactions, 235,061 items and 460 duplicate rows.
MID_TOTALS = RetailrocketTotals(
    visitors=20_000, views=37_857, addtocarts=985, transactions=319, items=3_340, duplicates=7
)
PLANTED_VISITORS = 2_000


@pytest.fixture(scope="module")
def events() -> pl.DataFrame:
    return retailrocket_events(MID_VISITORS, seed=0)


@pytest.fixture(scope="module")
def planted() -> tuple[pl.DataFrame, pl.DataFrame]:
    return planted_events(PLANTED_VISITORS, seed=0)


def event_counts(frame: pl.DataFrame) -> dict[str, int]:
    return dict(frame["event"].value_counts().iter_rows())


def unchained_rows(frame: pl.DataFrame, later: str, earlier: str) -> pl.DataFrame:
    """Return `later` events with no earlier `earlier` event of the same visitor and item."""
    first_earlier = (
        frame.filter(pl.col("event") == earlier)
        .group_by("visitorid", "itemid")
        .agg(pl.col("timestamp").min().alias("earlier_timestamp"))
    )
    return (
        frame.filter(pl.col("event") == later)
        .join(first_earlier, on=["visitorid", "itemid"], how="left")
        .filter(
            pl.col("earlier_timestamp").is_null()
            | (pl.col("earlier_timestamp") >= pl.col("timestamp"))
        )
    )


def visitor_features(frame: pl.DataFrame) -> pl.DataFrame:
    """Count events and 30-minute sessions per visitor."""
    return (
        frame.sort("visitorid", "timestamp")
        .with_columns(gap_ms=pl.col("timestamp").diff().over("visitorid"))
        .group_by("visitorid")
        .agg(
            views=(pl.col("event") == "view").sum(),
            addtocarts=(pl.col("event") == "addtocart").sum(),
            transactions=(pl.col("event") == "transaction").sum(),
            sessions=(pl.col("gap_ms").is_null() | (pl.col("gap_ms") > SESSION_GAP_MS)).sum(),
            max_in_session_gap_ms=pl.col("gap_ms")
            .filter(pl.col("gap_ms") <= SESSION_GAP_MS)
            .max(),
        )
    )


def test_totals_scaled_for_mid_size():
    assert retailrocket_totals(MID_VISITORS) == MID_TOTALS
    assert MID_TOTALS.rows == 39_161


def test_totals_at_full_size():
    totals = retailrocket_totals(1_407_580)

    assert totals.rows == 2_756_101
    assert (totals.views, totals.addtocarts, totals.transactions) == (2_664_312, 69_332, 22_457)
    assert totals.items == 235_061
    assert totals.duplicates == 460


def test_totals_keep_one_of_each_for_one_visitor():
    totals = retailrocket_totals(1)

    assert (totals.addtocarts, totals.transactions, totals.items) == (1, 1, 1)
    assert totals.duplicates == 0


def test_totals_reject_zero_visitors():
    with pytest.raises(ValueError, match="visitors=0"):
        retailrocket_totals(0)


def test_totals_reject_more_items_than_ids():
    with pytest.raises(ValueError, match="distinct items"):
        retailrocket_totals(3_000_000)


def test_events_match_scaled_totals(events):
    assert events.height == MID_TOTALS.rows
    assert event_counts(events) == {"view": 37_857, "addtocart": 985, "transaction": 319}
    assert events["itemid"].n_unique() == MID_TOTALS.items
    assert events["visitorid"].n_unique() == MID_VISITORS


def test_events_schema_and_column_order(events):
    assert events.schema == EXPECTED_SCHEMA


def test_visitor_ids_dense(events):
    assert events["visitorid"].min() == 0
    assert events["visitorid"].max() == MID_VISITORS - 1


def test_item_ids_in_range(events):
    assert events["itemid"].min() >= 0
    assert events["itemid"].max() <= 466_867


def test_transactionid_null_off_transactions(events):
    is_transaction = events["event"] == "transaction"

    assert events.filter(is_transaction)["transactionid"].null_count() == 0
    assert events.filter(~is_transaction)["transactionid"].null_count() == events.height - 319


def test_timestamps_in_window(events):
    assert events["timestamp"].min() >= WINDOW_START_MS
    assert events["timestamp"].max() <= WINDOW_END_MS


def test_same_seed_same_frame(events):
    assert retailrocket_events(MID_VISITORS, seed=0).equals(events)


def test_other_seed_other_frame(events):
    assert not retailrocket_events(MID_VISITORS, seed=1).equals(events)


def test_rows_not_sorted_by_time(events):
    assert not events["timestamp"].is_sorted()


def test_duplicates_match_total(events):
    assert events.height - events.unique().height == MID_TOTALS.duplicates
    assert events.is_duplicated().sum() == 2 * MID_TOTALS.duplicates


def test_single_event_visitor_share(events):
    events_per_visitor = events.group_by("visitorid").len()["len"]
    single_share = (events_per_visitor == 1).mean()

    assert 0.6 <= single_share <= 0.8


def test_heavy_visitor_present(events):
    assert events.group_by("visitorid").len()["len"].max() >= 100


def test_visitors_have_several_sessions(events):
    sessions = visitor_features(events)["sessions"]

    assert 1.1 <= sessions.mean() <= 1.5
    assert sessions.max() >= 10


def test_buyer_and_abandoner_shares(events):
    buyers = events.filter(pl.col("event") == "transaction")["visitorid"].n_unique()
    carters = events.filter(pl.col("event") == "addtocart")["visitorid"].n_unique()

    assert buyers == round(0.008 * MID_VISITORS)
    assert carters - buyers == round(0.02 * MID_VISITORS)


def test_transaction_follows_cart_of_item(events):
    assert unchained_rows(events, "transaction", "addtocart").height == 0


def test_cart_follows_view_of_item(events):
    assert unchained_rows(events, "addtocart", "view").height == 0


def test_transaction_ids_shared_within_visitor(events):
    transactions = events.filter(pl.col("event") == "transaction")
    visitors_per_id = transactions.group_by("transactionid").agg(pl.col("visitorid").n_unique())

    assert visitors_per_id["visitorid"].max() == 1
    assert transactions["transactionid"].n_unique() < transactions.height


def test_transaction_ids_within_one_session(events):
    transactions = events.filter(pl.col("event") == "transaction")
    span_ms = transactions.group_by("transactionid").agg(
        (pl.col("timestamp").max() - pl.col("timestamp").min()).alias("span_ms")
    )["span_ms"]
    # A checkout of n transactions has n - 1 in-session gaps of under 30 minutes each.
    purchases_per_id = transactions.group_by("transactionid").len()["len"]

    assert span_ms.max() < purchases_per_id.max() * SESSION_GAP_MS


@settings(max_examples=20, deadline=None)
@given(visitors=st.integers(min_value=1, max_value=3_000), seed=st.integers(0, 2**32 - 1))
def test_any_size_matches_its_totals(visitors, seed):
    frame = retailrocket_events(visitors, seed=seed)
    totals = retailrocket_totals(visitors)
    counts = event_counts(frame)

    assert frame.height == totals.rows
    assert counts.get("view", 0) == totals.views
    assert counts.get("addtocart", 0) == totals.addtocarts
    assert counts.get("transaction", 0) == totals.transactions
    assert frame["itemid"].n_unique() == totals.items
    assert frame["visitorid"].n_unique() == visitors
    assert frame.height - frame.unique().height == totals.duplicates
    assert unchained_rows(frame, "transaction", "addtocart").height == 0
    assert frame["timestamp"].min() >= WINDOW_START_MS
    assert frame["timestamp"].max() <= WINDOW_END_MS


@pytest.mark.slow
def test_full_size_matches_real_totals():
    frame = retailrocket_events(1_407_580, seed=0)

    assert frame.height == 2_756_101
    assert event_counts(frame) == {"view": 2_664_312, "addtocart": 69_332, "transaction": 22_457}
    assert frame["itemid"].n_unique() == 235_061
    assert frame["visitorid"].n_unique() == 1_407_580
    assert frame.height - frame.unique().height == 460
    assert frame["timestamp"].min() >= WINDOW_START_MS
    assert frame["timestamp"].max() <= WINDOW_END_MS


def test_write_events_gzip_round_trip(events, tmp_path):
    path = tmp_path / "nested" / "events.csv.gz"

    write_events(events, path)

    with gzip.open(path, "rt") as text:
        header = text.readline().rstrip("\n")
        first_row = text.readline().rstrip("\n")
    assert header == "timestamp,visitorid,event,itemid,transactionid"
    assert first_row.endswith(",") == (first_row.split(",")[2] != "transaction")
    assert pl.read_csv(path, schema=EXPECTED_SCHEMA).equals(events)


def test_write_events_plain_csv(events, tmp_path):
    path = tmp_path / "events.csv"

    write_events(events.reverse(), path)

    assert path.read_bytes()[:2] != b"\x1f\x8b"
    assert pl.read_csv(path, schema=EXPECTED_SCHEMA).equals(events.reverse())


def test_write_events_empty_transactionid(tmp_path):
    frame = pl.DataFrame(
        {
            "timestamp": [WINDOW_START_MS, WINDOW_START_MS + 1],
            "visitorid": [7, 7],
            "event": ["addtocart", "transaction"],
            "itemid": [3, 3],
            "transactionid": [None, 11],
        },
        schema=EXPECTED_SCHEMA,
    )
    path = tmp_path / "events.csv"

    write_events(frame, path)

    assert path.read_text().splitlines() == [
        "timestamp,visitorid,event,itemid,transactionid",
        f"{WINDOW_START_MS},7,addtocart,3,",
        f"{WINDOW_START_MS + 1},7,transaction,3,11",
    ]


def test_write_events_orders_columns(events, tmp_path):
    path = tmp_path / "events.csv"

    write_events(events.select(reversed(events.columns)), path)

    assert pl.read_csv(path, schema=EXPECTED_SCHEMA).equals(events)


def test_write_events_rejects_missing_column(events, tmp_path):
    with pytest.raises(ValueError, match="transactionid"):
        write_events(events.drop("transactionid"), tmp_path / "events.csv")


@pytest.mark.parametrize(
    ("events_path", "expected"),
    [
        ("out.csv", "out.groups.csv"),
        ("out.csv.gz", "out.groups.csv"),
        ("data/run-1/out.csv", "data/run-1/out.groups.csv"),
        ("out", "out.groups.csv"),
    ],
)
def test_groups_path_for(events_path, expected):
    assert str(groups_path_for(events_path)) == expected


def test_planted_group_sizes(planted):
    _, truth = planted
    sizes = dict(truth["group"].value_counts().iter_rows())

    assert sizes == {name: PLANTED_VISITORS // 5 for name in PLANTED_GROUP_NAMES}


def test_planted_group_sizes_uneven_total():
    _, truth = planted_events(PLANTED_VISITORS + 3, seed=0)
    sizes = truth["group"].value_counts()["count"]

    assert sizes.max() - sizes.min() == 1
    assert sizes.sum() == PLANTED_VISITORS + 3


def test_planted_truth_covers_visitors(planted):
    events, truth = planted

    assert truth.schema == pl.Schema({"visitorid": pl.Int64, "group": pl.String})
    assert truth["visitorid"].is_unique().all()
    assert truth["visitorid"].to_list() == list(range(PLANTED_VISITORS))
    assert set(events["visitorid"].unique().to_list()) == set(truth["visitorid"].to_list())


def test_planted_events_schema_and_window(planted):
    events, _ = planted

    assert events.schema == EXPECTED_SCHEMA
    assert events["timestamp"].min() >= WINDOW_START_MS
    assert events["timestamp"].max() <= WINDOW_END_MS
    assert not events["timestamp"].is_sorted()


def test_planted_transactionid_null_off_transactions(planted):
    events, _ = planted
    is_transaction = events["event"] == "transaction"

    other_events = events.filter(~is_transaction)

    assert events.filter(is_transaction)["transactionid"].null_count() == 0
    assert other_events["transactionid"].null_count() == other_events.height


def test_planted_chains_ordered(planted):
    events, _ = planted

    assert unchained_rows(events, "transaction", "addtocart").height == 0
    assert unchained_rows(events, "addtocart", "view").height == 0


def test_planted_same_seed_same_frames(planted):
    events, truth = planted_events(PLANTED_VISITORS, seed=0)

    assert events.equals(planted[0])
    assert truth.equals(planted[1])


def test_planted_other_seed_other_frames(planted):
    events, truth = planted_events(PLANTED_VISITORS, seed=1)

    assert not events.equals(planted[0])
    assert not truth.equals(planted[1])


@pytest.mark.parametrize("group", PLANTED_GROUPS, ids=lambda group: group.name)
def test_planted_features_within_group_ranges(planted, group):
    events, truth = planted
    features = (
        visitor_features(events)
        .join(truth, on="visitorid")
        .filter(pl.col("group") == group.name)
    )
    low_sessions, high_sessions = group.sessions
    ranges = {
        "sessions": group.sessions,
        "views": (
            low_sessions * group.views_per_session[0],
            high_sessions * group.views_per_session[1],
        ),
        "addtocarts": (
            low_sessions * group.addtocarts_per_session[0],
            high_sessions * group.addtocarts_per_session[1],
        ),
        "transactions": (
            low_sessions * group.transactions_per_session[0],
            high_sessions * group.transactions_per_session[1],
        ),
    }

    for column, (low, high) in ranges.items():
        assert features[column].min() >= low, column
        assert features[column].max() <= high, column
    assert (features["max_in_session_gap_ms"].max() or 0) <= 10 * 60_000


def test_planted_rejects_too_few_visitors():
    with pytest.raises(ValueError, match="visitors=4"):
        planted_events(4)


def test_write_groups_round_trip(planted, tmp_path):
    _, truth = planted
    path = groups_path_for(tmp_path / "planted" / "events.csv.gz")

    write_groups(truth, path)

    assert path.read_text().splitlines()[0] == "visitorid,group"
    assert pl.read_csv(path).equals(truth)


def test_max_visitors_is_the_largest_that_fits():
    from ampelios_assets.generation.retailrocket import max_visitors

    most = max_visitors()
    assert retailrocket_totals(most).items <= 466_868
    with pytest.raises(ValueError, match=f"generate at most {most:,} visitors"):
        retailrocket_totals(most + 1)
