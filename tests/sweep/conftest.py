"""Shared helpers of the sweep tests: tiny CPU-profile grids (1–2 epochs at 16 px)."""

from __future__ import annotations

import pytest

from lmf.sweep import build_grid


def _tiny_grid(n: int = 2, **overrides) -> list:
    return build_grid("paper", "cpu", **{"epochs": 1, "image_size": 16, **overrides})[:n]


@pytest.fixture
def tiny_grid():
    """``tiny_grid(n, **overrides)``: the first ``n`` configs of the cpu paper grid, shrunk to
    seconds per run (1 epoch at 16 px unless overridden)."""
    return _tiny_grid


@pytest.fixture
def results(tmp_path):
    return tmp_path / "results"
