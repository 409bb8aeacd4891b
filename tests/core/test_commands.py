"""The command line and the Makefile as a user meets them: quick help, a help text for every
option, ``make clean`` that keeps tracked files, the licence and citation files."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from lmf.cli import build_parser
from lmf.commands import help_text

REPO = Path(__file__).resolve().parents[2]

#: Prints the modules of the training stack a CLI invocation imported.
_IMPORTED = """import sys
from lmf.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(m for m in ("torch", "timm", "torchvision", "medcam") if m in sys.modules))
"""


@pytest.mark.parametrize("args", [["--help"], ["reproduce", "--help"], ["train", "--help"],
                                  ["data", "list"]])
def test_help_and_data_list_do_not_import_the_training_stack(args):
    result = subprocess.run([sys.executable, "-c", _IMPORTED, *args], capture_output=True,
                            text=True, check=True, cwd=REPO)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def _parsers(parser, path=("lmf",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*path, name))


def test_every_option_has_a_help_text_and_no_rest_markup():
    for path, parser in _parsers(build_parser()):
        undocumented = [action.option_strings or action.dest for action in parser._actions
                        if action.help is None]
        assert not undocumented, f"{' '.join(path)}: {undocumented}"
        text = parser.format_help()
        assert "`" not in text and ":func:" not in text, f"{' '.join(path)} --help"


def test_help_text_reduces_rest_inline_markup():
    assert help_text("see ``lmf.sweep`` and :func:`~lmf.sweep.ensure`, `x` too") == (
        "see lmf.sweep and lmf.sweep.ensure, x too")
    assert help_text("Examples::\n\n    lmf train") == "Examples:\n\n    lmf train"


@pytest.mark.skipif(not shutil.which("git") or not shutil.which("make"), reason="needs git, make")
def test_make_clean_removes_only_untracked_files(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    made = [clone / "results" / "run" / "done", clone / "figures" / "medmnist" / "fig1.png",
            clone / "figures" / "cpu" / "new_table.csv", clone / "data" / "cache" / "x.npy"]
    for path in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("regenerated")
    tracked = subprocess.run(["git", "ls-files", "figures"], cwd=clone, capture_output=True,
                             text=True, check=True).stdout.split()
    assert tracked  # the committed cpu figures are what must survive
    # the Makefile of this checkout, run in the clone
    subprocess.run(["make", "-s", "-C", str(clone), "-f", str(REPO / "Makefile"), "clean"],
                   check=True, capture_output=True)
    status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=clone,
                            capture_output=True, text=True, check=True).stdout
    assert status == ""
    assert all((clone / name).is_file() for name in tracked)
    assert not any(path.exists() for path in made)


def test_license_matches_pyproject_and_citation_names_the_paper():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "MIT"}
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT"
    paper = citation["preferred-citation"]
    assert paper["title"].startswith("LMFLOSS")
    assert [a["family-names"] for a in paper["authors"]][0] == "Sadi"
    readme = (REPO / "README.md").read_text()
    assert "@misc{sadi2024lmfloss," in readme and "year" in readme
