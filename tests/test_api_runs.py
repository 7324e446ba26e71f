"""The HTTP API end to end: trigger over REST and GraphQL, poll, then read segments and members."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.api_server import RUN_QUERY, graphql, running_server, wait_for_run
from tests.conftest import BASE_TSTAMP_MS, MINUTE_MS, write_event_lines

FEATURES = ("views", "addtocarts", "transactions", "sessions", "views_per_session", "purchase_ratio")
SAMPLE = Path(__file__).resolve().parents[1] / "init-data" / "sample-events.csv"

SEGMENTS_QUERY = """
query Segments($sourceId: Int!) {
  segments(sourceId: $sourceId) {
    id size centroid { views addtocarts transactions sessions viewsPerSession purchaseRatio }
  }
}
"""
MEMBERS_QUERY = """
query Members($sourceId: Int!, $segmentId: Int!, $first: Int!, $after: String) {
  members(sourceId: $sourceId, segmentId: $segmentId, first: $first, after: $after) {
    totalCount
    edges { cursor node { visitorId segmentId features { views addtocarts transactions sessions } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
TRIGGER_MUTATION = """
mutation Trigger($sourceId: Int!, $eventsPath: String!, $clusterCount: Int) {
  trigger(sourceId: $sourceId, eventsPath: $eventsPath, clusterCount: $clusterCount) { id status sourceId }
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("api-runs")
    with running_server(home) as server:
        generated = subprocess.run(
            [sys.executable, "-m", "ampelios_assets.cli.main", "generate",
             "--visitors", "3000", "--seed", "11", "--out", str(server.data_dir / "events.csv")],
            env=server.environ, capture_output=True, text=True, timeout=300,
        )
        assert generated.returncode == 0, generated.stderr
        yield server


@pytest.fixture(scope="module")
def triggered(server):
    """Source 1 run over REST on the generated file, with the finished Run object."""
    with server.client() as client:
        response = client.post(
            "/trigger",
            json={"source_id": 1, "cluster_count": 5, "events_path": "./init-data/events.csv", "is_initial_flow": True},
        )
        assert response.status_code == 202, response.text
        body = response.json()
        run = wait_for_run(client, body["run_id"])
    return body, run


def test_trigger_returns_run_id_and_status(triggered):
    body, _ = triggered
    assert set(body) == {"run_id", "status"}
    assert body["status"] in ("queued", "started")


def test_triggered_run_succeeds_with_counts(triggered):
    _, run = triggered
    assert run["status"] == "SUCCESS", run["error"]
    assert run["sourceId"] == 1
    assert run["error"] is None
    assert run["currentStep"] is None
    counts = run["counts"]
    assert counts["visitors"] == 3000
    assert counts["rowsRead"] == counts["eventsKept"] + counts["rejected"] + counts["duplicates"]
    assert counts["segments"] == 5


def test_view_matches_cli_run(server, triggered, tmp_path):
    environ = {
        **server.environ,
        "DAGSTER_HOME": str(tmp_path / "cli_home"),
        "AMPELIOS_OUTPUT_DIR": str(tmp_path / "cli_data"),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "ampelios_assets.cli.main", "run", "--events", str(server.data_dir / "events.csv"),
         "--source-id", "1", "--cluster-count", "5", "--json"],
        env=environ, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    expected = json.loads(completed.stdout)["segments"]

    with server.client() as client:
        view = client.get("/view", params={"source_id": 1}).json()

    assert [segment["id"] for segment in view] == [segment["id"] for segment in expected]
    assert [segment["users"] for segment in view] == [segment["size"] for segment in expected]
    for viewed, run in zip(view, expected):
        assert viewed["centroid"] == pytest.approx([run["centroid"][name] for name in FEATURES])


def test_view_shape_exact(server, triggered):
    with server.client() as client:
        response = client.get("/view", params={"source_id": 1})
    assert response.status_code == 200
    view = response.json()
    assert len(view) == 5
    for segment in view:
        assert list(segment) == ["id", "users", "centroid"]
        assert isinstance(segment["users"], int)
        assert len(segment["centroid"]) == 6
    assert sum(segment["users"] for segment in view) == 3000


def test_view_verbose_lists_sorted_visitors(server, triggered):
    with server.client() as client:
        plain = client.get("/view", params={"source_id": 1}).json()
        verbose = client.get("/view", params={"source_id": 1, "verbose": "true"}).json()
    everyone = []
    for counted, listed in zip(plain, verbose):
        assert listed["id"] == counted["id"]
        assert listed["users"] == sorted(listed["users"])
        assert len(listed["users"]) == counted["users"]
        everyone += listed["users"]
    assert len(everyone) == len(set(everyone)) == 3000


def test_graphql_segments_match_view(server, triggered):
    with server.client() as client:
        view = client.get("/view", params={"source_id": 1}).json()
        segments = graphql(client, SEGMENTS_QUERY, sourceId=1)["data"]["segments"]
    assert [segment["id"] for segment in segments] == [segment["id"] for segment in view]
    assert [segment["size"] for segment in segments] == [segment["users"] for segment in view]
    for segment, viewed in zip(segments, view):
        assert list(segment["centroid"].values()) == pytest.approx(viewed["centroid"])


def test_members_pages_cover_segment_once(server, triggered):
    with server.client() as client:
        verbose = client.get("/view", params={"source_id": 1, "verbose": "true"}).json()
        segment = verbose[-1]
        collected, after, pages = [], None, 0
        while True:
            page = graphql(client, MEMBERS_QUERY, sourceId=1, segmentId=segment["id"], first=7, after=after)
            members = page["data"]["members"]
            assert members["totalCount"] == len(segment["users"])
            collected += [edge["node"]["visitorId"] for edge in members["edges"]]
            assert all(edge["node"]["segmentId"] == segment["id"] for edge in members["edges"])
            pages += 1
            if not members["pageInfo"]["hasNextPage"]:
                break
            after = members["pageInfo"]["endCursor"]
    assert collected == segment["users"]
    assert pages == -(-len(segment["users"]) // 7)


def test_sources_lists_run_source(server, triggered):
    with server.client() as client:
        sources = graphql(client, "{ sources { id lastRunId lastRunAt visitorCount } }")["data"]["sources"]
    by_id = {source["id"]: source for source in sources}
    assert by_id[1]["visitorCount"] == 3000
    assert by_id[1]["lastRunId"] == triggered[0]["run_id"]
    assert by_id[1]["lastRunAt"] is not None


def test_runs_lists_source_runs(server, triggered):
    with server.client() as client:
        runs = graphql(client, "query($s: Int!) { runs(sourceId: $s) { id status } }", s=1)["data"]["runs"]
    assert {"id": triggered[0]["run_id"], "status": "SUCCESS"} in runs


def test_graphql_trigger_runs_sample(server):
    shutil.copy(SAMPLE, server.data_dir / "sample.csv")
    with server.client() as client:
        result = graphql(client, TRIGGER_MUTATION, sourceId=2, eventsPath=str(server.data_dir / "sample.csv"), clusterCount=3)
        assert "errors" not in result, result
        triggered = result["data"]["trigger"]
        assert triggered["sourceId"] == 2
        assert triggered["status"] in ("QUEUED", "STARTED")
        run = wait_for_run(client, triggered["id"])
        segments = graphql(client, SEGMENTS_QUERY, sourceId=2)["data"]["segments"]
    assert run["status"] == "SUCCESS", run["error"]
    assert run["counts"]["visitors"] == 200
    assert len(segments) == 3
    assert sum(segment["size"] for segment in segments) == 200


def test_failed_run_reports_error(server):
    write_event_lines(server.data_dir / "bad-header.csv", ["1,2"], header="time,visitor")
    with server.client() as client:
        response = client.post("/trigger", json={"source_id": 3, "events_path": str(server.data_dir / "bad-header.csv")})
        assert response.status_code == 202, response.text
        run = wait_for_run(client, response.json()["run_id"])
    assert run["status"] == "FAILURE"
    assert "lacks the columns timestamp, visitorid, event, itemid, transactionid" in run["error"]


def test_second_trigger_rejected_while_running(server):
    t = BASE_TSTAMP_MS
    lines = [f"{t + i * MINUTE_MS},{i % 40},view,{i},"for i in range(400)]
    path = write_event_lines(server.data_dir / "busy.csv", lines)
    body = {"source_id": 4, "events_path": str(path), "cluster_count": 2}
    with server.client() as client:
        first = client.post("/trigger", json=body)
        assert first.status_code == 202, first.text
        second = client.post("/trigger", json=body)
        mutation = graphql(client, TRIGGER_MUTATION, sourceId=4, eventsPath=str(path), clusterCount=2)
        run = wait_for_run(client, first.json()["run_id"])
        after_finish = client.post("/trigger", json=body)
        wait_for_run(client, after_finish.json()["run_id"])

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "RUN_IN_PROGRESS"
    assert first.json()["run_id"] in second.json()["error"]["message"]
    assert mutation["errors"][0]["extensions"]["code"] == "RUN_IN_PROGRESS"
    assert run["status"] == "SUCCESS"
    assert after_finish.status_code == 202


def test_unfinished_run_of_other_process_blocks_trigger(server):
    from dagster import DagsterInstance, DagsterRunStatus
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster._core.utils import make_new_run_id

    shutil.copy(SAMPLE, server.data_dir / "other.csv")
    other_run_id = make_new_run_id()
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(server.environ["DAGSTER_HOME"]))
    with instance:
        instance.add_run(
            DagsterRun(
                job_name="segment_visitors",
                run_id=other_run_id,
                status=DagsterRunStatus.STARTED,
                tags={"dagster/partition": "5"},
            )
        )
    with server.client() as client:
        response = client.post("/trigger", json={"source_id": 5, "events_path": str(server.data_dir / "other.csv")})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "RUN_IN_PROGRESS"
    assert other_run_id in response.json()["error"]["message"]


def test_view_of_source_without_segments_is_empty(server):
    with server.client() as client:
        view = client.get("/view", params={"source_id": 999})
        segments = graphql(client, SEGMENTS_QUERY, sourceId=999)
    assert view.status_code == 200
    assert view.json() == []
    assert segments == {"data": {"segments": []}}


def test_health(server):
    with server.client() as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_stopped_server_fails_unfinished_run(tmp_path):
    t = BASE_TSTAMP_MS
    lines = [f"{t + (i % 500) * MINUTE_MS},{i // 3},view,{i % 1000}," for i in range(1_000_000)]
    with running_server(tmp_path) as server:
        path = write_event_lines(server.data_dir / "large.csv", lines)
        with server.client() as client:
            run_id = client.post("/trigger", json={"source_id": 6, "events_path": str(path)}).json()["run_id"]
            while graphql(client, RUN_QUERY, id=run_id)["data"]["run"]["status"] == "QUEUED":
                time.sleep(0.05)
    # Leaving the block stopped the server with SIGTERM while the run was going.

    with running_server(tmp_path) as server:
        with server.client() as client:
            stopped = graphql(client, RUN_QUERY, id=run_id)["data"]["run"]
            retried = client.post("/trigger", json={"source_id": 6, "events_path": str(path)})
    assert stopped["status"] == "FAILURE"
    assert "the API server stopped before the run finished" in stopped["error"]
    assert retried.status_code == 202


def test_two_sources_run_one_after_another(server):
    shutil.copy(SAMPLE, server.data_dir / "side.csv")
    body = {"events_path": str(server.data_dir / "side.csv"), "cluster_count": 3}
    with server.client() as client:
        first = client.post("/trigger", json={"source_id": 7, **body})
        second = client.post("/trigger", json={"source_id": 8, **body})
        runs = [wait_for_run(client, response.json()["run_id"]) for response in (first, second)]
        views = [client.get("/view", params={"source_id": source_id}).json() for source_id in (7, 8)]
    assert first.status_code == 202
    assert second.status_code == 202
    assert [run["status"] for run in runs] == ["SUCCESS", "SUCCESS"]
    earlier, later = sorted(runs, key=lambda run: run["startedAt"])
    assert later["startedAt"] >= earlier["finishedAt"]
    assert views[0] == views[1]
    assert sum(segment["users"] for segment in views[0]) == 200


TRANSITIONS_QUERY = """
query Transitions($sourceId: Int!) {
  transitions(sourceId: $sourceId) { fromRun toRun transitions { fromSegmentId toSegmentId visitors } }
}
"""
VISITOR_QUERY = """
query Visitor($sourceId: Int!, $visitorId: Int!) {
  visitor(sourceId: $sourceId, visitorId: $visitorId) { visitorId history { runId segmentId label } }
}
"""


def test_transitions_and_visitor_history_over_http(server):
    first = [f"{BASE_TSTAMP_MS + i * MINUTE_MS},{visitor},view,{i},"
             for visitor in range(40) for i in range(1 + visitor % 4)]
    later = [f"{BASE_TSTAMP_MS + 500 * MINUTE_MS},{visitor},addtocart,7," for visitor in range(30, 50)]
    write_event_lines(server.data_dir / "history-a.csv", first)
    write_event_lines(server.data_dir / "history-b.csv", later)
    with server.client() as client:
        run_ids = []
        for name, initial in (("history-a.csv", True), ("history-b.csv", False)):
            response = client.post(
                "/trigger",
                json={"source_id": 17, "cluster_count": 2, "events_path": f"./init-data/{name}", "is_initial_flow": initial},
            )
            assert response.status_code == 202, response.text
            run = wait_for_run(client, response.json()["run_id"])
            assert run["status"] == "SUCCESS", run["error"]
            run_ids.append(response.json()["run_id"])

        transitions = graphql(client, TRANSITIONS_QUERY, sourceId=17)["data"]["transitions"]
        history = graphql(client, VISITOR_QUERY, sourceId=17, visitorId=45)["data"]["visitor"]
        unknown = graphql(client, VISITOR_QUERY, sourceId=99, visitorId=1)

    assert (transitions["fromRun"], transitions["toRun"]) == tuple(run_ids)
    assert sum(row["visitors"] for row in transitions["transitions"]) == 50
    newcomers = [row for row in transitions["transitions"] if row["fromSegmentId"] is None]
    assert sum(row["visitors"] for row in newcomers) == 10
    assert [entry["runId"] for entry in history["history"]] == [run_ids[1]]
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # The server's directories stay out of what a client reads.
    assert unknown["errors"][0]["message"] == "source_id 99 has no published segments yet"
