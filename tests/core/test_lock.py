"""``requirements.lock`` is the environment: it agrees with ``pyproject.toml`` and is what is
installed.

The lock is resolved by ``make lock`` (``uv pip compile``) and installed by ``make setup``; these
tests fail when a dependency changed in ``pyproject.toml`` without a new lock, and when the
environment running the suite holds other versions than the lock (the committed numbers are
only checked exactly under the locked versions).
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.+))?$")


def locked() -> dict[str, tuple[Version, Marker | None]]:
    """Package -> (pinned version, marker) of every line of the lock."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            name, version, marker = match.groups()
            pins[canonicalize_name(name)] = (Version(version),
                                             Marker(marker) if marker else None)
    return pins


def declared() -> list[Requirement]:
    """The dependencies of ``pyproject.toml`` and its ``dev`` extra (what the lock resolves)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in
            (*project["dependencies"], *project["optional-dependencies"]["dev"])]


def applies(marker: Marker | None) -> bool:
    return marker is None or marker.evaluate()


def test_the_lock_pins_every_declared_dependency_within_its_bounds():
    pins = locked()
    assert len(pins) > 100, "the lock holds the whole environment, not only the direct dependencies"
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is declared in pyproject.toml but not in the lock: make lock"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"pyproject.toml asks for {requirement} and the lock pins {version}: make lock")


def test_the_lock_pins_each_package_once_for_this_platform():
    pinned = [canonicalize_name(m.group(1)) for m in map(_PIN.match, LOCK.read_text().splitlines())
              if m and applies(Marker(m.group(3)) if m.group(3) else None)]
    assert len(pinned) == len(set(pinned))


def test_the_tested_torch_release_is_locked():
    assert locked()["torch"][0] == Version("2.14.1")
    assert locked()["torchvision"][0] == Version("0.29.1")


def test_the_environment_holds_the_locked_versions():
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not the environment `make setup` installs (.venv)")
    different = []
    for name, (version, marker) in locked().items():
        if not applies(marker):
            continue
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            different.append(f"{name} (not installed; locked {version})")
            continue
        # a local build tag (torch's +cu130 or +cpu wheels) is the same release
        if Version(installed.public) != version:
            different.append(f"{name} {installed} (locked {version})")
    assert not different, "the environment differs from requirements.lock (make setup): " + ", ".join(different)
