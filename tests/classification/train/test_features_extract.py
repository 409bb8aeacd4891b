"""lmf.classification.features.extract: the head's input of the best checkpoint, cached in the run directory."""

from __future__ import annotations

import time

import numpy as np
import torch

from lmf.classification.features import extract
from lmf.classification.models import classifier_head
from lmf.classification.train import fit, load_model
from lmf.core import runs


def test_features_are_the_heads_input_and_give_the_runs_logits(tiny_config, tmp_path):
    result = fit(tiny_config(epochs=1), tmp_path, quiet=True)
    features, labels = extract(result.run_dir, "test")
    predictions = runs.load_predictions(result.run_dir)
    head = classifier_head(load_model(result.run_dir))
    assert features.shape == (len(predictions["labels"]), head.in_features)
    np.testing.assert_array_equal(labels, predictions["labels"])
    with torch.no_grad():  # the head applied to the features is the model's own test output
        logits = head(torch.from_numpy(features)).numpy()
    np.testing.assert_allclose(logits, predictions["logits"], rtol=1e-4, atol=1e-4)

    cache = result.run_dir / "features-test.npz"
    assert cache.is_file()
    start = time.perf_counter()
    again, again_labels = extract(result.run_dir, "test")
    assert time.perf_counter() - start < 0.5  # read from the run directory, no model built
    np.testing.assert_array_equal(again, features)
    train_features, train_labels = extract(result.run_dir, "train")
    assert len(train_features) == len(train_labels) == sum(
        runs.load_metrics(result.run_dir)["class_counts"]["train"].values())
