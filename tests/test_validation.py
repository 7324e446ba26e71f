"""Reading and validation: every rejection reason, duplicates, bad files."""

import gzip

import polars as pl
import pytest

from ampelios_assets.engine import read_event_csv, validated_events
from ampelios_assets.engine.validation import REJECTION_REASONS
from ampelios_assets.errors import EventFileError
from tests.conftest import BASE_TSTAMP_MS, write_event_lines

EARLIEST_MS = 946_684_800_000  # 2000-01-01
LATEST_MS = 4_102_444_800_000  # 2100-01-01
T = BASE_TSTAMP_MS


def _validate(path):
    return validated_events(read_event_csv(path), EARLIEST_MS, LATEST_MS)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (",1,view,5,", "missing_timestamp"),
        ("soon,1,view,5,", "invalid_timestamp"),
        ("1.5e12x,1,view,5,", "invalid_timestamp"),
        (f"{T // 1000},1,view,5,", "timestamp_out_of_range"),
        ("5102444800000,1,view,5,", "timestamp_out_of_range"),
        (f"{T},,view,5,", "missing_visitorid"),
        (f"{T},abc,view,5,", "invalid_visitorid"),
        (f"{T},-4,view,5,", "invalid_visitorid"),
        (f"{T},1.5,view,5,", "invalid_visitorid"),
        (f"{T},1,click,5,", "unknown_event"),
        (f"{T},1,View,5,", "unknown_event"),
        (f"{T},1,,5,", "unknown_event"),
        (f"{T},1,view,,", "missing_itemid"),
        (f"{T},1,view,x9,", "invalid_itemid"),
        (f"{T},1,transaction,5,", "transaction_without_transactionid"),
        (f"{T},1,transaction,5,t-1", "invalid_transactionid"),
    ],
)
def test_rejection_reason(tmp_path, line, reason):
    good = f"{T},1,view,5,"
    validation = _validate(write_event_lines(tmp_path / "events.csv", [good, line]))
    assert validation.events.height == 1
    assert validation.rejected["reason"].to_list() == [reason]
    assert validation.rejected["line_number"].to_list() == [3]
    assert validation.rejected_by_reason[reason] == 1
    assert sum(validation.rejected_by_reason.values()) == 1


def test_rejected_row_keeps_values_as_written(tmp_path):
    validation = _validate(write_event_lines(tmp_path / "events.csv", [f"{T},1,click,5,"]))
    row = validation.rejected.row(0, named=True)
    assert row == {
        "line_number": 2,
        "timestamp": str(T),
        "visitorid": "1",
        "event": "click",
        "itemid": "5",
        "transactionid": None,
        "reason": "unknown_event",
    }


def test_every_reason_is_counted_even_when_zero(tmp_path):
    validation = _validate(write_event_lines(tmp_path / "events.csv", [f"{T},1,view,5,"]))
    assert set(validation.rejected_by_reason) == set(REJECTION_REASONS)
    assert sum(validation.rejected_by_reason.values()) == 0


def test_exact_duplicates_removed_and_counted(tmp_path):
    lines = [f"{T},1,view,5,", f"{T},1,view,5,", f"{T},1,view,5,", f"{T},1,view,6,"]
    validation = _validate(write_event_lines(tmp_path / "events.csv", lines))
    assert validation.events.height == 2
    assert validation.duplicate_count == 2
    assert validation.rows_read == 4


def test_rows_read_equal_kept_rejected_and_duplicates(tmp_path):
    lines = [f"{T},1,view,5,", f"{T},1,view,5,", "x,1,view,5,", f"{T},2,transaction,5,"]
    validation = _validate(write_event_lines(tmp_path / "events.csv", lines))
    assert validation.rows_read == 4
    assert validation.events.height + validation.rejected.height + validation.duplicate_count == 4


def test_integral_float_ids_accepted(tmp_path):
    # Exports through pandas write transaction ids as floats.
    lines = [f"{T},1,transaction,5,8693.0", f"{T},2,view, 7 ,"]
    validation = _validate(write_event_lines(tmp_path / "events.csv", lines))
    assert validation.rejected.height == 0
    assert validation.events["transaction_id"].to_list() == [8693, None]
    assert validation.events["item_id"].to_list() == [5, 7]


