"""Decode Kafka messages into validated events per source, and dead letters.

A message carries one event, in either of two forms:

- a JSON object with the CSV's fields and the source:
  {"source_id": 1, "timestamp": 1433221332117, "visitorid": 257597, "event": "view",
   "itemid": 355908, "transactionid": null}
  Fields may be numbers or strings; a missing field counts as empty;
- a CSV data line "timestamp,visitorid,event,itemid,transactionid", with the
  message key holding the source_id as decimal text.

Field checks are the CSV's (engine/validation.py), so an event rejected from a
file is rejected from the topic for the same reason. Messages that are not
events at all get their own reasons.
"""

from __future__ import annotations

import dataclasses
import json

import polars as pl

from ampelios_assets.engine.schema import CSV_COLUMNS, EVENTS_SCHEMA
from ampelios_assets.engine.validation import validated_events

# Reasons a message is dead-lettered before its fields are checked.
MESSAGE_REASONS = ("not_json", "not_an_object", "missing_source_id", "invalid_source_id")

DEAD_LETTER_SCHEMA = pl.Schema(
    {
        "partition": pl.Int32,
        "offset": pl.Int64,
        "reason": pl.String,
        "key": pl.String,
        "value": pl.String,
    }
)


@dataclasses.dataclass(frozen=True)
class Message:
    """The parts of a Kafka message the decoder reads."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclasses.dataclass(frozen=True)
class DecodedBatch:
    """Valid events by source_id, and every message that is not one, with its reason."""

    events_by_source: dict[int, pl.DataFrame]
    dead_letters: pl.DataFrame

    def dead_letters_by_reason(self) -> dict[str, int]:
        return dict(self.dead_letters.group_by("reason").len().sort("reason").iter_rows())


def decoded_messages(messages: list[Message], earliest_tstamp_ms: int, latest_tstamp_ms: int) -> DecodedBatch:
    """Split messages into validated, deduplicated events per source and dead letters."""
    rows: dict[int, list[tuple]] = {}
    origins: dict[int, list[Message]] = {}
    dead: list[tuple] = []
    for message in messages:
        parsed = _parsed_message(message)
        if isinstance(parsed, str):
            dead.append(_dead_letter(message, parsed))
            continue
        source_id, fields = parsed
        rows.setdefault(source_id, []).append(fields)
        origins.setdefault(source_id, []).append(message)

    events_by_source = {}
    for source_id, source_rows in rows.items():
        raw = pl.DataFrame(source_rows, schema={column: pl.String for column in CSV_COLUMNS}, orient="row")
        validation = validated_events(raw, earliest_tstamp_ms, latest_tstamp_ms)
        events_by_source[source_id] = validation.events
        for line_number, reason in validation.rejected.select("line_number", "reason").iter_rows():
            # validated_events numbers rows as file lines: the first row is line 2.
            dead.append(_dead_letter(origins[source_id][line_number - 2], reason))

    dead_letters = pl.DataFrame(dead, schema=DEAD_LETTER_SCHEMA, orient="row").sort("partition", "offset")
    return DecodedBatch(events_by_source=events_by_source, dead_letters=dead_letters)


def empty_events() -> pl.DataFrame:
    """Return an events frame with no rows."""
    return pl.DataFrame(schema=EVENTS_SCHEMA)


def _parsed_message(message: Message) -> tuple[int, tuple] | str:
    # Return (source_id, the five fields as text) or the reason the message is dead.
    text = (message.value or b"").decode("utf-8", errors="replace").strip()
    if text.startswith("{") or text.startswith("["):
        return _parsed_json(text)
    fields = text.split(",")
    if len(fields) != len(CSV_COLUMNS) or message.key is None:
        return "not_json"
    source_id = _source_id(message.key.decode("utf-8", errors="replace"))
    if source_id is None:
        return "invalid_source_id"
    return source_id, tuple(fields)


def _parsed_json(text: str) -> tuple[int, tuple] | str:
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return "not_json"
    if not isinstance(document, dict):
        return "not_an_object"
    if document.get("source_id") is None:
        return "missing_source_id"
    source_id = _source_id(document["source_id"])
    if source_id is None:
        return "invalid_source_id"
    return source_id, tuple(_field_text(document.get(column)) for column in CSV_COLUMNS)


def _source_id(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
        return number if number >= 1 else None
    return None


def _field_text(value) -> str | None:
    # The CSV validation reads text, so numbers are written as a CSV would hold them.
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _dead_letter(message: Message, reason: str) -> tuple:
    key = None if message.key is None else message.key.decode("utf-8", errors="replace")
    value = None if message.value is None else message.value.decode("utf-8", errors="replace")
    return (message.partition, message.offset, reason, key, value)
