"""Run the numbered notebooks in order with papermill: the one command behind ``make reproduce``.

Each notebook ``notebooks/NN_*.ipynb`` starts with a cell tagged ``parameters`` (``PROFILE``,
``RESULTS``, ``LAUNCHER`` and optional overrides). ``reproduce`` executes them in a ``python3``
kernel whose working directory is the repository root, injects the profile and launcher, writes
the executed copies to ``<results>/notebooks/<profile>/`` and stops at the first notebook that
fails, naming it and the failing cell. The results folder reaches the kernels as
``LMF_RESULTS``, so no executed copy holds a path of this machine. Figures and tables land in
``lmf.core.paths.figures_dir(profile)``.

Notebooks start in order, up to ``at_once`` at a time (the profile's ``notebooks_at_once``: two
for ``cpu``, so that one notebook draws its figures while another trains and no core waits).
They meet only in the run store, whose locks let every run train once
(``lmf.core.runs.locked``): a run that one notebook needs while another trains it is waited
for, then read. After a failure no further notebook starts; those running end, and the error
is the earliest notebook's.

Overrides (``parameters``) are checked before anything runs: each must be declared by a
selected notebook and fit the type its parameters cell gives it (``lmf.core.parameters``).

Training happens inside the notebooks through ``lmf.sweep.ensure``, which skips finished runs,
so a second call only re-draws figures. While a notebook trains, every finished run is echoed
as ``run k/N …`` (the ``LMF_PROGRESS`` channel of ``lmf.sweep.progress``, one per notebook,
the line led by the notebook's number when several run at once); ``verbose`` streams the
notebooks' own output instead, one notebook at a time. Kernels talk over IPC sockets, not
unencrypted TCP, in a temporary folder removed when the notebook ends.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import nbformat

from lmf.classification.profiles import get_profile
from lmf.core.errors import ConfigError, RunError
from lmf.core.outputs import display_path
from lmf.core.parameters import check_overrides, notebook_parameters
from lmf.core.paths import figures_dir, notebooks_dir, repo_root, results_dir
from lmf.sweep.progress import PROGRESS_ENV, follow


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


def _failure(notebook: Path, executed: Path, shown: str, error, timeout: float | None) -> RunError:
    """A RunError naming the notebook and the failing cell as the user sees it (1-based, not
    counting the cell papermill injects); ``shown`` is the executed copy's path as printed."""
    from nbclient.exceptions import CellTimeoutError

    if isinstance(error, CellTimeoutError):
        return RunError(
            f"notebook {notebook.name}: a cell ran longer than {timeout:.0f} s and was stopped. "
            "Finished training runs are kept: run the same command again and it resumes from "
            f"them (or allow more time with --timeout SECONDS); partial copy: {shown}")
    cell = getattr(error, "cell_index", None)
    if cell is None:
        where = f"{type(error).__name__}: {error}".splitlines()[0]
        return RunError(f"notebook {notebook.name} failed ({where}); partial copy: {shown}")
    cells = nbformat.read(executed, as_version=4).cells if executed.exists() else []
    injected = sum(1 for c in cells[:cell] if "injected-parameters" in c.metadata.get("tags", []))
    first_line = (error.source or "").strip().splitlines()
    summary = first_line[0] if first_line else ""
    return RunError(
        f"notebook {notebook.name} failed in cell {cell - injected + 1} "
        f"(In [{error.exec_count}]: {summary!r}) with {error.ename}: {error.evalue}; "
        f"executed copy with the traceback: {shown}")


