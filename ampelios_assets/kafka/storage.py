"""A source's stored events and journeys for incremental runs, and the dead-letter store.

Events and journeys live in the same Parquet files as the batch assets'
values, so a batch run and an incremental run read and extend one history.
Writes go through fsync and a rename: once a write returns, a crash loses
nothing and readers never see half a file.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from ampelios_assets.kafka.decoding import DEAD_LETTER_SCHEMA, empty_events
from ampelios_assets.parquet_io_manager import asset_path
from ampelios_assets.settings import Settings
from ampelios_assets.stores import open_store
from ampelios_assets.stores.base import NoSegmentsError


def load_events(output_dir: Path, source_id: int) -> pl.DataFrame:
    """Return the source's stored events, or an empty frame when it has none."""
    path = asset_path(output_dir, "raw_events", str(source_id))
    return pl.read_parquet(path) if path.exists() else empty_events()


def load_journeys(output_dir: Path, source_id: int) -> pl.DataFrame | None:
    """Return the source's stored journeys, or None when it has none."""
    path = asset_path(output_dir, "journeys", str(source_id))
    return pl.read_parquet(path) if path.exists() else None


class SourceHistory:
    """A source's stored events and journeys in the configured storage.

    With AMPELIOS_STORAGE=postgres they are the rows the batch assets keep in
    PostgreSQL; otherwise the batch assets' Parquet files.
    """

    def __init__(self, settings: Settings):
        self.output_dir = Path(settings.output_dir)
        self.store = open_store(settings) if settings.storage == "postgres" else None

    def events(self, source_id: int) -> pl.DataFrame:
        if self.store is None:
            return load_events(self.output_dir, source_id)
        return self.store.read_events(source_id)

    def journeys(self, source_id: int) -> pl.DataFrame | None:
        if self.store is None:
            return load_journeys(self.output_dir, source_id)
        try:
            return self.store.read_journeys(source_id)
        except NoSegmentsError:
            return None

    def replace(self, source_id: int, events: pl.DataFrame, journeys: pl.DataFrame) -> None:
        """Store the source's events, then its journeys, durably."""
        if self.store is None:
            write_asset_value(self.output_dir, "raw_events", source_id, events)
            write_asset_value(self.output_dir, "journeys", source_id, journeys)
            return
        self.store.replace_events(source_id, events)
        self.store.replace_journeys(source_id, journeys)


def write_asset_value(output_dir: Path, asset_name: str, source_id: int, frame: pl.DataFrame) -> Path:
    """Replace one asset value of the source durably and return its path."""
    path = asset_path(output_dir, asset_name, str(source_id))
    write_parquet_durably(frame, path)
    return path


def write_parquet_durably(frame: pl.DataFrame, path: Path) -> None:
    """Write through a synced temporary file and a rename, then sync the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    frame.write_parquet(partial)
    with open(partial, "rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _dead_letter_dir(output_dir: Path, topic: str) -> Path:
    return Path(output_dir) / "kafka_dead_letters" / f"topic={topic}"


def write_dead_letters(output_dir: Path, topic: str, dead_letters: pl.DataFrame) -> None:
    """Store one batch of dead letters, one file per partition named by its offsets.

    A batch read again after a crash writes the same file again, and readers
    count each (partition, offset) once.
    """
    for (partition,), rows in dead_letters.group_by("partition"):
        first, last = rows["offset"].min(), rows["offset"].max()
        path = _dead_letter_dir(output_dir, topic) / f"partition={partition}" / f"offsets={first}-{last}.parquet"
        write_parquet_durably(rows, path)


def load_dead_letters(output_dir: Path, topic: str) -> pl.DataFrame:
    """Return every stored dead letter of the topic once, ordered by partition and offset."""
    files = sorted(_dead_letter_dir(output_dir, topic).glob("partition=*/offsets=*.parquet"))
    if not files:
        return pl.DataFrame(schema=DEAD_LETTER_SCHEMA)
    frames = [pl.read_parquet(file).cast(dict(DEAD_LETTER_SCHEMA)) for file in files]
    return pl.concat(frames).unique(["partition", "offset"]).sort("partition", "offset")
