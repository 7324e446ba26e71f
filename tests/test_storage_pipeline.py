"""The whole pipeline on each store, and the embedded and PostgreSQL stores giving the same segments."""

import dataclasses

import psycopg
import pytest

from ampelios_assets.generation import retailrocket_events, write_events
from ampelios_assets.results import load_assignments, load_segments
from ampelios_assets.runs import run_segmentation
from ampelios_assets.settings import Settings
from ampelios_assets.stores import open_store
from tests.conftest import BASE_TSTAMP_MS, MINUTE_MS, run_request, write_event_lines

T = BASE_TSTAMP_MS
HOUR = 60 * MINUTE_MS


def _run(settings, request):
    result = run_segmentation(settings, request)
    assert result.success, result.error
    return result


def _stored_event_count(database_url: str, source_id: int) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT count(*) FROM ampelios.events WHERE source_id = %s", (source_id,)
        ).fetchone()[0]


@pytest.fixture
def small_events(tmp_path):
    lines = [
        f"{T},1,view,10,",
        f"{T + MINUTE_MS},1,addtocart,10,",
        f"{T + 2 * MINUTE_MS},1,transaction,10,500",
        f"{T},2,view,11,",
        f"{T + 3 * HOUR},2,view,12,",
        f"{T},3,view,11,",
    ]
    return write_event_lines(tmp_path / "events.csv", lines)


def test_run_gives_hand_worked_segments(store_settings, small_events):
    _run(store_settings, run_request(small_events))
    segments = load_segments(store_settings, 1)
    # Visitor 1 bought; visitors 2 and 3 only viewed, so they share a segment.
    assert sorted(segments["size"].to_list()) == [1, 2]
    assignments = load_assignments(store_settings, 1).sort("visitor_id")
    assert assignments["visitor_id"].to_list() == [1, 2, 3]
    assert assignments["sessions"].to_list() == [1.0, 2.0, 1.0]
    segment_of = dict(zip(assignments["visitor_id"], assignments["segment_id"]))
    assert segment_of[2] == segment_of[3] != segment_of[1]


def test_same_visitor_id_in_two_sources(store_settings, tmp_path):
    first = write_event_lines(tmp_path / "a.csv", [f"{T},1,view,10,", f"{T},2,view,10,"])
    second = write_event_lines(tmp_path / "b.csv", [f"{T},1,view,10,", f"{T + 1},1,view,11,", f"{T},9,view,3,"])
    _run(store_settings, run_request(first, source_id=1))
    _run(store_settings, run_request(second, source_id=2))
    assert sorted(load_assignments(store_settings, 1)["visitor_id"].to_list()) == [1, 2]
    assert sorted(load_assignments(store_settings, 2)["visitor_id"].to_list()) == [1, 9]
    assert load_assignments(store_settings, 1).filter(visitor_id=1)["views"].item() == 1
    assert load_assignments(store_settings, 2).filter(visitor_id=1)["views"].item() == 2


def test_retriggered_file_stores_events_once(store_settings, small_events):
    for is_initial_flow in (True, True, False, False):
        result = _run(store_settings, run_request(small_events, is_initial_flow=is_initial_flow))
        assert result.metadata["raw_events"]["events_stored"] == 6
    assert load_assignments(store_settings, 1)["views"].sum() == 4
    if store_settings.storage == "postgres":
        assert _stored_event_count(store_settings.database_url, 1) == 6


def test_incremental_file_adds_new_events(store_settings, tmp_path):
    first = write_event_lines(tmp_path / "a.csv", [f"{T},1,view,10,", f"{T},1,transaction,10,500"])
    second = write_event_lines(
        tmp_path / "b.csv", [f"{T},1,view,10,", f"{T},1,transaction,10,500", f"{T + MINUTE_MS},1,view,11,"]
    )
    _run(store_settings, run_request(first))
    result = _run(store_settings, run_request(second, is_initial_flow=False))
    assert result.metadata["raw_events"]["events_stored"] == 3
    assert load_assignments(store_settings, 1).select("views", "transactions").rows() == [(2.0, 1.0)]


def test_failed_run_keeps_published_segments(store_settings, tmp_path, small_events):
    first = _run(store_settings, run_request(small_events))
    before = load_assignments(store_settings, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = run_segmentation(store_settings, run_request(bad))
    assert not result.success
    assert load_assignments(store_settings, 1).equals(before)
    assert open_store(store_settings).latest_run(1).run_id == first.run_id


def test_stores_give_identical_segments(tmp_path, database_url):
    path = tmp_path / "events.csv"
    write_events(retailrocket_events(visitors=3_000, seed=7), path)
    base = {"AMPELIOS_DATA_DIR": str(tmp_path / "init-data")}
    embedded = Settings.from_env({**base, "AMPELIOS_OUTPUT_DIR": str(tmp_path / "e"), "DAGSTER_HOME": str(tmp_path / "eh")})
    postgres = dataclasses.replace(
        embedded, output_dir=tmp_path / "p", dagster_home=tmp_path / "ph", storage="postgres", database_url=database_url
    )

    for settings in (embedded, postgres):
        _run(settings, run_request(path, source_id=3, cluster_count=4))

    assert load_segments(postgres, 3).equals(load_segments(embedded, 3))
    assert load_assignments(postgres, 3).equals(load_assignments(embedded, 3))
    assert open_store(postgres).run_metadata(3) == open_store(embedded).run_metadata(3)
    assert load_segments(postgres, 3).height == 4
