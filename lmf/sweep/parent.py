"""Worker processes that end with the process that started them.

A sweep killed with SIGKILL (or by the out-of-memory killer) cannot stop its workers, and
``ProcessPoolExecutor`` workers would go on training runs nobody waits for. Each worker calls
:func:`die_with_parent` first: on Linux the kernel sends it SIGKILL when its parent ends
(``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread polls the parent's pid. A killed worker
is what the run store is built for: its lock goes with it, its partial files are temporaries, and
the next sweep resumes the run from its last finished epoch.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

#: ``PR_SET_PDEATHSIG`` of ``<linux/prctl.h>``.
_PR_SET_PDEATHSIG = 1

#: Seconds between two looks at the parent where the kernel cannot be asked.
POLL_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid``, its parent, ends (or has already ended)."""
    if _kernel_kills_on_parent_death():
        _exit_if_orphaned(parent_pid)  # the parent may have died before prctl took effect
        return
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                     name="lmf-parent-watchdog").start()


def _kernel_kills_on_parent_death() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; whether that was granted."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _exit_if_orphaned(parent_pid: int) -> None:
    """Exit at once when this process's parent is no longer ``parent_pid``."""
    if os.getppid() != parent_pid:
        os._exit(1)


def _watch_parent(parent_pid: int) -> None:
    while True:
        _exit_if_orphaned(parent_pid)
        time.sleep(POLL_SECONDS)
