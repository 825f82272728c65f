"""Audit entries: who deleted how many jobs, and with which ids or filter

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.types import JSONDocument, UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", JSONDocument, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index("ix_audit_entries_tenant_at", "audit_entries", ["tenant_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_tenant_at", table_name="audit_entries")
    op.drop_table("audit_entries")
