"""Persisted operations: registered documents and automatic persisted queries

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "persisted_operations",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persisted_operations")),
    )
    op.create_index(
        "ix_persisted_operations_registered_loaded",
        "persisted_operations",
        ["registered", "loaded_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_persisted_operations_registered_loaded", "persisted_operations")
    op.drop_table("persisted_operations")
