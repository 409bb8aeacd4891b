"""Progress of a sweep: a ``tqdm.auto`` bar over its runs, one line per finished run.

The bar counts the grid's runs (those already finished included), renders as a widget in
JupyterLab and as text elsewhere, and names the run that finished last. Every finished run also
gives one line, ``run 7/15 digits_lt-resnet50-lmf done in 42 s`` (``FAILED`` and the error
instead of ``done`` for a failure):

* failures are printed, whether the bar is shown or not;
* when the environment variable ``LMF_PROGRESS`` names a file, every line is appended to it.
  ``lmf reproduce`` sets it for the kernels it starts and prints the file's new lines while the
  notebook runs (:func:`follow`), so a terminal sees each run finish although the notebook's
  own output is not shown until it ends. Only the kernel's process appends (launchers report
  in the process that called ``ensure``), one whole line per write.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm.auto import tqdm

#: Environment variable naming the file that receives one line per finished run.
PROGRESS_ENV = "LMF_PROGRESS"


def run_name(task: dict) -> str:
    """``<dataset id>-<model id>-<loss>`` as the grid names the run (its labels), else the
    config's dataset, model and loss."""
    labels = task.get("labels") or {}
    parts = (labels.get("dataset_id", task.get("dataset")), labels.get("model_id", task.get("model")),
             task.get("loss"))
    return "-".join(str(part) for part in parts)


def progress_line(position: int, total: int, task: dict, outcome: dict) -> str:
    """The line of the ``position``-th finished run of ``total``."""
    seconds = f" in {outcome['seconds']:.0f} s" if outcome.get("seconds") is not None else ""
    if outcome["ok"]:
        return f"run {position}/{total} {run_name(task)} done{seconds}"
    return (f"run {position}/{total} {run_name(task)} FAILED{seconds}: {outcome['error']} "
            f"(log: {outcome['log']})")


class SweepProgress:
    """Counts the finished runs of a grid of ``total`` runs of which ``done`` were finished
    before; call it with each task and its outcome as the run ends (in any order)."""

    def __init__(self, total: int, done: int = 0, *, quiet: bool = False) -> None:
        self.total, self.finished = total, done
        self.bar = tqdm(total=total, initial=done, desc="runs", unit="run", disable=quiet,
                        dynamic_ncols=True)

    def __call__(self, task: dict, outcome: dict) -> dict:
        self.finished += 1
        line = progress_line(self.finished, self.total, task, outcome)
        if not outcome["ok"]:
            self.bar.write(line)
        self.bar.set_postfix_str(run_name(task), refresh=False)
        self.bar.update()
        target = os.environ.get(PROGRESS_ENV)
        if target:
            with open(target, "a", encoding="utf-8") as channel:
                channel.write(line + "\n")
        return outcome

    def close(self) -> None:
        self.bar.close()


@contextlib.contextmanager
def follow(path: str | os.PathLike, echo: Callable[[str], object], *,
           interval: float = 0.2) -> Iterator[None]:
    """While the block runs, pass every line appended to the file at ``path`` to ``echo`` (from
    a background thread, every ``interval`` seconds); the lines written by the time the block
    ends are all passed before it returns. Lines present before the block are skipped."""
    path = Path(path)
    stop = threading.Event()
    with open(path, encoding="utf-8") as channel:
        channel.seek(0, os.SEEK_END)

        def pass_lines() -> None:
            pending = ""
            while True:
                finished = stop.is_set()  # read what is there once more after the block ended
                pending += channel.read()
                *lines, pending = pending.split("\n")
                for line in lines:
                    echo(line)
                if finished:
                    return
                stop.wait(interval)

        reader = threading.Thread(target=pass_lines, name="lmf-progress", daemon=True)
        reader.start()
        try:
            yield
        finally:
            stop.set()
            reader.join()
