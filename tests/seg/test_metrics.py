"""Segmentation scores against scikit-learn per image and hand-counted cases."""

import time

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, jaccard_score, precision_score, recall_score

from lmf.core.errors import ConfigError
from lmf.seg import imbalance_ratio as lazy_imbalance_ratio
from lmf.seg import segmentation_scores as lazy_segmentation_scores
from lmf.seg.metrics import imbalance_ratio, pixel_counts, segmentation_scores


def binary_masks(seed=0, n=8, shape=(9, 11)):
    """Random foreground blobs; image 2 has no foreground but false positives, image 5 no
    predicted foreground (precision 0)."""
    rng = np.random.default_rng(seed)
    true = (rng.random((n, *shape)) < 0.2).astype(np.int64)
    pred = np.where(rng.random((n, *shape)) < 0.8, true, 1 - true)
    true[2] = 0
    pred[5] = 0
    return pred, true


def test_lazy_exports():
    assert lazy_segmentation_scores is segmentation_scores
    assert lazy_imbalance_ratio is imbalance_ratio


def test_binary_scores_are_sklearns_per_image_means():
    pred, true = binary_masks()
    scored = [n for n in range(len(true)) if true[n].any()]
    expected = {
        "iou": np.mean([jaccard_score(true[n].ravel(), pred[n].ravel()) for n in scored]),
        "dsc": np.mean([f1_score(true[n].ravel(), pred[n].ravel()) for n in scored]),
        "precision": np.mean([precision_score(true[n].ravel(), pred[n].ravel(),
                                              zero_division=0) for n in scored]),
        "recall": np.mean([recall_score(true[n].ravel(), pred[n].ravel()) for n in scored]),
    }
    scores = segmentation_scores(pred, true)
    assert scores["images"] == len(scored) == 7
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, rel=1e-12)
        assert scores["per_class"][1][name] == pytest.approx(value, rel=1e-12)


def test_multi_class_scores_by_hand():
    true = np.array([[[0, 1, 1, 2],
                      [0, 0, 2, 2]],
                     [[0, 0, 0, 0],
                      [1, 1, 1, 0]]])
    pred = np.array([[[1, 1, 0, 2],
                      [0, 0, 2, 1]],
                     [[0, 0, 0, 1],
                      [1, 1, 0, 0]]])
    # image 0: class 1 tp 1, fp 2, fn 1; class 2 tp 2, fp 0, fn 1
    # image 1: class 1 tp 2, fp 1, fn 1; class 2 absent (not scored)
    iou = {(0, 1): 1 / 4, (0, 2): 2 / 3, (1, 1): 2 / 4}
    dsc = {(0, 1): 2 / 5, (0, 2): 4 / 5, (1, 1): 4 / 6}
    precision = {(0, 1): 1 / 3, (0, 2): 1.0, (1, 1): 2 / 3}
    recall = {(0, 1): 1 / 2, (0, 2): 2 / 3, (1, 1): 2 / 3}
    scores = segmentation_scores(pred, true)
    for name, table in {"iou": iou, "dsc": dsc, "precision": precision, "recall": recall}.items():
        image0 = (table[0, 1] + table[0, 2]) / 2
        assert scores[name] == pytest.approx((image0 + table[1, 1]) / 2)
        assert scores["per_class"][1][name] == pytest.approx((table[0, 1] + table[1, 1]) / 2)
        assert scores["per_class"][2][name] == pytest.approx(table[0, 2])
    assert scores["images"] == 2
    assert set(scores["per_class"]) == {1, 2}


def test_images_without_foreground_are_not_scored():
    pred, true = binary_masks(seed=1)
    base = segmentation_scores(pred, true)
    empty = np.zeros((1, *true.shape[1:]), dtype=true.dtype)
    all_wrong = np.ones_like(empty)
    more = segmentation_scores(np.concatenate([pred, all_wrong]), np.concatenate([true, empty]))
    assert more["images"] == base["images"]
    assert {k: more[k] for k in ("iou", "dsc", "precision", "recall")} == \
        {k: base[k] for k in ("iou", "dsc", "precision", "recall")}
    none = segmentation_scores(all_wrong, empty)
    assert none["images"] == 0 and np.isnan(none["iou"]) and np.isnan(none["per_class"][1]["dsc"])


def test_a_class_no_image_holds_scores_nan():
    true = np.array([[[0, 1], [1, 0]]])
    scores = segmentation_scores(true, true, num_classes=3)
    assert scores["iou"] == 1.0
    assert np.isnan(scores["per_class"][2]["recall"])


def test_torch_numpy_and_bool_masks_agree():
    pred, true = binary_masks(seed=2)
    reference = segmentation_scores(pred, true)
    assert segmentation_scores(torch.from_numpy(pred), torch.from_numpy(true)) == reference
    assert segmentation_scores(pred.astype(bool), true.astype(np.uint8)) == reference


@pytest.mark.parametrize("pred, true, message", [
    (np.zeros((2, 4, 4), int), np.zeros((2, 4, 5), int), "same shape"),
    (np.zeros((2, 4, 4), int), -np.ones((2, 4, 4), int), "class indices >= 0, got -1"),
    (np.zeros((2, 4, 4)), np.zeros((2, 4, 4), int), "integer class indices, got dtype float64"),
    (np.zeros((4, 4), int), np.zeros((4, 4), int), r"shape \(images, height, width\)"),
    (np.zeros((0, 4, 4), int), np.zeros((0, 4, 4), int), "none of them 0"),
])
def test_bad_masks_are_config_errors(pred, true, message):
    with pytest.raises(ConfigError, match=message):
        segmentation_scores(pred, true)


def test_values_beyond_num_classes_are_config_errors():
    masks = np.array([[[0, 3]]])
    with pytest.raises(ConfigError, match="hold class 3, but num_classes is 3"):
        segmentation_scores(masks, masks, num_classes=3)
    with pytest.raises(ConfigError, match="num_classes must be an integer >= 2"):
        segmentation_scores(masks, masks, num_classes=1)
    with pytest.raises(ConfigError, match="hold class 3, but num_classes is 2"):
        pixel_counts(masks, 2)


def test_pixel_counts_and_imbalance_ratio_by_hand():
    masks = np.zeros((3, 10, 10), dtype=np.uint8)
    masks[0, :1] = 1  # 90 background / 10 foreground
    masks[1, :5] = 2  # 50 / 50
    masks[1, 0, 0] = 1
    # image 2 has no foreground and is not averaged
    assert pixel_counts(masks, 3).tolist() == [240, 11, 49]
    assert pixel_counts(torch.from_numpy(masks), 4).dtype == np.int64
    assert imbalance_ratio(masks) == pytest.approx((9.0 + 1.0) / 2)
    assert imbalance_ratio(torch.from_numpy(masks)) == pytest.approx(5.0)
    assert np.isnan(imbalance_ratio(masks[2:]))


def test_a_thousand_masks_of_256_pixels_score_in_well_under_a_second():
    rng = np.random.default_rng(0)
    true = (rng.integers(0, 10, (1000, 256, 256), dtype=np.uint8) == 0).view(np.uint8)
    pred = true ^ (rng.integers(0, 10, true.shape, dtype=np.uint8) == 0).view(np.uint8)
    start = time.process_time()
    scores = segmentation_scores(pred, true)
    assert time.process_time() - start < 0.5
    assert scores["images"] == 1000
