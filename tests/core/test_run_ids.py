"""The run ids of the cpu grids are pinned: a change of code that is not meant to change what a
run computes (a refactor, a moved module, a renamed helper) must leave every id as it was, so that
the committed tables keep naming the runs they were made from and no finished run is retrained.

``cpu_run_ids.json`` holds the ids of every grid the cpu notebooks train (classification and
segmentation). A change of identity on purpose (a new numerics version, a new field that changes
the numbers) rewrites it, in the same commit as the regenerated figures::

    python tests/core/test_run_ids.py --write
"""

from __future__ import annotations

import lmf  # noqa: F401 - first: the pinned numerics, also when run as a script

# isort: split
import json
import sys
from pathlib import Path

import pytest

PINNED = Path(__file__).with_name("cpu_run_ids.json")


def cpu_run_ids() -> dict[str, list[str]]:
    """The run ids of each grid of the cpu profile, in grid order, and of notebook 04's seed
    spread."""
    from lmf.classification.profiles import get_profile
    from lmf.classification.report.uncertainty import spread_profile
    from lmf.core import runs
    from lmf.sweep import build_grid

    profile = get_profile("cpu")
    grids = {name: build_grid(name, profile) for name in ("paper", "hparams", "extended",
                                                           "scholz", "seg")}
    grids["paper_seed_spread"] = build_grid("paper", spread_profile(profile),
                                            seeds=profile.spread_seeds)
    return {name: [runs.run_id(config.identity()) for config in configs]
            for name, configs in grids.items()}


@pytest.fixture(scope="module")
def ids() -> dict[str, list[str]]:
    return cpu_run_ids()


def _pinned() -> dict[str, list[str]]:
    return json.loads(PINNED.read_text()) if PINNED.is_file() else {}


@pytest.mark.parametrize("grid", sorted(_pinned()))
def test_run_ids_of_the_cpu_grids_are_unchanged(grid, ids):
    pinned = _pinned()[grid]
    changed = sorted(set(pinned) ^ set(ids[grid]))
    assert ids[grid] == pinned, (
        f"the {grid} grid's run ids changed ({len(changed)} differ, e.g. {changed[:2]}): the "
        "identity of a run changed, so its committed numbers no longer name it. If that is "
        "intended, regenerate the figures and run: python tests/core/test_run_ids.py "
        "--write")


def test_every_grid_is_pinned(ids):
    assert sorted(ids) == sorted(_pinned()), f"{PINNED.name} lacks grids or is missing"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: python {sys.argv[0]} --write")
    PINNED.write_text(json.dumps(cpu_run_ids(), indent=1) + "\n")
    print(f"wrote {PINNED}")
