"""Every guard of the HTTP API, over REST and GraphQL, with its error code and envelope."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.api_server import graphql, running_server

SAMPLE = Path(__file__).resolve().parents[1] / "init-data" / "sample-events.csv"
TOKEN = "s3cret-token-value-9f2c"

TRIGGER_MUTATION = """
mutation Trigger($sourceId: Int!, $eventsPath: String!, $clusterCount: Int) {
  trigger(sourceId: $sourceId, eventsPath: $eventsPath, clusterCount: $clusterCount) { id status }
}
"""
RUNS_QUERY = "query($s: Int!) { runs(sourceId: $s) { id } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("api-guards")
    outside = home / "outside"
    outside.mkdir()
    shutil.copy(SAMPLE, outside / "events.csv")
    with running_server(home, AMPELIOS_MAX_BODY_BYTES="2048") as server:
        shutil.copy(SAMPLE, server.data_dir / "events.csv")
        (server.data_dir / "leak.csv").symlink_to(outside / "events.csv")
        (server.data_dir / "sub").mkdir()
        yield server


def assert_envelope(response, status: int, code: str) -> str:
    """Check the REST error envelope and return its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "message"]
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]["message"]


def graphql_error_code(result: dict) -> str:
    assert result.get("data") is None or result["data"].get("trigger") is None, result
    return result["errors"][0]["extensions"]["code"]


@pytest.mark.parametrize(
    ("events_path", "code", "status"),
    [
        ("init-data/../outside/events.csv", "PATH_OUTSIDE_DATA_DIR", 400),
        ("init-data/sub/../../outside/events.csv", "PATH_OUTSIDE_DATA_DIR", 400),
        ("/etc/passwd", "PATH_OUTSIDE_DATA_DIR", 400),
        ("init-data/leak.csv", "PATH_OUTSIDE_DATA_DIR", 400),
        ("init-data/missing.csv", "NOT_FOUND", 404),
        ("init-data/sub", "NOT_FOUND", 404),
    ],
)
def test_events_path_guard(server, events_path, code, status):
    with server.client() as client:
        rest = client.post("/trigger", json={"source_id": 11, "events_path": events_path})
        mutation = graphql(client, TRIGGER_MUTATION, sourceId=11, eventsPath=events_path)
        runs = graphql(client, RUNS_QUERY, s=11)["data"]["runs"]
    message = assert_envelope(rest, status, code)
    assert events_path in message
    assert graphql_error_code(mutation) == code
    assert mutation["errors"][0]["message"] == message
    assert runs == []


def test_outside_path_error_names_setting(server):
    with server.client() as client:
        response = client.post("/trigger", json={"source_id": 11, "events_path": "/etc/passwd"})
    message = assert_envelope(response, 400, "PATH_OUTSIDE_DATA_DIR")
    assert "AMPELIOS_DATA_DIR" in message
    assert str(server.data_dir) in message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"source_id": 0}, "source_id must be between 1 and 2147483647, got 0"),
        ({"source_id": 2**31}, "source_id must be between 1 and 2147483647, got 2147483648"),
        ({"source_id": -3}, "source_id must be between 1 and 2147483647, got -3"),
        ({"source_id": "1"}, "source_id must be an integer, got '1'"),
        ({"source_id": True}, "source_id must be an integer, got True"),
        ({"source_id": 1.5}, "source_id must be an integer, got 1.5"),
        ({"source_id": None}, "source_id is required"),
        ({"cluster_count": 1}, "cluster_count must be between 2 and 50, got 1"),
        ({"cluster_count": 51}, "cluster_count must be between 2 and 50, got 51"),
        ({"session_gap_minutes": 0}, "session_gap_minutes must be between 1 and 10080, got 0"),
        ({"is_initial_flow": "yes"}, "is_initial_flow must be true or false, got 'yes'"),
        ({"events_path": ""}, "events_path must be a non-empty string"),
    ],
)
def test_trigger_field_rejected(server, changes, fragment):
    body = {"source_id": 12, "events_path": "init-data/events.csv", "cluster_count": 5, **changes}
    body = {name: value for name, value in body.items() if value is not None}
    with server.client() as client:
        response = client.post("/trigger", json=body)
    assert fragment in assert_envelope(response, 400, "INVALID_ARGUMENT")


