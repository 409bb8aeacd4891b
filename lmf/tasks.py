"""The tasks a run can be, in one table: each task's config class and training engine by name.

================  ===========================  ===================  =====================
task              config (plain data -> run)   engine (``fit``)     run files it adds
================  ===========================  ===================  =====================
classification    ``lmf.classification.config.RunConfig``     ``lmf.classification.train``        logits, per-class F1
segmentation      ``lmf.seg.config.SegConfig``  ``lmf.seg.train``    masks, DSC/IoU
================  ===========================  ===================  =====================

A config as plain data names its task (``"task"``, absent for the store's default,
``lmf.core.runs.DEFAULT_TASK``); the sweep layer turns it back into a config object and trains it
through this table, so no launcher or worker branches on a task's name. The modules are
imported by name when a task is used: the core imports no task. A new task adds one row
(its config must derive from ``lmf.core.checked_config.CheckedConfig``, its engine provide
``fit(config, results, quiet)``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lmf.core import runs
from lmf.core.errors import unknown_choice


@dataclass(frozen=True)
class Task:
    """Where a task's config class and engine live (``module:attribute`` and ``module``)."""

    config: str
    engine: str

    def config_class(self) -> type:
        module, name = self.config.split(":")
        return getattr(importlib.import_module(module), name)

    def fit(self) -> Callable:
        return importlib.import_module(self.engine).fit


TASKS: dict[str, Task] = {
    "classification": Task("lmf.classification.config:RunConfig", "lmf.classification.train"),
    "segmentation": Task("lmf.seg.config:SegConfig", "lmf.seg.train"),
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise unknown_choice("task", name, TASKS)
    return TASKS[name]


def config_from_dict(data: Mapping):
    """The config object of a run given as plain data (``config.json``, a launcher's task)."""
    return get_task(runs.task_of(data)).config_class().from_dict(data)


def fit_of(config) -> Callable:
    """The ``fit`` of the engine that trains ``config``."""
    return get_task(config.task).fit()
