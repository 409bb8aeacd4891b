"""lmf.MOVED: the module names code has always imported are the modules of the rooms, one object
under two names (so classes keep one identity and a patch through either name holds)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from unittest import mock

import pytest

import lmf
from lmf.core.aliases import ModuleAliases


@pytest.mark.parametrize(("old", "new"), sorted(lmf.MOVED.items()))
def test_an_old_name_is_the_module_of_its_room(old, new):
    assert importlib.import_module(old) is importlib.import_module(new)
    assert importlib.import_module(new).__name__ == new


def test_submodules_of_an_aliased_package_are_not_loaded_twice():
    import lmf.classification.report.reading as reading
    import lmf.report.reading

    assert lmf.report.reading is reading
    from lmf.classification.config import RunConfig as Real
    from lmf.config import RunConfig

    assert RunConfig is Real


def test_a_patch_through_the_old_name_reaches_the_room():
    import lmf.classification.train as real

    with mock.patch("lmf.train.prepare_data", side_effect=RuntimeError("patched")):
        assert real.prepare_data.side_effect.args == ("patched",)
    assert not isinstance(real.prepare_data, mock.Mock)


def test_old_names_work_as_attributes_in_a_fresh_interpreter():
    code = ("import lmf, sys; assert 'lmf.classification.profiles' not in sys.modules; "
            "print(lmf.profiles.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "lmf.classification.profiles"


def test_unknown_names_stay_unknown():
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        lmf.nonesuch  # noqa: B018
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("lmf.nonesuch")
    assert ModuleAliases({"a.b": "c.d"}).real_name("a.bc") is None
    assert ModuleAliases({"a.b": "c.d"}).real_name("a.b.e") == "c.d.e"
