"""Worker processes that never outlive the process that started them."""

from __future__ import annotations

import os


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies (Linux ``PR_SET_PDEATHSIG``),
    and exit now if it already has: a ``kill -9`` of the close must not leave workers
    rendering (and writing PDFs) behind it. Elsewhere, a no-op."""
    import ctypes
    import ctypes.util
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
