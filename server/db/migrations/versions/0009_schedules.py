"""Schedules: recurring jobs on Temporal Schedules, and the schedule each run's job came from

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.types import JSONDocument, UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=16)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("temporal_id", sa.String(length=200), nullable=False),
        sa.Column("workflow_id", _ID, nullable=False),
        sa.Column("cron", sa.String(length=200), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("input", JSONDocument, nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=True),
        sa.Column("effort_level", _enum("effortlevel", "MAX", "HIGH", "MEDIUM"), nullable=True),
        sa.Column(
            "overlap", _enum("scheduleoverlap", "SKIP", "BUFFER_ONE", "ALLOW_ALL"), nullable=False
        ),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_schedules_workflow_id_workflows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("temporal_id", name=op.f("uq_schedules_temporal_id")),
    )
    op.create_index("ix_schedules_tenant_workflow", "schedules", ["tenant_id", "workflow_id", "id"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("schedule_id", _ID, nullable=True))
    op.create_index("ix_jobs_schedule_number", "jobs", ["schedule_id", "number"])


def downgrade() -> None:
    op.drop_index("ix_jobs_schedule_number", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("schedule_id")
    op.drop_index("ix_schedules_tenant_workflow", table_name="schedules")
    op.drop_table("schedules")
