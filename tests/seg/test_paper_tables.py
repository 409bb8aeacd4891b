"""Cui et al. 2024's Tables 1–6 as transcribed in data/paper/, checked against the print.

``cui2024_tables_as_printed.txt`` holds the tables' lines exactly as the seed text prints them
(tab-separated, blank lines dropped). A small reader here turns them into rows, independently of
the TSV files, and every label and number of the files is compared with it; the values the prose
quotes are checked against the tables as numbers written out here.
"""

import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from lmf.core.errors import ConfigError
from lmf.core.paths import paper_dir
from lmf.seg.paper import PUBLISHED_TABLES, published_table

PRINTED = Path(__file__).with_name("cui2024_tables_as_printed.txt")
TEXT_COLUMNS = ["dataset", "dataset_as_printed", "model", "setting", "setting_as_printed"]
SCORES = ["iou", "dsc", "precision", "recall"]
DATASET_IDS = {"BUS2017": "bus2017", "DDTI": "ddti", "LiTS MICCAI 2017": "lits2017",
               "LITS MICCAI 2017": "lits2017", "ATLAS dataset": "atlas",
               "BRATS 2015": "brats2015"}
MODEL_IDS = {"UNet": "unet", "FCN": "fcn", "RCNN": "rcnn", "SegNet": "segnet",
             "DeepLab-V3": "deeplabv3"}
#: The setting of each printed label; Tables 2–4 print one setting and no label.
SETTINGS = {
    1: {"Models' score before application of class misbalancing strategy": "baseline",
        "Models' score after application of class misbalancing strategy": "proposed"},
    2: {"Selective attention strategy": "sas"},
    3: {"unified loss function": "unified focal"},
    4: {"progressive resizing": "progressive resizing"},
    5: {"spatial": "spatial", "channel": "channel", "hybrid": "hybrid", "SAS": "sas"},
    6: {"Random Oversampling": "random oversampling",
        "Synthetic Minority Oversampling (SMO)": "smo",
        "SMO-Iterative Partitioning Filter": "smo-ipf", "SAS": "sas", "DeepLab-V3": "sas"},
}


def printed_tables() -> dict[int, list[dict]]:
    """Rows of each printed table: dataset, model, setting label (as printed) and score strings.

    A block of rows starts at a header line ("Model ..." or "Models' score ...") or, in Tables 5
    and 6, at a row naming the model; the block's dataset is the one name printed in its last
    column or in its header's. Tables 2–4 take their one label from the caption.
    """
    blocks: list[tuple[int, list[dict]]] = []
    table, label, model = 0, None, None
    for line in PRINTED.read_text().splitlines():
        cells = line.split("\t")
        heading = re.match(r"TABLE (\d)\.", line)
        if heading:
            table = int(heading.group(1))
            if 2 <= table <= 4:
                (label,) = [name for name in SETTINGS[table] if name in line]
            continue
        if line.startswith("Models' score"):
            label = cells[0]
            blocks.append((table, []))
        elif cells[0] == "Model":
            if not blocks or blocks[-1][1]:
                blocks.append((table, []))
            if cells[-1] not in ("", "Dataset"):
                blocks[-1][1].append({"dataset": cells[-1]})
        elif table >= 5:
            if cells[0]:
                model = cells[0]
                blocks.append((table, []))
            blocks[-1][1].append({"model": model, "label": cells[1], "scores": cells[2:6],
                                  "dataset": cells[6]})
        else:
            blocks[-1][1].append({"model": cells[0], "label": label, "scores": cells[1:5],
                                  "dataset": cells[5]})
    tables: dict[int, list[dict]] = {}
    for table, rows in blocks:
        if rows:
            (dataset,) = {row["dataset"] for row in rows} - {""}
            tables.setdefault(table, []).extend(
                {**row, "dataset": dataset} for row in rows if "scores" in row)
    return tables


PRINT = printed_tables()


