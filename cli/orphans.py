"""No process of ours outlives `vip up`, even when it is killed with SIGKILL."""

import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def terminate_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel SIGTERM the child when its parent dies (Linux; None elsewhere).

    libc is resolved here, in the parent, so the child runs one system call between fork and exec
    (safe with threads). Linux ties the signal to the forking *thread*: start such children from the
    main thread.
    """
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return in_child
