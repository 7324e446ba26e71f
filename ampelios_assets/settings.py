"""One settings object, read from AMPELIOS_* environment variables.

Every setting has a default, a unit in its name where it has one, and a help
line; docs/settings.md lists them all and a test keeps the two in step.
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


def _positive_float(name: str, text: str) -> float:
    env_var = SETTINGS[name].env_var
    try:
        value = float(text)
    except ValueError:
        raise SettingError(f"{env_var}={text!r} is not a number") from None
    if not value >= 0:
        raise SettingError(f"{env_var}={value} is invalid; give 0 or a positive number")
    return value


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


def _positive_int(name: str, text: str, minimum: int = 1) -> int:
    env_var = SETTINGS[name].env_var
    try:
        value = int(text)
    except ValueError:
        raise SettingError(f"{env_var}={text!r} is not an integer") from None
    if value < minimum:
        raise SettingError(f"{env_var}={value} is below the minimum {minimum}")
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
            min_centroid_distance=_positive_float("min_centroid_distance", raw["min_centroid_distance"]),
            segment_match_max_distance=_positive_float(
                "segment_match_max_distance", raw["segment_match_max_distance"]
            ),
            quality_sample_size=_positive_int("quality_sample_size", raw["quality_sample_size"], 100),
            bootstrap_resamples=_positive_int("bootstrap_resamples", raw["bootstrap_resamples"], 0),
            predictive_min_span_days=_positive_int("predictive_min_span_days", raw["predictive_min_span_days"]),
        )
