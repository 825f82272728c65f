"""API tokens in the database: create, revoke, and look one up by its digest."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import ApiToken
from server.domain.errors import InvalidArgument, NotFound
from server.domain.roles import Role
from server.events import EventBus, TokenRevoked

from .principal import Principal
from .tokens import digest, new_token

_ID_BATCH = 500
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class IssuedToken:
    id: int
    tenant: str
    role: Role
    name: str
    token: str
    """The only time the token itself exists outside the caller's hands."""


async def create_token(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    tenant: str,
    role: Role,
    name: str | None = None,
) -> IssuedToken:
    if _TENANT.fullmatch(tenant) is None:
        raise InvalidArgument(f"{tenant!r} is not a tenant name", field="tenant")
    token = new_token()
    async with session_factory() as session, session.begin():
        row = ApiToken(
            tenant_id=tenant,
            name=name or f"{role}-token",
            role=role,
            digest=digest(token),
            created_at=datetime.now(UTC),
        )
        session.add(row)
        await session.flush()
        return IssuedToken(id=row.id, tenant=tenant, role=role, name=row.name, token=token)


async def revoke_token(
    session_factory: async_sessionmaker[AsyncSession], bus: EventBus, *, token_id: int
) -> None:
    """Revokes the token and, after commit, tells every process on `bus`; a process the
    notice does not reach stops accepting the token within `token_cache_seconds`."""
    async with session_factory() as session, session.begin():
        revoked = await session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
            .returning(ApiToken.tenant_id)
        )
        tenant = revoked.scalar_one_or_none()
        if tenant is None:
            raise NotFound(f"no live token has the id {token_id}", field="id")
    await bus.publish([TokenRevoked(tenant=tenant, token_id=token_id)])


async def principal_for_digest(
    session_factory: async_sessionmaker[AsyncSession], token_digest: str
) -> Principal | None:
    async with session_factory() as session:
        row = (
            await session.execute(
                select(ApiToken.id, ApiToken.tenant_id, ApiToken.role, ApiToken.name).where(
                    ApiToken.digest == token_digest, ApiToken.revoked_at.is_(None)
                )
            )
        ).first()
    if row is None:
        return None
    return Principal(tenant=row.tenant_id, role=row.role, actor=row.name, token_id=row.id)


async def live_token_ids(
    session_factory: async_sessionmaker[AsyncSession], token_ids: Sequence[int]
) -> set[int]:
    """Which of these tokens still work (exist and are not revoked)."""
    live: set[int] = set()
    async with session_factory() as session:
        for start in range(0, len(token_ids), _ID_BATCH):
            batch = token_ids[start : start + _ID_BATCH]
            rows = await session.scalars(
                select(ApiToken.id).where(ApiToken.id.in_(batch), ApiToken.revoked_at.is_(None))
            )
            live.update(rows)
    return live
