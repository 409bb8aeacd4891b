"""Shared helpers of the training tests: tiny digits-LT runs (timm's ``test_resnet``, 16 px, CPU)
that train in about half a second per epoch."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from lmf.data import prepare
from lmf.profiles import get_profile
from lmf.train import RunConfig, fit

TINY = {"model": "timm:test_resnet", "epochs": 2, "image_size": 16, "device": "cpu", "lr": 1e-2}


@functools.cache
def train_counts() -> np.ndarray:
    """Per-class counts of digits-LT's training split (the tiny runs' data)."""
    return prepare("digits_lt", size=TINY["image_size"]).class_counts("train")


def steps_per_epoch(batch_size: int = 32) -> int:
    """Training steps of one tiny-run epoch (a final batch of one image is dropped)."""
    full, rest = divmod(int(train_counts().sum()), batch_size)
    return full + (rest > 1)


def tiny(loss: str = "cce", **overrides) -> RunConfig:
    """The cpu profile's digits-LT × resnet50 config, shrunk to seconds (overrides win)."""
    return get_profile("cpu").config("digits_lt", "resnet50", loss, **{**TINY, **overrides})


@pytest.fixture
def tiny_config():
    """``tiny_config(loss="cce", **overrides)``: a RunConfig that trains in about a second."""
    return tiny


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """One finished 4-epoch run shared by read-only tests: (config, results root, RunResult)."""
    config = tiny(epochs=4)
    results = tmp_path_factory.mktemp("shared_results")
    return config, results, fit(config, results, quiet=True)
