"""Files that are either complete or absent: the one atomic-write helper of the package.

``write_atomically(path, write)`` calls ``write(temporary)`` on a hidden sibling
``.<name>.tmp-<pid>-<random>``, flushes it to disk and renames it over ``path`` (``os.replace`` is
atomic on POSIX), so a killed process never leaves a file that looks finished. A failed write
removes its temporary file; ``remove_stale_temporaries`` clears those a killed process left
behind (its pid no longer runs). Errors of the storage itself (full disk, read-only or
unwritable folder) become one :class:`~lmf.errors.StorageError` naming the folder and what to do.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from lmf.errors import StorageError

_TEMPORARY = ".tmp-"

#: errno values that mean "this folder cannot take the file", with the advice to give.
_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space or move the folder to a bigger disk",
    errno.EDQUOT: "the disk quota is exhausted: free some space or move the folder",
    errno.EROFS: "the file system is read-only: move the folder to a writable disk",
    errno.EACCES: "permission denied: make the folder writable or move it",
    errno.EPERM: "the folder or file may not be changed (immutable?): make it writable or move it",
}


def temporary_sibling(path: Path) -> Path:
    """A hidden, unique name next to ``path`` that :func:`remove_stale_temporaries` recognises."""
    return path.with_name(f".{path.name}{_TEMPORARY}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def write_atomically(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary)``, fsync the file, rename it onto ``path``; return ``path``."""
    path = Path(path)
    temporary = temporary_sibling(path)
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise storage_error(error, path.parent) from error
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """``payload`` written atomically to ``path``."""
    return write_atomically(path, lambda temporary: temporary.write_bytes(payload))


def storage_error(error: OSError, folder: Path) -> OSError | StorageError:
    """A StorageError naming ``folder`` when ``error`` is the storage's fault, else ``error``.

    A ``folder`` that could not be created is named by its nearest existing parent: the folder
    that refused it.
    """
    advice = _ADVICE.get(error.errno)
    if advice is None:
        return error
    folder = Path(folder)
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return StorageError(f"cannot write to {folder}: {advice} ({error.strerror}); nothing "
                        "half-written was left, and rerunning the same command continues")


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files and folders in ``folder`` whose writing process is gone."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for entry in folder.glob(f".*{_TEMPORARY}*"):
        pid = entry.name.rpartition(_TEMPORARY)[2].partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    return True
