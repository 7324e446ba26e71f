"""Start `ampelios serve` as a subprocess on a free loopback port, and talk to it over HTTP."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 90
RUN_TIMEOUT_S = 300

RUN_QUERY = """
query Run($id: ID!) {
  run(id: $id) { id sourceId status currentStep error startedAt finishedAt counts { rowsRead eventsKept rejected duplicates sessions visitors segments } }
}
"""


@dataclasses.dataclass
class ApiServer:
    base_url: str
    home: Path
    data_dir: Path
    log_path: Path
    environ: dict[str, str]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)

    def log(self) -> str:
        return self.log_path.read_text()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environ(home: Path, **extra: str) -> dict[str, str]:
    environ = {
        key: value for key, value in os.environ.items() if not key.startswith("AMPELIOS_") and key != "DAGSTER_HOME"
    }
    environ.update(
        {
            "DAGSTER_HOME": str(home / "dagster_home"),
            "AMPELIOS_OUTPUT_DIR": str(home / "data"),
            "AMPELIOS_DATA_DIR": str(home / "init-data"),
            **extra,
        }
    )
    return environ


@contextlib.contextmanager
def running_server(home: Path, **extra_environ: str) -> Iterator[ApiServer]:
    """Run `ampelios serve` with its instance, output and data directories under `home`."""
    (home / "init-data").mkdir(parents=True, exist_ok=True)
    environ = server_environ(home, **extra_environ)
    port = free_port()
    log_path = home / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ampelios_assets.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=home,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ApiServer(f"http://127.0.0.1:{port}", home, home / "init-data", log_path, environ)
    try:
        _wait_until_healthy(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(server: ApiServer, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ampelios serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"ampelios serve did not answer /health within {STARTUP_TIMEOUT_S} s:\n{server.log()}")


def graphql(client: httpx.Client, query: str, **variables) -> dict:
    """POST a GraphQL document and return the whole response body."""
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_run(client: httpx.Client, run_id: str) -> dict:
    """Poll the run query until the run succeeds or fails, and return the last Run object."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    seen = set()
    while time.monotonic() < deadline:
        run = graphql(client, RUN_QUERY, id=run_id)["data"]["run"]
        seen.add(run["status"])
        if run["status"] in ("SUCCESS", "FAILURE"):
            run["statuses_seen"] = seen
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish within {RUN_TIMEOUT_S} s")
