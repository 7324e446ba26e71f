"""The API's operations, shared by the GraphQL resolvers and the REST routes.

Each method validates its input, then reads the store or the Dagster
instance, or starts a run. Methods are blocking, so async handlers call them
through a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
from typing import Any

import polars as pl

from ampelios_api.errors import ApiError
from ampelios_api.run_launcher import RunLauncher
from ampelios_api.trigger_input import run_request
from ampelios_assets.engine.schema import FEATURE_NAMES
from ampelios_assets.partitions import source_partitions
from ampelios_assets.run_status import RunStatus, source_run_ids
from ampelios_assets.runs import dagster_instance
from ampelios_assets.settings import Settings
from ampelios_assets.stores import open_store
from ampelios_assets.stores.base import NoSegmentsError

MAX_PAGE_SIZE = 1000
_CURSOR_PREFIX = "visitor:"


@dataclasses.dataclass(frozen=True)
class SourceOverview:
    """A known source: a partition of the instance, with its latest published run if any."""

    source_id: int
    last_run_id: str | None
    last_run_at: dt.datetime | None
    visitor_count: int | None


@dataclasses.dataclass(frozen=True)
class MemberPage:
    """One page of a segment's members, ordered by visitor_id."""

    members: pl.DataFrame
    total_count: int
    has_next_page: bool


class AmpeliosService:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.launcher = RunLauncher(settings)

    def trigger(self, fields: dict[str, Any]) -> RunStatus:
        """Validate a trigger's fields, start its run and return the run's first status."""
        request = run_request(fields, self.settings)
        run_id = self.launcher.launch(request)
        return self.run(run_id)

    def run(self, run_id: str) -> RunStatus:
        status = self.launcher.status(run_id)
        if status is None:
            raise ApiError("NOT_FOUND", f"run {run_id!r} not found on the Dagster instance in {self.settings.dagster_home}")
        return status

    def runs(self, source_id: int) -> list[RunStatus]:
        """Return the source's runs, newest first."""
        _check_source_id(source_id)
        with dagster_instance(self.settings) as instance:
            run_ids = source_run_ids(instance, source_id)
        return [self.run(run_id) for run_id in run_ids]

    def segments(self, source_id: int) -> pl.DataFrame:
        """Return the latest run's segments ordered by id; empty when the source has none yet."""
        _check_source_id(source_id)
        try:
            return open_store(self.settings).segments(source_id).sort("segment_id")
        except NoSegmentsError:
            return pl.DataFrame(schema={"segment_id": pl.Int32, "size": pl.Int64, **{n: pl.Float64 for n in FEATURE_NAMES}})

    def members(self, source_id: int, segment_id: int | None = None) -> pl.DataFrame:
        """Return visitor_id, segment_id and the features of the latest run's visitors, by visitor_id."""
        _check_source_id(source_id)
        try:
            assignments = open_store(self.settings).assignments(source_id)
        except NoSegmentsError:
            return pl.DataFrame(schema={"visitor_id": pl.Int64, "segment_id": pl.Int32})
        if segment_id is not None:
            in_segment = assignments.filter(pl.col("segment_id") == segment_id)
            if in_segment.is_empty() and not assignments.is_empty():
                raise ApiError("NOT_FOUND", f"source_id {source_id} has no segment {segment_id}; list them with the segments query")
            assignments = in_segment
        return assignments.sort("visitor_id")

    def member_page(self, source_id: int, segment_id: int, first: int, after: str | None) -> MemberPage:
        """Return up to `first` members of the segment whose visitor_id follows the cursor `after`."""
        if not 1 <= first <= MAX_PAGE_SIZE:
            raise ApiError("INVALID_ARGUMENT", f"first must be between 1 and {MAX_PAGE_SIZE}, got {first}")
        after_visitor_id = decode_cursor(after) if after is not None else None

        # NOTE: every page reads the run's whole assignments table through the store interface.
        members = self.members(source_id, segment_id)
        total_count = members.height
        if after_visitor_id is not None:
            members = members.filter(pl.col("visitor_id") > after_visitor_id)
        return MemberPage(members=members.head(first), total_count=total_count, has_next_page=members.height > first)

    def sources(self) -> list[SourceOverview]:
        """Return every source that is a partition or has published results, by source_id."""
        published = {summary.source_id: summary for summary in open_store(self.settings).sources()}
        with dagster_instance(self.settings) as instance:
            partition_keys = instance.get_dynamic_partitions(source_partitions.name)
        source_ids = set(published) | {int(key) for key in partition_keys if key.isdigit()}

        overviews = []
        for source_id in sorted(source_ids):
            summary = published.get(source_id)
            overviews.append(
                SourceOverview(
                    source_id=source_id,
                    last_run_id=summary.last_run_id if summary else None,
                    last_run_at=summary.last_published_at if summary else None,
                    visitor_count=summary.visitor_count if summary else None,
                )
            )
        return overviews


def encode_cursor(visitor_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{visitor_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """Return the visitor_id in a cursor made by encode_cursor; raise INVALID_ARGUMENT otherwise."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not number.isdigit():
        raise ApiError("INVALID_ARGUMENT", f"after {cursor!r} is not a cursor this API returned; pass a page's endCursor")
    return int(number)


def _check_source_id(source_id: int) -> None:
    if source_id < 1:
        raise ApiError("INVALID_ARGUMENT", f"source_id must be a positive integer, got {source_id}")
