"""lmf — reference companion to "LMFLOSS: a hybrid loss for imbalanced medical image classification".

Sadi et al. (the LMF paper) combine the label-distribution-aware margin (LDAM) loss with the focal
loss. This package holds the losses, datasets, training engine, sweeps and figure code that the
numbered notebooks in ``notebooks/`` call. Importing it pins the CPU numerics first
(``lmf.core.numerics``), before torch or NumPy load.

The package has three rooms and the layer that joins them:

=====================  ===========================================================================
``lmf.core``           the shared core: run store, engine and trainer base, checked-config base,
                       recipe, registry, atomic I/O, validation, devices, paths, numerics, outputs;
                       with ``lmf.data`` (datasets on disk, splits, the image cache) and
                       ``lmf.losses`` (the loss library both tasks draw on). Imports no task.
``lmf.classification`` the LMF paper's task: config, engine, models, metrics, profiles, the
                       published numbers, tables, figures, Grad-CAM, feature space.
``lmf.seg``            the segmentation task (Cui et al.): the same jobs under the same file names.
the joining layer      ``lmf.tasks`` (task name -> config and engine), ``lmf.sweep`` (grids to a
                       store, any task), ``lmf.reproduce``, ``lmf.site``, ``lmf.cli`` and
                       ``lmf.commands``.
=====================  ===========================================================================

One task never imports the other; ``tests/core/test_import_floors.py`` holds the floors.
The names code has always imported (``lmf.config``, ``lmf.runs``, ``lmf.report`` …) stay valid:
:data:`MOVED` maps each to its room (``lmf.core.aliases``).
"""

import importlib

from lmf.core.numerics import pin as _pin_numerics

_pin_numerics()

from lmf.core.aliases import ModuleAliases  # noqa: E402 - after the pin, which must come first

__version__ = "0.1.0"

_CORE = ("atomic", "batches", "checked_config", "devices", "engine", "errors", "inputs", "machine",
         "numerics", "optim", "outputs", "parameters", "paths", "registry", "regression", "runs",
         "throughput", "trainer", "validation")
_CLASSIFICATION = ("cam", "config", "features", "metrics", "models", "paper", "plots",
                   "profiles", "report", "resnet_cifar", "train")

#: Public module names -> where the module lives.
MOVED = {
    **{f"lmf.{name}": f"lmf.core.{name}" for name in _CORE},
    **{f"lmf.{name}": f"lmf.classification.{name}" for name in _CLASSIFICATION},
    "lmf.data.check": "lmf.classification.dataset_check",
}

ModuleAliases(MOVED).install()


def __getattr__(name: str):
    """``lmf.config`` and the other public names as attributes, imported on first use."""
    if f"lmf.{name}" in MOVED:
        return importlib.import_module(f"lmf.{name}")
    raise AttributeError(f"module 'lmf' has no attribute {name!r}")
