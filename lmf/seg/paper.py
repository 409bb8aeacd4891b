"""The published numbers of Cui et al. 2024 (Tables 1–6) as DataFrames.

Cui et al., "A Unified Approach Addressing Class Imbalance in Magnetic Resonance Image for Deep
Learning Models" (IEEE Access 2024, seed ``003``). The TSV files in ``data/paper/`` are copied
from the paper; ``data/paper/README.md`` says which table each holds and lists the paper's
errors. One row per dataset × model × setting, with the columns ``dataset``,
``dataset_as_printed``, ``model``, ``setting``, ``setting_as_printed``, ``iou``, ``dsc``,
``precision``, ``recall``. Scores are fractions, as printed; the printed IoU/DSC pairs follow
neither definition of the paper's swapped Eqs 13–14 (see the README), so they are not
comparable with this project's ``iou`` and ``dsc`` beyond their order of magnitude.
"""

from __future__ import annotations

import pandas as pd

from lmf.core.errors import unknown_choice
from lmf.core.paths import paper_dir

PUBLISHED_TABLES = {
    1: "cui2024_table1_models.tsv",
    2: "cui2024_table2_sas.tsv",
    3: "cui2024_table3_losses.tsv",
    4: "cui2024_table4_resizing.tsv",
    5: "cui2024_table5_attention.tsv",
    6: "cui2024_table6_balancing.tsv",
}


def published_table(number: int) -> pd.DataFrame:
    """Cui et al.'s Table ``number`` (1–6, see ``PUBLISHED_TABLES``), in the printed row order."""
    if isinstance(number, bool) or number not in PUBLISHED_TABLES:
        raise unknown_choice("table of Cui et al. 2024", number, PUBLISHED_TABLES)
    return pd.read_csv(paper_dir() / PUBLISHED_TABLES[number], sep="\t")
