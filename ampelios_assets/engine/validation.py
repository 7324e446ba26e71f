"""Split raw text rows into valid typed events and rejected rows with their reason."""

from __future__ import annotations

import dataclasses

import polars as pl

from ampelios_assets.engine.ordering import distinct_sorted_events
from ampelios_assets.engine.schema import (
    CSV_COLUMNS,
    EVENT_TYPE,
    EVENTS_SCHEMA,
    REJECTED_SCHEMA,
)

# Reasons in the order they are checked; a row gets the first that applies.
REJECTION_REASONS = (
    "missing_timestamp",
    "invalid_timestamp",
    "timestamp_out_of_range",
    "missing_visitorid",
    "invalid_visitorid",
    "unknown_event",
    "missing_itemid",
    "invalid_itemid",
    "transaction_without_transactionid",
    "invalid_transactionid",
)

# The header is line 1, so the first event is on line 2.
_FIRST_DATA_LINE = 2


@dataclasses.dataclass(frozen=True)
class ValidatedEvents:
    """Valid events, rejected rows and the counts that tie them to the rows read.

    rows_read == len(events) + len(rejected) + duplicate_count always holds.
    """

    events: pl.DataFrame
    rejected: pl.DataFrame
    rows_read: int
    duplicate_count: int
    rejected_by_reason: dict[str, int]
    ignored_columns: tuple[str, ...]


def _text(column: str) -> pl.Expr:
    # Surrounding spaces are formatting, not data; an empty field is missing.
    stripped = pl.col(column).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped).alias(column)


# Files exported through pandas write integer ids as "8693.0"; such values are
# accepted up to 2**53, where every float still names exactly one integer.
_MAX_EXACT_FLOAT = 2**53


def _integer(column: str) -> pl.Expr:
    text = _text(column)
    as_int = text.cast(pl.Int64, strict=False)
    as_float = text.cast(pl.Float64, strict=False)
    is_integral_float = (
        as_float.is_finite() & (as_float == as_float.floor()) & (as_float.abs() < _MAX_EXACT_FLOAT)
    )
    return pl.coalesce(as_int, pl.when(is_integral_float).then(as_float.cast(pl.Int64)))


def _non_negative_int(column: str) -> pl.Expr:
    value = _integer(column)
    return pl.when(value >= 0).then(value)


_TYPED_COLUMNS = {
    "timestamp": "timestamp_ms",
    "visitorid": "visitor_id",
    "event": "_event",
    "itemid": "item_id",
    "transactionid": "transaction_id",
}


def _cast_non_negative(column: str) -> pl.Expr:
    value = pl.col(column).cast(pl.Int64, strict=False)
    return pl.when(value >= 0).then(value)


def _fast_types() -> list[pl.Expr]:
    return [
        pl.col("timestamp").cast(pl.Int64, strict=False).alias("timestamp_ms"),
        _cast_non_negative("visitorid").alias("visitor_id"),
        pl.col("event").cast(EVENT_TYPE, strict=False).alias("_event"),
        _cast_non_negative("itemid").alias("item_id"),
        _cast_non_negative("transactionid").alias("transaction_id"),
    ]


def _careful_types() -> list[pl.Expr]:
    return [
        _integer("timestamp").alias("timestamp_ms"),
        _non_negative_int("visitorid").alias("visitor_id"),
        _text("event").cast(EVENT_TYPE, strict=False).alias("_event"),
        _non_negative_int("itemid").alias("item_id"),
        _non_negative_int("transactionid").alias("transaction_id"),
    ]


_GIVEN_COLUMNS = ("timestamp", "visitorid", "itemid", "transactionid")


def _given_fields(careful: bool) -> list[pl.Expr]:
    # Whether a field was given at all, for telling missing from invalid. Rows
    # whose casts all succeeded have no blank fields, so they skip the strip.
    if careful:
        return [_text(column).alias(f"_{column}") for column in _GIVEN_COLUMNS]
    return [pl.col(column).alias(f"_{column}") for column in _GIVEN_COLUMNS]


