"""Modules reachable under a second name: ``import lmf.config`` gives ``lmf.classification.config``.

The package is laid out by room (``lmf.core``, ``lmf.classification``, ``lmf.seg``); the names
the notebooks, the README and user code have always imported (``lmf.config``, ``lmf.report``,
``lmf.runs`` …) stay valid through :class:`ModuleAliases`, an import finder on
``sys.meta_path`` (PEP 451) that answers an aliased name, or any name under it, with the module
of the real name. The two names are then one module object in ``sys.modules``, so a class has
one identity and ``unittest.mock.patch("lmf.train.X")`` patches what ``lmf.classification.train``
uses. A per-name re-export module would instead load a second copy of every submodule of an
aliased package (``lmf.report.reading``) under the old name.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Mapping


class ModuleAliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finder and loader for ``aliases`` (old dotted name -> real dotted name), prefixes included:
    ``lmf.report.reading`` is ``lmf.classification.report.reading`` when ``lmf.report`` is
    aliased to ``lmf.classification.report``."""

    def __init__(self, aliases: Mapping[str, str]):
        self.aliases = dict(aliases)

    def real_name(self, name: str) -> str | None:
        """The real module behind ``name``, or None when no alias covers it."""
        for old, new in self.aliases.items():
            if name == old or name.startswith(old + "."):
                return new + name[len(old):]
        return None

    def find_spec(self, fullname, path=None, target=None):
        real = self.real_name(fullname)
        if real is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=False)

    def create_module(self, spec):
        # The real module, imported (once) under its own name; importlib stores it under the
        # alias too and leaves its __name__, __spec__ and __path__ as they are.
        return importlib.import_module(self.real_name(spec.name))

    def exec_module(self, module) -> None:
        """Nothing to run: the real module executed when it was imported."""

    def install(self) -> None:
        """Put this finder first on ``sys.meta_path`` (once)."""
        if not any(isinstance(f, ModuleAliases) and f.aliases == self.aliases for f in sys.meta_path):
            sys.meta_path.insert(0, self)