def as_printed(number: int) -> pd.DataFrame:
    """The TSV file of Table ``number`` read as text, every cell as written."""
    return pd.read_csv(paper_dir() / PUBLISHED_TABLES[number], sep="\t", dtype=str)


def row(number: int, dataset: str, model: str, setting: str) -> tuple[float, ...]:
    table = published_table(number)
    chosen = table[(table.dataset == dataset) & (table.model == model)
                   & (table.setting == setting)]
    assert len(chosen) == 1
    return tuple(chosen[SCORES].iloc[0])


@pytest.mark.parametrize("number", sorted(PUBLISHED_TABLES))
def test_every_table_has_the_columns_and_dtypes(number):
    table = published_table(number)
    assert list(table.columns) == TEXT_COLUMNS + SCORES
    assert all(pd.api.types.is_string_dtype(table[c]) for c in TEXT_COLUMNS)
    assert (table[SCORES].dtypes == "float64").all()
    assert table.notna().all().all()
    assert ((table[SCORES] >= 0) & (table[SCORES] <= 1)).all().all()


@pytest.mark.parametrize("number", sorted(PUBLISHED_TABLES))
def test_every_label_and_number_is_as_printed(number):
    printed = PRINT[number]
    written = as_printed(number)
    assert len(written) == len(printed)
    for (_, got), want in zip(written.iterrows(), printed, strict=True):
        assert got.dataset_as_printed == want["dataset"]
        assert got.dataset == DATASET_IDS[want["dataset"]]
        assert got.model == MODEL_IDS[want["model"]]
        assert got.setting_as_printed == want["label"]
        assert got.setting == SETTINGS[number][want["label"]]
        assert list(got[SCORES]) == want["scores"]


def test_row_counts_and_the_missing_segnet_rows():
    assert {n: len(published_table(n)) for n in PUBLISHED_TABLES} == \
        {1: 46, 2: 25, 3: 25, 4: 10, 5: 8, 6: 8}
    table1 = published_table(1)
    proposed_segnet = table1[(table1.model == "segnet") & (table1.setting == "proposed")]
    assert proposed_segnet.dataset.tolist() == ["brats2015"]
    table6 = as_printed(6)
    garbled = table6[table6.setting_as_printed == "DeepLab-V3"]
    assert garbled[["dataset", "setting"]].values.tolist() == [["lits2017", "sas"]]


def test_abstract_deeplabv3_on_bus2017():
    proposed = row(1, "bus2017", "deeplabv3", "proposed")
    baseline = row(1, "bus2017", "deeplabv3", "baseline")
    assert proposed == (0.893, 0.953, 0.943, 0.944)
    gains = [round(100 * (p - b)) for p, b in zip(proposed, baseline, strict=True)]
    assert gains == [6, 5, 4, 4]  # "5% in DSC, 6% in IoU, 4% in precision, ... 4% in recall"


def test_unet_iou_sentence():
    assert row(1, "bus2017", "unet", "baseline")[0] == 0.820
    assert row(1, "bus2017", "unet", "proposed")[0] == 0.860


@pytest.mark.parametrize("dataset, iou_gain, dsc_gain", [("atlas", 5, 7), ("lits2017", 5, 9)])
def test_atlas_and_lits_gains(dataset, iou_gain, dsc_gain):
    baseline = row(1, dataset, "deeplabv3", "baseline")
    proposed = row(1, dataset, "deeplabv3", "proposed")
    assert round(100 * (proposed[0] - baseline[0])) == iou_gain
    assert round(100 * (proposed[1] - baseline[1])) == dsc_gain
    if dataset == "atlas":
        assert (baseline[1], proposed[1]) == (0.628, 0.695)  # "DSC=0.628, DSC=0.695"


def test_sas_sentence():
    assert row(2, "bus2017", "deeplabv3", "sas") == (0.871, 0.920, 0.933, 0.921)
    unet = row(2, "bus2017", "unet", "sas")
    assert unet[1] == 0.921
    assert unet[0] == 0.849  # the prose's UNet IoU 0.739 is FCN's
    assert row(2, "bus2017", "fcn", "sas")[0] == 0.739


