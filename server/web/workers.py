"""`jobmonitor serve --workers N`: N processes of the API accepting on one listening socket.

Each process is a whole API (its own runtime, pool and event-bus listener) under the same
graceful server as one process; what one process commits reaches the others' subscribers
through PostgreSQL's LISTEN/NOTIFY. On SQLite the event bus lives in one process, so more
than one is refused. The parent only holds the socket and its children: SIGTERM or SIGINT
is passed on to every child, and when one child ends on its own the others are stopped too
(the process manager restarts the whole).
"""

import logging
import multiprocessing
import os
import signal
import socket
from collections.abc import Callable, Sequence
from multiprocessing.process import BaseProcess
from types import FrameType

from sqlalchemy.engine import make_url

from server.settings import EventBusKind, Settings

log = logging.getLogger(__name__)

# Sockets travel to spawned children by pickling (the children inherit the descriptor).
multiprocessing.allow_connection_pickling()
_spawn = multiprocessing.get_context("spawn")


def workers_refusal(settings: Settings, workers: int) -> str | None:
    """Why `workers` processes cannot serve with these settings, or None when they can."""
    if workers <= 1:
        return None
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        return (
            f"{workers} workers need PostgreSQL: on SQLite the event bus lives inside one "
            "process, so live updates made in one worker would never reach the others' "
            "subscribers; serve with one worker (JOBMONITOR_WORKERS=1) or use PostgreSQL"
        )
    if settings.event_bus is EventBusKind.MEMORY:
        return (
            f"{workers} workers need the PostgreSQL event bus: JOBMONITOR_EVENT_BUS=memory keeps "
            "events inside one process; unset it or set it to postgres"
        )
    return None


def supervise(serve: Callable[[socket.socket], None], *, host: str, port: int, workers: int) -> int:
    """Run `serve(listener)` in `workers` spawned processes on one socket bound here, until
    stopped; the exit code. `serve` must be a module-level function (it is pickled)."""
    listener = socket.create_server((host, port), backlog=2048)
    children = [_spawn.Process(target=serve, args=(listener,)) for _ in range(workers)]
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        _terminate(children)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    for child in children:
        child.start()
    log.info("serving on %s:%d with %d worker processes", host, port, workers)
    exit_code = 0
    while any(child.is_alive() for child in children):
        for child in children:
            child.join(timeout=0.5)
            if not child.is_alive() and not stopping:
                log.error(
                    "worker process %s ended (exit code %s): stopping", child.pid, child.exitcode
                )
                stopping = True
                exit_code = 1
                _terminate(children)
    listener.close()
    return exit_code


def _terminate(children: Sequence[BaseProcess]) -> None:
    """SIGTERM to each child still running, whatever the parent got: a child also gets the
    terminal's SIGINT itself, and a second SIGINT would make it drop its grace."""
    for child in children:
        if child.is_alive() and child.pid is not None:
            os.kill(child.pid, signal.SIGTERM)
