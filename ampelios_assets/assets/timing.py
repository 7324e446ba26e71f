"""Measure the seconds an engine step takes, for asset metadata."""

import contextlib
import time
from collections.abc import Iterator


@contextlib.contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """Yield a dict whose "seconds" entry is set when the block ends."""
    timing: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield timing
    finally:
        timing["seconds"] = round(time.perf_counter() - start, 3)
