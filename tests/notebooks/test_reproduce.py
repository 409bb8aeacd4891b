"""``lmf reproduce``: runs the notebooks in order, regenerates every paper figure and table,
stops at the first failing notebook naming it and its cell, and reuses finished runs. The
notebooks of the session (``conftest.py``) regenerate every paper figure and table."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from lmf.commands.reproduce import parse_parameters
from lmf.core.errors import ConfigError
from lmf.reproduce import clean_executed, find_notebooks

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
@pytest.mark.timeout(1800)  # waits for the session's execution of the notebooks (conftest.py)
def test_the_notebooks_regenerate_every_figure_and_table(regenerated, figures_dir):
    assert regenerated.ok, regenerated.error
    print(f"notebooks executed by {regenerated.by}: {regenerated.seconds:.0f} s")
    for prefix in PAPER_ITEMS:
        suffixes = (".png", ".pdf") if prefix.startswith("fig") else (".csv", ".md")
        for suffix in suffixes:
            assert list(figures_dir.glob(f"{prefix}*{suffix}")), f"no {prefix}*{suffix}"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_reproduce_on_a_trained_store_reruns_the_notebooks_and_trains_nothing(
        regenerated, results_dir, run_lmf):
    assert regenerated.ok, regenerated.error
    runs = {p: (p / "done").stat().st_mtime_ns for p in results_dir.iterdir() if (p / "done").exists()}
    assert runs, "the notebooks trained nothing"
    result, _ = run_lmf("reproduce", "--only", "03,06", "--results", str(results_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 notebook(s)" in result.stdout and "figures and tables:" in result.stdout
    executed = {p.name for p in (results_dir / "notebooks" / "cpu").glob("*.ipynb")}
    assert {p.name for p in find_notebooks(only="03,06")} <= executed
    after = {p: (p / "done").stat().st_mtime_ns for p in results_dir.iterdir() if (p / "done").exists()}
    assert after == runs  # no new run, no run retrained


@pytest.mark.notebook
def test_a_failing_notebook_is_named_with_its_cell_and_stops_the_run(tmp_path, run_lmf):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    # 01 and 02 start together (two at once); 01 is still running when 02 fails, so it ends
    # normally while 03 never starts
    _notebook(folder / "01_fine.ipynb", "import time\ntime.sleep(6)", "print(PROFILE)")
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
    # the run store reaches the kernel as LMF_RESULTS: no path of this machine in the copy
    assert "PROFILE = \"cpu\"" in injected[0].source and "RESULTS" not in injected[0].source
    assert first.cells[-1].outputs[0]["text"] == "cpu\n"


#: A notebook cell that sleeps and writes when it started and ended (seconds since the epoch).
SPAN = """import pathlib, time
start = time.time()
time.sleep(4)
pathlib.Path({folder!r}, {name!r}).write_text(f"{{start}} {{time.time()}}")"""


def _spans(folder: Path, names) -> dict[str, tuple[float, float]]:
    return {name: tuple(map(float, (folder / name).read_text().split())) for name in names}


@pytest.mark.notebook
def test_the_cpu_profile_executes_two_notebooks_at_once_starting_them_in_order(tmp_path,
                                                                             run_lmf):
    folder = tmp_path / "nb"
    folder.mkdir()
    names = ("01_a", "02_b", "03_c")
    for name in names:
        _notebook(folder / f"{name}.ipynb", SPAN.format(folder=str(tmp_path), name=name))
    result, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr[-3000:]
    spans = _spans(tmp_path, names)
    a, b, c = (spans[name] for name in names)
    assert a[0] < b[1] and b[0] < a[1]  # 01 and 02 ran at the same time
    assert c[0] >= min(a[1], b[1])  # 03 waited for one of them to end
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("[")] == [
        "[1/3] 01_a ...", "[2/3] 02_b ...", "[3/3] 03_c ..."]
    assert sum(line.strip().startswith("0") and " done in " in line for line in lines) == 3

    result, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results", str(tmp_path / "r"),
                        "--only", "01,02", "--notebooks-at-once", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    a, b = (_spans(tmp_path, names[:2])[name] for name in names[:2])
    assert a[1] <= b[0]  # one after the other


def test_notebooks_at_once_must_be_positive(run_lmf):
    result, _ = run_lmf("reproduce", "--only", "01", "--notebooks-at-once", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == ("lmf reproduce: error: notebooks at once "
                                     "(--notebooks-at-once) must be 1 or more, got 0")


@pytest.mark.notebook
def test_only_declared_parameters_are_injected(tmp_path, run_lmf):
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder / "01_plain.ipynb", "print(PROFILE, N)", parameters='PROFILE = "cpu"\nN = 1')
    result, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results",
                        str(tmp_path / "r"), "--launcher", "local", "-p", "N=5")
    assert result.returncode == 0, result.stderr
    executed = nbformat.read(tmp_path / "r" / "notebooks" / "cpu" / "01_plain.ipynb", 4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "RESULTS" not in injected.source and "LAUNCHER" not in injected.source
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


TRAINING = """from lmf.classification.profiles import get_profile
from lmf.sweep import ensure
grid = [get_profile("cpu").config("digits_lt", "resnet50", loss, epochs=1, image_size=16,
                                  model="timm:test_resnet") for loss in ("cce", "focal")]
