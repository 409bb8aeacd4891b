"""Import floors of the package, read from the source (every ``import`` statement, those inside
functions included, since a deferred import only hides a dependency): no module imports itself
through others, and the shared core, which both tasks build on, imports no task's code."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lmf"

#: The modules both tasks (``lmf.tasks``) build on: the run store, the engine and trainer base,
#: the checked-config base, the recipe, the registry, atomic I/O, validation, devices, paths,
#: numerics, the data cache, the sweep's workers and launchers, outputs and the table checks.
CORE = {
    "lmf.atomic", "lmf.checked_config", "lmf.data.cache", "lmf.data.content", "lmf.data.decode",
    "lmf.devices", "lmf.engine", "lmf.errors", "lmf.machine", "lmf.numerics", "lmf.optim",
    "lmf.outputs", "lmf.parameters", "lmf.paths", "lmf.registry", "lmf.regression", "lmf.runs",
    "lmf.sweep.launchers", "lmf.sweep.parent", "lmf.sweep.progress", "lmf.sweep.worker",
    "lmf.tasks", "lmf.trainer", "lmf.validation",
}


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
    assert "lmf.trainer" in graph["lmf.seg.train"]
    assert "lmf.models" in graph["lmf.config"]  # imported inside a function
    assert "lmf.seg.config" not in graph["lmf.tasks"]  # named in a string, imported on use


def test_no_import_cycle(graph):
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_a_cycle_would_be_found():
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter({"a": {"b"}, "b": {"c"}, "c": {"a"}}).static_order())


@pytest.mark.parametrize("module", sorted(CORE))
def test_the_core_imports_no_task(module, graph):
    assert module in graph, f"{module} is listed as core but is not a module of lmf"
    outside = sorted(reachable(graph, module) - CORE)
    assert not outside, f"{module} imports (directly or through others) {outside}"
