"""Shared helpers of the training tests: tiny digits-LT runs (timm's ``test_resnet``, 16 px, CPU)
that train in about half a second per epoch."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
import torch

import lmf.classification.train
from lmf.classification.profiles import get_profile
from lmf.classification.train import RunConfig, fit
from lmf.data import prepare

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


def on_training_steps(monkeypatch, change) -> None:
    """Every loss ``fit`` builds returns ``change(step, targets, loss)`` on each training step
    (``step`` counts from 0 over the whole run, resumes included); evaluation is left alone."""
    new_criterion, steps = lmf.classification.train._Trainer._new_criterion, itertools.count()

    def building(trainer):
        loss = new_criterion(trainer)
        forward = loss.forward

        def changed(logits, targets):
            value = forward(logits, targets)
            return change(next(steps), targets, value) if torch.is_grad_enabled() else value

        loss.forward = changed
        return loss

    monkeypatch.setattr(lmf.classification.train._Trainer, "_new_criterion", building)


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


#: A tiny imagefolder tree (8×8 images): counts[part][class].
TREE = {"train": {"a": 6, "b": 4}, "val": {"a": 2, "b": 2}, "test": {"a": 2, "b": 2}}


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """``LMF_DATA`` in the test's own folder, so caches of fixture trees never touch ``data/``."""
    home = tmp_path / "lmf_data"
    monkeypatch.setenv("LMF_DATA", str(home))
    return home


@pytest.fixture
def image_tree(trees, data_home):
    """``image_tree(root)``: writes the tiny imagefolder tree at ``root`` and returns ``root``."""
    return lambda root: trees.imagefolder(root, TREE)


def tree_config(root, **overrides) -> RunConfig:
    """A tiny run (8 px, batches of 4) of the imagefolder tree at ``root``."""
    return tiny(dataset="imagefolder", data_root=str(root),
                **{"image_size": 8, "batch_size": 4, **overrides})
