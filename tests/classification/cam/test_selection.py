"""Choosing Fig 3's test image from the runs' predictions, and resolving paper class names."""

from __future__ import annotations

import numpy as np
import pytest

from lmf.classification.cam.selection import pick_image, resolve_class
from lmf.core.errors import ConfigError, DataError

IDS = ["a", "b", "c", "d", "e"]
LABELS = [1, 1, 0, 1, 1]


def predictions(predicted, ids=IDS, labels=LABELS, confidence=3.0):
    """Run predictions whose argmax is ``predicted`` (logit ``confidence`` on that class)."""
    logits = np.zeros((len(ids), 3))
    logits[np.arange(len(ids)), predicted] = confidence
    return {"logits": logits, "labels": np.asarray(labels), "ids": list(ids)}


def test_prefers_lmf_right_and_every_baseline_wrong():
    runs = {
        "cce": predictions([1, 0, 0, 2, 0]),
        "focal": predictions([1, 2, 0, 2, 1]),
        "lmf": predictions([1, 1, 0, 1, 2]),
    }
    pick = pick_image(runs, class_index=1)
    assert (pick.sample_id, pick.label) == ("b", 1)  # b and d qualify; tie broken by id
    assert pick.rule == "LMF right, 2 of 2 baselines wrong"


def test_relaxes_to_most_baselines_wrong_then_lmf_wrong():
    runs = {"cce": predictions([1, 1, 0, 0, 1]), "focal": predictions([1, 1, 0, 1, 1]),
            "lmf": predictions([1, 1, 0, 1, 0])}
    pick = pick_image(runs, class_index=1)
    assert pick.sample_id == "d" and pick.rule == "LMF right, 1 of 2 baselines wrong"
    runs["lmf"] = predictions([0, 0, 0, 0, 0])
    assert pick_image(runs, 1).rule.startswith("LMF wrong, ")


def test_higher_lmf_confidence_breaks_ties_and_ids_are_aligned():
    lmf = predictions([1, 1, 0, 1, 1])
    lmf["logits"][4, 1] = 9.0  # most confident on e
    # the baseline lists the same images in another order
    order = [4, 3, 2, 1, 0]
    cce = predictions(np.array([1, 1, 0, 1, 1])[order], ids=np.array(IDS)[order],
                      labels=np.array(LABELS)[order])
    assert pick_image({"cce": cce, "lmf": lmf}, 1).sample_id == "e"


def test_without_lmf_takes_the_first_image_of_the_class():
    pick = pick_image({"cce": predictions([0, 0, 0, 0, 0])}, 0)
    assert (pick.sample_id, pick.rule) == ("c", "first image of the class (no LMF run)")


def test_errors():
    with pytest.raises(DataError, match="no image of class index 2"):
        pick_image({"lmf": predictions([0] * 5)}, 2)
    with pytest.raises(DataError, match="share no image id"):
        pick_image({"lmf": predictions([0] * 5), "cce": predictions([0] * 5, ids="vwxyz")}, 1)
    with pytest.raises(DataError, match="labels disagree"):
        pick_image({"lmf": predictions([0] * 5), "cce": predictions([0] * 5, labels=[0] * 5)},
                   1)
    with pytest.raises(ConfigError, match="at least one run"):
        pick_image({}, 0)


@pytest.mark.parametrize("name, index", [("LO", 1), ("Lung_Opacity", 1), ("covid", 0),
                                         ("VP", 3), ("Normal", 2)])
def test_paper_abbreviations_resolve_to_folder_names(name, index):
    assert resolve_class(name, ["COVID", "Lung_Opacity", "Normal", "Viral Pneumonia"]) == index


def test_unknown_class_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown class 'X'; valid choices: 0, 1"):
        resolve_class("X", ["0", "1"])
