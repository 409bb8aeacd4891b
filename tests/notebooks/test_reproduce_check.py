"""``lmf reproduce --check`` compares the tables it regenerates with the committed ones without
overwriting them; kernels keep their IPC sockets out of the repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]

#: A notebook that writes one table, as the numbered notebooks do.
TABLE_CELL = """import pandas as pd
from lmf.core.outputs import save_table
save_table(pd.DataFrame({"loss": ["cce", "lmf"], "mean": [82.24, 84.69]}), "extra_demo", PROFILE)
save_table(pd.DataFrame({"loss": ["cce"], "n": [3]}), "extra_counts", PROFILE)"""

#: Prints the kernel's transport and socket path prefix, as its kernel app knows them.
SOCKET_CELL = """import json
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
print(json.dumps({"transport": app.transport, "ip": app.ip}))"""


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('PROFILE = "cpu"')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# test"), parameters,
                *(nbformat.v4.new_code_cell(s) for s in sources)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def table_notebooks(tmp_path) -> Path:
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder / "01_table.ipynb", TABLE_CELL)
    return folder


def _committed(tmp_path, table_notebooks, run_lmf, figures_dir) -> Path:
    """The tables the notebook writes, copied aside as if committed."""
    result, _ = run_lmf("reproduce", "--notebooks", str(table_notebooks), "--results",
                        str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr[-3000:]
    committed = tmp_path / "committed"
    committed.mkdir()
    for name in ("extra_demo", "extra_counts"):
        for suffix in (".csv", ".md"):
            shutil.copy(figures_dir / f"{name}{suffix}", committed)
    return committed


@pytest.mark.notebook
def test_check_passes_when_the_tables_are_as_committed(tmp_path, table_notebooks, run_lmf,
                                                       figures_dir):
    committed = _committed(tmp_path, table_notebooks, run_lmf, figures_dir)
    before = {p.name: p.read_bytes() for p in committed.iterdir()}
    result, _ = run_lmf("reproduce", "--check", "--against", str(committed), "--notebooks",
                        str(table_notebooks), "--results", str(tmp_path / "r"))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "2 table(s) compared: 2 same; tables as committed" in result.stdout
    assert {p.name: p.read_bytes() for p in committed.iterdir()} == before


@pytest.mark.notebook
def test_check_names_the_drifted_table_and_fails(tmp_path, table_notebooks, run_lmf,
                                                 figures_dir):
    committed = _committed(tmp_path, table_notebooks, run_lmf, figures_dir)
    drifted = committed / "extra_demo.csv"
    drifted.write_text(drifted.read_text().replace("84.69", "85.00"))
    (committed / "extra_gone.csv").write_text("a\n1\n")
    regenerated = (figures_dir / "extra_demo.csv").stat().st_mtime_ns
    result, _ = run_lmf("reproduce", "--check", "--against", str(committed), "--notebooks",
                        str(table_notebooks), "--results", str(tmp_path / "r"))
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert any(line.startswith("extra_demo: drifted; largest difference 0.31 at row 2, "
                               "column 'mean'") for line in lines), result.stdout
    assert any(line.startswith("extra_gone: missing") for line in lines), result.stdout
    assert not any(line.startswith("extra_counts") for line in lines)
    assert lines[-1] == ("3 table(s) compared: 1 same, 1 drifted, 1 missing; "
                         "tables differ from the committed ones")
    # the check wrote into a temporary folder, not over the figures folder
    assert (figures_dir / "extra_demo.csv").stat().st_mtime_ns == regenerated
    assert "85.00" in drifted.read_text()


def test_check_refuses_overrides(run_lmf):
    result, _ = run_lmf("reproduce", "--check", "--only", "01", "-p", "EPOCHS=2")
    assert result.returncode == 2
    assert "own parameters" in result.stderr


def test_against_needs_check(run_lmf, tmp_path):
    result, _ = run_lmf("reproduce", "--against", str(tmp_path))
    assert result.returncode == 2 and "--against goes with --check" in result.stderr


def test_the_committed_tables_are_the_repositorys(monkeypatch, tmp_path):
    from lmf.reproduce import committed_tables

    monkeypatch.setenv("LMF_FIGURES", str(tmp_path))
    assert committed_tables("cpu") == REPO / "figures" / "cpu"


@pytest.mark.notebook
def test_kernel_sockets_live_in_a_temporary_folder(tmp_path, run_lmf):
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder / "01_sockets.ipynb", SOCKET_CELL)
    result, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr[-3000:]
    executed = nbformat.read(tmp_path / "r" / "notebooks" / "cpu" / "01_sockets.ipynb", 4)
    kernel = json.loads(executed.cells[-1].outputs[0]["text"])
    sockets = Path(kernel["ip"])
    assert kernel["transport"] == "ipc"
    assert sockets.is_absolute() and not sockets.is_relative_to(REPO)
    assert sockets.name == "kernel-ipc"
    assert not sockets.parent.exists()  # removed with its sockets when the notebook ended
