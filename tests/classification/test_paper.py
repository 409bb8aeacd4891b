"""The published tables load as DataFrames and agree with each other."""

import pytest

from lmf.classification import paper
from lmf.core.errors import ConfigError


def test_every_table_loads():
    for name in paper.TABLES:
        assert not paper.load(name).empty


def test_split_counts_add_up_to_table1():
    per_class = paper.split_counts().groupby("dataset")[["train", "val", "test"]].sum()
    table1 = paper.table1().set_index("dataset")
    assert per_class.loc[table1.index].equals(table1)


def test_split_counts_partition_each_class_total():
    counts = paper.split_counts()
    assert (counts.train + counts.val + counts.test == counts.total).all()


def test_tables_2_to_4_cover_every_model_dataset_loss_once():
    overall = paper.overall()
    assert len(overall) == 3 * 4 * 5
    assert not overall.duplicated(["model", "dataset", "loss"]).any()
    assert set(overall.model) == set(paper.PAPER_MODELS)
    assert set(overall.loss) == set(paper.PAPER_LOSSES)


def test_table5_training_counts_match_the_split_counts():
    merged = paper.table5().merge(paper.split_counts(), on=["dataset", "class"])
    assert len(merged) == len(paper.table5())
    assert (merged.train_samples == merged.train).all()


def test_lmf_weights_read_table6():
    assert paper.lmf_weights("ham10000", "efficientnetv2_s") == (1.0, 2.0)
    assert paper.lmf_weights("ham10000", "resnet50") == (0.5, 1.0)


def test_class_totals_are_sorted_by_name():
    totals = paper.class_totals("covid19")
    assert list(totals) == ["Covid", "LO", "Normal", "VP"]
    assert totals["Normal"] == 10192


@pytest.mark.parametrize("call", [lambda: paper.load("table9"),
                                  lambda: paper.lmf_weights("mnist", "resnet50"),
                                  lambda: paper.class_totals("mnist")])
def test_unknown_names_list_the_valid_ones(call):
    with pytest.raises(ConfigError, match="valid choices"):
        call()
