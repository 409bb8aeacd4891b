"""Region scores on hand-made maps, box scaling, box CSV validation, lung masks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from lmf.classification.cam.scores import (
    box_region,
    boxes_for,
    energy_share,
    foreground_region,
    mask_path,
    mask_region,
    pointing_game,
    read_boxes,
    scale_boxes,
)
from lmf.core.errors import DataError


def test_energy_share_and_pointing_game_by_hand():
    attention = np.zeros((4, 4))
    attention[0, 0] = 3.0  # the peak, outside the region
    attention[2:4, 2:4] = 1.0  # 4 units inside
    region = np.zeros((4, 4), dtype=bool)
    region[2:4, 2:4] = True
    assert energy_share(attention, region) == pytest.approx(4 / 7)
    assert pointing_game(attention, region) == 0.0
    attention[3, 3] = 3.0  # a tie for the maximum, one inside the region: a hit
    assert pointing_game(attention, region) == 1.0
    assert energy_share(attention, region) == pytest.approx(6 / 9)


def test_uniform_map_scores_the_area_fraction_and_zero_map_is_nan():
    region = np.zeros((10, 10), dtype=bool)
    region[:3, :] = True
    assert energy_share(np.ones((1, 10, 10)), region) == pytest.approx(0.3)
    assert math.isnan(energy_share(np.zeros((10, 10)), region))
    assert math.isnan(pointing_game(np.zeros((10, 10)), region))
    assert pointing_game(np.ones((10, 10)), np.zeros((10, 10), dtype=bool)) == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        energy_share(np.ones((4, 4)), np.ones((5, 5), dtype=bool))


def test_box_is_scaled_from_original_pixels_to_map_pixels():
    # a 200 x 100 (W x H) image, a 20 x 10 map: one map pixel = 10 original pixels
    region = box_region([[50, 20, 100, 60]], image_size=(100, 200), map_size=(10, 20))
    expected = np.zeros((10, 20), dtype=bool)
    expected[2:6, 5:10] = True
    np.testing.assert_array_equal(region, expected)
    np.testing.assert_allclose(scale_boxes([[50, 20, 100, 60]], (100, 200), (10, 20)),
                               [[5, 2, 10, 6]])


def test_several_boxes_form_a_union_and_tiny_boxes_still_count():
    region = box_region([[0, 0, 10, 10], [30, 30, 40, 40]], (40, 40), (4, 4))
    assert region.sum() == 2 and region[0, 0] and region[3, 3]
    tiny = box_region([[21, 21, 22, 22]], (40, 40), (4, 4))  # covers no pixel centre
    assert tiny.sum() == 1 and tiny[2, 2]


def test_box_outside_the_image_is_a_data_error():
    with pytest.raises(DataError, match=r"outside the 40×30 image"):
        box_region([[0, 0, 41, 10]], image_size=(30, 40), map_size=(8, 8), sample="a.png")


def test_read_boxes_from_csv_and_match_by_id_or_file_name(tmp_path):
    path = tmp_path / "boxes.csv"
    path.write_text("image,x0,y0,x1,y1,note\nCOVID-1.png,1,2,30,40,left lung\n7,0,0,5,5,\n")
    boxes = read_boxes(path)
    assert list(boxes.columns) == ["image", "x0", "y0", "x1", "y1"]
    np.testing.assert_allclose(boxes_for(boxes, "COVID/COVID-1", tmp_path / "COVID-1.png"),
                               [[1, 2, 30, 40]])
    np.testing.assert_allclose(boxes_for(boxes, "7"), [[0, 0, 5, 5]])
    assert boxes_for(boxes, "8").shape == (0, 4)


@pytest.mark.parametrize("rows, message", [
    ("image,x0,y0,x1\na,0,0,5\n", "lacks the column\\(s\\) y1"),
    ("image,x0,y0,x1,y1\na,10,0,5,5\n", "row 1 \\(image 'a'\\).*x0 < x1 and y0 < y1"),
    ("image,x0,y0,x1,y1\na,0,0,5,5\nb,0,9,5,5\n", "row 2 \\(image 'b'\\).*x0 < x1"),
    ("image,x0,y0,x1,y1\na,-3,0,5,5\n", "negative corner"),
    ("image,x0,y0,x1,y1\na,zero,0,5,5\n", "must be numbers"),
])
def test_bad_box_csv_is_a_clear_data_error(tmp_path, rows, message):
    path = tmp_path / "boxes.csv"
    path.write_text(rows)
    with pytest.raises(DataError, match=message):
        read_boxes(path)


def test_missing_box_file_and_dataframe_input(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_boxes(tmp_path / "none.csv")
    frame = pd.DataFrame({"image": [3], "x0": [0], "y0": [0], "x1": [2], "y1": [2]})
    assert read_boxes(frame)["image"].tolist() == ["3"]


def save_gray(path, pixels) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)


def test_lung_mask_beside_the_images_is_resized_to_the_map(tmp_path):
    image = tmp_path / "COVID" / "images" / "COVID-1.png"
    save_gray(image, np.zeros((256, 256)))
    assert mask_path(image) is None  # no mask shipped
    mask_file = tmp_path / "COVID" / "masks" / "COVID-1.png"
    pixels = np.zeros((256, 256), dtype=np.uint8)
    pixels[:, 128:] = 255  # right half is lung
    save_gray(mask_file, pixels)
    assert mask_path(image) == mask_file
    region = mask_region(mask_file, (8, 8))
    expected = np.zeros((8, 8), dtype=bool)
    expected[:, 4:] = True
    np.testing.assert_array_equal(region, expected)
    attention = np.zeros((8, 8))
    attention[:, 6] = 1.0
    assert energy_share(attention, region) == 1.0 and pointing_game(attention, region) == 1.0


def test_masks_of_covid_and_of_both_ham10000_layouts_are_found(tmp_path):
    """The index paths of fixture trees in the real layouts lead to the shipped masks."""
    from lmf.data.sources import covid19, ham10000

    covid = tmp_path / "covid" / "COVID-19_Radiography_Dataset"
    for folder in covid19.FOLDERS:
        save_gray(covid / folder / "images" / f"{folder}-1.png", np.zeros((4, 4)))
        save_gray(covid / folder / "masks" / f"{folder}-1.png", np.full((4, 4), 255))
    # Layout 1, the Kaggle copy the paper cites: images/ and masks/<image>_segmentation.png
    kaggle = tmp_path / "ham_kaggle"
    (kaggle / "GroundTruth.csv").parent.mkdir(parents=True)
    (kaggle / "GroundTruth.csv").write_text("image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\n"
                                            "ISIC_0024306,0.0,1.0,0.0,0.0,0.0,0.0,0.0\n"
                                            "ISIC_0024307,1,0,0,0,0,0,0\n")
    # Layout 2, the ISIC archive: part folders (and lower-case copies) with the Dataverse
    # segmentations unpacked beside them; one image has no mask
    archive = tmp_path / "ham_archive"
    (archive / "HAM10000_metadata.csv").parent.mkdir(parents=True)
    (archive / "HAM10000_metadata.csv").write_text(
        "lesion_id,image_id,dx,dx_type,age,sex,localization\n"
        "HAM_0000118,ISIC_0027419,bkl,histo,80.0,male,scalp\n"
        "HAM_0000119,ISIC_0027420,nv,histo,75.0,female,back\n")
    for name in ("ISIC_0024306", "ISIC_0024307"):
        save_gray(kaggle / "images" / f"{name}.jpg", np.zeros((9, 12)))
        save_gray(kaggle / "masks" / f"{name}_segmentation.png", np.full((9, 12), 255))
    for part, name in ((1, "ISIC_0027419"), (2, "ISIC_0027420")):
        for folder in (f"HAM10000_images_part_{part}", f"ham10000_images_part_{part}"):
            save_gray(archive / folder / f"{name}.jpg", np.zeros((9, 12)))
    segmentations = archive / "HAM10000_segmentations_lesion_tschandl"
    save_gray(segmentations / "ISIC_0027419_segmentation.png", np.full((9, 12), 255))

    def masks(source, root):
        return {Path(p).name: mask_path(p) for p in source.read_index(root)["path"]}

    assert masks(covid19, tmp_path / "covid") == {
        f"{folder}-1.png": covid / folder / "masks" / f"{folder}-1.png"
        for folder in covid19.FOLDERS}
    assert masks(ham10000, kaggle) == {
        "ISIC_0024306.jpg": kaggle / "masks" / "ISIC_0024306_segmentation.png",
        "ISIC_0024307.jpg": kaggle / "masks" / "ISIC_0024307_segmentation.png"}
    assert masks(ham10000, archive) == {
        "ISIC_0027419.jpg": segmentations / "ISIC_0027419_segmentation.png",
        "ISIC_0027420.jpg": None}
    assert mask_region(segmentations / "ISIC_0027419_segmentation.png", (3, 4)).all()


def test_unreadable_mask_is_a_data_error(tmp_path):
    broken = tmp_path / "m.png"
    broken.write_text("not a png")
    with pytest.raises(DataError, match="cannot read the mask"):
        mask_region(broken, (4, 4))


def test_foreground_region_is_the_bright_strokes():
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    image[1:3, 1] = 200
    image[0, 0] = 99  # below half of the maximum
    expected = np.zeros((4, 4), dtype=bool)
    expected[1:3, 1] = True
    np.testing.assert_array_equal(foreground_region(image), expected)
    assert not foreground_region(np.zeros((4, 4))).any()
