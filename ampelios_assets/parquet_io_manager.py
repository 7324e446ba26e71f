"""Store each asset's Polars frame as one Parquet file per source partition."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from dagster import ConfigurableIOManager, InputContext, OutputContext


def asset_path(output_dir: Path, asset_name: str, source_id: str) -> Path:
    """Return where the value of `asset_name` for one source lives."""
    return Path(output_dir) / asset_name / f"source_id={source_id}.parquet"


def write_parquet_atomically(frame: pl.DataFrame, path: Path) -> None:
    """Write through a temporary file and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    frame.write_parquet(partial)
    os.replace(partial, path)


class ParquetIOManager(ConfigurableIOManager):
    """Parquet files under `output_dir`, laid out as <asset>/source_id=<id>.parquet."""

    output_dir: str

    def _path(self, context: InputContext | OutputContext) -> Path:
        asset_name = context.asset_key.path[-1]
        return asset_path(Path(self.output_dir), asset_name, context.asset_partition_key)

    def handle_output(self, context: OutputContext, obj: pl.DataFrame) -> None:
        path = self._path(context)
        write_parquet_atomically(obj, path)
        context.add_output_metadata({"path": str(path), "rows": obj.height})

    def load_input(self, context: InputContext) -> pl.DataFrame:
        return pl.read_parquet(self._path(context))
