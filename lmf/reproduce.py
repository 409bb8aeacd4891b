"""Run the numbered notebooks in order with papermill: the one command behind ``make reproduce``.

Each notebook ``notebooks/NN_*.ipynb`` starts with a cell tagged ``parameters`` (``PROFILE``,
``RESULTS``, ``LAUNCHER`` and optional overrides). ``reproduce`` executes them one after the
other in a ``python3`` kernel whose working directory is the repository root, injects the
profile, results folder and launcher, writes the executed copies to
``<results>/notebooks/<profile>/`` and stops at the first notebook that fails, naming it and the
failing cell. Figures and tables land in ``lmf.paths.figures_dir(profile)``.

Training happens inside the notebooks through ``lmf.sweep.ensure``, which skips finished runs,
so a second call only re-draws figures.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from lmf.errors import ConfigError, RunError
from lmf.outputs import display_path
from lmf.paths import figures_dir, notebooks_dir, repo_root, results_dir
from lmf.profiles import get_profile


@dataclass(frozen=True)
class NotebookRun:
    """One executed notebook: where it came from, where its executed copy is, how long it took."""

    name: str
    source: Path
    executed: Path
    seconds: float


def find_notebooks(folder: str | os.PathLike | None = None,
                   only: str | Sequence[str] | None = None) -> list[Path]:
    """The numbered notebooks ``NN_*.ipynb`` of ``folder`` (default ``notebooks/``), in order.

    ``only`` keeps those whose number or name prefix is listed (``"01,04"`` or ``["01", "04"]``).
    """
    folder = Path(folder) if folder else notebooks_dir()
    notebooks = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise ConfigError(f"no numbered notebooks (NN_name.ipynb) in {display_path(folder)}")
    if only is None:
        return notebooks
    wanted = [w.strip() for w in (only.split(",") if isinstance(only, str) else only) if w.strip()]
    chosen = [p for p in notebooks if any(p.stem.startswith(w) for w in wanted)]
    missing = [w for w in wanted if not any(p.stem.startswith(w) for p in notebooks)]
    if missing:
        raise ConfigError(f"no notebook matches {', '.join(missing)}; available: "
                          + ", ".join(p.stem for p in notebooks))
    return chosen


@contextlib.contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    """Set environment variables for the kernels started inside the block."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is not None:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _failure(notebook: Path, executed: Path, error) -> RunError:
    """A RunError naming the notebook and the failing cell as the user sees it (1-based, not
    counting the cell papermill injects)."""
    cell = getattr(error, "cell_index", None)
    if cell is None:
        where = f"{type(error).__name__}: {error}".splitlines()[0]
        return RunError(f"notebook {notebook.name} failed ({where}); partial copy: "
                        f"{display_path(executed)}")
    cells = nbformat.read(executed, as_version=4).cells if executed.exists() else []
    injected = sum(1 for c in cells[:cell] if "injected-parameters" in c.metadata.get("tags", []))
    first_line = (error.source or "").strip().splitlines()
    summary = first_line[0] if first_line else ""
    return RunError(
        f"notebook {notebook.name} failed in cell {cell - injected + 1} "
        f"(In [{error.exec_count}]: {summary!r}) with {error.ename}: {error.evalue}; "
        f"executed copy with the traceback: {display_path(executed)}")


def _scrub_machine_paths(path: Path) -> None:
    """Replace the absolute paths papermill records in the notebook metadata."""
    notebook = nbformat.read(path, as_version=4)
    record = notebook.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if record.get(key):
            record[key] = display_path(record[key])
    nbformat.write(notebook, path)


def run_notebook(notebook: Path, executed: Path, parameters: dict, *,
                 timeout: float | None = None) -> float:
    """Execute one notebook with papermill; return its wall time. Raise RunError on failure.

    Only the ``parameters`` the notebook declares in its ``parameters`` cell are injected."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    declared = papermill.inspect_notebook(str(notebook))
    parameters = {name: value for name, value in parameters.items() if name in declared}
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook), str(executed), parameters=parameters or None, kernel_name="python3",
            cwd=str(repo_root()), progress_bar=False, log_output=False,
            execution_timeout=timeout)
    except papermill.PapermillExecutionError as error:
        raise _failure(notebook, executed, error) from None
    except (CellTimeoutError, DeadKernelError) as error:
        raise _failure(notebook, executed, error) from None
    finally:
        if executed.exists():
            _scrub_machine_paths(executed)
    return time.perf_counter() - start


def reproduce(profile: str = "cpu", *, only: str | Sequence[str] | None = None,
              results: str | os.PathLike | None = None, launcher: str | None = None,
              notebooks: str | os.PathLike | None = None, in_place: bool = False,
              timeout: float | None = None, parameters: dict | None = None,
              echo=print) -> list[NotebookRun]:
    """Execute the notebooks in order for ``profile``; return what ran.

    Args:
        profile: injected as ``PROFILE``.
        only: notebook numbers to run (see ``find_notebooks``).
        results: run store, injected as ``RESULTS`` and exported as ``LMF_RESULTS`` to the
            kernels (default ``lmf.paths.results_dir()``).
        launcher: injected as ``LAUNCHER`` (``None`` keeps each notebook's default).
        notebooks: folder of the notebooks (default ``notebooks/``).
        in_place: execute the notebooks themselves with their own parameters (nothing injected;
            the results folder reaches them through ``LMF_RESULTS``). This refreshes the outputs
            committed with the ``cpu`` profile.
        timeout: seconds one cell may run (default the profile's ``cell_timeout``).
        parameters: further parameters (``{"EPOCHS": 2}``), injected into the notebooks that
            declare them.
        echo: where progress lines go.
    """
    settings = get_profile(profile)
    if in_place and (profile != "cpu" or launcher):
        raise ConfigError("in-place runs refresh the committed cpu outputs: use the cpu profile "
                          "and the notebooks' own launcher")
    selected = find_notebooks(notebooks, only)
    store = Path(results).expanduser().resolve() if results else results_dir()
    out_dir = store / "notebooks" / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    if in_place and parameters:
        raise ConfigError("in-place runs keep the notebooks' own parameters; drop the overrides")
    injected = {} if in_place else {"PROFILE": profile, "RESULTS": str(store)}
    if launcher and not in_place:
        injected["LAUNCHER"] = launcher
    injected.update(parameters or {})
    timeout = timeout if timeout is not None else settings.cell_timeout
    done = []
    with _environment(LMF_RESULTS=str(store)):
        for notebook in selected:
            executed = notebook if in_place else out_dir / notebook.name
            echo(f"[{len(done) + 1}/{len(selected)}] {notebook.stem} ...", flush=True)
            seconds = run_notebook(notebook, executed, injected, timeout=timeout)
            done.append(NotebookRun(notebook.stem, notebook, executed, seconds))
            echo(f"    done in {seconds:.0f} s -> {display_path(executed)}", flush=True)
    echo(f"figures and tables: {display_path(figures_dir(profile))}/")
    return done
