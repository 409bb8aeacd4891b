"""The published numbers of the LMF paper as DataFrames.

The TSV files in ``data/paper/`` are copied from the paper (Sadi et al., journal version, seed
``000``); ``data/paper/README.md`` says which table each comes from. Dataset ids are
``odir5k``, ``ham10000``, ``isic2019``, ``covid19``; model ids ``efficientnetv2_s``, ``resnet50``,
``densenet121``; loss ids ``cce``, ``focal``, ``ldam``, ``bwcce``, ``lmf``. Scores are percentages.

Beside them, the long-tailed CIFAR numbers of Cao et al. 2019 (LDAM-DRW, NeurIPS, Table 2:
top-1 test error %, exponential profile, ρ = 100), the field's yardstick (``cao2019``).
"""

from __future__ import annotations

import pandas as pd

from lmf.core.errors import unknown_choice
from lmf.core.paths import paper_dir

TABLES = {
    "split_counts": "split_counts.tsv",
    "table1": "table1_split_sizes.tsv",
    "tables2-4": "tables2-4_overall.tsv",
    "table5": "table5_classwise_f1_efficientnetv2_s.tsv",
    "table6": "table6_lmf_alpha_beta.tsv",
    "cao2019": "cao2019_cifar_lt.tsv",
}

PAPER_DATASETS = ("odir5k", "ham10000", "isic2019", "covid19")
PAPER_MODELS = ("efficientnetv2_s", "resnet50", "densenet121")
PAPER_LOSSES = ("cce", "focal", "ldam", "bwcce", "lmf")


def load(name: str) -> pd.DataFrame:
    """One published table by name (see ``TABLES``)."""
    if name not in TABLES:
        raise unknown_choice("paper table", name, TABLES)
    return pd.read_csv(paper_dir() / TABLES[name], sep="\t")


def split_counts() -> pd.DataFrame:
    """Per dataset and class: public total and the paper's train/val/test counts."""
    return load("split_counts")


def table1() -> pd.DataFrame:
    """Table 1: train/val/test sizes per dataset."""
    return load("table1")


def overall() -> pd.DataFrame:
    """Tables 2–4: accuracy, precision, recall, macro-F1 per model × dataset × loss."""
    return load("tables2-4")


def table5() -> pd.DataFrame:
    """Table 5: per-class test F1 of EfficientNetV2-S, with training counts (wide over losses)."""
    return load("table5")


def table6() -> pd.DataFrame:
    """Table 6: the LMF weights α, β behind each published LMF result."""
    return load("table6")


def cao2019() -> pd.DataFrame:
    """Cao et al. 2019, Table 2: top-1 test error (%) per long-tailed CIFAR set and method.

    Columns ``dataset`` (``cifar10_lt``/``cifar100_lt``), ``imbalance`` (ρ), ``profile``
    (``exp``), ``method`` (as printed), ``loss`` (the lmf loss that plays the method in the
    ``cifar_lt`` grid; empty, NaN, where none does), ``top1_error`` and ``source``.
    """
    return load("cao2019")


def lmf_weights(dataset: str, model: str) -> tuple[float, float]:
    """The (α, β) the paper used for LMF on ``dataset`` × ``model`` (Table 6)."""
    row = table6().query("dataset == @dataset and model == @model")
    if row.empty:
        raise unknown_choice("dataset/model pair of Table 6", f"{dataset}/{model}",
                             [f"{d}/{m}" for d in PAPER_DATASETS for m in PAPER_MODELS])
    return float(row.alpha.iloc[0]), float(row.beta.iloc[0])


def class_order() -> dict[str, list[str]]:
    """Each paper dataset's classes in the order the published tables list them (Table 5 and the
    per-class split), keyed by dataset in ``PAPER_DATASETS`` order."""
    counts = split_counts()
    return {d: counts.loc[counts.dataset == d, "class"].astype(str).tolist()
            for d in PAPER_DATASETS}


def class_totals(dataset: str) -> dict[str, int]:
    """Public per-class totals of a paper dataset, in sorted class-name order."""
    rows = split_counts().query("dataset == @dataset")
    if rows.empty:
        raise unknown_choice("paper dataset", dataset, PAPER_DATASETS)
    return {str(c): int(n) for c, n in sorted(zip(rows["class"], rows.total, strict=True))}
