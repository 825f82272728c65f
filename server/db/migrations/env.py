"""Alembic environment: runs on the connection `jobmonitor migrate` hands over, or on the
database named by the settings when the `alembic` command is used directly."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from server.db.engine import engine_for
from server.db.models import Base
from server.settings import Settings

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_settings() -> None:
    engine = engine_for(Settings())
    async with engine.connect() as connection:
        await connection.run_sync(run_on)
        await connection.commit()
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    asyncio.run(run_with_settings())