def test_unified_loss_dscs_quoted_in_the_text():
    table3 = published_table(3)
    deeplab = table3[table3.model == "deeplabv3"].set_index("dataset").dsc.to_dict()
    assert deeplab == {"bus2017": 0.910, "ddti": 0.865, "lits2017": 0.741, "atlas": 0.673,
                       "brats2015": 0.791}


def test_sas_rows_of_tables_5_and_6_against_table1():
    for dataset, offsets in [("brats2015", (0.010, 0.010, 0.010, 0.010)),
                             ("lits2017", (0.020, 0.010, 0.020, 0.010))]:
        whole = row(1, dataset, "deeplabv3", "proposed")
        assert row(5, dataset, "deeplabv3", "sas") == whole
        table6 = row(6, dataset, "deeplabv3", "sas")
        assert [round(t - w, 3) for t, w in zip(table6, whole, strict=True)] == list(offsets)


@pytest.mark.parametrize("number, setting, below, scores", [
    (1, "proposed", 1, 84), (2, "sas", 15, 100), (3, "unified focal", 37, 100),
    (4, "progressive resizing", 21, 40)])
def test_scores_below_table1_baseline(number, setting, below, scores):
    table1 = published_table(1)
    keys = ["dataset", "model"]
    baseline = table1[table1.setting == "baseline"].set_index(keys)[SCORES]
    table = published_table(number)
    ablation = table[table.setting == setting].set_index(keys)[SCORES]
    difference = ablation - baseline.loc[ablation.index]
    assert difference.size == scores
    assert int((difference.round(6) < 0).sum().sum()) == below


def _pair_fits(iou: str, dsc: str) -> bool:
    """Whether some true IoU J and Dice D = 2J / (1 + J) round to the printed strings."""
    def bounds(printed):
        half = Decimal(5).scaleb(Decimal(printed).as_tuple().exponent - 1)
        return float(Decimal(printed) - half), float(Decimal(printed) + half)

    (j_lo, j_hi), (d_lo, d_hi) = bounds(iou), bounds(dsc)
    return 2 * j_lo / (1 + j_lo) <= d_hi and 2 * j_hi / (1 + j_hi) >= d_lo


def test_iou_dsc_pairs_counted_in_the_readme():
    rows = pd.concat([as_printed(n).assign(table=n) for n in PUBLISHED_TABLES])
    consistent = rows[[_pair_fits(r.iou, r.dsc) for r in rows.itertuples()]]
    swapped = rows[[_pair_fits(r.dsc, r.iou) for r in rows.itertuples()]]
    impossible = rows[rows.dsc.astype(float) < rows.iou.astype(float)]
    assert consistent[["table", "dataset", "model", "setting", "iou", "dsc"]].values.tolist() \
        == [[1, "bus2017", "rcnn", "baseline", "0.822", "0.903"]]
    assert swapped.empty
    assert len(impossible) == 87
    assert len(rows) - len(consistent) - len(impossible) == 34
    readme = (paper_dir() / "README.md").read_text()
    assert "87 of 122 rows print DSC < IoU" in readme
    assert "the other 34 rows" in readme


def test_pair_check_on_hand_made_pairs():
    assert _pair_fits("0.500", "0.667")  # 2·0.5 / 1.5 = 0.6667
    assert not _pair_fits("0.500", "0.670")
    assert _pair_fits("0.5", "0.68")  # J up to 0.55 gives D up to 0.7097
    assert not _pair_fits("0.733", "0.653")


@pytest.mark.parametrize("number", [0, 7, "1", True])
def test_unknown_table_numbers_list_the_valid_ones(number):
    with pytest.raises(ConfigError, match="valid choices: 1, 2, 3, 4, 5, 6"):
        published_table(number)