def test_extra_columns_ignored_and_reported(tmp_path):
    header = "timestamp,visitorid,event,itemid,transactionid,datetime"
    path = write_event_lines(tmp_path / "events.csv", [f"{T},1,view,5,,2015-06-01"], header=header)
    validation = _validate(path)
    assert validation.ignored_columns == ("datetime",)
    assert validation.events.columns == ["timestamp_ms", "visitor_id", "event", "item_id", "transaction_id"]


def test_columns_in_another_order_accepted(tmp_path):
    header = "visitorid,timestamp,itemid,event,transactionid"
    path = write_event_lines(tmp_path / "events.csv", [f"1,{T},5,view,"], header=header)
    assert _validate(path).events.row(0) == (T, 1, "view", 5, None)


def test_missing_columns_named_with_found_columns(tmp_path):
    path = write_event_lines(tmp_path / "events.csv", [f"{T},1,view"], header="timestamp,visitor,event")
    with pytest.raises(EventFileError) as error:
        read_event_csv(path)
    message = str(error.value)
    assert "lacks the columns visitorid, itemid, transactionid" in message
    assert "found timestamp, visitor, event" in message


def test_zero_byte_file_is_an_error(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(b"")
    with pytest.raises(EventFileError, match="is empty; expected a header line"):
        read_event_csv(path)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(EventFileError, match="not found"):
        read_event_csv(tmp_path / "absent.csv")


def test_header_only_file_has_no_events(tmp_path):
    validation = _validate(write_event_lines(tmp_path / "events.csv", []))
    assert validation.rows_read == 0
    assert validation.events.height == 0
    assert validation.rejected.height == 0


def test_file_of_only_bad_rows(tmp_path):
    lines = ["x,1,view,5,", f"{T},1,click,5,", f"{T},1,transaction,5,"]
    validation = _validate(write_event_lines(tmp_path / "events.csv", lines))
    assert validation.events.height == 0
    assert validation.rejected.height == 3
    assert validation.rejected["line_number"].to_list() == [2, 3, 4]


def test_gzip_file_read(tmp_path):
    path = tmp_path / "events.csv.gz"
    with gzip.open(path, "wt") as stream:
        stream.write(f"timestamp,visitorid,event,itemid,transactionid\n{T},1,view,5,\n{T},2,view,6,\n")
    validation = _validate(path)
    assert validation.events["visitor_id"].to_list() == [1, 2]


def test_valid_events_sorted_whatever_the_file_order(tmp_path):
    lines = [f"{T + 5},2,view,5,", f"{T},1,addtocart,5,", f"{T},1,view,5,", f"{T - 5},2,view,9,"]
    forward = _validate(write_event_lines(tmp_path / "a.csv", lines)).events
    backward = _validate(write_event_lines(tmp_path / "b.csv", lines[::-1])).events
    assert forward.equals(backward)
    assert forward.select(pl.col("event").cast(pl.String)).to_series().to_list() == [
        "view", "addtocart", "view", "view"
    ]


def test_truncated_gzip_names_file(tmp_path):
    path = tmp_path / "events.csv.gz"
    whole = gzip.compress(("timestamp,visitorid,event,itemid,transactionid\n" + f"{T},1,view,5,\n" * 2000).encode())
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(EventFileError, match=r"events.csv.gz' is not a readable CSV file: .*complete gzip"):
        read_event_csv(path)


def test_directory_is_not_an_events_file(tmp_path):
    with pytest.raises(EventFileError, match="is a directory; give the events file inside it"):
        read_event_csv(tmp_path)


def test_file_growing_during_read_rejected(tmp_path, monkeypatch):
    import polars as pl

    path = write_event_lines(tmp_path / "events.csv", [f"{T},1,view,5,"])
    real_read_csv = pl.read_csv

    def read_while_a_writer_appends(*args, **kwargs):
        frame = real_read_csv(*args, **kwargs)
        with open(path, "a") as stream:
            stream.write(f"{T},2,view,6,\n")
        return frame

    monkeypatch.setattr(pl, "read_csv", read_while_a_writer_appends)
    with pytest.raises(EventFileError, match="changed while it was read .*move it into place once it is complete"):
        read_event_csv(path)