def _rejection_reason(earliest_tstamp_ms: int, latest_tstamp_ms: int) -> pl.Expr:
    timestamp = pl.col("timestamp_ms")
    is_transaction = pl.col("_event") == "transaction"
    return (
        pl.when(pl.col("_timestamp").is_null()).then(pl.lit("missing_timestamp"))
        .when(timestamp.is_null()).then(pl.lit("invalid_timestamp"))
        .when((timestamp < earliest_tstamp_ms) | (timestamp >= latest_tstamp_ms))
        .then(pl.lit("timestamp_out_of_range"))
        .when(pl.col("_visitorid").is_null()).then(pl.lit("missing_visitorid"))
        .when(pl.col("visitor_id").is_null()).then(pl.lit("invalid_visitorid"))
        .when(pl.col("_event").is_null()).then(pl.lit("unknown_event"))
        .when(pl.col("_itemid").is_null()).then(pl.lit("missing_itemid"))
        .when(pl.col("item_id").is_null()).then(pl.lit("invalid_itemid"))
        .when(is_transaction & pl.col("_transactionid").is_null())
        .then(pl.lit("transaction_without_transactionid"))
        .when(pl.col("_transactionid").is_not_null() & pl.col("transaction_id").is_null())
        .then(pl.lit("invalid_transactionid"))
        .otherwise(None)
    )


def validated_events(
    raw: pl.DataFrame, earliest_tstamp_ms: int, latest_tstamp_ms: int
) -> ValidatedEvents:
    """Type, check and deduplicate raw text rows, keeping every rejected row with its reason.

    Valid events are sorted by visitor and time, so the result does not depend
    on the order of the input rows. Exact duplicates among valid events are
    removed and counted; rejected rows are all kept, duplicates included.
    """
    ignored_columns = tuple(column for column in raw.columns if column not in CSV_COLUMNS)
    numbered = raw.select(CSV_COLUMNS).with_row_index("line_number", offset=_FIRST_DATA_LINE)

    # Plain casts type almost every row at once. Only the rows where a cast
    # failed go through the slower rules (spaces, integral floats), because
    # those rules cost ten times more on millions of rows.
    fast = numbered.lazy().with_columns(_fast_types())
    failed = pl.any_horizontal(
        pl.col(typed).is_null() & pl.col(source).is_not_null() for source, typed in _TYPED_COLUMNS.items()
    )
    typed = pl.concat(
        [
            fast.filter(~failed).with_columns(_given_fields(careful=False)),
            fast.filter(failed).with_columns(_careful_types()).with_columns(_given_fields(careful=True)),
        ]
    ).with_columns(reason=_rejection_reason(earliest_tstamp_ms, latest_tstamp_ms))

    # Lazy frames let Polars filter only the columns each result needs:
    # the text columns are kept for rejected rows alone.
    rejected_query = (
        typed.filter(pl.col("reason").is_not_null())
        .sort("line_number")
        .select(REJECTED_SCHEMA.names())
        .with_columns(pl.col("line_number").cast(pl.Int64))
        .cast(dict(REJECTED_SCHEMA))
    )
    valid_query = (
        typed.filter(pl.col("reason").is_null())
        .drop("event")
        .rename({"_event": "event"})
        .select(EVENTS_SCHEMA.names())
    )
    rejected, valid = pl.collect_all([rejected_query, valid_query])
    events = distinct_sorted_events(valid)

    counts = rejected.group_by("reason").len()
    rejected_by_reason = {reason: 0 for reason in REJECTION_REASONS}
    rejected_by_reason.update(dict(counts.iter_rows()))
    return ValidatedEvents(
        events=events,
        rejected=rejected,
        rows_read=raw.height,
        duplicate_count=valid.height - events.height,
        rejected_by_reason=rejected_by_reason,
        ignored_columns=ignored_columns,
    )


# Unix seconds of 2000-01-01 and 2100-01-01: a timestamp between them is
# almost surely in seconds where milliseconds were expected.
_SECONDS_RANGE = (946_684_800, 4_102_444_800)


def no_valid_events_message(events_path, validation: ValidatedEvents) -> str:
    """Return the error for a file with no valid event, naming the reasons and the likely cause."""
    if validation.rows_read == 0:
        return f"events file {str(events_path)!r} has a header but no events; add event lines below the header"

    reasons = ", ".join(f"{reason} {count}" for reason, count in validation.rejected_by_reason.items() if count)
    message = (
        f"events file {str(events_path)!r} has no valid event: all {validation.rows_read} rows were rejected "
        f"({reasons}); the rejected rows and their reasons are in rejected_events"
    )
    timestamps = validation.rejected["timestamp"].cast(pl.Int64, strict=False).drop_nulls()
    low, high = _SECONDS_RANGE
    if timestamps.len() and ((timestamps >= low) & (timestamps < high)).mean() > 0.5:
        message += "; the timestamps look like Unix seconds, and the format needs Unix milliseconds"
    return message
