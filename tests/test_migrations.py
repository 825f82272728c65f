"""The migrations build exactly the schema the models describe, on both databases."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from server.db.models import Base
from server.runtime import Runtime

# Created by the migration on PostgreSQL only (trigram search); the models leave it out.
POSTGRESQL_ONLY_INDEXES = {"ix_jobs_ticket_key_trgm"}


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
