"""Every numbered notebook follows the project's conventions (design.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import comment_markers, find_metadata_tags, metadata_tags

from lmf.core.parameters import cell_parameters

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["01_data_exploration", "02_loss_derivations", "03_training",
            "04_per_class_analysis", "05_gradcam", "06_hyperparameter_study"]
MACHINE_PATHS = re.compile(r"(/root/|/home/|/tmp/|/work/|/Users/|[A-Z]:\\\\)")
#: nbval's cell tags (nbval reads the same markers from ``# NBVAL_…`` comments; the tags keep
#: them out of the code a reader copies).
NBVAL_TAGS = ("nbval-ignore-output", "nbval-check-output", "nbval-skip")


def _checked_by_nbval(cell) -> bool:
    """Whether nbval compares the cell's output under ``--nbval-lax``, asked of nbval itself:
    in lax mode only cells whose markers set ``check`` are compared."""
    return dict(find_metadata_tags(cell.metadata)).get("check", False)


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _code(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _calls(source: str) -> set[str]:
    """Names of the functions a cell calls (``f(...)`` and ``obj.f(...)``)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def test_the_six_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS][:6] == EXPECTED


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request):
    return request.param, _read(request.param)


def test_valid_nbformat_and_python3_kernel(notebook):
    path, nb = notebook
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith(f"# {path.stem[:2]} ·")


def test_one_parameters_cell_with_upper_case_names_starting_with_profile(notebook):
    _, nb = notebook
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    cell = tagged[0]
    assert cell.cell_type == "code"
    body = ast.parse(cell.source).body
    assert all(isinstance(statement, ast.Assign | ast.AnnAssign) for statement in body)
    names = [target.id for statement in body
             for target in (statement.targets if isinstance(statement, ast.Assign)
                            else [statement.target])]
    assert names[0] == "PROFILE"
    assert ast.literal_eval(body[0].value) == "cpu"
    assert all(name.isupper() for name in names), names


def test_every_parameter_is_typed(notebook):
    """Each parameter carries an annotation lmf.core.parameters understands, so that a mistyped
    ``lmf reproduce -p`` value is refused before the notebook runs."""
    path, nb = notebook
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    parameters = cell_parameters(cell.source, path.name)
    body = ast.parse(cell.source).body
    untyped = [s.targets[0].id for s in body if isinstance(s, ast.Assign)]
    if untyped and path.stem.startswith("07"):
        pytest.skip("notebook 07's parameters are typed by its own change")
    assert not untyped, untyped
    assert all(p.types is not None for p in parameters.values()), parameters
    for statement in body:  # literal values only, so papermill can override them
        ast.literal_eval(statement.value)
    # the parameters cell comes before any other code
    assert _code(nb)[0] is cell


def test_training_notebooks_take_results_launcher_and_sizes(notebook):
    _, nb = notebook
    calls = set().union(*(_calls(c.source) for c in _code(nb)))
    if "ensure" in calls:
        parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        for name in ("RESULTS", "LAUNCHER", "DATA_ROOT"):
            assert re.search(rf"^{name}(: [^=]+)? = ", parameters.source, re.MULTILINE), name
        for name in ("EPOCHS", "IMAGE_SIZE", "BATCH_SIZE"):  # None: the profile's
            assert re.search(rf"^{name}(: [^=]+)? = None ", parameters.source, re.MULTILINE), name
            used = [c for c in _code(nb)[1:] if re.search(rf"\b{name}\b", c.source)]
            assert used, f"{name} is declared but never used"


def test_notebooks_that_prepare_data_take_the_image_size(notebook):
    _, nb = notebook
    if "prepare" in set().union(*(_calls(c.source) for c in _code(nb))):
        parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert re.search(r"^IMAGE_SIZE(: [^=]+)? = None ", parameters.source, re.MULTILINE)


def test_training_only_through_ensure_and_never_in_a_figure_cell(notebook):
    _, nb = notebook
    for cell in _code(nb):
        calls = _calls(cell.source)
        assert "fit" not in calls, "train through lmf.sweep.ensure, not lmf.classification.train.fit"
        if "ensure" in calls:
            assert not calls & {"save_figure", "show", "subplots"}, cell.source


def test_figure_cells_save_and_end_with_show(notebook):
    _, nb = notebook
    for cell in _code(nb):
        if "save_figure" in _calls(cell.source):
            assert cell.source.rstrip().endswith("plt.show()"), cell.source
        if "plt.show()" in cell.source:
            assert cell.source.rstrip().endswith("plt.show()"), cell.source


def test_output_names_follow_the_paper_numbering(notebook):
    _, nb = notebook
    names = re.findall(r"save_(?:figure|table)\([^,]+,\s*f?\"([^\"]+)\"",
                       "\n".join(c.source for c in _code(nb)))
    for name in names:
        name = re.sub(r"\{number\}", "2", name)  # Tables 2-4 are written in a loop
        assert re.match(r"^(fig[1-4]|table[1-6]|fig1short|nb0[1-8]|extra|feat|scholz|seg_fig[3-5]|seg_table[1-6]?)[_-]", name), name


def test_nbval_markers_are_cell_tags_not_comments(notebook):
    _, nb = notebook
    assert set(NBVAL_TAGS) <= set(metadata_tags)  # tags this nbval understands
    for cell in _code(nb):
        comments = [line for line in cell.source.splitlines()
                    if line.strip().lstrip("#").strip() in comment_markers]
        assert not comments, cell.source[:80]
        tags = [t for t in cell.metadata.get("tags", []) if t.startswith("nbval")]
        assert set(tags) <= set(NBVAL_TAGS) and len(tags) <= 1, tags


def test_committed_with_outputs_and_no_errors(notebook):
    _, nb = notebook
    for cell in _code(nb):
        assert cell.execution_count is not None, f"not executed: {cell.source[:60]!r}"
        assert all(o.output_type != "error" for o in cell.outputs)


def test_no_machine_paths_in_outputs(notebook):
    _, nb = notebook
    for cell in _code(nb):
        for output in cell.outputs:
            text = output.get("text", "") + "".join(
                str(v) for k, v in output.get("data", {}).items() if k.startswith("text/"))
            assert not MACHINE_PATHS.search(text), text[:300]
    record = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        assert not MACHINE_PATHS.search(str(record.get(key, "")))


def test_some_outputs_are_checked_by_nbval():
    checked = [p.stem for p in NOTEBOOKS
               if any(_checked_by_nbval(c) for c in _code(_read(p)))]
    assert {"01_data_exploration", "02_loss_derivations", "04_per_class_analysis",
            "06_hyperparameter_study"} <= set(checked)


#: What papermill and nbclient record about one execution: the notebook's start, end and
#: duration, and per cell papermill's timing and nbclient's ``execution`` timestamps.
TIMING_KEYS = ("start_time", "end_time", "duration")


def test_committed_without_execution_timings(notebook):
    _, nb = notebook
    record = nb.metadata.get("papermill", {})
    assert not [key for key in TIMING_KEYS if key in record], dict(record)
    for cell in nb.cells:
        assert "execution" not in cell.metadata, cell.source[:60]
        timing = [key for key in TIMING_KEYS if key in cell.metadata.get("papermill", {})]
        assert not timing, (timing, cell.source[:60])
