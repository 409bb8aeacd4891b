"""``lmf reproduce``: runs the notebooks in order, regenerates every paper figure and table,
stops at the first failing notebook naming it and its cell, and reuses finished runs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from lmf.commands.reproduce import parse_parameters
from lmf.errors import ConfigError
from lmf.reproduce import find_notebooks

REPO = Path(__file__).resolve().parents[2]
PAPER_ITEMS = [f"fig{n}_" for n in range(1, 5)] + [f"table{n}_" for n in range(1, 7)]


def _notebook(path, *sources, parameters='PROFILE = "cpu"\nRESULTS = None'):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), cell,
                *(nbformat.v4.new_code_cell(s) for s in sources)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)  # trains the (shortened) cpu grid in the session fixture
def test_reproduce_cpu_regenerates_every_figure_and_table(reproduced, figures_dir, results_dir):
    result, seconds = reproduced
    assert result.returncode == 0, result.stderr[-3000:]
    print(f"lmf reproduce --profile cpu: {seconds:.0f} s")
    for prefix in PAPER_ITEMS:
        suffixes = (".png", ".pdf") if prefix.startswith("fig") else (".csv", ".md")
        for suffix in suffixes:
            assert list(figures_dir.glob(f"{prefix}*{suffix}")), f"no {prefix}*{suffix}"
    executed = sorted(p.name for p in (results_dir / "notebooks" / "cpu").glob("*.ipynb"))
    assert executed == [p.name for p in find_notebooks()]
    assert "figures and tables:" in result.stdout


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_second_run_reuses_finished_runs(reproduced, results_dir, run_lmf, shortened):
    assert reproduced[0].returncode == 0
    runs = {p: (p / "done").stat().st_mtime_ns for p in results_dir.iterdir() if (p / "done").exists()}
    assert runs, "the first run trained nothing"
    result, _ = run_lmf("reproduce", "--only", "03,06", "--results", str(results_dir), *shortened)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 notebook(s)" in result.stdout
    after = {p: (p / "done").stat().st_mtime_ns for p in results_dir.iterdir() if (p / "done").exists()}
    assert after == runs  # no new run, no run retrained


@pytest.mark.notebook
def test_a_failing_notebook_is_named_with_its_cell_and_stops_the_run(tmp_path, run_lmf):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "01_fine.ipynb", "print(PROFILE)")
    _notebook(folder / "02_broken.ipynb", "x = 1", "y = x / 0")
    _notebook(folder / "03_never.ipynb", "print('should not run')")
    results = tmp_path / "results"
    result, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results", str(results))
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert "02_broken.ipynb" in message
    assert "cell 4" in message  # markdown, parameters, x = 1, then the failing cell
    assert "ZeroDivisionError" in message
    executed = results / "notebooks" / "cpu"
    assert (executed / "01_fine.ipynb").exists() and (executed / "02_broken.ipynb").exists()
    assert not (executed / "03_never.ipynb").exists()
    first = nbformat.read(executed / "01_fine.ipynb", as_version=4)
    injected = [c for c in first.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "PROFILE = \"cpu\"" in injected[0].source and "RESULTS = " in injected[0].source
    assert first.cells[-1].outputs[0]["text"] == "cpu\n"


@pytest.mark.notebook
def test_only_declared_parameters_are_injected(tmp_path, run_lmf):
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder / "01_plain.ipynb", "print(PROFILE, N)", parameters='PROFILE = "cpu"\nN = 1')
    result, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results",
                        str(tmp_path / "r"), "--launcher", "local", "-p", "N=5", "-p", "OTHER=[1, 2]")
    assert result.returncode == 0, result.stderr
    executed = nbformat.read(tmp_path / "r" / "notebooks" / "cpu" / "01_plain.ipynb", 4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "RESULTS" not in injected.source and "LAUNCHER" not in injected.source
    assert "OTHER" not in injected.source
    assert executed.cells[-1].outputs[0]["text"] == "cpu 5\n"
    assert "Passed unknown parameter" not in result.stderr


def test_parameter_values_are_read_as_yaml():
    parsed = parse_parameters(["GRID=[0.5, 1.0]", "IMAGE_SIZE=32", "LAUNCHER=slurm",
                               "BOXES=null", "MODELS=[resnet50, densenet121]"])
    assert parsed == {"GRID": [0.5, 1.0], "IMAGE_SIZE": 32, "LAUNCHER": "slurm", "BOXES": None,
                      "MODELS": ["resnet50", "densenet121"]}
    assert type(parsed["GRID"][1]) is float and type(parsed["IMAGE_SIZE"]) is int


def test_parameter_values_must_name_an_upper_case_parameter(run_lmf):
    result, _ = run_lmf("reproduce", "-p", "epochs=2")
    assert result.returncode == 2
    assert "UPPER_CASE" in result.stderr


def test_find_notebooks_selects_by_number():
    assert [p.stem[:2] for p in find_notebooks(only="01,04")] == ["01", "04"]
    assert find_notebooks()[0].parent == REPO / "notebooks"
    with pytest.raises(ConfigError, match="available: 01_data_exploration"):
        find_notebooks(only="99")


def test_unknown_notebook_is_a_one_line_error(run_lmf):
    result, _ = run_lmf("reproduce", "--only", "99")
    assert result.returncode == 2
    assert result.stderr.startswith("lmf reproduce: error: no notebook matches 99")
