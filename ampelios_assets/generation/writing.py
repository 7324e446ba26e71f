"""Write generated events and planted groups as CSV files."""

import gzip
import logging
import os
from pathlib import Path

import polars as pl

from ampelios_assets.engine.schema import CSV_COLUMNS as EVENT_COLUMNS

logger = logging.getLogger(__name__)

GROUP_COLUMNS = ("visitorid", "group")
GZIP_COMPRESS_LEVEL = 6  # zlib's default level. gzip.open defaults to 9, the slowest.


def write_events(events: pl.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write events as a Retailrocket CSV with a header row and create parent directories.

    The columns come out in Retailrocket order, and a null transactionid is an empty
    field. The file is gzip-compressed when path ends with ".gz".
    Raises ValueError when a Retailrocket column is missing.
    """
    _write_csv(events, path, EVENT_COLUMNS)
    logger.info("wrote %d event rows to %s", events.height, path)


def write_groups(groups: pl.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write the planted truth (`visitorid`, `group`) as CSV and create parent directories.

    The file is plain CSV unless path ends with ".gz", as for `write_events`.
    Raises ValueError when a column is missing.
    """
    _write_csv(groups, path, GROUP_COLUMNS)
    logger.info("wrote the groups of %d visitors to %s", groups.height, path)


def groups_path_for(events_path: str | os.PathLike[str]) -> Path:
    """Return the truth file path that goes with an events file.

    ".gz" and then ".csv" are removed from the end of the name before ".groups.csv"
    is appended: out.csv and out.csv.gz both give out.groups.csv in the same folder.
    """
    path = Path(events_path)
    stem = path.name.removesuffix(".gz").removesuffix(".csv")
    return path.with_name(f"{stem}.groups.csv")


def _write_csv(
    frame: pl.DataFrame, path: str | os.PathLike[str], columns: tuple[str, ...]
) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"cannot write {path}: missing columns {missing}; expected the columns {list(columns)}"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    selected = frame.select(columns)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb", compresslevel=GZIP_COMPRESS_LEVEL) as compressed:
            selected.write_csv(compressed)
    else:
        selected.write_csv(path)
