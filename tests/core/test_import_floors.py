"""Import floors of the package, read from the source (every ``import`` statement, those inside
functions included, since a deferred import only hides a dependency): no module imports itself
through others, the shared core, which both tasks build on, imports no task's code, one task
never imports the other, and the package imports its modules by their real names (the public
aliases of ``lmf.MOVED`` are for users)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lmf"

#: The rooms of the package by name prefix. The shared core is ``lmf.core`` with the data and
#: loss libraries, the task table and the sweep's workers and launchers; each task is a room.
CORE_PREFIXES = ("lmf.core", "lmf.data", "lmf.losses", "lmf.tasks", "lmf.sweep.launchers",
                 "lmf.sweep.parent", "lmf.sweep.progress", "lmf.sweep.worker")
TASKS = ("lmf.classification", "lmf.seg")


def in_room(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def module_files() -> dict[str, Path]:
    files = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``lmf`` modules it imports anywhere in its source (``from pkg import name``
    counts as ``pkg.name`` where that is a module, else as ``pkg``)."""
    files = module_files()

    def known(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in files.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(known(a.name) for a in node.names if a.name.split(".")[0] == "lmf")
            elif isinstance(node, ast.ImportFrom):
                assert not node.level, f"{path}:{node.lineno}: lmf imports absolutely"
                base = node.module or ""
                if base.split(".")[0] == "lmf":
                    targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in files
                                   else known(base) for a in node.names)
        graph[module] = targets - {module, None}
    return graph


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def reachable(graph: dict[str, set[str]], module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_graph_sees_module_level_and_deferred_imports(graph):
    assert "lmf.core.trainer" in graph["lmf.seg.train"]
    assert "lmf.classification.models" in graph["lmf.classification.config"]  # imported inside a function
    assert "lmf.seg.config" not in graph["lmf.tasks"]  # named in a string, imported on use


def test_no_import_cycle(graph):
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_a_cycle_would_be_found():
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter({"a": {"b"}, "b": {"c"}, "c": {"a"}}).static_order())


def imported_names() -> list[tuple[str, str]]:
    """(where, dotted name) of every ``import lmf...`` and ``from lmf... import`` in the package."""
    names = []
    for path in module_files().values():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names += [(f"{path.name}:{node.lineno}", a.name) for a in node.names
                          if a.name.split(".")[0] == "lmf"]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "lmf":
                names.append((f"{path.name}:{node.lineno}", node.module))
    return names


def test_the_package_imports_modules_by_their_real_names():
    files = module_files()
    aliased = [f"{where} imports {name}" for where, name in imported_names() if name not in files]
    assert not aliased, aliased


CORE = sorted(m for m in module_files() if in_room(m, CORE_PREFIXES))


def test_the_rooms_hold_the_modules_they_name():
    modules = module_files()
    assert {"lmf.core.runs", "lmf.core.trainer", "lmf.data.cache", "lmf.losses.lmf"} <= set(CORE)
    assert "lmf.classification.train" in modules and "lmf.seg.train" in modules


@pytest.mark.parametrize("module", CORE)
def test_the_core_imports_no_task(module, graph):
    outside = sorted(m for m in reachable(graph, module) if not in_room(m, CORE_PREFIXES))
    assert not outside, f"{module} imports (directly or through others) {outside}"


@pytest.mark.parametrize(("task", "other"), [TASKS, TASKS[::-1]])
def test_one_task_never_imports_the_other(task, other, graph):
    crossing = {module: sorted(m for m in reachable(graph, module) if in_room(m, (other,)))
                for module in graph if in_room(module, (task,))}
    crossing = {module: targets for module, targets in crossing.items() if targets}
    assert not crossing, f"{task} reaches {other}: {crossing}"
