"""The last resort of graceful shutdown: from SIGTERM or Ctrl-C on (or once a process's main
part has failed), a process has its grace (JOBMONITOR_SHUTDOWN_GRACE_SECONDS, 5 s) to finish
what it does, and exits at most HARD_STOP_MARGIN seconds later whatever it still waits on (a
Temporal or a PostgreSQL that does not answer): with the default grace, within 10 s.

The deadline runs on a thread of its own: it fires even when the event loop is stuck. Child
processes registered with `on_hard_stop` (the Temporal dev server of `jobmonitor dev`) are
killed first, so that none outlives the process that started it.
"""

import contextlib
import logging
import os
import signal
import threading

HARD_STOP_MARGIN = 4.0
EXIT_FORCED = 70
log = logging.getLogger(__name__)
_armed = threading.Event()
_children: set[int] = set()


def arm_hard_stop(grace_seconds: float) -> None:
    """Exit the process `grace_seconds + HARD_STOP_MARGIN` from now (once; idempotent)."""
    if _armed.is_set():
        return
    _armed.set()
    deadline = grace_seconds + HARD_STOP_MARGIN
    timer = threading.Timer(deadline, _exit_now, args=(deadline,))
    timer.daemon = True
    timer.start()


def on_hard_stop(pid: int) -> None:
    """Kill this child process too if the hard stop comes (until `child_ended(pid)`)."""
    _children.add(pid)


def child_ended(pid: int) -> None:
    _children.discard(pid)


def _exit_now(deadline: float) -> None:
    log.error("still stopping %.0f s after the signal: exiting now", deadline)
    for pid in list(_children):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    logging.shutdown()
    os._exit(EXIT_FORCED)
