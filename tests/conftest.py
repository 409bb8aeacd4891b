"""Tests marked ``@pytest.mark.cuda`` need a CUDA device: skipped where there is none.

``benchmarks/gpu_check.py`` runs exactly these (``pytest -m cuda tests``) on a GPU machine.
"""

import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if item.get_closest_marker("cuda"):
            item.add_marker(skip)