def _ipc_kernel_manager(sockets: Path):
    """A kernel manager whose kernels listen on IPC sockets instead of TCP ports without
    encryption, which ipykernel warns about for every kernel it starts. The sockets are files
    ``kernel-ipc-<port>`` in the folder ``sockets`` (readable by this user only), never in the
    working directory."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IpcKernelManager(AsyncKernelManager):
        @default("transport")
        def _transport_default(self) -> str:
            return "ipc"

        @default("ip")
        def _ip_default(self) -> str:
            return str(sockets / "kernel-ipc")

    return IpcKernelManager


#: Output types of progress bars: tqdm's widget and the widget state JupyterLab saves.
_WIDGET_OUTPUT = "application/vnd.jupyter.widget-view+json"


def clean_executed(path: Path, shown: str, *, committed: bool = False) -> None:
    """Replace the absolute paths papermill records in the notebook metadata (the output path
    by ``shown``, as the user gave it); for a notebook that is committed (``committed``), also
    drop what differs from one execution to the next: progress bars (tqdm widgets and the text
    bars on stderr), the saved widget state and papermill's and nbclient's per-cell timing."""
    notebook = nbformat.read(path, as_version=4)
    record = notebook.metadata.get("papermill", {})
    if record.get("input_path"):
        record["input_path"] = display_path(record["input_path"])
    if record.get("output_path"):
        record["output_path"] = shown
    if committed:
        notebook.metadata.pop("widgets", None)
        for key in ("start_time", "end_time", "duration"):
            record.pop(key, None)
        for cell in notebook.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if not _is_progress_output(o)]
    nbformat.write(notebook, path)


def _is_progress_output(output) -> bool:
    if output.get("output_type") == "stream":
        return output.get("name") == "stderr" and "\r" in output.get("text", "")
    return _WIDGET_OUTPUT in output.get("data", {})


def run_notebook(notebook: Path, executed: Path, parameters: dict, *,
                 timeout: float | None = None, verbose: bool = False,
                 shown: str | None = None, committed: bool = False) -> float:
    """Execute one notebook with papermill; return its wall time. Raise RunError on failure.

    Only the ``parameters`` the notebook declares in its ``parameters`` cell are injected.
    ``verbose`` streams the cells' output to this process's stdout and stderr; ``shown`` is the
    executed copy's path as messages print it; ``committed``: see :func:`clean_executed`."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    declared = notebook_parameters(notebook)
    parameters = {name: value for name, value in parameters.items() if name in declared}
    start = time.perf_counter()
    sockets = tempfile.TemporaryDirectory(prefix="lmf-kernel-")
    try:
        papermill.execute_notebook(
            str(notebook), str(executed), parameters=parameters or None, kernel_name="python3",
            cwd=str(repo_root()), progress_bar=False, log_output=False,
            stdout_file=sys.stdout if verbose else None,
            stderr_file=sys.stderr if verbose else None, execution_timeout=timeout,
            kernel_manager_class=_ipc_kernel_manager(Path(sockets.name)))
    except (papermill.PapermillExecutionError, CellTimeoutError, DeadKernelError) as error:
        raise _failure(notebook, executed, shown or display_path(executed), error,
                       timeout) from None
    finally:
        sockets.cleanup()
        if executed.exists():
            clean_executed(executed, shown or display_path(executed), committed=committed)
    return time.perf_counter() - start


@dataclass(frozen=True)
class _Planned:
    """A notebook to execute: its place in the selection, where its copy goes and how messages
    name it, and the file its kernels append finished runs to."""

    position: int
    notebook: Path
    executed: Path
    shown: str
    channel: Path


def _execute(planned: _Planned, parameters: dict, options: dict) -> float:
    """:func:`run_notebook` of ``planned``, its kernels reporting to its own progress channel."""
    with _environment(**{PROGRESS_ENV: str(planned.channel)}):
        return run_notebook(planned.notebook, planned.executed, parameters,
                            shown=planned.shown, **options)


def _run_now(function: Callable, *args) -> Future:
    """``function(*args)`` called in this process, as a finished Future (one notebook at a time:
    a ``verbose`` stream and an in-process caller's output stay where they are)."""
    future = Future()
    try:
        future.set_result(function(*args))
    except Exception as error:  # handed on as the future's, exactly as a pool would
        future.set_exception(error)
    return future


def _execute_all(plans: list[_Planned], at_once: int, parameters: dict, options: dict,
                 echo) -> list[NotebookRun]:
    """Execute ``plans``, starting them in order with at most ``at_once`` running (each in a
    process of its own when more than one may run); their runs in order. After a failure none
    further starts and the earliest failure is raised once the running ones have ended."""
    pending, running, finished, failures = list(plans), {}, {}, {}
    prefix = (lambda plan: f"{plan.notebook.stem[:2]} ") if at_once > 1 else (lambda plan: "")
    pool = (ProcessPoolExecutor(at_once, mp_context=multiprocessing.get_context("spawn"))
            if at_once > 1 else None)
    submit = pool.submit if pool else _run_now
    with pool or contextlib.nullcontext():
        while running or (pending and not failures):
            while pending and len(running) < at_once and not failures:
                plan = pending.pop(0)
                echo(f"[{plan.position}/{len(plans)}] {plan.notebook.stem} ...", flush=True)
                lines, lead = contextlib.ExitStack(), prefix(plan)
                if not options.get("verbose"):
                    lines.enter_context(follow(plan.channel, lambda line, lead=lead:
                                               echo(f"    {lead}{line}", flush=True)))
                running[submit(_execute, plan, parameters, options)] = (plan, lines, lead)
            ended, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(ended, key=lambda f: running[f][0].position):
                plan, lines, lead = running.pop(future)
                lines.close()
                try:
                    seconds = future.result()
                except BrokenProcessPool as error:
                    failures[plan.position] = RunError(
                        f"notebook {plan.notebook.name}: the process executing it died ({error}); "
                        f"partial copy: {plan.shown}")
                    continue
                except RunError as error:
                    failures[plan.position] = error
                    continue
                finished[plan.position] = NotebookRun(plan.notebook.stem, plan.notebook,
                                                      plan.executed, seconds)
                echo(f"    {lead}done in {seconds:.0f} s -> {plan.shown}", flush=True)
    if failures:
        raise failures[min(failures)]
    return [finished[position] for position in sorted(finished)]


