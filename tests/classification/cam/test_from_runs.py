"""figure3 end to end on five tiny digits-LT runs, and the region rules on real image files."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lmf.classification.cam import figure3
from lmf.classification.cam.figure import CamRow
from lmf.classification.cam.from_runs import _attach_region
from lmf.classification.cam.scores import read_boxes
from lmf.classification.profiles import get_profile
from lmf.core.errors import ConfigError, DataError

LOSSES = ["cce", "ldam", "lmf"]  # a subset keeps the test short; order as in the paper


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Five one-epoch runs of the cpu profile (LMF_DATA/RESULTS/FIGURES in a temp folder)."""
    from lmf.classification.train import fit
    from lmf.core.runs import load_runs

    root = tmp_path_factory.mktemp("store")
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("LMF_DATA", "LMF_RESULTS", "LMF_FIGURES"):
            patch.setenv(variable, str(root / variable.lower()))
        for loss in reversed(LOSSES):  # trained out of order; figure3 restores the order
            fit(get_profile("cpu").config("digits_lt", "efficientnetv2_s", loss, epochs=1,
                                       device="cpu"), quiet=True)
        yield root, load_runs()


@pytest.fixture
def env(store, monkeypatch):
    root, runs = store
    for variable in ("LMF_DATA", "LMF_RESULTS", "LMF_FIGURES"):
        monkeypatch.setenv(variable, str(root / variable.lower()))
    return root, runs


@pytest.mark.slow
def test_figure3_from_runs_writes_figure_and_table(env):
    from lmf.core.runs import load_predictions

    root, runs = env
    fig, scores = figure3(runs, "cpu", foreground=True)
    assert scores["loss"].tolist() == LOSSES  # the paper's column order
    assert (scores["images"] == 1).all() and (scores["with_region"] == 1).all()
    assert len(fig.axes) == 1 + len(LOSSES) + 1  # image, one map per loss, the colourbar
    # the cpu profile's Fig 3 class is digit 0
    assert fig.axes[0].get_ylabel().split("\n")[:2] == ["digits_lt", "true 0"]
    out = root / "lmf_figures" / "cpu"
    for name in ("fig3_gradcam.png", "fig3_gradcam.pdf", "table_fig3_scores.csv",
                 "table_fig3_scores.md"):
        assert (out / name).stat().st_size > 0
    per_image = pd.read_csv(out / "table_fig3_scores_per_image.csv", dtype={"image": str})
    sample = per_image["image"].iloc[0]
    predictions = {row.loss: load_predictions(row.run_dir) for row in runs.itertuples()}
    for loss, pred in predictions.items():  # the figure's predictions are the runs' own
        position = pred["ids"].index(sample)
        assert pred["labels"][position] == 0
        shown = per_image.set_index("loss").loc[loss, "predicted"]
        assert str(shown) == str(int(np.argmax(pred["logits"][position])))
    plt.close(fig)


@pytest.mark.slow
def test_figure3_with_given_ids_and_boxes(env):
    _, runs = env
    from lmf.core.runs import load_predictions

    ids = load_predictions(runs.run_dir.iloc[0])["ids"][:2]
    boxes = pd.DataFrame({"image": [ids[0]], "x0": [0], "y0": [0], "x1": [16], "y1": [32]})
    fig, scores = figure3(runs, "cpu", save=False, ids={"digits_lt": ids}, boxes=boxes,
                          backend="gcampp", foreground=False)
    assert (scores["images"] == 2).all() and (scores["with_region"] == 1).all()
    assert len(fig.axes) == 2 * (1 + len(LOSSES)) + 1  # two rows and the colourbar
    plt.close(fig)
    with pytest.raises(DataError, match="no test image with id nope"):
        figure3(runs, "cpu", save=False, ids={"digits_lt": ["nope"]})
    with pytest.raises(ConfigError, match="unknown dataset of the runs 'ham10000'"):
        figure3(runs, "cpu", save=False, ids={"ham10000": ["x"]})


def test_figure3_rejects_several_models_and_no_runs():
    runs = pd.DataFrame({"model": ["a", "b"], "dataset": ["d", "d"], "loss": ["cce", "lmf"],
                         "seed": [0, 0], "run_dir": ["x", "y"]})
    with pytest.raises(ConfigError, match="one model, the runs hold 2: a, b"):
        figure3(runs, "cpu", save=False)
    with pytest.raises(ConfigError, match="needs finished runs"):
        figure3(pd.DataFrame(), "cpu", save=False)
    with pytest.raises(ConfigError, match="unknown Grad-CAM backend 'gbp'"):
        figure3(runs, "cpu", save=False, backend="gbp")
    with pytest.raises(ConfigError, match="ids maps dataset ids"):
        figure3(runs.iloc[:1], "cpu", save=False, ids=["x"])


def make_row(size=8):
    image = np.zeros((size, size, 3), dtype=np.uint8)
    return CamRow(dataset="covid19", sample_id="Lung_Opacity/Lung_Opacity-1", image=image,
                  true_class="LO", maps={}, predicted={})


