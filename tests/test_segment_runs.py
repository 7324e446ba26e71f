"""Runs through Dagster and the CLI: stable ids, transitions, history and the HTML report in Chromium."""

import json
import os
import re
import shutil
import subprocess
import sys

import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from ampelios_assets.generation import planted_events, write_events, write_groups
from ampelios_assets.runs import RunRequest, run_segmentation
from ampelios_assets.stores import open_store

AMPELIOS = [sys.executable, "-m", "ampelios_assets.cli.main"]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """A planted file of 3000 visitors, and a second of 2000 more (1500 of them already seen)."""
    folder = tmp_path_factory.mktemp("planted")
    first, truth = planted_events(3000, seed=1)
    write_events(first, folder / "first.csv")
    write_groups(truth, folder / "first.groups.csv")
    second, _ = planted_events(2000, seed=2)
    write_events(second.with_columns(pl.col("visitorid") + 1500), folder / "second.csv")
    return folder


def _request(path, incremental=False, **kwargs):
    return RunRequest(
        source_id=1, events_path=path, cluster_count=kwargs.pop("cluster_count", 5), session_gap_minutes=30,
        is_initial_flow=not incremental, **kwargs,
    )


def _environment(settings):
    env = dict(os.environ)
    env["AMPELIOS_OUTPUT_DIR"] = str(settings.output_dir)
    env["DAGSTER_HOME"] = str(settings.dagster_home)
    return env


def _ampelios(settings, *args):
    completed = subprocess.run([*AMPELIOS, *args], env=_environment(settings), capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_planted_labels_and_stable_refit(settings, batches):
    first = run_segmentation(settings, _request(batches / "first.csv"))
    assert first.success, first.error
    store = open_store(settings)
    segments = store.segments(1)
    assignments = store.assignments(1)
    truth = pl.read_csv(batches / "first.groups.csv").rename({"visitorid": "visitor_id"})
    joined = assignments.join(truth, on="visitor_id").join(segments.select("segment_id", "label"), on="segment_id")
    assert adjusted_rand_score(joined["group"], joined["segment_id"]) >= 0.9
    assert (joined["group"] == joined["label"]).mean() >= 0.95

    second = run_segmentation(settings, _request(batches / "first.csv"))
    assert second.success, second.error
    again = store.assignments(1).join(assignments, on="visitor_id", suffix="_first")
    assert (again["segment_id"] == again["segment_id_first"]).all()
    assert store.segments(1)["label"].to_list() == segments["label"].to_list()
    matches = store.run_metadata(1)["matches"]
    assert all(m["previous_segment_id"] == m["segment_id"] for m in matches)
    assert all(m["distance"] < 0.01 for m in matches)
    profile = second.metadata["clusters"]["profile"]
    assert "data:image/svg+xml;base64," in profile
    assert "### Transitions" in profile


def test_new_events_give_transitions_that_add_up(settings, batches):
    assert run_segmentation(settings, _request(batches / "first.csv")).success
    later = run_segmentation(settings, _request(batches / "second.csv", incremental=True))
    assert later.success, later.error
    visitors = later.metadata["journeys"]["visitors"]
    assert visitors == 3500

    document = json.loads(_ampelios(settings, "transitions", "--source-id", "1", "--json"))
    assert sum(row["visitors"] for row in document["transitions"]) == visitors
    new = [row for row in document["transitions"] if row["from_segment_id"] is None]
    assert sum(row["visitors"] for row in new) == 500
    assert all(row["to_segment_id"] is not None for row in document["transitions"])

    history = json.loads(_ampelios(settings, "history", "--source-id", "1", "--visitor-id", "2000", "--json"))
    assert [entry["run_id"] for entry in history["history"]] == [run.run_id for run in open_store(settings).runs(1)]
    newcomer = json.loads(_ampelios(settings, "history", "--source-id", "1", "--visitor-id", "3400", "--json"))
    assert len(newcomer["history"]) == 1


def test_run_prints_labels_and_quality(settings, batches):
    output = _ampelios(settings, "run", "--events", str(batches / "first.csv"), "--source-id", "1", "--cluster-count", "auto")
    assert "repeat_buyer" in output
    assert "cart_abandoner" in output
    assert re.search(r"quality \(silhouette 0\.\d+ on 3,000 visitors", output)
    assert "highly stable" in output
    assert "cluster_count=auto chose k=5" in output

    document = json.loads(
        _ampelios(settings, "run", "--events", str(batches / "first.csv"), "--source-id", "1", "--cluster-count", "5", "--json")
    )
    assert {segment["label"] for segment in document["segments"]} == {
        "one_time_browser", "engaged_browser", "cart_abandoner", "buyer", "repeat_buyer"
    }
    assert document["quality"]["predictive"]["cutoff_date"]
    assert len(document["quality"]["segments"]) == 5


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed; `make test` installs it")
def test_report_renders_in_chromium(settings, batches, tmp_path):
    assert run_segmentation(settings, _request(batches / "first.csv")).success
    assert run_segmentation(settings, _request(batches / "second.csv", incremental=True)).success
    report = tmp_path / "report.html"
    _ampelios(settings, "report", "--source-id", "1", "--out", str(report))
    text = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", text)
    assert "<link" not in text

    completed = subprocess.run(
        [
            shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={tmp_path / 'chromium-profile'}",
            # Chromium's own update and account requests still go out with the
            # flags above; a dead loopback proxy and no DNS keep it on this machine.
            "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--dump-dom", report.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    dom = completed.stdout
    segment_count = open_store(settings).segments(1).height
    assert dom.count('<tr class="segment"') == segment_count
    assert f'data-rendered-segment-bars="{segment_count}"' in dom
    for label in ("repeat_buyer", "one_time_browser"):
        assert label in dom
    assert dom.count('class="transition"') >= segment_count
