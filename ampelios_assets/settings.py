"""One settings object, read from AMPELIOS_* environment variables.

Every setting has a default, a unit in its name where it has one, and a help
line. docs/settings.md lists them all, and a test keeps the two in step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

from ampelios_assets.errors import SettingError


@dataclasses.dataclass(frozen=True)
class Setting:
    env_var: str
    default: str
    help: str


SETTINGS: dict[str, Setting] = {
    "data_dir": Setting(
        "AMPELIOS_DATA_DIR",
        "init-data",
        "Directory where users drop events files; relative paths resolve from the working directory.",
    ),
    "output_dir": Setting(
        "AMPELIOS_OUTPUT_DIR",
        ".ampelios/data",
        "Directory holding asset values as Parquet files, one per asset and source.",
    ),
    "dagster_home": Setting(
        "DAGSTER_HOME",
        ".ampelios/dagster_home",
        "Dagster instance directory; the embedded default keeps runs in SQLite there.",
    ),
    "session_gap_minutes": Setting(
        "AMPELIOS_SESSION_GAP_MINUTES",
        "30",
        "A gap strictly greater than this between two events of a visitor starts a new session.",
    ),
    "max_session_minutes": Setting(
        "AMPELIOS_MAX_SESSION_MINUTES",
        "0",
        "Cut sessions into windows of this length from their first event; 0 turns the cap off.",
    ),
    "cluster_count": Setting(
        "AMPELIOS_CLUSTER_COUNT",
        "5",
        "Number of segments k-means is asked for.",
    ),
    "random_state": Setting(
        "AMPELIOS_RANDOM_STATE",
        "0",
        "Seed of the k-means initialisation, so that runs are reproducible.",
    ),
    "earliest_event_date": Setting(
        "AMPELIOS_EARLIEST_EVENT_DATE",
        "2000-01-01",
        "Events before this UTC date are rejected as timestamp_out_of_range.",
    ),
    "latest_event_date": Setting(
        "AMPELIOS_LATEST_EVENT_DATE",
        "2100-01-01",
        "Events on or after this UTC date are rejected as timestamp_out_of_range.",
    ),
    "kafka_bootstrap": Setting(
        "AMPELIOS_KAFKA_BOOTSTRAP",
        "127.0.0.1:9092",
        "Kafka bootstrap servers (host:port, comma-separated) the sensor and ingest runs connect to.",
    ),
    "kafka_topic": Setting(
        "AMPELIOS_KAFKA_TOPIC",
        "ampelios-events",
        "Kafka topic carrying one event per message (format in docs/kafka.md).",
    ),
    "kafka_group": Setting(
        "AMPELIOS_KAFKA_GROUP",
        "ampelios",
        "Kafka consumer group whose committed offsets mark the events already stored.",
    ),
    "kafka_poll_timeout_s": Setting(
        "AMPELIOS_KAFKA_POLL_TIMEOUT_S",
        "5",
        "Seconds a request to the broker (offsets, metadata, one poll) may take before it counts as failed.",
    ),
    "kafka_run_timeout_s": Setting(
        "AMPELIOS_KAFKA_RUN_TIMEOUT_S",
        "300",
        "Seconds an ingest run may spend reading up to its end offsets before it fails, committing nothing.",
    ),
    "kafka_backoff_s": Setting(
        "AMPELIOS_KAFKA_BACKOFF_S",
        "5",
        "Seconds the sensor waits after its first failed broker request; each further failure doubles it.",
    ),
    "kafka_max_backoff_s": Setting(
        "AMPELIOS_KAFKA_MAX_BACKOFF_S",
        "300",
        "Upper bound of the sensor's wait between attempts while the broker is unreachable.",
    ),
    "refit_changed_percent": Setting(
        "AMPELIOS_REFIT_CHANGED_PERCENT",
        "10",
        "Refit the segment model once visitor updates since the last fit exceed this percent of the "
        "visitors then fitted; 0 refits on every incremental run.",
    ),
    "storage": Setting(
        "AMPELIOS_STORAGE",
        "embedded",
        "Where events, journeys and published segments live: embedded (Parquet files under "
        "AMPELIOS_OUTPUT_DIR) or postgres (the database of AMPELIOS_DATABASE_URL).",
    ),
    "database_url": Setting(
        "AMPELIOS_DATABASE_URL",
        "",
        "PostgreSQL connection URL used when AMPELIOS_STORAGE=postgres, e.g. "
        "postgresql://ampelios:secret@db:5432/ampelios; empty means libpq's PGHOST, PGPORT, "
        "PGUSER, PGPASSWORD and PGDATABASE.",
    ),
    "api_token": Setting(
        "AMPELIOS_API_TOKEN",
        "",
        "Bearer token the HTTP API requires for triggers (and for reads with AMPELIOS_API_TOKEN_FOR_READS); empty turns the check off.",
    ),
    "api_token_for_reads": Setting(
        "AMPELIOS_API_TOKEN_FOR_READS",
        "false",
        "When true and AMPELIOS_API_TOKEN is set, the HTTP API also requires the token for queries and GET /view.",
    ),
    "max_body_bytes": Setting(
        "AMPELIOS_MAX_BODY_BYTES",
        "65536",
        "Largest HTTP request body the API accepts, in bytes; larger bodies get HTTP 413.",
    ),
    "dev_mode": Setting(
        "AMPELIOS_DEV_MODE",
        "false",
        "When true, the API serves the GraphiQL IDE at GET /graphql.",
    ),
    "min_centroid_distance": Setting(
        "AMPELIOS_MIN_CENTROID_DISTANCE",
        "0.5",
        "Two segments whose centroids lie closer than this in the scaled feature space (standard deviations of log1p features) are refitted as one.",
    ),
    "segment_match_max_distance": Setting(
        "AMPELIOS_SEGMENT_MATCH_MAX_DISTANCE",
        "1.5",
        "A segment keeps the id of the previous run's segment matched to it only when their centroids lie at most this far apart in the scaled feature space.",
    ),
    "quality_sample_size": Setting(
        "AMPELIOS_QUALITY_SAMPLE_SIZE",
        "10000",
        "Visitors sampled for the silhouette score and each bootstrap resample of the quality report.",
    ),
    "bootstrap_resamples": Setting(
        "AMPELIOS_BOOTSTRAP_RESAMPLES",
        "5",
        "Bootstrap resamples for segment stability; 0 skips the stability check.",
    ),
    "predictive_min_span_days": Setting(
        "AMPELIOS_PREDICTIVE_MIN_SPAN_DAYS",
        "28",
        "The predictive check runs only when a source's events span at least this many days.",
    ),
}

STORAGE_KINDS = ("embedded", "postgres")


def _date_to_ms(name: str, text: str) -> int:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        env_var = SETTINGS[name].env_var
        raise SettingError(
            f"{env_var}={text!r} is not a date; use the form YYYY-MM-DD, for example 2015-05-03"
        ) from None
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    return int(midnight.timestamp() * 1000)


def _boolean(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise SettingError(f"{SETTINGS[name].env_var}={text!r} is not a boolean; use true or false")


def _positive_int(name: str, text: str, minimum: int = 1) -> int:
    env_var = SETTINGS[name].env_var
    try:
        value = int(text)
    except ValueError:
        raise SettingError(f"{env_var}={text!r} is not an integer") from None
    if value < minimum:
        raise SettingError(f"{env_var}={value} is below the minimum {minimum}")
    return value


def _non_negative_number(name: str, text: str) -> float:
    env_var = SETTINGS[name].env_var
    try:
        value = float(text)
    except ValueError:
        raise SettingError(f"{env_var}={text!r} is not a number") from None
    if not value >= 0:
        raise SettingError(f"{env_var}={value} is below the minimum 0")
    return value


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path
    output_dir: Path
    dagster_home: Path
    session_gap_minutes: int
    max_session_minutes: int
    cluster_count: int
    random_state: int
    earliest_event_tstamp_ms: int
    latest_event_tstamp_ms: int
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic: str = "ampelios-events"
    kafka_group: str = "ampelios"
    kafka_poll_timeout_s: float = 5.0
    kafka_run_timeout_s: float = 300.0
    kafka_backoff_s: float = 5.0
    kafka_max_backoff_s: float = 300.0
    refit_changed_percent: float = 10.0
    storage: str = "embedded"
    database_url: str = ""
    # Left out of repr so that logging a Settings object never shows the token.
    api_token: str = dataclasses.field(default="", repr=False)
    api_token_for_reads: bool = False
    max_body_bytes: int = 65536
    dev_mode: bool = False
    min_centroid_distance: float = 0.5
    segment_match_max_distance: float = 1.5
    quality_sample_size: int = 10_000
    bootstrap_resamples: int = 5
    predictive_min_span_days: int = 28

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """Read every setting from `environ` (default os.environ), falling back to defaults."""
        environ = os.environ if environ is None else environ
        raw = {name: environ.get(s.env_var) or s.default for name, s in SETTINGS.items()}
        if raw["storage"] not in STORAGE_KINDS:
            raise SettingError(
                f"AMPELIOS_STORAGE={raw['storage']!r} is not a storage kind; use one of {', '.join(STORAGE_KINDS)}"
            )

        earliest = _date_to_ms("earliest_event_date", raw["earliest_event_date"])
        latest = _date_to_ms("latest_event_date", raw["latest_event_date"])
        if earliest >= latest:
            raise SettingError(
                f"AMPELIOS_EARLIEST_EVENT_DATE={raw['earliest_event_date']} is not before "
                f"AMPELIOS_LATEST_EVENT_DATE={raw['latest_event_date']}"
            )

        return cls(
            data_dir=Path(raw["data_dir"]).resolve(),
            output_dir=Path(raw["output_dir"]).resolve(),
            dagster_home=Path(raw["dagster_home"]).resolve(),
            session_gap_minutes=_positive_int("session_gap_minutes", raw["session_gap_minutes"]),
            max_session_minutes=_positive_int("max_session_minutes", raw["max_session_minutes"], 0),
            cluster_count=_positive_int("cluster_count", raw["cluster_count"]),
            random_state=_positive_int("random_state", raw["random_state"], 0),
            earliest_event_tstamp_ms=earliest,
            latest_event_tstamp_ms=latest,
            kafka_bootstrap=raw["kafka_bootstrap"],
            kafka_topic=raw["kafka_topic"],
            kafka_group=raw["kafka_group"],
            kafka_poll_timeout_s=_non_negative_number("kafka_poll_timeout_s", raw["kafka_poll_timeout_s"]),
            kafka_run_timeout_s=_non_negative_number("kafka_run_timeout_s", raw["kafka_run_timeout_s"]),
            kafka_backoff_s=_non_negative_number("kafka_backoff_s", raw["kafka_backoff_s"]),
            kafka_max_backoff_s=_non_negative_number("kafka_max_backoff_s", raw["kafka_max_backoff_s"]),
            refit_changed_percent=_non_negative_number("refit_changed_percent", raw["refit_changed_percent"]),
            storage=raw["storage"],
            database_url=raw["database_url"],
            api_token=raw["api_token"].strip(),
            api_token_for_reads=_boolean("api_token_for_reads", raw["api_token_for_reads"]),
            max_body_bytes=_positive_int("max_body_bytes", raw["max_body_bytes"]),
            dev_mode=_boolean("dev_mode", raw["dev_mode"]),
            min_centroid_distance=_non_negative_number("min_centroid_distance", raw["min_centroid_distance"]),
            segment_match_max_distance=_non_negative_number(
                "segment_match_max_distance", raw["segment_match_max_distance"]
            ),
            quality_sample_size=_positive_int("quality_sample_size", raw["quality_sample_size"], 100),
            bootstrap_resamples=_positive_int("bootstrap_resamples", raw["bootstrap_resamples"], 0),
            predictive_min_span_days=_positive_int("predictive_min_span_days", raw["predictive_min_span_days"]),
        )
