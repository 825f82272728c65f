"""Signal outbox: signals and cancellations owed to job workflows, sent after commit

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "job_signal_outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("job_number", _ID, nullable=False),
        sa.Column("workflow_id", sa.String(length=255), nullable=False),
        sa.Column("signal", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_number"],
            ["jobs.number"],
            name=op.f("fk_job_signal_outbox_job_number_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_signal_outbox")),
    )
    op.create_index(
        "ix_job_signal_outbox_delivered_id",
        "job_signal_outbox",
        ["delivered_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_job_signal_outbox_job_number", "job_signal_outbox", ["job_number"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_job_signal_outbox_job_number", table_name="job_signal_outbox")
    op.drop_index("ix_job_signal_outbox_delivered_id", table_name="job_signal_outbox")
    op.drop_table("job_signal_outbox")
