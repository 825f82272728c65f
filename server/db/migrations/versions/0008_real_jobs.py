"""Real jobs: the queue, agent slots, dispatch source, frozen definitions, per-step logs and
attempts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from server.db.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_STEP_STATUS = sa.Enum(
    "PENDING",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "SKIPPED",
    name="stepstatus",
    native_enum=False,
    length=16,
)
_SOURCE = sa.Enum(
    "RUN_WORKFLOW",
    "RUN_JOB",
    "QUEUE",
    "AUTOMATION",
    "SCHEDULE",
    "RESEND",
    "RERUN",
    "FOLLOW_UP",
    name="dispatchsource",
    native_enum=False,
    length=16,
)


def upgrade() -> None:
    with op.batch_alter_table("workflows") as table:
        table.add_column(sa.Column("source", sa.Text(), nullable=True))
    with op.batch_alter_table("agents") as table:
        table.add_column(
            sa.Column("slots", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
        table.add_column(
            sa.Column("workflows", _JSON, server_default=sa.text("'[]'"), nullable=False)
        )
    with op.batch_alter_table("jobs") as table:
        table.add_column(sa.Column("effort", _JSON, nullable=True))
        table.add_column(
            sa.Column("source", _SOURCE, server_default="RUN_WORKFLOW", nullable=False)
        )
        table.add_column(sa.Column("definition", _JSON, nullable=True))
        table.add_column(sa.Column("queued_at", UTCDateTime(), nullable=True))
        table.add_column(sa.Column("assigned_at", UTCDateTime(), nullable=True))
        table.add_column(
            sa.Column("agent_pinned", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    op.create_index(
        "ix_jobs_tenant_queued", "jobs", ["tenant_id", "queued_at", "number"], unique=False
    )
    with op.batch_alter_table("job_steps") as table:
        table.add_column(sa.Column("error_detail", sa.Text(), nullable=True))
    with op.batch_alter_table("log_lines") as table:
        table.add_column(sa.Column("step", sa.Integer(), nullable=True))
        table.add_column(sa.Column("attempt", sa.Integer(), nullable=True))
    op.create_index(
        "ix_log_lines_job_step_sequence",
        "log_lines",
        ["job_number", "step", "sequence"],
        unique=False,
    )
    op.create_table(
        "step_attempts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("job_number", _ID, nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", _STEP_STATUS, nullable=False),
        sa.Column("agent_id", _ID, nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_step_attempts_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["job_number"],
            ["jobs.number"],
            name=op.f("fk_step_attempts_job_number_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_attempts")),
        sa.UniqueConstraint(
            "job_number",
            "step_index",
            "attempt",
            name=op.f("uq_step_attempts_job_number_step_index_attempt"),
        ),
    )


def downgrade() -> None:
    op.drop_table("step_attempts")
    op.drop_index("ix_log_lines_job_step_sequence", table_name="log_lines")
    with op.batch_alter_table("log_lines") as table:
        table.drop_column("attempt")
        table.drop_column("step")
    with op.batch_alter_table("job_steps") as table:
        table.drop_column("error_detail")
    op.drop_index("ix_jobs_tenant_queued", table_name="jobs")
    with op.batch_alter_table("jobs") as table:
        for column in (
            "agent_pinned",
            "assigned_at",
            "queued_at",
            "definition",
            "source",
            "effort",
        ):
            table.drop_column(column)
    with op.batch_alter_table("agents") as table:
        table.drop_column("workflows")
        table.drop_column("slots")
    with op.batch_alter_table("workflows") as table:
        table.drop_column("source")
