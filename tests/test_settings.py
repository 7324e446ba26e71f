"""Settings: defaults, parsing errors, and the docs listing every one."""

from pathlib import Path

import pytest

from ampelios_assets.errors import SettingError
from ampelios_assets.settings import SETTINGS, Settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_documented():
    text = DOCS.read_text()
    for setting in SETTINGS.values():
        assert f"`{setting.env_var}` | `{setting.default}`" in text, setting.env_var


def test_defaults():
    settings = Settings.from_env({})
    assert settings.session_gap_minutes == 30
    assert settings.cluster_count == 5
    assert settings.max_session_minutes == 0
    assert settings.earliest_event_tstamp_ms == 946_684_800_000


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"AMPELIOS_SESSION_GAP_MINUTES": "half"}, "AMPELIOS_SESSION_GAP_MINUTES='half' is not an integer"),
        ({"AMPELIOS_CLUSTER_COUNT": "0"}, "AMPELIOS_CLUSTER_COUNT=0 is below the minimum 1"),
        ({"AMPELIOS_EARLIEST_EVENT_DATE": "03/05/2015"}, "use the form YYYY-MM-DD"),
        (
            {"AMPELIOS_EARLIEST_EVENT_DATE": "2016-01-01", "AMPELIOS_LATEST_EVENT_DATE": "2015-01-01"},
            "is not before AMPELIOS_LATEST_EVENT_DATE=2015-01-01",
        ),
    ],
)
def test_invalid_setting_named(environ, message):
    with pytest.raises(SettingError, match=message.replace("(", r"\(")):
        Settings.from_env(environ)
