"""Engines and session factories, built by the app factory or the CLI, never at import time."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from server.settings import Settings


def engine_for(settings: Settings) -> AsyncEngine:
    """The engine the settings describe: URL, pool, statement cache."""
    return create_engine(
        settings.database_url,
        echo=settings.sql_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        statement_cache=settings.database_statement_cache,
    )


def create_engine(
    database_url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 20,
    pool_timeout: float = 30.0,
    statement_cache: int = 100,
) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip per checkout; a dropped connection is invalidated
    # by the pool when it fails, and the next checkout opens a fresh one.
    # With no statement cache (asyncpg's nor SQLAlchemy's), asyncpg prepares no named
    # statement that would outlive a transaction: PgBouncer in transaction mode hands each
    # transaction a server connection of its choosing.
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        connect_args={
            "statement_cache_size": statement_cache,
            "prepared_statement_cache_size": statement_cache,
        },
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def create_read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for single-statement reads. On PostgreSQL they run in autocommit, which spares
    the BEGIN and ROLLBACK round trips around every query a dataloader makes; SQLite opens no
    transaction for a lone SELECT anyway."""
    if engine.dialect.name != "postgresql":
        return create_session_factory(engine)
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )
