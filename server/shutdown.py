"""The last resort of graceful shutdown: from SIGTERM on, a process has its grace
(JOBMONITOR_SHUTDOWN_GRACE_SECONDS) to finish what it does, and exits at most HARD_STOP_MARGIN
seconds later whatever it still waits on (a Temporal or a PostgreSQL that does not answer).

The deadline runs on a thread of its own: it fires even when the event loop is stuck.
"""

import logging
import os
import threading

HARD_STOP_MARGIN = 5.0
EXIT_FORCED = 70
log = logging.getLogger(__name__)
_armed = threading.Event()


def arm_hard_stop(grace_seconds: float) -> None:
    """Exit the process `grace_seconds + HARD_STOP_MARGIN` from now (once; idempotent)."""
    if _armed.is_set():
        return
    _armed.set()
    deadline = grace_seconds + HARD_STOP_MARGIN
    timer = threading.Timer(deadline, _exit_now, args=(deadline,))
    timer.daemon = True
    timer.start()


def _exit_now(deadline: float) -> None:
    log.error("still stopping %.0f s after the signal: exiting now", deadline)
    logging.shutdown()
    os._exit(EXIT_FORCED)
