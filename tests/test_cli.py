"""The `ampelios` console script, run as a user runs it: as a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import BASE_TSTAMP_MS, MINUTE_MS, write_event_lines

T = BASE_TSTAMP_MS
AMPELIOS = [sys.executable, "-m", "ampelios_assets.cli.main"]


@pytest.fixture
def environment(tmp_path):
    env = dict(os.environ)
    env["AMPELIOS_OUTPUT_DIR"] = str(tmp_path / "data")
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    return env


def ampelios(env, *args):
    return subprocess.run([*AMPELIOS, *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def events_path(tmp_path):
    lines = [
        f"{T},1,view,10,",
        f"{T + MINUTE_MS},1,addtocart,10,",
        f"{T + 2 * MINUTE_MS},1,transaction,10,500",
        f"{T},2,view,11,",
        f"{T},2,view,11,",
        f"{T},3,view,12,",
        f"{T},3,bogus,12,",
    ]
    return write_event_lines(tmp_path / "events.csv", lines)


def test_run_json_is_one_document(environment, events_path):
    completed = ampelios(environment, "run", "--events", str(events_path), "--source-id", "1", "--cluster-count", "2", "--json")
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    counts = document["counts"]
    assert counts["rows_read"] == 7
    assert counts["rows_read"] == counts["events_kept"] + counts["rejected"] + counts["duplicates"]
    assert counts["rejected_by_reason"] == {"unknown_event": 1}
    assert counts["visitors"] == 3
    assert [s["size"] for s in document["segments"]] == [2, 1]
    assert list(document["segments"][0]["centroid"]) == [
        "views", "addtocarts", "transactions", "sessions", "views_per_session", "purchase_ratio"
    ]


def test_run_prints_segment_table(environment, events_path):
    completed = ampelios(environment, "run", "--events", str(events_path), "--source-id", "1", "--cluster-count", "2")
    assert completed.returncode == 0, completed.stderr
    assert "rows read 7: kept 5, rejected 1 (unknown_event 1), duplicates 1" in completed.stdout
    assert "purchase_ratio" in completed.stdout


def test_export_lists_every_visitor_once(environment, events_path, tmp_path):
    ampelios(environment, "run", "--events", str(events_path), "--source-id", "4", "--cluster-count", "2")
    out = tmp_path / "out" / "segments.csv"
    completed = ampelios(environment, "export", "--source-id", "4", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    exported = pl.read_csv(out)
    assert exported.columns == [
        "visitor_id", "segment_id", "views", "addtocarts", "transactions",
        "sessions", "views_per_session", "purchase_ratio",
    ]
    assert exported["visitor_id"].to_list() == [1, 2, 3]
    assert exported.filter(visitor_id=1).row(0)[2:5] == (1, 1, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--events", "/nonexistent/events.csv", "--source-id", "1"], "events file '/nonexistent/events.csv' not found"),
        (["run", "--events", "x.csv", "--source-id", "0"], "0 is not positive"),
        (["run", "--events", "x.csv", "--source-id", "1", "--cluster-count", "99"], "cluster_count must lie between 1 and 50, got 99"),
        (["export", "--source-id", "77", "--out", "x.csv"], "source_id 77 has no segments"),
    ],
)
def test_errors_go_to_stderr_with_nonzero_exit(environment, args, message):
    completed = ampelios(environment, *args)
    assert completed.returncode != 0
    assert message in completed.stderr
    assert completed.stdout == ""


def test_bad_header_error_names_columns(environment, tmp_path):
    path = write_event_lines(tmp_path / "e.csv", ["1,2"], header="time,visitor")
    completed = ampelios(environment, "run", "--events", str(path), "--source-id", "1", "--json")
    assert completed.returncode == 1
    assert "lacks the columns timestamp, visitorid, event, itemid, transactionid; found time, visitor" in completed.stderr
    assert completed.stdout == ""


def test_real_sample_runs_end_to_end(environment, sample_events_path, tmp_path):
    completed = ampelios(environment, "run", "--events", str(sample_events_path), "--source-id", "1", "--json")
    assert completed.returncode == 0, completed.stderr
    counts = json.loads(completed.stdout)["counts"]
    assert counts["rows_read"] == 9385
    assert counts["duplicates"] == 3
    assert counts["rejected"] == 0
    assert counts["visitors"] == 5000
    assert counts["sessions"] == 6229

    out = tmp_path / "sample-segments.csv"
    assert ampelios(environment, "export", "--source-id", "1", "--out", str(out)).returncode == 0
    exported = pl.read_csv(out)
    assert exported.height == 5000
    assert exported["visitor_id"].n_unique() == 5000
    assert exported["segment_id"].null_count() == 0


def test_generate_then_run_planted_recovers_groups(environment, tmp_path):
    from sklearn.metrics import adjusted_rand_score

    out = tmp_path / "planted.csv"
    completed = ampelios(environment, "generate", "--visitors", "5000", "--out", str(out), "--seed", "3", "--planted")
    assert completed.returncode == 0, completed.stderr
    run = ampelios(environment, "run", "--events", str(out), "--source-id", "1", "--cluster-count", "5", "--json")
    assert run.returncode == 0, run.stderr
    exported = tmp_path / "assignments.csv"
    ampelios(environment, "export", "--source-id", "1", "--out", str(exported))

    truth = pl.read_csv(tmp_path / "planted.groups.csv")
    joined = pl.read_csv(exported).join(truth, left_on="visitor_id", right_on="visitorid")
    assert joined.height == 5000
    assert adjusted_rand_score(joined["group"].to_list(), joined["segment_id"].to_list()) >= 0.9


def test_run_rejected_while_source_has_unfinished_run(environment, events_path, tmp_path):
    from dagster import DagsterInstance, DagsterRunStatus
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.storage.dagster_run import DagsterRun

    home = Path(environment["DAGSTER_HOME"])
    home.mkdir(parents=True)
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        instance.add_run(
            DagsterRun(
                job_name="segment_visitors",
                run_id="0f0f0f0f-0000-4000-8000-000000000001",
                status=DagsterRunStatus.STARTED,
                tags={"dagster/partition": "3"},
            )
        )
    blocked = ampelios(environment, "run", "--events", str(events_path), "--source-id", "3")
    other_source = ampelios(environment, "run", "--events", str(events_path), "--source-id", "4", "--cluster-count", "2")
    assert blocked.returncode == 1
    assert "source_id 3 has an unfinished run 0f0f0f0f-0000-4000-8000-000000000001" in blocked.stderr
    assert other_source.returncode == 0, other_source.stderr


def test_invalid_setting_is_one_line_error(environment):
    environment["AMPELIOS_CLUSTER_COUNT"] = "abc"
    completed = ampelios(environment, "--help")
    assert completed.returncode == 1
    assert completed.stderr.strip() == "ampelios: error: AMPELIOS_CLUSTER_COUNT='abc' is not an integer"


def test_run_failure_prints_no_stack_trace(environment, tmp_path):
    path = write_event_lines(tmp_path / "e.csv", ["1,2"], header="time,visitor")
    completed = ampelios(environment, "run", "--events", str(path), "--source-id", "1")
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_source_id_above_32_bits_rejected(environment, events_path):
    completed = ampelios(environment, "run", "--events", str(events_path), "--source-id", "3000000000")
    assert completed.returncode == 2
    assert "3000000000 is above the largest source id 2147483647" in completed.stderr
