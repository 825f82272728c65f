"""The migrations build exactly the schema the models describe, and the newest one steps back
to the revision before it and forward again, keeping the rows, on both databases."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_engine
from server.db.migrate import MIGRATIONS
from server.db.models import Base, Workflow
from server.runtime import Runtime
from tests.support.database import fresh_database

# Created by the migration on PostgreSQL only (trigram search); the models leave it out.
POSTGRESQL_ONLY_INDEXES = {"ix_jobs_ticket_key_trgm"}
Shape = dict[str, tuple[list[str], list[str], list[str]]]


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        difference
        for difference in compare_metadata(context, Base.metadata)
        if not (difference[0] == "remove_index" and difference[1].name in POSTGRESQL_ONLY_INDEXES)
    ]


async def test_migrated_database_matches_the_models(shared_runtime: Runtime) -> None:
    async with shared_runtime.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


@pytest.fixture
async def empty_engine(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a database of its own, with no tables, on the backend of `database_url`."""
    async with fresh_database(database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()


def _migrate(connection: Connection, step: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    getattr(command, step)(config, revision)


def _shape(connection: Connection) -> Shape:
    """Every table with its columns, indexes and unique constraints, by name."""
    inspector = inspect(connection)
    return {
        table: (
            sorted(column["name"] for column in inspector.get_columns(table)),
            sorted(str(index["name"]) for index in inspector.get_indexes(table)),
            sorted(str(unique["name"]) for unique in inspector.get_unique_constraints(table)),
        )
        for table in inspector.get_table_names()
    }


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _step(engine: AsyncEngine, step: str, revision: str) -> Shape:
    async with engine.begin() as connection:
        await connection.run_sync(_migrate, step, revision)
    async with engine.connect() as connection:
        return await connection.run_sync(_shape)


async def test_the_newest_migration_steps_back_and_forward_keeping_the_rows(
    empty_engine: AsyncEngine,
) -> None:
    scripts = ScriptDirectory(str(MIGRATIONS))
    head = scripts.get_current_head()
    assert head is not None
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    # given a database at the revision before the newest, with a row, then brought to the newest
    before = await _step(empty_engine, "upgrade", previous)
    async with empty_engine.begin() as connection:
        await connection.execute(
            Workflow.__table__.insert().values(
                tenant_id="t",
                slug="kept",
                display_name="Kept",
                aliases=[],
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    newest = await _step(empty_engine, "upgrade", head)
    assert newest != before

    # when it is downgraded to the previous revision
    after = await _step(empty_engine, "downgrade", previous)

    # then it has that revision's schema exactly, and the row
    assert after == before
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_current) == previous
        assert list(await connection.scalars(select(Workflow.slug))) == ["kept"]
    # and upgraded again it matches the models
    await _step(empty_engine, "upgrade", head)
    async with empty_engine.connect() as connection:
        assert await connection.run_sync(_current) == head
        assert await connection.run_sync(_differences) == []
        assert list(await connection.scalars(select(Workflow.slug))) == ["kept"]
