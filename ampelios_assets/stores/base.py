"""The interface every store implements, and the records it returns."""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt

import polars as pl

from ampelios_assets.errors import AmpeliosError


class NoSegmentsError(AmpeliosError):
    """The source has no published segments yet, or no run of the requested id."""

    source_id: int | None = None
    run_id: str | None = None

    def public_message(self) -> str:
        """Return the message without the store's location, for API clients."""
        if self.run_id is not None:
            return f"source_id {self.source_id} has no published run {self.run_id!r}"
        return f"source_id {self.source_id} has no published segments yet"


@dataclasses.dataclass(frozen=True)
class PublishedRun:
    """One run's published result for a source."""

    source_id: int
    run_id: str
    published_at: dt.datetime
    visitor_count: int
    segment_count: int


@dataclasses.dataclass(frozen=True)
class SourceSummary:
    """A source with its latest published run."""

    source_id: int
    last_run_id: str
    last_published_at: dt.datetime
    visitor_count: int


class SegmentStore(abc.ABC):
    """Publishes each run's segments and assignments, and reads them back.

    `publish_run` is atomic: a reader sees the previous run or the new one,
    never a mix. Every run stays readable by its id, so history is a query.

    segments frames have segment_id, size and the six features (the centroid
    in original units); assignments frames have visitor_id, segment_id and
    the six features.
    """

    @abc.abstractmethod
    def publish_run(
        self,
        source_id: int,
        run_id: str,
        segments: pl.DataFrame,
        assignments: pl.DataFrame,
        metadata: dict | None = None,
    ) -> PublishedRun:
        """Store one run's result and make it the source's latest, atomically.

        `metadata` is a JSON-serialisable dict published with the run; the
        fitted model lives under its "model" key.
        """

    @abc.abstractmethod
    def run_metadata(self, source_id: int, run_id: str | None = None) -> dict:
        """Return the metadata published with a run (default: the latest)."""

    @abc.abstractmethod
    def runs(self, source_id: int) -> list[PublishedRun]:
        """Return the source's published runs, oldest first."""

    @abc.abstractmethod
    def sources(self) -> list[SourceSummary]:
        """Return every source with a published run, by source_id."""

    @abc.abstractmethod
    def segments(self, source_id: int, run_id: str | None = None) -> pl.DataFrame:
        """Return the segments of a run (default: the latest); raise NoSegmentsError if none."""

    @abc.abstractmethod
    def assignments(self, source_id: int, run_id: str | None = None) -> pl.DataFrame:
        """Return the assignments of a run (default: the latest); raise NoSegmentsError if none."""

    def latest_run(self, source_id: int) -> PublishedRun | None:
        """Return the source's latest published run, or None."""
        runs = self.runs(source_id)
        return runs[-1] if runs else None

    # Where the store keeps its data, for messages; stores set their own.
    location = "the configured store"

    def _no_segments(self, source_id: int, run_id: str | None) -> NoSegmentsError:
        error = self._no_segments_message(source_id, run_id)
        error.source_id, error.run_id = source_id, run_id
        return error

    def _no_segments_message(self, source_id: int, run_id: str | None) -> NoSegmentsError:
        if run_id is None:
            return NoSegmentsError(
                f"source_id {source_id} has no segments yet in {self.location}; "
                f"run `ampelios run --events PATH --source-id {source_id}` first, "
                "or set AMPELIOS_OUTPUT_DIR or AMPELIOS_STORAGE to where its runs were stored"
            )
        return NoSegmentsError(f"source_id {source_id} has no published run {run_id!r}")
