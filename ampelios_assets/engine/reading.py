"""Read a Retailrocket-format events CSV (optionally gzip-compressed) as text columns."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ampelios_assets.engine.schema import CSV_COLUMNS
from ampelios_assets.errors import EventFileError


def read_event_csv(path: str | Path) -> pl.DataFrame:
    """Read every column as text, so that validation reports each bad value as written.

    Columns beyond the five of the schema are kept; validation ignores them.
    Gzip-compressed files are recognised by their content, whatever their name.
    """
    path = Path(path)
    if path.is_dir():
        raise EventFileError(f"events path {str(path)!r} is a directory; give the events file inside it")
    if not path.is_file():
        raise EventFileError(
            f"events file {str(path)!r} not found; check the path or place the file in the data directory"
        )

    before = path.stat()
    try:
        # NOTE: a row with more fields than the header is truncated to the
        # header's width instead of being rejected, because Polars' reader
        # cannot report which rows were ragged.
        raw = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True, raise_if_empty=True)
    except pl.exceptions.NoDataError:
        raise EventFileError(
            f"events file {str(path)!r} is empty; expected a header line "
            f"{','.join(CSV_COLUMNS)} followed by one event per line"
        ) from None
    except (pl.exceptions.ComputeError, OSError) as error:
        # OSError covers a truncated or corrupt gzip stream.
        raise EventFileError(
            f"events file {str(path)!r} is not a readable CSV file: {error}; "
            "check that it is UTF-8 text, or complete gzip, with comma-separated fields"
        ) from None

    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise EventFileError(
            f"events file {str(path)!r} changed while it was read ({before.st_size} bytes, then "
            f"{after.st_size}); write the file elsewhere and move it into place once it is complete"
        )

    missing = [column for column in CSV_COLUMNS if column not in raw.columns]
    if missing:
        raise EventFileError(
            f"events file {str(path)!r} lacks the columns {', '.join(missing)}; "
            f"found {', '.join(raw.columns) or 'none'}; "
            f"the header must name {','.join(CSV_COLUMNS)}"
        )
    return raw
