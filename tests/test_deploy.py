"""deploy/: no Docker engine runs here, so the files are parsed and every name they use is checked."""

import importlib
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from ampelios_assets.cli.main import build_parser
from ampelios_assets.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
AMPELIOS_SERVICES = ("dagster-webserver", "dagster-daemon", "api")

def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _ampelios_environment() -> dict[str, str]:
    return _compose()["x-ampelios-environment"]


def test_compose_has_every_service():
    assert set(_compose()["services"]) == {"postgres", "kafka", *AMPELIOS_SERVICES}


def test_ampelios_services_share_instance_config():
    for name in AMPELIOS_SERVICES:
        service = _compose()["services"][name]
        assert service["environment"]["AMPELIOS_STORAGE"] == "postgres", name
        assert "./dagster.yaml:/opt/dagster/dagster_home/dagster.yaml:ro" in service["volumes"], name
        assert service["environment"]["DAGSTER_HOME"] == "/opt/dagster/dagster_home", name


def test_mounted_and_copied_files_exist():
    mounts = [volume.split(":")[0] for name in AMPELIOS_SERVICES for volume in _compose()["services"][name]["volumes"]]
    for mount in mounts:
        if mount.startswith("./"):
            assert (DEPLOY / mount).is_file(), mount
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_dagster_yaml_variables_set_by_compose():
    names = set(re.findall(r"env: (\w+)", (DEPLOY / "dagster.yaml").read_text()))
    assert names == {f"DAGSTER_POSTGRES_{part}" for part in ("HOST", "PORT", "USER", "PASSWORD", "DB")}
    assert names <= set(_ampelios_environment())


@pytest.mark.parametrize("env_var", sorted(name for name in _ampelios_environment() if name.startswith("AMPELIOS_")))
def test_ampelios_variable_exists_in_settings(env_var):
    known = {setting.env_var for setting in SETTINGS.values()}
    assert env_var in known


def test_every_variable_documented():
    compose_text = (DEPLOY / "compose.yaml").read_text()
    names = set(_ampelios_environment()) | set(re.findall(r"\$\{(\w+)", compose_text))
    readme = (DEPLOY / "README.md").read_text()
    for name in names:
        assert f"| `{name}` |" in readme, name


@pytest.mark.parametrize("service", AMPELIOS_SERVICES)
def test_service_command_exists(service):
    command = _compose()["services"][service]["command"]
    executable = Path(sys.executable).with_name(command[0])
    assert executable.exists() or shutil.which(command[0]), command[0]
    if command[0] == "ampelios":
        subcommands = build_parser()._subparsers._group_actions[0].choices
        assert command[1] in subcommands, command[1]
        arguments = subcommands[command[1]].parse_args(command[2:])
        assert (arguments.host, arguments.port) == ("0.0.0.0", 1032)
    else:
        workspace = command[command.index("-w") + 1]
        assert (ROOT / Path(workspace).name).is_file()


def test_api_app_factory_importable():
    # `ampelios serve` and `uvicorn --factory ampelios_api.app:create_app` both use it.
    module = importlib.import_module("ampelios_api.app")
    assert callable(module.create_app)


def test_workspace_loads_definitions_module():
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    module_name = workspace["load_from"][0]["python_module"]["module_name"]
    assert hasattr(importlib.import_module(module_name), "defs")
