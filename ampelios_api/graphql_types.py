"""The GraphQL object types, and their construction from service records."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from ampelios_api.service import MemberPage, SourceOverview, encode_cursor
from ampelios_assets.run_status import RunStatus


@strawberry.enum(description="Where a run is: queued, started, success or failure.")
class RunState(Enum):
    QUEUED = "queued"
    STARTED = "started"
    SUCCESS = "success"
    FAILURE = "failure"


@strawberry.type(description="Counts recorded by the steps finished so far; null until a step records its count.")
class RunCounts:
    rows_read: int | None = None
    events_kept: int | None = None
    rejected: int | None = None
    duplicates: int | None = None
    sessions: int | None = None
    visitors: int | None = None
    segments: int | None = None


@strawberry.type(description="A segmentation run of one source on the Dagster instance.")
class Run:
    id: strawberry.ID
    source_id: int | None
    status: RunState
    current_step: str | None = strawberry.field(description="The asset being computed while the run is started.")
    counts: RunCounts
    error: str | None = strawberry.field(description="Why the run failed; null unless the status is FAILURE.")
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def from_status(cls, status: RunStatus) -> "Run":
        return cls(
            id=strawberry.ID(status.run_id),
            source_id=status.source_id,
            status=RunState(status.status),
            current_step=status.current_step,
            counts=RunCounts(**status.counts),
            error=status.error,
            started_at=status.started_at,
            finished_at=status.finished_at,
        )


@strawberry.type(description="A segment's centroid: the mean of each feature over its members.")
class Centroid:
    views: float
    addtocarts: float
    transactions: float
    sessions: float
    views_per_session: float
    purchase_ratio: float


@strawberry.type
class Segment:
    id: int
    size: int
    centroid: Centroid


@strawberry.type(description="A visitor's six features, the coordinates it was clustered on.")
class VisitorFeatures:
    views: int
    addtocarts: int
    transactions: int
    sessions: int
    views_per_session: float
    purchase_ratio: float


@strawberry.type
class Member:
    visitor_id: int
    segment_id: int
    features: VisitorFeatures


@strawberry.type
class MemberEdge:
    cursor: str
    node: Member


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A page of a segment's members ordered by visitor id.")
class MemberConnection:
    total_count: int
    edges: list[MemberEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: MemberPage) -> "MemberConnection":
        edges = [
            MemberEdge(
                cursor=encode_cursor(row["visitor_id"]),
                node=Member(
                    visitor_id=row["visitor_id"],
                    segment_id=row["segment_id"],
                    features=VisitorFeatures(
                        views=row["views"],
                        addtocarts=row["addtocarts"],
                        transactions=row["transactions"],
                        sessions=row["sessions"],
                        views_per_session=row["views_per_session"],
                        purchase_ratio=row["purchase_ratio"],
                    ),
                ),
            )
            for row in page.members.iter_rows(named=True)
        ]
        end_cursor = edges[-1].cursor if edges else None
        return cls(
            total_count=page.total_count,
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end_cursor),
        )


@strawberry.type(description="A source: a partition of the instance, with its latest published run if any.")
class Source:
    id: int
    last_run_id: str | None
    last_run_at: dt.datetime | None
    visitor_count: int | None

    @classmethod
    def from_overview(cls, overview: SourceOverview) -> "Source":
        return cls(
            id=overview.source_id,
            last_run_id=overview.last_run_id,
            last_run_at=overview.last_run_at,
            visitor_count=overview.visitor_count,
        )
