"""Project wiring: one source of truth for dependencies, the CLI entry point, the profiles."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from lmf import __version__, cli
from lmf.classification.profiles import PAPER_PROFILES, PROFILES, get_profile
from lmf.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_environment_yml_installs_the_lock_and_the_package():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = environment["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python"))
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip_section == ["-r requirements.lock", "-e ."]  # the lock is the environment
    assert "pip" in deps
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, python.split("=")[1].split("."))) >= tuple(map(int, minimum.split(".")))


def test_console_script_points_at_cli_main():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["lmf"] == "lmf.cli:main"


def test_cli_version_and_help():
    version = subprocess.run([sys.executable, "-m", "lmf.cli", "--version"],
                             capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"lmf {__version__}"
    helptext = subprocess.run([sys.executable, "-m", "lmf.cli", "--help"],
                              capture_output=True, text=True, check=True)
    for command in cli.COMMANDS:
        assert command in helptext.stdout


def test_cli_unknown_command_exits_nonzero():
    result = subprocess.run([sys.executable, "-m", "lmf.cli", "no-such-command"],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "invalid choice" in result.stderr


def test_profiles_are_complete():
    assert set(PAPER_PROFILES) | {"cifar_lt"} == set(PROFILES)
    for profile in map(get_profile, PAPER_PROFILES):
        assert set(profile.models) == {"efficientnetv2_s", "resnet50", "densenet121"}
        assert profile.hparam_dataset in profile.datasets
        assert profile.hparam_model in profile.models
        assert set(profile.cam_classes) == set(profile.datasets)


def test_unknown_profile_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="cifar_lt, cpu, medmnist, paper"):
        get_profile("gpu")


def test_test_modules_that_share_the_machine_run_on_one_worker(pytestconfig):
    """``make test`` runs the suite on several pytest-xdist workers; a module that installs
    Debian packages (one dpkg lock) or starts the SLURM cluster (one set of daemons) must be in
    the group of ``tests/conftest.py`` that one worker runs in sequence."""
    conftest = next(plugin for plugin in pytestconfig.pluginmanager.get_plugins()
                    if getattr(plugin, "__file__", None) == str(REPO / "tests" / "conftest.py"))
    sharing = sorted(path.relative_to(REPO).as_posix() for path in (REPO / "tests").rglob("*.py")
                     if path.name != "conftest.py" and path != Path(__file__).resolve()
                     and any(word in path.read_text() for word in ("apt-get", "slurm_cluster")))
    assert sharing, "no test module installs packages or starts SLURM: the scan is broken"
    assert {conftest.xdist_group(f"{path}::test") for path in sharing} == {"machine"}, sharing
    assert conftest.xdist_group("notebooks/04_per_class_analysis.ipynb::Cell 3") == "notebooks"
    assert conftest.xdist_group("tests/notebooks/test_reading.py::test_x") == "notebooks"
    assert conftest.xdist_group("tests/core/test_paths.py::test_x") == "tests/core/test_paths.py"
