"""Persisted operations in the database, shared by every replica, with a small memory in front.

Registered operations stay until replaced. Automatic persisted queries (documents a client
sent with their hash) are a bounded set: past `capacity`, the least recently loaded go.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import PersistedOperation

MEMORY_SIZE = 1024
"""Documents each process keeps in memory (a hit costs no database round trip)."""


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True)
class KnownOperation:
    document: str
    registered: bool


class OperationStore:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, capacity: int) -> None:
        self._sessions = session_factory
        self._capacity = capacity
        self._memory: OrderedDict[str, KnownOperation] = OrderedDict()

    async def find(self, operation_id: str) -> KnownOperation | None:
        known = self._memory.get(operation_id)
        if known is not None:
            self._memory.move_to_end(operation_id)
            return known
        async with self._sessions() as session, session.begin():
            row = await session.get(PersistedOperation, operation_id)
            if row is None:
                return None
            row.loaded_at = datetime.now(UTC)
            known = KnownOperation(row.document, row.registered)
        self._keep(operation_id, known)
        return known

    async def remember(self, operation_id: str, document: str) -> None:
        """Keeps a document a client sent with its hash (the caller checked the hash)."""
        if self._capacity == 0:
            return
        try:
            async with self._sessions() as session, session.begin():
                if await session.get(PersistedOperation, operation_id) is None:
                    session.add(_row(operation_id, document, registered=False))
                    await session.flush()
                    await _evict(session, keep=self._capacity)
        except IntegrityError:
            pass  # another replica remembered it first
        self._keep(operation_id, KnownOperation(document, registered=False))

    async def register(self, operations: Iterable[tuple[str, str]]) -> int:
        """Registers (id, document) pairs, replacing what those ids held; returns how many."""
        count = 0
        async with self._sessions() as session, session.begin():
            for operation_id, document in operations:
                row = await session.get(PersistedOperation, operation_id)
                if row is None:
                    session.add(_row(operation_id, document, registered=True))
                else:
                    row.document, row.registered = document, True
                self._memory.pop(operation_id, None)
                count += 1
        return count

    def _keep(self, operation_id: str, known: KnownOperation) -> None:
        self._memory[operation_id] = known
        self._memory.move_to_end(operation_id)
        while len(self._memory) > MEMORY_SIZE:
            self._memory.popitem(last=False)


def _row(operation_id: str, document: str, *, registered: bool) -> PersistedOperation:
    return PersistedOperation(
        id=operation_id, document=document, registered=registered, loaded_at=datetime.now(UTC)
    )


async def _evict(session: AsyncSession, *, keep: int) -> None:
    """Deletes the automatic persisted queries beyond the `keep` most recently loaded."""
    beyond = (
        select(PersistedOperation.id)
        .where(PersistedOperation.registered.is_(False))
        .order_by(PersistedOperation.loaded_at.desc(), PersistedOperation.id)
        .offset(keep)
    )
    await session.execute(
        delete(PersistedOperation)
        .where(PersistedOperation.id.in_(beyond.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )


__all__ = ["KnownOperation", "OperationStore", "sha256_of"]
