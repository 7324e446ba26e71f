"""The Dagster code location: assets, the segmentation job and their resources."""

from dagster import AssetSelection, Definitions, define_asset_job

from ampelios_assets.assets import ALL_ASSETS
from ampelios_assets.kafka.ingest_job import KafkaSettings, ingest_kafka_events_job
from ampelios_assets.kafka.sensor import build_kafka_sensor
from ampelios_assets.parquet_io_manager import ParquetIOManager
from ampelios_assets.postgres_io_manager import PostgresIOManager
from ampelios_assets.resources import AmpeliosSettings
from ampelios_assets.settings import Settings

SEGMENT_JOB_NAME = "segment_visitors"

segment_visitors_job = define_asset_job(
    SEGMENT_JOB_NAME,
    selection=AssetSelection.groups("segmentation"),
    description="Validate, sessionise, build journeys and cluster the visitors of one source.",
)


def _io_manager(settings: Settings):
    if settings.storage == "postgres":
        return PostgresIOManager(database_url=settings.database_url, output_dir=str(settings.output_dir))
    return ParquetIOManager(output_dir=str(settings.output_dir))


def build_definitions(settings: Settings) -> Definitions:
    """Return the Definitions wired to `settings`' directories."""
    return Definitions(
        assets=ALL_ASSETS,
        jobs=[segment_visitors_job, ingest_kafka_events_job],
        sensors=[build_kafka_sensor(settings)],
        resources={
            "io_manager": _io_manager(settings),
            "ampelios": AmpeliosSettings.from_settings(settings),
            "kafka": KafkaSettings.from_settings(settings),
        },
    )


defs = build_definitions(Settings.from_env())