def test_boxes_in_original_pixels_of_the_source_file(tmp_path):
    source = tmp_path / "Lung_Opacity" / "images" / "Lung_Opacity-1.png"
    source.parent.mkdir(parents=True)
    Image.new("L", (80, 40)).save(source)  # 80 wide, 40 high; the map is 8 × 8
    boxes = read_boxes(pd.DataFrame({"image": ["Lung_Opacity-1.png"], "x0": [40], "y0": [0],
                                     "x1": [80], "y1": [20]}))
    row = make_row()
    _attach_region(row, boxes, source, foreground=False)
    expected = np.zeros((8, 8), dtype=bool)
    expected[:4, 4:] = True
    assert row.region_kind == "box"
    np.testing.assert_array_equal(row.region, expected)
    np.testing.assert_allclose(row.boxes, [[4, 0, 8, 4]])
    outside = read_boxes(pd.DataFrame({"image": ["Lung_Opacity-1.png"], "x0": [0], "y0": [0],
                                       "x1": [81], "y1": [20]}))
    with pytest.raises(DataError, match="outside the 80×40 image"):
        _attach_region(make_row(), outside, source, foreground=False)


def test_lung_mask_is_the_region_without_boxes(tmp_path):
    source = tmp_path / "Lung_Opacity" / "images" / "Lung_Opacity-1.png"
    masks = tmp_path / "Lung_Opacity" / "masks"
    source.parent.mkdir(parents=True)
    masks.mkdir()
    Image.new("L", (16, 16)).save(source)
    lung = np.zeros((16, 16), dtype=np.uint8)
    lung[8:, :] = 255
    Image.fromarray(lung).save(masks / source.name)
    row = make_row()
    _attach_region(row, None, source, foreground=True)
    assert row.region_kind == "mask" and row.boxes is None
    assert row.region[4:].all() and not row.region[:4].any()
    bare = make_row()
    _attach_region(bare, None, tmp_path / "elsewhere.png", foreground=False)
    assert bare.region_kind == "none" and bare.region is None


COVID_FOLDERS = ("COVID", "Lung_Opacity", "Normal", "Viral Pneumonia")


def covid_tree(root, per_class=14, side=20):
    """The COVID-19 Radiography layout: <class>/images/*.png with lung masks in <class>/masks/."""
    rng = np.random.default_rng(0)
    lung = np.zeros((side, side), dtype=np.uint8)
    lung[:, side // 2:] = 255  # the right half is "lung"
    for folder in COVID_FOLDERS:
        for i in range(1, per_class + 1):
            name = f"{folder}-{i}.png"
            for sub, pixels in (("images", rng.integers(0, 256, (side, side), dtype=np.uint8)),
                                ("masks", lung)):
                path = root / "COVID-19_Radiography_Dataset" / folder / sub / name
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels).save(path)
    return root


@pytest.mark.slow
def test_figure3_on_a_covid_tree_uses_lung_masks_and_original_pixel_boxes(tmp_path,
                                                                          monkeypatch):
    from lmf.classification.profiles import Profile
    from lmf.classification.train import fit
    from lmf.core.runs import load_runs

    for variable in ("LMF_DATA", "LMF_RESULTS", "LMF_FIGURES"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    root = covid_tree(tmp_path / "covid")
    profile = Profile(name="covidtest", datasets={"covid19": "covid19"},
                      models={"efficientnetv2_s": "timm:resnet10t"}, lmf_weights=(1.0, 1.0),
                      run={"epochs": 1, "image_size": 32, "pretrained": False,
                           "device": "cpu"})
    for loss in ("cce", "lmf"):
        fit(profile.config("covid19", "efficientnetv2_s", loss,
                                   data_root=str(root)), quiet=True)
    runs = load_runs()
    # Grad-CAM++ weighs non-negative (post-ReLU) maps by positive gradients only, so even these
    # barely trained models give maps that are not all zeros
    fig, scores = figure3(runs, profile, save=False, backend="gcampp")
    dataset, true, *id_lines = fig.axes[0].get_ylabel().split("\n")
    assert (dataset, true) == ("covid19", "true LO")  # the paper's COVID class
    assert (scores["with_region"] == 1).all()
    assert scores["energy_share"].between(0, 1).all()
    plt.close(fig)
    picked = "".join(id_lines)  # the file's stem, e.g. Lung_Opacity-3
    assert picked.startswith("Lung_Opacity-")
    # a box over the whole 20 × 20 original image holds all of every map's energy
    whole = pd.DataFrame({"image": [picked], "x0": [0], "y0": [0],
                          "x1": [20], "y1": [20]})
    fig, scores = figure3(runs, profile, save=False, boxes=whole, backend="gcampp")
    assert scores["energy_share"].tolist() == [1.0, 1.0]
    assert scores["pointing_game"].tolist() == [1.0, 1.0]
    plt.close(fig)
