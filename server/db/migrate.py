"""The database schema: applying the Alembic migrations from code, and telling whether the
database is at the schema this code needs.

`jobmonitor migrate` (and `dev`, and the commands an operator runs by hand) migrate; the
long-running processes only check, unless JOBMONITOR_AUTO_MIGRATE=true. On PostgreSQL an
upgrade holds a transaction-scoped advisory lock, so processes that start at once on an empty
database migrate it once: the others wait for the lock, then find it current. The lock is
transaction-scoped, so it works through PgBouncer in transaction mode too.
"""

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.settings import StartupError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# An arbitrary constant that names the lock: "jm" "mg" in ASCII.
MIGRATION_LOCK = 0x6A6D6D67
MIGRATE_COMMAND = "jobmonitor migrate"


class SchemaVersion(StrEnum):
    CURRENT = "current"
    BEHIND = "behind"
    AHEAD = "ahead"
    """A revision this code does not know: a newer version migrated the database (a rollout
    in progress); this code keeps working on it."""


@dataclass(frozen=True)
class SchemaState:
    version: SchemaVersion
    database: frozenset[str]
    code: frozenset[str]

    def describe(self) -> str:
        found = ", ".join(sorted(self.database)) or "empty"
        needed = ", ".join(sorted(self.code))
        return f"the database schema is {found}; this code needs {needed}"


class SchemaBehind(StartupError):
    """The database is behind this code: `jobmonitor migrate` brings it forward."""

    def __init__(self, state: SchemaState) -> None:
        super().__init__(f"{state.describe()}: run `{MIGRATE_COMMAND}` first")
        self.state = state


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


@cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def code_heads() -> frozenset[str]:
    return frozenset(_scripts().get_heads())


def state_of(database: frozenset[str]) -> SchemaState:
    code = code_heads()
    if database == code:
        version = SchemaVersion.CURRENT
    elif database <= _known_revisions():
        version = SchemaVersion.BEHIND
    else:
        version = SchemaVersion.AHEAD
    return SchemaState(version, database, code)


def _upgrade(connection: Connection) -> None:
    command.upgrade(_config(connection), "heads")


def _current_heads(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema (a no-op when it is already there), under the
    migration lock on PostgreSQL."""
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        database = await connection.run_sync(_current_heads)
        if state_of(database).version is SchemaVersion.BEHIND:
            await connection.run_sync(_upgrade)


async def read_state(connection: AsyncConnection) -> SchemaState:
    """Where the database stands, in one short query (cheap enough for a readiness probe)."""
    try:
        rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
    except DBAPIError as error:
        if _no_version_table(error):
            await connection.rollback()
            return state_of(frozenset())
        raise
    return state_of(frozenset(rows.scalars()))


async def prepare(engine: AsyncEngine, *, migrate: bool) -> None:
    """Migrate (`migrate`), or refuse to go on when the database is behind this code."""
    if migrate:
        await upgrade(engine)
        return
    async with engine.connect() as connection:
        state = await read_state(connection)
    if state.version is SchemaVersion.BEHIND:
        raise SchemaBehind(state)


def _no_version_table(error: DBAPIError) -> bool:
    message = str(error.orig).lower()
    return "alembic_version" in message and (
        "no such table" in message or "does not exist" in message
    )
