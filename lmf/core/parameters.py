"""The parameters a notebook declares, and whether an override given to ``lmf reproduce`` fits.

A notebook's parameters are the names its cell tagged ``parameters`` assigns (papermill's
convention). The type a parameter expects comes from the cell itself:

* an annotation, ``EPOCHS: int | None = None`` (also ``Optional[int]``, ``list[str]``, a quoted
  annotation): the types it names, ``X | None`` allowing ``None``;
* else the default's type, ``SEEDS = 1`` expecting an ``int``; a default of ``None`` (or one that
  is not a literal) accepts any value.

An ``int`` is accepted where a ``float`` is expected, a list where a tuple is (YAML, which reads
``-p`` values, has no tuples); ``True``/``False`` are not integers here. The cell is read with
:mod:`ast` rather than ``papermill.inspect_notebook``, whose parser skips annotations with ``|``.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from lmf.core.errors import ConfigError

#: Annotation names understood, and the Python types they stand for.
_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict,
          "tuple": tuple, "None": type(None), "List": list, "Dict": dict, "Tuple": tuple}


@dataclass(frozen=True)
class Parameter:
    """One declared parameter: its name, the types it takes (``None``: any) and its default
    as written in the cell."""

    name: str
    types: tuple[type, ...] | None
    default: str

    def accepts(self, value) -> bool:
        if self.types is None:
            return True
        if isinstance(value, bool):
            return bool in self.types
        if isinstance(value, int) and float in self.types:
            return True
        if isinstance(value, list) and tuple in self.types:
            return True
        return isinstance(value, self.types)

    def expected(self) -> str:
        """``int or None``, as error messages name the types."""
        return " or ".join("None" if t is type(None) else t.__name__ for t in self.types or ())


def notebook_parameters(path: str | os.PathLike) -> dict[str, Parameter]:
    """The parameters declared by the ``parameters`` cell of the notebook at ``path``, in order
    (none when it has no such cell)."""
    notebook = nbformat.read(Path(path), as_version=4)
    cell = next((c for c in notebook.cells if c.cell_type == "code"
                 and "parameters" in c.metadata.get("tags", [])), None)
    return cell_parameters(cell.source, Path(path).name) if cell is not None else {}


def cell_parameters(source: str, notebook: str = "the notebook") -> dict[str, Parameter]:
    """The parameters a ``parameters`` cell with this ``source`` declares, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ConfigError(f"the parameters cell of {notebook} is not valid Python "
                          f"(line {error.lineno}: {error.msg})") from None
    declared = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared[node.target.id] = Parameter(
                node.target.id, _annotated_types(node.annotation),
                ast.unparse(node.value) if node.value else "")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    declared[target.id] = Parameter(target.id, _default_types(node.value),
                                                    ast.unparse(node.value))
    return declared


def check_overrides(overrides: dict, notebooks: list[Path]) -> None:
    """Raise a ConfigError for an override no notebook of ``notebooks`` declares (naming the
    valid parameters) or whose value a declaring notebook does not accept."""
    declared = {notebook: notebook_parameters(notebook) for notebook in notebooks}
    valid = sorted({name for parameters in declared.values() for name in parameters})
    for name, value in overrides.items():
        owners = {notebook: parameters[name] for notebook, parameters in declared.items()
                  if name in parameters}
        if not owners:
            where = ("the selected notebook" if len(notebooks) == 1
                     else f"any of the {len(notebooks)} selected notebooks")
            raise ConfigError(f"parameter {name} is not declared by {where}; valid "
                              f"parameters: {', '.join(valid) or 'none'}")
        for notebook, parameter in owners.items():
            if not parameter.accepts(value):
                raise ConfigError(
                    f"parameter {name} of {notebook.stem} expects {parameter.expected()} "
                    f"(default {parameter.default}), got {value!r} ({type(value).__name__})")


def _annotated_types(annotation: ast.expr) -> tuple[type, ...] | None:
    """The types an annotation names; ``None`` when any part of it is not understood."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _annotated_types(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(annotation, ast.Constant) and annotation.value is None:
        return (type(None),)
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        parts = (_annotated_types(annotation.left), _annotated_types(annotation.right))
        return None if None in parts else parts[0] + parts[1]
    if isinstance(annotation, ast.Subscript):
        base = _name(annotation.value)
        members = (annotation.slice.elts if isinstance(annotation.slice, ast.Tuple)
                   else [annotation.slice])
        if base == "Optional":
            inner = _annotated_types(members[0])
            return None if inner is None else (*inner, type(None))
        if base == "Union":
            parts = [_annotated_types(member) for member in members]
            return None if None in parts else tuple(t for part in parts for t in part)
        return (_TYPES[base],) if base in _TYPES else None
    name = _name(annotation)
    return (_TYPES[name],) if name in _TYPES else None


def _default_types(value: ast.expr) -> tuple[type, ...] | None:
    try:
        default = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError):
        return None
    return None if default is None else (type(default),)


def _name(node: ast.expr) -> str | None:
    """``int`` for ``int``, ``Optional`` for ``typing.Optional``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None
