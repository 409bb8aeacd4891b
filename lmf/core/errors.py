"""Errors a user can cause. The CLI prints their message and exits non-zero; nothing else does.

Each message says what is wrong and what to do about it.
"""

from __future__ import annotations


class LmfError(Exception):
    """Base class of every error the user can fix (bad name, missing data, bad value)."""


class ConfigError(LmfError, ValueError):
    """An unknown name or an invalid value in a configuration or call."""


class DataError(LmfError):
    """Data on disk is missing, laid out wrongly, or unreadable."""


class RunError(LmfError):
    """A training run could not finish (for example a non-finite loss)."""


class StorageError(LmfError):
    """A folder cannot take what must be written (full disk, read-only, no permission)."""


def unknown_choice(kind: str, name: object, valid) -> ConfigError:
    """A ConfigError for an unknown ``name`` of ``kind``, listing the valid choices."""
    choices = ", ".join(sorted(str(v) for v in valid))
    return ConfigError(f"unknown {kind} {name!r}; valid choices: {choices}")
