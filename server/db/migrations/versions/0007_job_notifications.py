"""Job notifications: what each target is owed when a job reaches a status, sent after commit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "job_notifications",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("job_number", _ID, nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_number"],
            ["jobs.number"],
            name=op.f("fk_job_notifications_job_number_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_notifications")),
        sa.UniqueConstraint(
            "job_number",
            "status",
            "target",
            name=op.f("uq_job_notifications_job_number_status_target"),
        ),
    )
    op.create_index(
        "ix_job_notifications_due",
        "job_notifications",
        ["delivery", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_job_notifications_due", table_name="job_notifications")
    op.drop_table("job_notifications")