def test_every_invalid_field_reported(server):
    body = {"source_id": 0, "events_path": "init-data/events.csv", "cluster_count": 99}
    with server.client() as client:
        response = client.post("/trigger", json=body)
    message = assert_envelope(response, 400, "INVALID_ARGUMENT")
    assert "source_id must be between 1 and 2147483647, got 0" in message
    assert "cluster_count must be between 2 and 50, got 99" in message


def test_graphql_cluster_count_range(server):
    with server.client() as client:
        low = graphql(client, TRIGGER_MUTATION, sourceId=13, eventsPath="init-data/events.csv", clusterCount=1)
        high = graphql(client, TRIGGER_MUTATION, sourceId=13, eventsPath="init-data/events.csv", clusterCount=51)
    assert graphql_error_code(low) == "INVALID_ARGUMENT"
    assert "cluster_count must be between 2 and 50, got 1" in low["errors"][0]["message"]
    assert graphql_error_code(high) == "INVALID_ARGUMENT"


def test_unknown_rest_field_rejected(server):
    body = {"source_id": 14, "events_path": "init-data/events.csv", "clusters": 5}
    with server.client() as client:
        response = client.post("/trigger", json=body)
        runs = graphql(client, RUNS_QUERY, s=14)["data"]["runs"]
    assert "clusters" in assert_envelope(response, 400, "UNKNOWN_FIELD")
    assert runs == []


def test_unknown_graphql_argument_rejected(server):
    mutation = 'mutation { trigger(sourceId: 14, eventsPath: "init-data/events.csv", clusters: 5) { id } }'
    with server.client() as client:
        result = graphql(client, mutation)
    assert graphql_error_code(result) == "UNKNOWN_FIELD"


def test_graphql_type_error_has_code(server):
    with server.client() as client:
        result = graphql(client, 'mutation { trigger(sourceId: "x", eventsPath: "e.csv") { id } }')
    assert graphql_error_code(result) == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object, got list"),
    ],
)
def test_malformed_body_rejected(server, content, fragment):
    with server.client() as client:
        response = client.post("/trigger", content=content, headers={"content-type": "application/json"})
    assert fragment in assert_envelope(response, 400, "INVALID_ARGUMENT")


def test_oversized_body_rejected(server):
    body = {"source_id": 15, "events_path": "init-data/events.csv", "padding": "x" * 4000}
    with server.client() as client:
        response = client.post("/trigger", json=body)
        graphql_response = client.post("/graphql", json={"query": "{ sources { id } }", "padding": "x" * 4000})
    assert "2048 bytes" in assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert "AMPELIOS_MAX_BODY_BYTES" in response.json()["error"]["message"]
    assert_envelope(graphql_response, 413, "PAYLOAD_TOO_LARGE")


def test_oversized_chunked_body_rejected(server):
    def chunks():
        for _ in range(10):
            yield b"x" * 500

    with server.client() as client:
        response = client.post("/trigger", content=chunks(), headers={"content-type": "application/json"})
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_body_at_limit_accepted_as_json(server):
    padding = " " * (2048 - len(b'{"source_id": 0, "events_path": "x"}'))
    content = b'{"source_id": 0, "events_path": "x"}' + padding.encode()
    assert len(content) == 2048
    with server.client() as client:
        response = client.post("/trigger", content=content, headers={"content-type": "application/json"})
    assert_envelope(response, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({}, "INVALID_ARGUMENT", "source_id is required"),
        ({"source_id": "0"}, "INVALID_ARGUMENT", "source_id must be an integer between 1 and 2147483647, got '0'"),
        ({"source_id": "2147483648"}, "INVALID_ARGUMENT", "source_id must be an integer between 1 and 2147483647, got '2147483648'"),
        ({"source_id": "abc"}, "INVALID_ARGUMENT", "source_id must be an integer between 1 and 2147483647, got 'abc'"),
        ({"source_id": "1", "verbose": "maybe"}, "INVALID_ARGUMENT", "verbose must be true or false"),
        ({"source_id": "1", "limit": "3"}, "UNKNOWN_FIELD", "limit"),
    ],
)
def test_view_parameter_rejected(server, params, code, fragment):
    with server.client() as client:
        response = client.get("/view", params=params)
    assert fragment in assert_envelope(response, 400, code)


