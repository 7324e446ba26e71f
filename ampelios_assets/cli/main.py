"""Parse `ampelios` arguments and dispatch to one subcommand."""

from __future__ import annotations

import argparse
import logging
import sys

from ampelios_assets.errors import AmpeliosError

_EXIT_FAILURE = 1
_EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    # Imported here because the subcommands read AMPELIOS_* settings when
    # they load, and main() reports an invalid setting as a one-line error.
    from ampelios_assets.cli import (
        add_source_command,
        export_command,
        generate_command,
        history_commands,
        produce_command,
        report_command,
        run_command,
        serve_command,
    )

    parser = argparse.ArgumentParser(
        prog="ampelios", description="Segment e-commerce visitors by their browsing behaviour."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generate_command.add_parser(commands)
    run_command.add_parser(commands)
    export_command.add_parser(commands)
    add_source_command.add_parser(commands)
    serve_command.add_parser(commands)
    report_command.add_parser(commands)
    history_commands.add_parsers(commands)
    produce_command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; errors go to stderr with a non-zero exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        parser = build_parser()
    except AmpeliosError as error:
        print(f"ampelios: error: {error}", file=sys.stderr)
        return _EXIT_FAILURE
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except AmpeliosError as error:
        print(f"ampelios {args.command}: error: {error}", file=sys.stderr)
        return _EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"ampelios {args.command}: interrupted", file=sys.stderr)
        return _EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
