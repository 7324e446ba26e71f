"""The code location as Dagster's own tools load it: the CLI and the webserver."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dagster_env(tmp_path):
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    env["AMPELIOS_OUTPUT_DIR"] = str(tmp_path / "data")
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return env


def test_workspace_validates(dagster_env):
    completed = subprocess.run(
        [BIN / "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, env=dagster_env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Validation successful for code location ampelios" in completed.stderr + completed.stdout


def test_webserver_shows_asset_graph(dagster_env):
    port = _free_port()
    server = subprocess.Popen(
        [BIN / "dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=dagster_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        query = "{ assetNodes { assetKey { path } partitionDefinition { name } groupName } }"
        nodes = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and nodes is None:
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=10)
                nodes = response.json()["data"]["assetNodes"]
            except (httpx.HTTPError, KeyError, ValueError):
                time.sleep(1)
        assert nodes is not None, "webserver did not answer within 180 s"
        keys = sorted(node["assetKey"]["path"][-1] for node in nodes)
        assert keys == ["clusters", "journeys", "raw_events", "rejected_events", "sessionized_events"]
        assert {node["partitionDefinition"]["name"] for node in nodes} == {"source_id"}
        assert {node["groupName"] for node in nodes} == {"segmentation"}
    finally:
        server.terminate()
        server.wait(timeout=60)
