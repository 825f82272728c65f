"""Chooses the event bus for a database: LISTEN/NOTIFY on PostgreSQL, in-process otherwise."""

from sqlalchemy.ext.asyncio import AsyncEngine

from server.settings import EventBusKind

from .bus import EventBus, InProcessBus
from .postgres import PostgresBus


def create_bus(kind: EventBusKind, engine: AsyncEngine) -> EventBus:
    on_postgres = engine.dialect.name == "postgresql"
    if kind is EventBusKind.POSTGRES and not on_postgres:
        raise ValueError("JOBMONITOR_EVENT_BUS=postgres needs a PostgreSQL database")
    if kind is EventBusKind.POSTGRES or (kind is EventBusKind.AUTO and on_postgres):
        return PostgresBus(engine)
    return InProcessBus()
