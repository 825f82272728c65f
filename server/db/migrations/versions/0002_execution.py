"""The dispatch outbox: a job's workflow start, stored with the job and delivered to Temporal

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "job_outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("job_number", _ID, nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_number"],
            ["jobs.number"],
            name=op.f("fk_job_outbox_job_number_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_outbox")),
        sa.UniqueConstraint("job_number", name=op.f("uq_job_outbox_job_number")),
    )
    op.create_index(
        "ix_job_outbox_delivered_id", "job_outbox", ["delivered_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_job_outbox_delivered_id", table_name="job_outbox")
    op.drop_table("job_outbox")
