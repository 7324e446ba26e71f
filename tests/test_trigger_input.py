"""events_path containment and trigger field checks, without a server."""

import pytest

from ampelios_api.errors import ApiError
from ampelios_api.trigger_input import events_file, run_request
from ampelios_assets.settings import Settings


@pytest.fixture
def data_dir(tmp_path):
    directory = tmp_path / "init-data"
    (directory / "nested").mkdir(parents=True)
    (directory / "nested" / "events.csv").write_text("timestamp,visitorid,event,itemid,transactionid\n")
    (tmp_path / "secret.csv").write_text("x\n")
    return directory


def test_link_inside_data_dir_accepted(data_dir):
    (data_dir / "alias.csv").symlink_to(data_dir / "nested" / "events.csv")
    assert events_file(str(data_dir / "alias.csv"), data_dir) == data_dir / "nested" / "events.csv"


def test_dotdot_staying_inside_accepted(data_dir):
    path = str(data_dir / "nested" / ".." / "nested" / "events.csv")
    assert events_file(path, data_dir) == data_dir / "nested" / "events.csv"


def test_linked_directory_leading_out_rejected(data_dir, tmp_path):
    (data_dir / "escape").symlink_to(tmp_path)
    with pytest.raises(ApiError) as raised:
        events_file(str(data_dir / "escape" / "secret.csv"), data_dir)
    assert raised.value.code == "PATH_OUTSIDE_DATA_DIR"


def test_sibling_with_common_prefix_rejected(data_dir, tmp_path):
    sibling = tmp_path / "init-data-other"
    sibling.mkdir()
    (sibling / "events.csv").write_text("x\n")
    with pytest.raises(ApiError) as raised:
        events_file(str(sibling / "events.csv"), data_dir)
    assert raised.value.code == "PATH_OUTSIDE_DATA_DIR"


def test_outside_missing_file_reports_outside(data_dir, tmp_path):
    with pytest.raises(ApiError) as raised:
        events_file(str(tmp_path / "absent.csv"), data_dir)
    assert raised.value.code == "PATH_OUTSIDE_DATA_DIR"


def test_defaults_fill_optional_fields(data_dir, tmp_path):
    settings = Settings.from_env({"AMPELIOS_DATA_DIR": str(data_dir), "AMPELIOS_CLUSTER_COUNT": "7"})
    request = run_request({"source_id": 3, "events_path": str(data_dir / "nested" / "events.csv")}, settings)
    assert request.cluster_count == 7
    assert request.session_gap_minutes == 30
    assert request.max_session_minutes == 0
    assert request.is_initial_flow is True
