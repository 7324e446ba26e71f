"""The embedded store: Parquet files and a small JSON manifest per source."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import polars as pl

from ampelios_assets.parquet_io_manager import write_parquet_atomically
from ampelios_assets.stores.base import PublishedRun, SegmentStore, SourceSummary


class EmbeddedStore(SegmentStore):
    """Files under <output_dir>/published/source_id=<id>/.

    Each run writes its Parquet files into a directory of its own. Then it
    replaces runs.json, the list of published runs, with one rename, and that
    rename is the moment the run becomes visible.
    """

    def __init__(self, output_dir: Path):
        self.root = Path(output_dir) / "published"
        self.location = str(self.root)

    def _source_dir(self, source_id: int) -> Path:
        return self.root / f"source_id={source_id}"

    def _manifest(self, source_id: int) -> list[dict]:
        path = self._source_dir(source_id) / "runs.json"
        if not path.exists():
            return []
        return json.loads(path.read_text())

    def publish_run(self, source_id, run_id, segments, assignments, metadata=None) -> PublishedRun:
        run_dir = self._source_dir(source_id) / f"run_id={run_id}"
        write_parquet_atomically(segments, run_dir / "segments.parquet")
        write_parquet_atomically(assignments, run_dir / "assignments.parquet")
        (run_dir / "metadata.json").write_text(json.dumps(metadata or {}))

        published = PublishedRun(
            source_id=source_id,
            run_id=run_id,
            published_at=dt.datetime.now(dt.timezone.utc),
            visitor_count=assignments.height,
            segment_count=segments.height,
        )
        manifest = [entry for entry in self._manifest(source_id) if entry["run_id"] != run_id]
        manifest.append({**vars(published), "published_at": published.published_at.isoformat()})
        path = self._source_dir(source_id) / "runs.json"
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps(manifest, indent=1))
        os.replace(partial, path)
        return published

    def runs(self, source_id) -> list[PublishedRun]:
        return [
            PublishedRun(**{**entry, "published_at": dt.datetime.fromisoformat(entry["published_at"])})
            for entry in self._manifest(source_id)
        ]

    def sources(self) -> list[SourceSummary]:
        if not self.root.exists():
            return []
        summaries = []
        for source_dir in self.root.glob("source_id=*"):
            latest = self.latest_run(int(source_dir.name.split("=", 1)[1]))
            if latest is not None:
                summaries.append(
                    SourceSummary(latest.source_id, latest.run_id, latest.published_at, latest.visitor_count)
                )
        return sorted(summaries, key=lambda summary: summary.source_id)

    def _run_file(self, source_id: int, run_id: str | None, name: str) -> Path:
        if run_id is None:
            latest = self.latest_run(source_id)
            if latest is None:
                raise self._no_segments(source_id, None)
            run_id = latest.run_id
        elif run_id not in {entry["run_id"] for entry in self._manifest(source_id)}:
            raise self._no_segments(source_id, run_id)
        return self._source_dir(source_id) / f"run_id={run_id}" / name

    def run_metadata(self, source_id, run_id=None) -> dict:
        return json.loads(self._run_file(source_id, run_id, "metadata.json").read_text())

    def segments(self, source_id, run_id=None) -> pl.DataFrame:
        return pl.read_parquet(self._run_file(source_id, run_id, "segments.parquet"))

    def assignments(self, source_id, run_id=None) -> pl.DataFrame:
        return pl.read_parquet(self._run_file(source_id, run_id, "assignments.parquet"))
