"""The Starlette app: GraphQL at /graphql and the REST routes, behind the body size limit."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route

from ampelios_api.body_limit import BodySizeLimit
from ampelios_api.errors import error_response
from ampelios_api.graphql_schema import AmpeliosGraphQL
from ampelios_api.rest import rest_routes
from ampelios_api.service import AmpeliosService
from ampelios_assets.settings import Settings

logger = logging.getLogger(__name__)


def _log_to_stderr_unless_configured() -> None:
    # Under plain uvicorn only uvicorn's own loggers have handlers, so the
    # app's run starts, failures and rejections would be lost.
    if logging.getLogger().handlers:
        return
    for name in ("ampelios_api", "ampelios_assets"):
        package_logger = logging.getLogger(name)
        if not package_logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            package_logger.addHandler(handler)
            package_logger.setLevel(logging.INFO)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app for `settings` (default: read from the environment)."""
    _log_to_stderr_unless_configured()
    settings = settings or Settings.from_env()
    service = AmpeliosService(settings)
    graphql = AmpeliosGraphQL(service)
    routes = [
        *rest_routes(service),
        Route("/graphql", graphql, methods=["GET", "POST"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await asyncio.to_thread(service.launcher.fail_unfinished_runs)

    app = Starlette(
        routes=routes,
        middleware=[Middleware(BodySizeLimit, max_body_bytes=settings.max_body_bytes)],
        lifespan=lifespan,
        exception_handlers={HTTPException: _routing_error},
    )
    app.state.service = service
    logger.info(
        "API ready: data directory %s, Dagster instance %s, token %s for writes%s, GraphiQL %s",
        settings.data_dir,
        settings.dagster_home,
        "required" if settings.api_token else "not required",
        " and reads" if settings.api_token and settings.api_token_for_reads else "",
        "on" if settings.dev_mode else "off",
    )
    return app


async def _routing_error(request: Request, error: HTTPException):
    """Return an unknown path or a wrong method in the REST error envelope."""
    if error.status_code == 405:
        return error_response("METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.url.path}")
    return error_response("NOT_FOUND", f"no route {request.url.path}; the API serves /graphql, /trigger, /view and /health")
