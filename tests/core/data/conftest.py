"""Every data test runs with ``LMF_DATA`` pointing into its own temporary folder, so caches and
split files never touch the repository's ``data/``. The fixture-tree builders (``trees``) live in
``tests/conftest.py``, shared with the other test folders."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "lmf_data"
    monkeypatch.setenv("LMF_DATA", str(home))
    return home
