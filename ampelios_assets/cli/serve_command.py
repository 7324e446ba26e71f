"""`ampelios serve`: run the HTTP API (GraphQL and REST) with uvicorn."""

from __future__ import annotations

import argparse
import logging

from ampelios_assets.cli.arguments import positive_int

DEFAULT_PORT = 1032


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve the GraphQL and REST API",
        description="Serve GraphQL at /graphql and the REST routes /trigger, /view and /health. "
        "Runs start on the Dagster instance in DAGSTER_HOME.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=positive_int, default=DEFAULT_PORT, help=f"TCP port to listen on (default {DEFAULT_PORT})"
    )
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ampelios_api.app import create_app

    logging.getLogger("ampelios_api").setLevel(logging.INFO)
    logging.getLogger("ampelios_assets").setLevel(logging.INFO)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")
    return 0
