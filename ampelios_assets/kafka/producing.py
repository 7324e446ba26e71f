"""Send an events file to the Kafka topic, one JSON message per event, for trying the sensor."""

from __future__ import annotations

import json

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from ampelios_assets.engine.reading import read_event_csv
from ampelios_assets.engine.schema import CSV_COLUMNS
from ampelios_assets.errors import AmpeliosError
from ampelios_assets.settings import Settings

# Partitions of a topic this command creates; the sensor reads any number.
_NEW_TOPIC_PARTITIONS = 2


def produce_events_file(settings: Settings, events_path, source_id: int) -> int:
    """Send every row of the events file as a JSON message with `source_id`; return the count.

    Rows go as written, bad ones included, so the ingest run validates them
    exactly as it would validate a real producer's messages.
    """
    rows = read_event_csv(events_path).select(CSV_COLUMNS)
    _create_topic_if_missing(settings)

    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 50})
    failures: list[str] = []

    def on_delivery(error, _message) -> None:
        if error is not None:
            failures.append(str(error))

    for row in rows.iter_rows(named=True):
        producer.produce(settings.kafka_topic, json.dumps({"source_id": source_id, **row}), on_delivery=on_delivery)
        producer.poll(0)
    unsent = producer.flush(settings.kafka_poll_timeout_s * 6)
    if unsent or failures:
        raise AmpeliosError(
            f"{unsent + len(failures)} of {rows.height} messages were not delivered to "
            f"{settings.kafka_bootstrap} ({failures[0] if failures else 'timed out'}); "
            "check that the broker runs and AMPELIOS_KAFKA_BOOTSTRAP points to it"
        )
    return rows.height


def _create_topic_if_missing(settings: Settings) -> None:
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    try:
        topics = admin.list_topics(timeout=settings.kafka_poll_timeout_s).topics
    except KafkaException as error:
        raise AmpeliosError(
            f"Kafka broker {settings.kafka_bootstrap} did not respond ({error}); "
            "start it or set AMPELIOS_KAFKA_BOOTSTRAP"
        ) from None
    if settings.kafka_topic in topics:
        return
    new_topic = NewTopic(settings.kafka_topic, num_partitions=_NEW_TOPIC_PARTITIONS, replication_factor=1)
    for future in admin.create_topics([new_topic]).values():
        future.result(timeout=settings.kafka_poll_timeout_s * 6)
