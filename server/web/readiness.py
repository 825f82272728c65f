"""Readiness: whether this process can do its work right now.

Ready when the database answers with the schema this code needs, and, for the processes that
use them, Temporal answers and the event bus listens. A verdict is reused for a second, and
probes that arrive while one is being made wait for that one: probes never pile up on the
database or on Temporal, and each part answers within CHECK_TIMEOUT.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db import migrate
from server.db.migrate import SchemaVersion
from server.events import EventBus
from server.runtime import Runtime
from server.temporal.probe import TemporalProbe

REUSE_SECONDS = 1.0
CHECK_TIMEOUT = 1.0
OK = "ok"

Check = Callable[[], Awaitable[str | None]]
"""Returns None when its part is ready, otherwise why not."""


@dataclass(frozen=True)
class Verdict:
    checks: Mapping[str, str]

    @property
    def ready(self) -> bool:
        return all(outcome == OK for outcome in self.checks.values())

    def reason(self) -> str:
        return "; ".join(f"{name}: {why}" for name, why in self.checks.items() if why != OK)

    def answer(self) -> tuple[int, dict[str, object]]:
        """The HTTP status and JSON body of /readyz."""
        if self.ready:
            return 200, {"status": "ready", "checks": dict(self.checks)}
        return 503, {"status": "not ready", "reason": self.reason(), "checks": dict(self.checks)}


class Readiness:
    def __init__(self, checks: Mapping[str, Check]) -> None:
        self._checks = dict(checks)
        self._verdict: Verdict | None = None
        self._made_at = 0.0
        self._making: asyncio.Task[Verdict] | None = None
        self._stopping = False

    def stopping(self) -> None:
        """From now on, not ready: the process is shutting down."""
        self._stopping = True

    async def verdict(self) -> Verdict:
        if self._stopping:
            return Verdict({"process": "shutting down"})
        if self._verdict is not None and time.monotonic() - self._made_at < REUSE_SECONDS:
            return self._verdict
        if self._making is None:
            self._making = asyncio.create_task(self._make())
        return await asyncio.shield(self._making)

    async def _make(self) -> Verdict:
        try:
            outcomes = await asyncio.gather(*(_run(check) for check in self._checks.values()))
            self._verdict = Verdict(dict(zip(self._checks, outcomes, strict=True)))
            self._made_at = time.monotonic()
            return self._verdict
        finally:
            self._making = None


async def _run(check: Check) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            problem = await check()
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g} s"
    return OK if problem is None else problem


def for_runtime(runtime: Runtime, *, temporal: bool, bus: bool) -> Readiness:
    """The checks of a process: always the database; Temporal and the bus when it uses them
    (Temporal only where an address is configured)."""
    checks: dict[str, Check] = {"database": lambda: database_problem(runtime.engine)}
    if temporal and runtime.settings.temporal_address is not None:
        checks["temporal"] = TemporalProbe(runtime.settings).problem
    if bus:
        checks["event_bus"] = lambda: bus_problem(runtime.bus)
    return Readiness(checks)


async def database_problem(engine: AsyncEngine) -> str | None:
    try:
        async with engine.connect() as connection:
            state = await migrate.read_state(connection)
    except (DBAPIError, OSError) as error:
        return _first_line(error)
    if state.version is SchemaVersion.BEHIND:
        return f"{state.describe()}: run `{migrate.MIGRATE_COMMAND}`"
    return None


async def bus_problem(bus: EventBus) -> str | None:
    return None if bus.listening else "not listening (reconnecting to PostgreSQL)"


def _first_line(error: Exception) -> str:
    origin = getattr(error, "orig", None) or error
    lines = str(origin).strip().splitlines()
    return f"{type(origin).__name__}: {lines[0] if lines else 'no detail'}"[:200]
