"""Read the topic's lag, read messages up to given offsets, and commit offsets.

Offsets are committed only by `commit_offsets`, which an ingest run calls
after it has stored the events: delivery is at-least-once, and the stored
events' natural key makes a redelivered event count once.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from ampelios_assets.kafka.decoding import Message
from ampelios_assets.settings import Settings

logger = logging.getLogger(__name__)

# librdkafka reports "no committed offset" with a negative sentinel.
_NO_OFFSET = 0


class BrokerUnavailableError(Exception):
    """The broker did not respond within AMPELIOS_KAFKA_POLL_TIMEOUT_S."""


@dataclasses.dataclass(frozen=True)
class PartitionRange:
    """The messages of one topic partition from start_offset up to end_offset (exclusive)."""

    partition: int
    start_offset: int
    end_offset: int


def new_consumer(settings: Settings) -> Consumer:
    """Open a consumer of the settings' group that never commits by itself."""
    timeout_ms = max(int(settings.kafka_poll_timeout_s * 1000), 1)
    return Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": settings.kafka_group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "socket.timeout.ms": max(timeout_ms, 10),
            "logger": logger,
        }
    )


def pending_ranges(settings: Settings) -> list[PartitionRange]:
    """Return, per partition with uncommitted messages, the range from the committed to the end offset.

    Raise BrokerUnavailableError when the broker does not respond in time.
    """
    timeout = settings.kafka_poll_timeout_s
    consumer = new_consumer(settings)
    try:
        metadata = consumer.list_topics(settings.kafka_topic, timeout=timeout)
        topic = metadata.topics.get(settings.kafka_topic)
        if topic is None or topic.error is not None:
            logger.info("topic %r does not exist yet; nothing to ingest", settings.kafka_topic)
            return []
        partitions = [TopicPartition(settings.kafka_topic, number) for number in sorted(topic.partitions)]
        committed = consumer.committed(partitions, timeout=timeout)

        ranges = []
        for position in committed:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(settings.kafka_topic, position.partition), timeout=timeout
            )
            start = position.offset if position.offset >= _NO_OFFSET else low
            if high > start:
                ranges.append(PartitionRange(position.partition, start, high))
        return ranges
    except KafkaException as error:
        raise BrokerUnavailableError(
            f"Kafka broker {settings.kafka_bootstrap} did not respond within {timeout} s: {error.args[0].str()}"
        ) from None
    finally:
        consumer.close()


def read_messages(settings: Settings, ranges: list[PartitionRange]) -> tuple[list[Message], dict[int, int]]:
    """Read each range from the group's committed offset, and return the messages and the offsets to commit.

    Messages that arrive in the same fetch beyond end_offset are read too: a
    broker may report an end offset short of its last record batch, and a
    message read once more later is deduplicated anyway. Raise
    BrokerUnavailableError when the ranges are not read within AMPELIOS_KAFKA_RUN_TIMEOUT_S.
    """
    consumer = new_consumer(settings)
    try:
        starts = _committed_starts(consumer, settings, ranges)
        remaining = {r.partition: r.end_offset for r in ranges if starts[r.partition] < r.end_offset}
        if not remaining:
            return [], {}
        consumer.assign([TopicPartition(settings.kafka_topic, p, starts[p]) for p in remaining])

        messages: list[Message] = []
        next_offsets: dict[int, int] = {}
        deadline = time.monotonic() + settings.kafka_run_timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise BrokerUnavailableError(
                    f"partitions {sorted(remaining)} of topic {settings.kafka_topic!r} were not read up to "
                    f"their end offsets within {settings.kafka_run_timeout_s} s; raise "
                    "AMPELIOS_KAFKA_RUN_TIMEOUT_S or check the broker"
                )
            message = consumer.poll(min(settings.kafka_poll_timeout_s, 1.0))
            if message is None:
                continue
            _take(message, messages, next_offsets, remaining)

        # Drain what the last fetches already delivered, without waiting for more.
        while (message := consumer.poll(0.1)) is not None:
            _take(message, messages, next_offsets, {})
        return messages, next_offsets
    except KafkaException as error:
        raise BrokerUnavailableError(f"reading from Kafka failed: {error.args[0].str()}") from None
    finally:
        consumer.close()


def commit_offsets(settings: Settings, next_offsets: dict[int, int]) -> None:
    """Commit the group's offsets synchronously; `next_offsets` maps partition to the next offset to read."""
    if not next_offsets:
        return
    consumer = new_consumer(settings)
    try:
        consumer.commit(
            offsets=[TopicPartition(settings.kafka_topic, p, offset) for p, offset in sorted(next_offsets.items())],
            asynchronous=False,
        )
    finally:
        consumer.close()


def _committed_starts(consumer: Consumer, settings: Settings, ranges: list[PartitionRange]) -> dict[int, int]:
    # A run started from an older sensor tick resumes at the offset the group has committed since.
    partitions = [TopicPartition(settings.kafka_topic, r.partition) for r in ranges]
    committed = {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=settings.kafka_poll_timeout_s)}
    starts = {}
    for r in ranges:
        offset = committed.get(r.partition, -1)
        starts[r.partition] = max(offset, r.start_offset) if offset >= _NO_OFFSET else r.start_offset
    return starts


def _take(message, messages: list[Message], next_offsets: dict[int, int], remaining: dict[int, int]) -> None:
    error = message.error()
    if error is not None:
        if error.code() == KafkaError._PARTITION_EOF:
            return
        raise KafkaException(error)
    partition, offset = message.partition(), message.offset()
    messages.append(Message(partition, offset, message.key(), message.value()))
    next_offsets[partition] = max(next_offsets.get(partition, 0), offset + 1)
    if partition in remaining and offset + 1 >= remaining[partition]:
        del remaining[partition]
