"""``Registry(kind)``: builders by name, each with its keyword defaults and a one-line summary.

Losses, segmentation losses, classifiers and segmentation networks are all chosen by a name in a
configuration. One table type gives them one behaviour: an unknown name is refused with the
registered ones listed (:func:`lmf.core.errors.unknown_choice`), an unknown keyword with the accepted
ones listed, the defaults a configuration leaves out come from one place (the registration), and
``lmf list`` prints every table the same way.

After timm's ``OptimizerRegistry`` (huggingface/pytorch-image-models,
``timm/optim/_optim_factory.py``): an entry holds the builder, its defaults, a description and
what its owner keeps about it besides (timm's ``OptimInfo``); ``build`` looks the name up, fills
in the defaults and calls the builder. The defaults are declared at registration, not read from
the builder's signature, so one builder can serve several names (``functools.partial`` over
per-name settings) without those settings becoming parameters a configuration may pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from lmf.core.errors import ConfigError, unknown_choice

#: What a listing writes for an entry that takes no keyword parameters.
NO_PARAMETERS = "—"


@dataclass(frozen=True)
class Entry:
    """One named builder.

    Attributes:
        name: what a configuration calls it.
        builder: ``builder(*args, **params)`` makes the object; ``params`` are always all of
            ``defaults``' keys (given values or defaults).
        defaults: the keyword parameters it takes, each with its default, in listing order.
        doc: one line saying what it builds, for listings.
        info: what the registry's owner keeps about the entry besides (a classifier's head
            name, a network's accepted inputs); the registry itself never reads it.
    """

    name: str
    builder: Callable[..., Any]
    defaults: Mapping[str, Any]
    doc: str
    info: Any = None


class Registry:
    """Builders of one ``kind`` of thing ("loss", "segmentation model") by name, in registration
    order. ``kind`` starts every error message about its names and parameters."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, builder: Callable[..., Any] | None = None, *, doc: str,
                 defaults: Mapping[str, Any] | None = None, info: Any = None):
        """Register ``builder`` as ``name`` and return it; without ``builder``, a decorator that
        registers the function it decorates.

        A name registered twice is a ValueError (a programming error, not a user's).
        """
        if builder is None:
            return lambda function: self.register(name, function, doc=doc, defaults=defaults,
                                                  info=info)
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered already")
        self._entries[name] = Entry(name, builder, MappingProxyType(dict(defaults or {})), doc,
                                    info)
        return builder

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order."""
        return tuple(self._entries)

    def entry(self, name: str) -> Entry:
        """The entry called ``name``; a ConfigError listing the registered names if none is."""
        if not isinstance(name, str) or name not in self._entries:
            raise unknown_choice(self.kind, name, self._entries)
        return self._entries[name]

    def defaults(self, name: str) -> dict[str, Any]:
        """The keyword parameters ``name`` takes, with their defaults (``{}`` for none)."""
        return dict(self.entry(name).defaults)

    def params(self, name: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` completed with the defaults of ``name``; a ConfigError naming the keywords
        ``name`` does not take and listing those it does."""
        defaults = self.entry(name).defaults
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            accepted = ", ".join(defaults) if defaults else "none"
            raise ConfigError(
                f"{self.kind} {name!r} takes no parameter {', '.join(map(repr, unknown))}; "
                f"valid parameters: {accepted}"
            )
        return {**defaults, **given}

    def build(self, name: str, *args: Any, **params: Any) -> Any:
        """``builder(*args, **params)`` of ``name``, the defaults filling in the parameters not
        given. A ConfigError the builder raises (an invalid value) comes back with the entry
        named: ``<kind> '<name>': <message>``."""
        builder = self.entry(name).builder
        completed = self.params(name, params)
        try:
            return builder(*args, **completed)
        except ConfigError as error:
            raise ConfigError(f"{self.kind} {name!r}: {error}") from None

    def rows(self) -> list[tuple[str, str, str]]:
        """One ``(name, parameters, doc)`` row per entry, the parameters written as
        ``key=default`` pairs (:data:`NO_PARAMETERS` for none)."""
        return [(entry.name, ", ".join(f"{key}={value!r}" for key, value in entry.defaults.items())
                 or NO_PARAMETERS, entry.doc) for entry in self._entries.values()]

    def describe(self) -> str:
        """The entries as :func:`format_rows` writes them."""
        return format_rows(self.rows())


def format_rows(rows: Iterable[tuple[str, str, str]]) -> str:
    """``(name, parameters, doc)`` rows as a plain-text table under a header, columns aligned."""
    table = [("name", "parameters (defaults)", "what it is"), *rows]
    widths = [max(len(row[column]) for row in table) for column in range(2)]
    return "\n".join(f"{name:{widths[0]}}  {params:{widths[1]}}  {doc}".rstrip()
                     for name, params, doc in table)