def reproduce(profile: str = "cpu", *, only: str | Sequence[str] | None = None,
              results: str | os.PathLike | None = None, launcher: str | None = None,
              notebooks: str | os.PathLike | None = None, in_place: bool = False,
              timeout: float | None = None, parameters: dict | None = None,
              verbose: bool = False, at_once: int | None = None,
              echo=print) -> list[NotebookRun]:
    """Execute the notebooks for ``profile``, starting them in order; return what ran.

    Args:
        profile: injected as ``PROFILE``.
        only: notebook numbers to run (see ``find_notebooks``).
        results: run store, exported as ``LMF_RESULTS`` to the kernels (default
            ``lmf.core.paths.results_dir()``); messages print it as given.
        launcher: injected as ``LAUNCHER`` (``None`` keeps each notebook's default).
        notebooks: folder of the notebooks (default ``notebooks/``).
        in_place: execute the notebooks themselves with their own parameters (nothing injected)
            and write them without progress bars and timings (:func:`clean_executed`). This
            refreshes the outputs committed with the ``cpu`` profile.
        timeout: seconds one cell may run (default the profile's ``cell_timeout``).
        parameters: further parameters (``{"EPOCHS": 2}``), injected into the notebooks that
            declare them; a ConfigError before anything runs for a name no selected notebook
            declares or a value of the wrong type (``lmf.core.parameters.check_overrides``).
        verbose: stream the notebooks' output instead of one line per finished training run
            (one notebook at a time).
        at_once: notebooks executed at the same time (default the profile's
            ``notebooks_at_once``).
        echo: where progress lines go.
    """
    settings = get_profile(profile)
    if in_place and (profile != "cpu" or launcher):
        raise ConfigError("in-place runs refresh the committed cpu outputs: use the cpu profile "
                          "and the notebooks' own launcher")
    if in_place and parameters:
        raise ConfigError("in-place runs keep the notebooks' own parameters; drop the overrides")
    selected = find_notebooks(notebooks, only)
    check_overrides(parameters or {}, selected)
    if at_once is not None and at_once < 1:
        raise ConfigError("notebooks at once (--notebooks-at-once) must be 1 or more, "
                          f"got {at_once}")
    store = Path(results).expanduser().resolve() if results else results_dir()
    out_dir = store / "notebooks" / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    injected = {} if in_place else {"PROFILE": profile}
    if launcher and not in_place:
        injected["LAUNCHER"] = launcher
    injected.update(parameters or {})
    timeout = timeout if timeout is not None else settings.cell_timeout
    at_once = 1 if verbose else min(at_once or settings.notebooks_at_once, len(selected))
    options = {"timeout": timeout, "verbose": verbose, "committed": in_place}
    with tempfile.TemporaryDirectory(prefix="lmf-progress-") as channel_dir:
        plans = []
        for position, notebook in enumerate(selected, 1):
            executed = notebook if in_place else out_dir / notebook.name
            shown = (display_path(executed) if in_place or not results
                     else (Path(results) / "notebooks" / profile / notebook.name).as_posix())
            channel = Path(channel_dir) / f"{notebook.stem}.runs"
            channel.touch()
            plans.append(_Planned(position, notebook, executed, shown, channel))
        with _environment(LMF_RESULTS=str(store)):
            done = _execute_all(plans, at_once, injected, options, echo)
    echo(f"figures and tables: {display_path(figures_dir(profile))}/")
    return done


def committed_tables(profile: str) -> Path:
    """The folder of the committed tables of ``profile``: ``figures/<profile>/`` of the
    repository, wherever ``LMF_FIGURES`` points."""
    return repo_root() / "figures" / profile


def check(profile: str = "cpu", *, against: str | os.PathLike | None = None,
          only: str | Sequence[str] | None = None, parameters: dict | None = None,
          echo=print, **options) -> list:
    """Reproduce into a temporary figures folder and compare its tables with the committed ones.

    The notebooks run as in :func:`reproduce` (``only`` and ``options`` are passed on) with
    ``LMF_FIGURES`` pointing to a temporary folder, so the committed figures are never
    overwritten; the folder is deleted afterwards. ``against`` is the folder of committed tables
    (default :func:`committed_tables`). Numbers must be equal when this process computes with
    the pinned numerics (``lmf.core.numerics.pinned()``), else within the tolerance of
    ``lmf.core.regression``. With ``only``, committed tables the selected notebooks do not write are
    not reported. Returns one ``lmf.core.regression.TableReport`` per table."""
    from lmf.core import numerics
    from lmf.core.regression import compare_tables

    if parameters:
        raise ConfigError("a check reproduces the committed tables with the notebooks' own "
                          "parameters; drop the overrides (-p)")
    if options.get("in_place"):
        raise ConfigError("a check writes into a temporary folder; drop --in-place")
    committed = Path(against).expanduser().resolve() if against else committed_tables(profile)
    if not any(committed.glob("*.csv")):
        raise ConfigError(f"no committed tables (*.csv) in {display_path(committed)}")
    exact = numerics.pinned()
    if not exact:
        echo(f"numerics not pinned ({numerics.obstacle() or 'see lmf.core.numerics'}): numbers are "
             "compared within one unit of their last printed digit", flush=True)
    with tempfile.TemporaryDirectory(prefix="lmf-check-") as figures:
        with _environment(LMF_FIGURES=figures):
            reproduce(profile, only=only, echo=echo, **options)
        return compare_tables(Path(figures) / profile, committed, exact=exact,
                              partial=only is not None)