print(len(ensure(grid, results=RESULTS)), "runs")"""


@pytest.mark.slow
@pytest.mark.notebook
def test_each_finished_run_is_printed_while_the_notebook_trains(tmp_path, run_lmf):
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder / "01_train.ipynb", TRAINING)
    results = tmp_path / "r"
    result, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results", str(results))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    runs = [line.strip() for line in lines if line.strip().startswith("run ")]
    assert [line.split(" done in ")[0] for line in runs] == [
        "run 1/2 digits_lt-resnet50-cce", "run 2/2 digits_lt-resnet50-focal"]
    assert all(line.endswith(" s") for line in runs)
    # the run lines come between the notebook's start and end lines, as they happen
    start = lines.index("[1/1] 01_train ...")
    end = next(i for i, line in enumerate(lines) if line.strip().startswith("done in"))
    assert start < lines.index(f"    {runs[0]}") < lines.index(f"    {runs[1]}") < end
    assert f"-> {results / 'notebooks' / 'cpu' / '01_train.ipynb'}" in lines[end]
    assert "$LMF_RESULTS" not in result.stdout
    assert "eavesdropping" not in result.stderr and "TCP" not in result.stderr
    executed = nbformat.read(results / "notebooks" / "cpu" / "01_train.ipynb", as_version=4)
    assert executed.cells[-1].outputs[-1]["text"] == "2 runs\n"
    assert executed.metadata.papermill["output_path"] == str(results / "notebooks" / "cpu"
                                                             / "01_train.ipynb")


@pytest.mark.notebook
def test_a_cell_timeout_says_a_rerun_resumes(tmp_path, run_lmf):
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder / "01_slow.ipynb", "import time\ntime.sleep(30)")
    result, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results",
                        str(tmp_path / "r"), "--timeout", "2")
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert "01_slow.ipynb: a cell ran longer than 2 s" in message
    assert "run the same command again and it resumes from them" in message


def test_committed_notebooks_lose_progress_bars_and_timings(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("ensure(grid)")
    cell.metadata.update(papermill={"duration": 1.5, "status": "completed"},
                         execution={"iopub.status.idle": "2026-01-01T00:00:00Z"}, tags=["keep"])
    widget = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": widget, "text/plain": "runs: 50%"}),
        nbformat.v4.new_output("stream", name="stderr", text="\rruns:  50%|#####     | 1/2"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: kept\n"),
        nbformat.v4.new_output("stream", name="stdout", text="15 runs\n"),
    ]
    nb.cells = [cell]
    nb.metadata.update(widgets={"application/vnd.jupyter.widget-state+json": {}},
                       papermill={"input_path": str(REPO / "notebooks" / "04_x.ipynb"),
                                  "output_path": "/somewhere/04_x.ipynb", "duration": 9.0,
                                  "start_time": "t0", "end_time": "t1", "parameters": {}})
    path = tmp_path / "04_x.ipynb"
    nbformat.write(nb, path)
    clean_executed(path, "notebooks/04_x.ipynb", committed=True)
    cleaned = nbformat.read(path, as_version=4)
    assert [o.get("text") for o in cleaned.cells[0].outputs] == ["UserWarning: kept\n",
                                                                 "15 runs\n"]
    assert dict(cleaned.cells[0].metadata) == {"tags": ["keep"]}
    assert "widgets" not in cleaned.metadata
    assert dict(cleaned.metadata.papermill) == {"input_path": "notebooks/04_x.ipynb",
                                                "output_path": "notebooks/04_x.ipynb",
                                                "parameters": {}}
    clean_executed(path, "elsewhere.ipynb")  # an executed copy keeps its outputs
    assert len(nbformat.read(path, as_version=4).cells[0].outputs) == 2


@pytest.mark.slow
@pytest.mark.notebook
def test_verbose_streams_the_notebooks_output(tmp_path, run_lmf):
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder / "01_talk.ipynb", "import sys\nprint('to stdout')\n"
              "print('to stderr', file=sys.stderr)")
    quiet, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results", str(tmp_path / "r"))
    loud, _ = run_lmf("reproduce", "--notebooks", str(folder), "--results", str(tmp_path / "r"),
                      "--verbose")
    assert quiet.returncode == loud.returncode == 0, loud.stderr
    assert "to stdout" not in quiet.stdout and "to stderr" not in quiet.stderr
    assert "to stdout" in loud.stdout and "to stderr" in loud.stderr
