"""lmf.core.regression compares regenerated tables with the committed ones, cell by cell."""

from __future__ import annotations

import pytest

from lmf.core.regression import compare_tables, last_digit, summary

TABLE = "dataset,loss,mean,n\ndigits_lt,cce,82.24,3\ndigits_lt,lmf,84.69,3\n"


def _folders(tmp_path, committed: dict[str, str], regenerated: dict[str, str]):
    """Write two folders of CSV files; return (regenerated, committed)."""
    folders = []
    for label, tables in (("regenerated", regenerated), ("committed", committed)):
        folder = tmp_path / label
        folder.mkdir(parents=True)
        for name, text in tables.items():
            (folder / f"{name}.csv").write_text(text)
        folders.append(folder)
    return folders


def _one(tmp_path, regenerated_text: str, *, exact: bool):
    reports = compare_tables(*_folders(tmp_path, {"t": TABLE}, {"t": regenerated_text}),
                             exact=exact)
    assert [r.name for r in reports] == ["t"]
    return reports[0]


@pytest.mark.parametrize("exact", [True, False])
def test_identical_tables_are_the_same(tmp_path, exact):
    report = _one(tmp_path, TABLE, exact=exact)
    assert report.status == "same" and not report.failed
    assert report.largest is None


def test_a_drifted_number_is_named_with_its_size_and_place(tmp_path):
    report = _one(tmp_path, TABLE.replace("84.69", "85.00"), exact=True)
    assert report.status == "drifted" and report.failed
    assert report.largest == pytest.approx(0.31)
    assert report.where == (2, "mean")
    assert "row 2, column 'mean'" in report.line() and "0.31" in report.line()


def test_exact_accepts_no_difference_in_the_last_digit(tmp_path):
    assert _one(tmp_path, TABLE.replace("84.69", "84.70"), exact=True).status == "drifted"


def test_without_the_pin_one_unit_of_the_last_digit_is_close(tmp_path):
    report = _one(tmp_path, TABLE.replace("84.69", "84.70"), exact=False)
    assert report.status == "close" and not report.failed
    assert report.largest == pytest.approx(0.01) and report.where == (2, "mean")
    assert _one(tmp_path / "b", TABLE.replace("84.69", "84.71"), exact=False).status == "drifted"


def test_counts_must_be_equal_even_without_the_pin(tmp_path):
    assert _one(tmp_path, TABLE.replace("84.69,3", "84.69,4"), exact=False).status == "drifted"


def test_a_changed_label_drifts(tmp_path):
    report = _one(tmp_path, TABLE.replace("lmf", "focal"), exact=False)
    assert report.status == "drifted"
    assert "row 2, column 'loss'" in report.detail and "'focal'" in report.detail


def test_other_columns_or_rows_drift(tmp_path):
    assert "columns" in _one(tmp_path, TABLE.replace(",n", ",count"), exact=False).detail
    report = _one(tmp_path / "b", TABLE + "digits_lt,focal,80.00,3\n", exact=False)
    assert report.status == "drifted" and "3 rows instead of 2" in report.detail


def test_missing_and_new_tables(tmp_path):
    regenerated, committed = _folders(tmp_path, {"a": TABLE, "b": TABLE},
                                      {"a": TABLE, "c": TABLE})
    reports = {r.name: r for r in compare_tables(regenerated, committed, exact=True)}
    assert {n: r.status for n, r in reports.items()} == {"a": "same", "b": "missing",
                                                        "c": "new"}
    assert reports["b"].failed and reports["c"].failed
    partial = compare_tables(regenerated, committed, exact=True, partial=True)
    assert [(r.name, r.status) for r in partial] == [("a", "same"), ("c", "new")]
    assert "1 same, 1 missing, 1 new" in summary(list(reports.values()))
    assert "differ" in summary(list(reports.values()))


def test_markdown_twins_are_not_compared(tmp_path):
    regenerated, committed = _folders(tmp_path, {"a": TABLE}, {"a": TABLE})
    (committed / "a.md").write_text("| old |\n")
    (regenerated / "a.md").write_text("| new |\n")
    assert [r.status for r in compare_tables(regenerated, committed, exact=True)] == ["same"]


def test_last_digit():
    assert last_digit("82.24") == pytest.approx(0.01)
    assert last_digit("0.852") == pytest.approx(0.001)
    assert last_digit("1.5e-03") == pytest.approx(1e-4)
    assert last_digit("15") == 0.0
