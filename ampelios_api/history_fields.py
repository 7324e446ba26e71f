"""GraphQL fields for segment history: `transitions(sourceId, fromRun, toRun)` and `visitor(sourceId, visitorId)`.

`HistoryQuery` is a Strawberry type meant to be merged into the API's Query
(for example with `strawberry.tools.merge_types`). The resolvers read the
store from `info.context["store"]` when the context provides one, else open
the store the settings select. Failures are GraphQL errors with a `code`
extension: NOT_FOUND for an unknown source or run, INVALID_ARGUMENT otherwise.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from ampelios_api.auth import require_token
from ampelios_api.errors import ApiError
from ampelios_assets.errors import AmpeliosError
from ampelios_assets.history import run_transitions, visitor_history
from ampelios_assets.settings import Settings
from ampelios_assets.stores import SegmentStore, open_store
from ampelios_assets.stores.base import NoSegmentsError


@strawberry.type
class SegmentTransition:
    """Visitors who were in one segment in from_run and in another in to_run; null means absent from that run."""

    from_segment_id: int | None
    from_label: str | None
    to_segment_id: int | None
    to_label: str | None
    visitors: int


@strawberry.type
class SegmentTransitions:
    """The transitions between two runs of a source."""

    source_id: int
    from_run: str
    to_run: str
    transitions: list[SegmentTransition]


@strawberry.type
class VisitorRun:
    """A visitor's segment in one run."""

    run_id: str
    published_at: dt.datetime
    segment_id: int
    label: str | None


@strawberry.type
class Visitor:
    """One visitor of a source and their segment in every run, oldest first."""

    source_id: int
    visitor_id: int
    history: list[VisitorRun]


def _store(info: Info) -> SegmentStore:
    context = info.context
    if isinstance(context, dict) and context.get("store") is not None:
        return context["store"]
    if isinstance(context, dict) and context.get("service") is not None:
        # Inside the API: reads need the token when AMPELIOS_API_TOKEN_FOR_READS is on.
        settings = context["service"].settings
        require_token(context["request"], settings, write=False)
        return open_store(settings)
    return open_store(Settings.from_env())


def _graphql_error(error: AmpeliosError) -> ApiError:
    if isinstance(error, NoSegmentsError):
        return ApiError("NOT_FOUND", error.public_message())
    return ApiError("INVALID_ARGUMENT", str(error))


@strawberry.type
class HistoryQuery:
    @strawberry.field(description="Visitor counts between the segments of two runs (default: the latest two).")
    def transitions(
        self, info: Info, source_id: int, from_run: str | None = None, to_run: str | None = None
    ) -> SegmentTransitions:
        try:
            frame = run_transitions(_store(info), source_id, from_run, to_run)
        except AmpeliosError as error:
            raise _graphql_error(error) from None
        rows = frame.to_dicts()
        return SegmentTransitions(
            source_id=source_id,
            from_run=frame["from_run"][0] if rows else from_run or "",
            to_run=frame["to_run"][0] if rows else to_run or "",
            transitions=[
                SegmentTransition(**{key: row[key] for key in ("from_segment_id", "from_label", "to_segment_id", "to_label", "visitors")})
                for row in rows
            ],
        )

    @strawberry.field(description="One visitor's segment in every run of the source.")
    def visitor(self, info: Info, source_id: int, visitor_id: int) -> Visitor:
        try:
            frame = visitor_history(_store(info), source_id, visitor_id)
        except AmpeliosError as error:
            raise _graphql_error(error) from None
        return Visitor(
            source_id=source_id,
            visitor_id=visitor_id,
            history=[VisitorRun(**row) for row in frame.to_dicts()],
        )
