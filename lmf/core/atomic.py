"""Files that are either complete or absent: the one atomic-write helper of the package.

``write_atomically(path, write)`` calls ``write(temporary)`` on a hidden sibling
``.<name>.tmp-<pid>-<random>``, flushes it to disk and renames it over ``path`` (``os.replace`` is
atomic on POSIX), so a killed process never leaves a file that looks finished. A failed write
removes its temporary file; ``remove_stale_temporaries`` clears those a killed process left
behind (its pid no longer runs). Errors of the storage itself (full disk, read-only or
unwritable folder) become one :class:`~lmf.core.errors.StorageError` naming the folder and what to do.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from lmf.core.errors import StorageError

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
    except (OSError, RuntimeError) as error:
        failure = storage_error(error, path.parent)
        if failure is error:
            raise
        raise failure from error
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """``payload`` written atomically to ``path``."""
    return write_atomically(path, lambda temporary: temporary.write_bytes(payload))


def storage_error(error: Exception, folder: Path) -> Exception:
    """A StorageError naming ``folder`` when ``error`` is the storage's fault, else ``error``.

    A ``folder`` that could not be created is named by its nearest existing parent: the folder
    that refused it. Besides OSErrors with an errno of :data:`_ADVICE`, a short write of torch's
    zip writer on a full disk counts: see :func:`_full_disk_short_write`.
    """
    folder = _existing(Path(folder))
    if isinstance(error, OSError):
        advice, reason = _ADVICE.get(error.errno), error.strerror
    elif _full_disk_short_write(error, folder):
        advice, reason = _ADVICE[errno.ENOSPC], os.strerror(errno.ENOSPC)
    else:
        advice = None
    if advice is None:
        return error
    return StorageError(f"cannot write to {folder}: {advice} ({reason}); nothing "
                        "half-written was left, and rerunning the same command continues")


def _existing(folder: Path) -> Path:
    """``folder`` or its nearest parent that exists."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


#: Words of the RuntimeError torch's zip writer (PytorchStreamWriter) raises on a short write.
_SHORT_WRITE_WORDS = ("PytorchStreamWriter", "inline_container", "unexpected pos")

#: Free space below which a short write is taken for a full disk (the partial file still counts).
_NEARLY_FULL = 1 << 20


def _full_disk_short_write(error: Exception, folder: Path) -> bool:
    """Whether ``error`` is torch's writer failing because ``folder``'s disk is full.

    ``torch.save`` reports a full disk as ``RuntimeError: [enforce fail at inline_container.cc]
    unexpected pos ...`` with no errno, so the disk itself is asked: called while the partial
    file still exists, it finds (almost) no free space left when that was the cause.
    """
    if not isinstance(error, RuntimeError):
        return False
    if not any(word in str(error) for word in _SHORT_WRITE_WORDS):
        return False
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL
    except OSError:
        return False


def format_size(size: float) -> str:
    """``size`` bytes in the unit that shows it: ``512 B``, ``3.4 KiB``, ``120.0 MiB``, ``2.50 GiB``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.2f} {unit}" if unit == "GiB" else f"{size / scale:.1f} {unit}"
    return f"{int(size)} B"


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
