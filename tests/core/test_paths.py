"""lmf.core.paths resolves locations from the repository root, overridable by environment variables."""

from pathlib import Path

import pytest

from lmf.core import paths

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_under_the_repository_root(monkeypatch, tmp_path):
    for var in ("LMF_ROOT", "LMF_DATA", "LMF_RESULTS", "LMF_FIGURES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    assert paths.repo_root() == REPO
    assert paths.data_dir() == REPO / "data"
    assert paths.results_dir() == REPO / "results"
    assert paths.figures_dir() == REPO / "figures"
    assert paths.figures_dir("cpu") == REPO / "figures" / "cpu"
    assert paths.notebooks_dir() == REPO / "notebooks"
    assert (paths.paper_dir() / "table6_lmf_alpha_beta.tsv").is_file()


@pytest.mark.parametrize(
    ("variable", "function"),
    [("LMF_DATA", paths.data_dir), ("LMF_RESULTS", paths.results_dir),
     ("LMF_FIGURES", paths.figures_dir)],
)
def test_environment_overrides(monkeypatch, tmp_path, variable, function):
    monkeypatch.setenv(variable, str(tmp_path / "elsewhere"))
    assert function() == tmp_path / "elsewhere"


def test_paper_tables_stay_in_the_repository_when_data_moves(monkeypatch, tmp_path):
    monkeypatch.setenv("LMF_DATA", str(tmp_path))
    assert paths.paper_dir() == REPO / "data" / "paper"
