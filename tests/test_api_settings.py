"""The API's settings: defaults, parsing and the token kept out of repr."""

import pytest

from ampelios_assets.errors import SettingError
from ampelios_assets.settings import Settings


def test_api_defaults():
    settings = Settings.from_env({})
    assert settings.api_token == ""
    assert settings.api_token_for_reads is False
    assert settings.max_body_bytes == 65536
    assert settings.dev_mode is False


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("TRUE", True), ("1", True), ("false", False), ("no", False)])
def test_boolean_setting_parsed(text, expected):
    assert Settings.from_env({"AMPELIOS_DEV_MODE": text}).dev_mode is expected


def test_invalid_boolean_named():
    with pytest.raises(SettingError, match="AMPELIOS_API_TOKEN_FOR_READS='sometimes' is not a boolean"):
        Settings.from_env({"AMPELIOS_API_TOKEN_FOR_READS": "sometimes"})


def test_zero_body_limit_rejected():
    with pytest.raises(SettingError, match="AMPELIOS_MAX_BODY_BYTES=0 is below the minimum 1"):
        Settings.from_env({"AMPELIOS_MAX_BODY_BYTES": "0"})


def test_token_left_out_of_repr():
    settings = Settings.from_env({"AMPELIOS_API_TOKEN": "tok-7f3a91"})
    assert settings.api_token == "tok-7f3a91"
    assert "tok-7f3a91" not in repr(settings)
