"""What a rehearsal of the ``paper`` profile needs on a machine without data or network.

``paper_data``: the four datasets in their Kaggle layouts, the fewest images per class that put
every class in train, val and test (``tests/conftest.py``'s ``paper_datasets``).
``torch_home``: a ``TORCH_HOME`` whose ``hub/checkpoints/`` holds random-init state dicts of the
three models under the file names of their ImageNet weight URLs, written the way the published
files are (DenseNet121's with the key names of the 2017 file), so torchvision's own loading code
runs as it would on the real checkpoints.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torchvision

from lmf.classification.models import ARCHITECTURES

#: The inverse of torchvision's renaming in ``torchvision.models.densenet._load_state_dict``
#: (``denselayer1.norm.1.weight`` -> ``denselayer1.norm1.weight``): the published DenseNet
#: checkpoints predate module names with digits.
_NEW_DENSENET_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(weight|bias|running_mean|running_var)$")


def densenet_legacy_state(state: dict) -> dict:
    """A DenseNet state dict as the 2017 checkpoint files store it: ``norm.1.weight`` instead of
    ``norm1.weight``, and no ``num_batches_tracked`` buffers (PyTorch < 0.4.1 had none)."""
    return {_NEW_DENSENET_KEY.sub(r"\1.\2.\3", key): value for key, value in state.items()
            if not key.endswith("num_batches_tracked")}


def write_imagenet_checkpoints(torch_home: Path) -> dict[str, Path]:
    """Random-init ImageNet-shaped checkpoints of the paper's models where torchvision's weight
    enums look for them (``$TORCH_HOME/hub/checkpoints/<file name of the URL>``)."""
    folder = torch_home / "hub" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    torch.manual_seed(0)
    for model_id, preset in ARCHITECTURES.items():
        weights = torchvision.models.get_weight(preset.weights)
        state = torchvision.models.get_model(preset.builder, weights=None).state_dict()
        if preset.family is torchvision.models.DenseNet:
            state = densenet_legacy_state(state)
        written[model_id] = folder / Path(weights.url).name
        torch.save(state, written[model_id])
    return written


@pytest.fixture(scope="session")
def paper_data(tmp_path_factory, trees) -> Path:
    """``LMF_DATA`` with ``ham10000/``, ``isic2019/``, ``odir5k/``, ``covid19/``."""
    return trees.paper_datasets(tmp_path_factory.mktemp("paper_data"))


@pytest.fixture(scope="session")
def torch_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("torch_home")
    write_imagenet_checkpoints(home)
    return home


@pytest.fixture(scope="session")
def rehearsal_env(paper_data, torch_home):
    """``rehearsal_env(root)``: the environment of an ``lmf`` subprocess that reads the fixture
    data and checkpoints and writes runs to ``root/results`` and figures to ``root/figures``."""
    def environment(root: Path) -> dict[str, str]:
        return {**os.environ, "LMF_DATA": str(paper_data), "TORCH_HOME": str(torch_home),
                "LMF_RESULTS": str(root / "results"), "LMF_FIGURES": str(root / "figures")}
    return environment


@pytest.fixture(scope="session")
def run_lmf_in():
    """``run_lmf_in(env, cwd, *args)`` runs ``python -m lmf.cli ARGS``; returns (result, s)."""
    def run(env: dict, cwd: Path, *args: str, timeout: float = 1500):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "lmf.cli", *args], capture_output=True,
                                text=True, timeout=timeout, cwd=cwd, env=env)
        return result, time.perf_counter() - start
    return run