def test_unknown_route_and_method_enveloped(server):
    with server.client() as client:
        missing = client.get("/segments")
        wrong_method = client.get("/trigger")
    assert "/segments" in assert_envelope(missing, 404, "NOT_FOUND")
    assert "GET is not allowed on /trigger" in assert_envelope(wrong_method, 405, "METHOD_NOT_ALLOWED")


def test_graphql_source_id_positive(server):
    with server.client() as client:
        result = graphql(client, "{ segments(sourceId: 0) { id } }")
    assert result["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_unknown_run_not_found(server):
    with server.client() as client:
        result = graphql(client, '{ run(id: "no-such-run") { id } }')
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 0}, "INVALID_ARGUMENT"),
        ({"first": 1001}, "INVALID_ARGUMENT"),
        ({"first": 10, "after": "not-a-cursor"}, "INVALID_ARGUMENT"),
    ],
)
def test_members_arguments_rejected(server, variables, code):
    query = "query($first: Int!, $after: String) { members(sourceId: 1, segmentId: 0, first: $first, after: $after) { totalCount } }"
    with server.client() as client:
        result = graphql(client, query, **variables)
    assert result["errors"][0]["extensions"]["code"] == code


def test_graphiql_off_by_default(server):
    with server.client() as client:
        response = client.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in response.text.lower()


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("api-token")
    with running_server(home, AMPELIOS_API_TOKEN=TOKEN, AMPELIOS_DEV_MODE="true") as server:
        shutil.copy(SAMPLE, server.data_dir / "events.csv")
        yield server


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_trigger_requires_token(token_server, token):
    with token_server.client(token) as client:
        rest = client.post("/trigger", json={"source_id": 21, "events_path": "init-data/events.csv"})
        mutation = graphql(client, TRIGGER_MUTATION, sourceId=21, eventsPath="init-data/events.csv")
        runs = graphql(client, RUNS_QUERY, s=21)["data"]["runs"]
    message = assert_envelope(rest, 401, "UNAUTHENTICATED")
    assert "AMPELIOS_API_TOKEN" in message
    assert rest.headers["www-authenticate"] == "Bearer"
    assert graphql_error_code(mutation) == "UNAUTHENTICATED"
    assert runs == []


def test_token_allows_trigger_and_stays_out_of_log(token_server):
    from tests.api_server import wait_for_run

    with token_server.client(TOKEN) as client:
        response = client.post("/trigger", json={"source_id": 22, "events_path": "init-data/events.csv"})
        assert response.status_code == 202, response.text
        run = wait_for_run(client, response.json()["run_id"])
    with token_server.client() as client:
        view = client.get("/view", params={"source_id": 22})
    assert run["status"] == "SUCCESS"
    assert view.status_code == 200
    assert len(view.json()) == 5
    log = token_server.log()
    assert "accepted run" in log
    assert TOKEN not in log


def test_graphiql_served_in_dev_mode(token_server):
    with token_server.client() as client:
        response = client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_reads_require_token_when_configured(tmp_path):
    with running_server(tmp_path, AMPELIOS_API_TOKEN=TOKEN, AMPELIOS_API_TOKEN_FOR_READS="true") as server:
        with server.client() as client:
            view = client.get("/view", params={"source_id": 1})
            query = graphql(client, "{ sources { id } }")
            health = client.get("/health")
        with server.client(TOKEN) as client:
            allowed_view = client.get("/view", params={"source_id": 1})
            allowed_query = graphql(client, "{ sources { id } }")
    assert_envelope(view, 401, "UNAUTHENTICATED")
    assert query["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert health.status_code == 200
    assert allowed_view.json() == []
    assert allowed_query == {"data": {"sources": []}}
