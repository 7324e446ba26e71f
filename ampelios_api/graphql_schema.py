"""The GraphQL schema: thin resolvers over AmpeliosService, and errors with a stable code."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from ampelios_api.auth import require_token
from ampelios_api.errors import ApiError
from ampelios_api.history_fields import HistoryQuery
from ampelios_api.graphql_types import Centroid, MemberConnection, Run, Segment, Source
from ampelios_api.service import AmpeliosService
from ampelios_assets.engine.schema import FEATURE_NAMES

logger = logging.getLogger(__name__)


async def _call(info: strawberry.Info, write: bool, method: str, *args: Any) -> Any:
    """Check the token, then run a blocking service method in a worker thread."""
    require_token(info.context["request"], info.context["service"].settings, write=write)
    return await asyncio.to_thread(getattr(info.context["service"], method), *args)


@strawberry.type
class Query(HistoryQuery):
    @strawberry.field(description="A run's status, current step, counts so far and error.")
    async def run(self, info: strawberry.Info, id: strawberry.ID) -> Run:
        return Run.from_status(await _call(info, False, "run", str(id)))

    @strawberry.field(description="The source's runs, newest first.")
    async def runs(self, info: strawberry.Info, source_id: int) -> list[Run]:
        return [Run.from_status(status) for status in await _call(info, False, "runs", source_id)]

    @strawberry.field(description="The segments of the source's latest run; empty when it has none yet.")
    async def segments(self, info: strawberry.Info, source_id: int) -> list[Segment]:
        frame = await _call(info, False, "segments", source_id)
        return [
            Segment(
                id=row["segment_id"],
                size=row["size"],
                centroid=Centroid(**{name: row[name] for name in FEATURE_NAMES}),
            )
            for row in frame.iter_rows(named=True)
        ]

    @strawberry.field(description="Visitors of one segment with their features, by visitor id, `first` at a time.")
    async def members(
        self,
        info: strawberry.Info,
        source_id: int,
        segment_id: int,
        first: int = 100,
        after: str | None = None,
    ) -> MemberConnection:
        page = await _call(info, False, "member_page", source_id, segment_id, first, after)
        return MemberConnection.from_page(page)

    @strawberry.field(description="Known sources with their latest published run and visitor count.")
    async def sources(self, info: strawberry.Info) -> list[Source]:
        return [Source.from_overview(overview) for overview in await _call(info, False, "sources")]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register the source if it is new and start a run of the four assets; returns at once."
    )
    async def trigger(
        self,
        info: strawberry.Info,
        source_id: int,
        events_path: str,
        cluster_count: int | None = None,
        session_gap_minutes: int | None = None,
        max_session_minutes: int | None = None,
        is_initial_flow: bool = True,
    ) -> Run:
        fields = {
            "source_id": source_id,
            "events_path": events_path,
            "cluster_count": cluster_count,
            "session_gap_minutes": session_gap_minutes,
            "max_session_minutes": max_session_minutes,
            "is_initial_flow": is_initial_flow,
        }
        given = {name: value for name, value in fields.items() if value is not None}
        return Run.from_status(await _call(info, True, "trigger", given))


class AmpeliosSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        """Log a caller's mistakes in one line each, and unexpected errors with their traceback."""
        for error in errors:
            if isinstance(error.original_error, ApiError) or error.original_error is None:
                logger.info("GraphQL request rejected: %s", error.message)
            else:
                logger.error("GraphQL resolver failed", exc_info=error.original_error)


schema = AmpeliosSchema(query=Query, mutation=Mutation)


class AmpeliosGraphQL(GraphQL):
    """The Strawberry ASGI app, with the service in the context and a code on every error."""

    def __init__(self, service: AmpeliosService):
        super().__init__(schema, graphql_ide="graphiql" if service.settings.dev_mode else None)
        self.service = service

    async def get_context(self, request, response) -> dict[str, Any]:
        return {"request": request, "response": response, "service": self.service}

    async def process_result(self, request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        for error, formatted in zip(result.errors or [], response.get("errors", [])):
            if isinstance(error.original_error, ApiError):
                continue
            extensions = formatted.setdefault("extensions", {})
            if error.original_error is None or isinstance(error.original_error, GraphQLError):
                # Parse, validation and coercion errors: unknown fields, wrong types, missing arguments.
                extensions["code"] = "UNKNOWN_FIELD" if _names_unknown_field(error.message) else "INVALID_ARGUMENT"
            else:
                extensions["code"] = "INTERNAL_ERROR"
                formatted["message"] = "internal error; the server log has the details"
        return response


def _names_unknown_field(message: str) -> bool:
    """Tell whether a graphql-core validation message is about a field or argument the schema lacks."""
    return message.startswith(("Unknown argument", "Cannot query field")) or "is not defined by type" in message
