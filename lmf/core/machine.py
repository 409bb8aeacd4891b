"""Facts about the machine a process runs on, read the same way everywhere in the package."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """CPU cores this process may run on: its affinity mask (a SLURM allocation or a container's
    CPU limit), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def decoding_threads(requested: int | None = None, ceiling: int = 8) -> int:
    """Threads for image decoding: ``requested``, else the usable cores up to ``ceiling`` (PIL
    decoding stops scaling beyond a few threads per disk)."""
    return requested or min(ceiling, usable_cores())
