"""The four assets materialised for real by Dagster, in process, on a temporary instance."""

import polars as pl
import pytest
from dagster import DagsterInstance

from ampelios_assets.definitions import defs
from ampelios_assets.parquet_io_manager import asset_path
from ampelios_assets.results import load_assignments, load_segments
from ampelios_assets.runs import dagster_instance, run_segmentation
from tests.conftest import BASE_TSTAMP_MS, MINUTE_MS, run_request, write_event_lines

T = BASE_TSTAMP_MS
HOUR = 60 * MINUTE_MS


@pytest.fixture
def small_events(tmp_path):
    lines = [
        f"{T},1,view,10,",
        f"{T + MINUTE_MS},1,addtocart,10,",
        f"{T + 2 * MINUTE_MS},1,transaction,10,500",
        f"{T + 2 * MINUTE_MS},1,transaction,10,500",  # duplicate
        f"{T},2,view,11,",
        f"{T + 3 * HOUR},2,view,12,",
        f"{T},3,view,11,",
        "not-a-time,4,view,11,",
        f"{T},5,click,11,",
    ]
    return write_event_lines(tmp_path / "events.csv", lines)


def test_definitions_load_with_four_assets():
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"raw_events", "rejected_events", "sessionized_events", "journeys", "clusters"}


def test_run_records_counts_as_metadata(settings, small_events):
    result = run_segmentation(settings, run_request(small_events))
    assert result.success, result.error
    raw = result.metadata["raw_events"]
    assert raw["rows_read"] == 9
    assert raw["events_kept"] == 6
    assert raw["duplicates"] == 1
    assert raw["rejected"] == 2
    assert raw["rejected_by_reason"]["invalid_timestamp"] == 1
    assert raw["rejected_by_reason"]["unknown_event"] == 1
    assert result.metadata["sessionized_events"]["sessions"] == 4
    assert result.metadata["journeys"]["visitors"] == 3
    assert result.metadata["clusters"]["segment_sizes"] == {"0": 2, "1": 1}
    for step in ("raw_events", "sessionized_events", "journeys", "clusters"):
        assert result.metadata[step]["seconds"] >= 0


def test_run_is_recorded_on_the_instance(settings, small_events):
    result = run_segmentation(settings, run_request(small_events))
    instance = dagster_instance(settings)
    run = instance.get_run_by_id(result.run_id)
    assert run.is_success
    assert run.tags["dagster/partition"] == "1"
    assert instance.get_dynamic_partitions("source_id") == ["1"]


def test_rejected_events_stored_with_reason(settings, small_events):
    run_segmentation(settings, run_request(small_events))
    rejected = pl.read_parquet(asset_path(settings.output_dir, "rejected_events", "1"))
    assert rejected.select("line_number", "reason").rows() == [(9, "invalid_timestamp"), (10, "unknown_event")]


def test_sources_kept_apart(settings, tmp_path):
    first = write_event_lines(tmp_path / "a.csv", [f"{T},1,view,10,", f"{T},2,view,10,"])
    second = write_event_lines(tmp_path / "b.csv", [f"{T},1,view,10,", f"{T + 1},1,view,11,", f"{T},9,view,3,"])
    run_segmentation(settings, run_request(first, source_id=1))
    run_segmentation(settings, run_request(second, source_id=2))
    assert sorted(load_assignments(settings, 1)["visitor_id"].to_list()) == [1, 2]
    assert sorted(load_assignments(settings, 2)["visitor_id"].to_list()) == [1, 9]
    views_of_visitor_1 = load_assignments(settings, 2).filter(visitor_id=1)["views"].item()
    assert views_of_visitor_1 == 2


def test_rerun_is_idempotent(settings, small_events):
    run_segmentation(settings, run_request(small_events))
    first = load_assignments(settings, 1)
    run_segmentation(settings, run_request(small_events))
    assert load_assignments(settings, 1).equals(first)


def test_incremental_flow_adds_events_once(settings, tmp_path):
    first = write_event_lines(tmp_path / "a.csv", [f"{T},1,view,10,"])
    second = write_event_lines(tmp_path / "b.csv", [f"{T},1,view,10,", f"{T + MINUTE_MS},1,view,11,"])
    run_segmentation(settings, run_request(first))
    result = run_segmentation(settings, run_request(second, is_initial_flow=False))
    assert result.metadata["raw_events"]["events_stored"] == 2
    assert result.metadata["raw_events"]["events_already_stored"] == 1
    assert load_assignments(settings, 1)["views"].to_list() == [2]


def test_initial_flow_replaces_events(settings, tmp_path):
    first = write_event_lines(tmp_path / "a.csv", [f"{T},1,view,10,", f"{T},2,view,10,"])
    second = write_event_lines(tmp_path / "b.csv", [f"{T},3,view,10,"])
    run_segmentation(settings, run_request(first))
    run_segmentation(settings, run_request(second))
    assert load_assignments(settings, 1)["visitor_id"].to_list() == [3]


def test_header_only_file_fails_clearly(settings, tmp_path):
    result = run_segmentation(settings, run_request(write_event_lines(tmp_path / "e.csv", [])))
    assert not result.success
    assert "has a header but no events" in result.error


def test_only_bad_rows_fail_and_keep_rejected(settings, tmp_path, small_events):
    run_segmentation(settings, run_request(small_events))
    before = load_assignments(settings, 1)
    stored_before = pl.read_parquet(asset_path(settings.output_dir, "raw_events", "1"))
    path = write_event_lines(tmp_path / "e.csv", ["x,1,view,5,", f"{T},1,click,5,"])

    result = run_segmentation(settings, run_request(path))

    assert not result.success
    assert "all 2 rows were rejected (invalid_timestamp 1, unknown_event 1)" in result.error
    rejected = pl.read_parquet(asset_path(settings.output_dir, "rejected_events", "1"))
    assert rejected["reason"].to_list() == ["invalid_timestamp", "unknown_event"]
    assert load_assignments(settings, 1).equals(before)
    assert pl.read_parquet(asset_path(settings.output_dir, "raw_events", "1")).equals(stored_before)


def test_timestamps_in_seconds_get_a_hint(settings, tmp_path, small_events):
    # A source with segments already: the failed run must not reach matching.
    run_segmentation(settings, run_request(small_events))
    path = write_event_lines(tmp_path / "e.csv", [f"{T // 1000},1,view,5,", f"{T // 1000 + 60},2,view,6,"])
    result = run_segmentation(settings, run_request(path))
    assert not result.success
    assert "timestamp_out_of_range 2" in result.error
    assert "look like Unix seconds" in result.error


def test_missing_file_fails_with_its_path(settings, tmp_path):
    result = run_segmentation(settings, run_request(tmp_path / "absent.csv"))
    assert not result.success
    assert f"events file '{tmp_path / 'absent.csv'}' not found" in result.error


def test_failed_run_keeps_previous_segments(settings, tmp_path, small_events):
    run_segmentation(settings, run_request(small_events))
    before = load_assignments(settings, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = run_segmentation(settings, run_request(bad))
    assert not result.success
    assert "lacks the columns timestamp, visitorid" in result.error
    assert load_assignments(settings, 1).equals(before)


def test_instance_is_a_persistent_sqlite_instance(settings):
    instance = dagster_instance(settings)
    assert isinstance(instance, DagsterInstance)
    assert not instance.is_ephemeral
    assert (settings.dagster_home / "dagster.yaml").read_text().startswith("telemetry:")
