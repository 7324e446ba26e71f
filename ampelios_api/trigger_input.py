"""Validate a trigger's fields once, at the edge, and turn them into a RunRequest.

REST bodies and GraphQL arguments both come through `run_request`, so both
interfaces accept and reject exactly the same values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ampelios_api.errors import ApiError
from ampelios_assets.runs import CLUSTER_COUNT_RANGE, SESSION_GAP_MINUTES_RANGE, SOURCE_ID_RANGE, RunRequest
from ampelios_assets.settings import Settings

# A single segment does not separate visitors, so the API requires at least
# two. `ampelios run` still allows 1 for experiments.
API_CLUSTER_COUNT_RANGE = (2, CLUSTER_COUNT_RANGE[1])
# A week: a longer gap would merge a visitor's whole history into one session.
MAX_SESSION_GAP_MINUTES = SESSION_GAP_MINUTES_RANGE[1]

TRIGGER_FIELDS = (
    "source_id",
    "events_path",
    "cluster_count",
    "session_gap_minutes",
    "max_session_minutes",
    "is_initial_flow",
)


def run_request(fields: dict[str, Any], settings: Settings) -> RunRequest:
    """Return the RunRequest for a trigger's fields; raise ApiError listing every invalid one."""
    unknown = sorted(set(fields) - set(TRIGGER_FIELDS))
    if unknown:
        raise ApiError(
            "UNKNOWN_FIELD",
            f"unknown field(s) {', '.join(unknown)}; accepted fields are {', '.join(TRIGGER_FIELDS)}",
        )

    problems = []
    source_id = _integer(fields, "source_id", None, *SOURCE_ID_RANGE, problems)
    low, high = API_CLUSTER_COUNT_RANGE
    cluster_count = _integer(fields, "cluster_count", settings.cluster_count, low, high, problems)
    session_gap_minutes = _integer(
        fields, "session_gap_minutes", settings.session_gap_minutes, 1, MAX_SESSION_GAP_MINUTES, problems
    )
    max_session_minutes = _integer(fields, "max_session_minutes", settings.max_session_minutes, 0, None, problems)
    is_initial_flow = fields.get("is_initial_flow", True)
    if not isinstance(is_initial_flow, bool):
        problems.append(f"is_initial_flow must be true or false, got {is_initial_flow!r}")
    events_path = fields.get("events_path")
    if not isinstance(events_path, str) or not events_path.strip():
        problems.append(f"events_path must be a non-empty string, got {events_path!r}")
    if problems:
        raise ApiError("INVALID_ARGUMENT", "; ".join(problems))

    return RunRequest(
        source_id=source_id,
        events_path=events_file(events_path, settings.data_dir),
        cluster_count=cluster_count,
        session_gap_minutes=session_gap_minutes,
        max_session_minutes=max_session_minutes,
        is_initial_flow=is_initial_flow,
    )


def events_file(events_path: str, data_dir: Path) -> Path:
    """Resolve `events_path` and return it if it is a file inside `data_dir`.

    A relative path resolves from the server's working directory, as every
    path setting does. Resolving follows symbolic links and removes `..`, so
    a link or `..` leading out of the data directory is rejected like an
    absolute path elsewhere. Containment is checked before existence, so a
    caller cannot probe for files outside the data directory.
    """
    resolved = Path(events_path).expanduser().resolve()
    data_dir = data_dir.resolve()
    if not resolved.is_relative_to(data_dir):
        raise ApiError(
            "PATH_OUTSIDE_DATA_DIR",
            f"events_path {events_path!r} is outside the data directory {data_dir}; "
            "place the file there or set AMPELIOS_DATA_DIR",
        )
    if not resolved.is_file():
        raise ApiError("NOT_FOUND", f"events file {events_path!r} not found in the data directory {data_dir}")
    # NOTE: the file is opened later by the run; a link swapped in between this check and the read is not caught.
    return resolved


def _integer(fields, name, default, minimum, maximum, problems) -> int | None:
    value = fields.get(name, default)
    if value is None:
        problems.append(f"{name} is required")
        return None
    # JSON true is a Python bool, which is an int subclass; it is not a count.
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{name} must be an integer, got {value!r}")
        return None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        problems.append(f"{name} must be {bounds}, got {value}")
        return None
    return value
