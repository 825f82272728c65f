"""Apply the Alembic migrations from code: `jobmonitor migrate`, `serve` and `seed` use this."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(_config(connection), "heads")


def _is_current(connection: Connection) -> bool:
    heads = set(ScriptDirectory.from_config(_config()).get_heads())
    return set(MigrationContext.configure(connection).get_current_heads()) == heads


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema (a no-op when it is already there)."""
    async with engine.begin() as connection:
        if not await connection.run_sync(_is_current):
            await connection.run_sync(_upgrade)
