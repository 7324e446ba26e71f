"""The REST routes users of the first prototype call: POST /trigger, GET /view, GET /health."""

from __future__ import annotations

import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ampelios_api.auth import require_token
from ampelios_assets.runs import SOURCE_ID_RANGE
from ampelios_api.errors import ApiError, error_response
from ampelios_api.service import AmpeliosService
from ampelios_assets.engine.schema import FEATURE_NAMES

logger = logging.getLogger(__name__)

_VIEW_PARAMETERS = ("source_id", "verbose")


def rest_routes(service: AmpeliosService) -> list[Route]:
    async def trigger(request: Request) -> JSONResponse:
        require_token(request, service.settings, write=True)
        fields = await _json_object(request)
        status = await run_in_threadpool(service.trigger, fields)
        return JSONResponse({"run_id": status.run_id, "status": status.status}, status_code=202)

    async def view(request: Request) -> JSONResponse:
        require_token(request, service.settings, write=False)
        source_id, verbose = _view_parameters(request)
        segments = await run_in_threadpool(service.segments, source_id)
        members = await run_in_threadpool(service.members, source_id) if verbose else None
        return JSONResponse([_view_record(row, members) for row in segments.iter_rows(named=True)])

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return [
        Route("/trigger", _with_error_envelope(trigger), methods=["POST"]),
        Route("/view", _with_error_envelope(view), methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]


def _with_error_envelope(handler):
    async def handle(request: Request) -> JSONResponse:
        try:
            return await handler(request)
        except ApiError as error:
            logger.info("%s %s rejected: %s %s", request.method, request.url.path, error.code, error.message)
            headers = {"WWW-Authenticate": "Bearer"} if error.code == "UNAUTHENTICATED" else None
            return error_response(error.code, error.message, headers)
        except Exception:
            logger.exception("%s %s failed", request.method, request.url.path)
            return error_response("INTERNAL_ERROR", "internal error; the server log has the details")

    return handle


async def _json_object(request: Request) -> dict:
    body = await request.body()
    try:
        fields = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError("INVALID_ARGUMENT", "request body is not valid JSON; send a JSON object") from None
    if not isinstance(fields, dict):
        raise ApiError("INVALID_ARGUMENT", f"request body must be a JSON object, got {type(fields).__name__}")
    return fields


def _view_parameters(request: Request) -> tuple[int, bool]:
    unknown = sorted(set(request.query_params) - set(_VIEW_PARAMETERS))
    if unknown:
        raise ApiError(
            "UNKNOWN_FIELD",
            f"unknown query parameter(s) {', '.join(unknown)}; accepted are {', '.join(_VIEW_PARAMETERS)}",
        )
    text = request.query_params.get("source_id")
    if text is None:
        raise ApiError("INVALID_ARGUMENT", "source_id is required, as in /view?source_id=1")
    low, high = SOURCE_ID_RANGE
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError("INVALID_ARGUMENT", f"source_id must be an integer between {low} and {high}, got {text!r}")
    verbose = request.query_params.get("verbose", "false").lower()
    if verbose not in ("true", "false"):
        raise ApiError("INVALID_ARGUMENT", f"verbose must be true or false, got {verbose!r}")
    return int(text), verbose == "true"


def _view_record(segment: dict, members) -> dict:
    """Return one segment as the prototype did: users is a count, or the sorted visitor ids when verbose."""
    if members is None:
        users = segment["size"]
    else:
        in_segment = members.filter(members["segment_id"] == segment["segment_id"])
        users = in_segment["visitor_id"].sort().to_list()
    return {
        "id": segment["segment_id"],
        "users": users,
        "centroid": [segment[name] for name in FEATURE_NAMES],
    }
