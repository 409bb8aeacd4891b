"""Overrides of ``lmf reproduce -p``: a name no selected notebook declares, or a value of a type
the parameters cell does not allow, is an error before anything runs."""

from __future__ import annotations

import nbformat
import pytest

from lmf.core.errors import ConfigError
from lmf.core.parameters import cell_parameters, check_overrides, notebook_parameters
from lmf.reproduce import find_notebooks, reproduce

CELL = '''PROFILE = "cpu"  # a comment
EPOCHS: int | None = None
RATE: float = 0.1
NAMES: "list[str] | None" = None
OPTIONAL: Optional[int] = None
SEEDS = 1
GRID = None
FLAG = False
LABEL = "x"
WHATEVER: SomeClass = None
'''


def _notebook(path, source=CELL):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), cell, nbformat.v4.new_code_cell("1")]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebook(tmp_path):
    return _notebook(tmp_path / "01_tiny.ipynb")


def test_types_come_from_annotations_else_from_defaults(notebook):
    declared = notebook_parameters(notebook)
    assert list(declared) == ["PROFILE", "EPOCHS", "RATE", "NAMES", "OPTIONAL", "SEEDS", "GRID",
                              "FLAG", "LABEL", "WHATEVER"]
    expected = {"PROFILE": (str,), "EPOCHS": (int, type(None)), "RATE": (float,),
                "NAMES": (list, type(None)), "OPTIONAL": (int, type(None)), "SEEDS": (int,),
                "GRID": None, "FLAG": (bool,), "LABEL": (str,), "WHATEVER": None}
    assert {name: p.types for name, p in declared.items()} == expected
    assert declared["EPOCHS"].default == "None" and declared["LABEL"].default == "'x'"


@pytest.mark.parametrize(("name", "value", "fits"), [
    ("EPOCHS", 5, True), ("EPOCHS", None, True), ("EPOCHS", "abc", False),
    ("EPOCHS", 2.5, False), ("EPOCHS", True, False),
    ("RATE", 1, True), ("RATE", 0.5, True), ("RATE", "fast", False),
    ("SEEDS", 3, True), ("SEEDS", "abc", False), ("SEEDS", [1, 2], False),
    ("NAMES", ["a", "b"], True), ("NAMES", "a", False),
    ("FLAG", True, True), ("FLAG", 1, False),
    ("GRID", [0.5, 1.0], True), ("GRID", "anything", True), ("WHATEVER", 3, True),
])
def test_a_value_fits_the_declared_type(notebook, name, value, fits):
    assert notebook_parameters(notebook)[name].accepts(value) is fits
    if fits:
        check_overrides({name: value}, [notebook])
    else:
        with pytest.raises(ConfigError, match=f"parameter {name} of 01_tiny expects"):
            check_overrides({name: value}, [notebook])


def test_wrong_type_message_names_the_expected_type_and_the_value(notebook):
    with pytest.raises(ConfigError) as caught:
        check_overrides({"EPOCHS": "abc"}, [notebook])
    assert str(caught.value) == ("parameter EPOCHS of 01_tiny expects int or None (default None), "
                                 "got 'abc' (str)")


def test_an_undeclared_name_lists_the_valid_parameters(notebook, tmp_path):
    other = _notebook(tmp_path / "02_other.ipynb", 'PROFILE = "cpu"\nN_BOOT = 500')
    with pytest.raises(ConfigError) as caught:
        check_overrides({"EPOCH": 5}, [notebook, other])
    message = str(caught.value)
    assert message.startswith("parameter EPOCH is not declared by any of the 2 selected notebooks")
    assert message.endswith("valid parameters: EPOCHS, FLAG, GRID, LABEL, NAMES, N_BOOT, OPTIONAL, "
                            "PROFILE, RATE, SEEDS, WHATEVER")
    check_overrides({"N_BOOT": 100}, [notebook, other])  # declared by one of them: fine


def test_a_name_declared_by_a_notebook_that_is_not_selected_is_an_error(notebook, tmp_path):
    _notebook(tmp_path / "02_other.ipynb", 'PROFILE = "cpu"\nN_BOOT = 500')
    with pytest.raises(ConfigError, match="N_BOOT is not declared by the selected notebook"):
        reproduce(notebooks=tmp_path, only="01", results=tmp_path / "r",
                  parameters={"N_BOOT": 100})
    assert not (tmp_path / "r").exists()  # checked before anything is written or run


def test_the_real_notebooks_reject_a_misspelt_parameter():
    notebooks = find_notebooks()
    with pytest.raises(ConfigError, match="EPOCH is not declared.*valid parameters: .*EPOCHS"):
        check_overrides({"EPOCH": 5}, notebooks)
    with pytest.raises(ConfigError, match="SEEDS of 04_per_class_analysis expects int"):
        check_overrides({"SEEDS": "abc"}, notebooks)
    check_overrides({"EPOCHS": 2, "N_BOOT": 100, "SEEDS": 3}, notebooks)


def test_cell_parameters_reports_a_broken_cell():
    with pytest.raises(ConfigError, match="parameters cell of 01_x.ipynb is not valid Python"):
        cell_parameters("EPOCHS = = 1", "01_x.ipynb")


def test_cli_exits_non_zero_naming_the_undeclared_parameter(run_lmf):
    result, _ = run_lmf("reproduce", "--only", "03", "-p", "EPOCH=5")
    assert result.returncode == 2
    assert result.stderr.startswith("lmf reproduce: error: parameter EPOCH is not declared")
    assert "EPOCHS" in result.stderr
    assert result.stdout == ""  # nothing started
