"""Jobs, steps, status events, log lines, agents, workflows and the status counts

Revision ID: 0001
Revises:
Create Date: 2026-11-23 04:22:18.709241
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from server.db.types import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("avatar_url", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum("ONLINE", "BUSY", "OFFLINE", name="agentstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("last_seen_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_agents_tenant_id_name")),
    )
    op.create_table(
        "job_status_counts",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "SCHEDULED",
                "PENDING",
                "RUNNING",
                "WAITING",
                "PAUSED",
                "COMPLETED",
                "FAILED",
                "CANCELLED",
                name="jobstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "status", name=op.f("pk_job_status_counts")),
    )
    op.create_table(
        "workflows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "aliases",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "input_schema",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_workflows_tenant_id_slug")),
    )
    op.create_table(
        "jobs",
        sa.Column("number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "workflow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "SCHEDULED",
                "PENDING",
                "RUNNING",
                "WAITING",
                "PAUSED",
                "COMPLETED",
                "FAILED",
                "CANCELLED",
                name="jobstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "effort_level",
            sa.Enum("MAX", "HIGH", "MEDIUM", name="effortlevel", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column(
            "input",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("ticket_key", sa.String(length=64), nullable=True),
        sa.Column("ticket_url", sa.String(length=500), nullable=True),
        sa.Column(
            "output",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("current_step", sa.Integer(), nullable=True),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Double(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("scheduled_for", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("temporal_workflow_id", sa.String(length=200), nullable=True),
        sa.Column(
            "resent_from_number",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "resent_as_number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("slack_channel", sa.String(length=200), nullable=True),
        sa.Column("slack_thread_ts", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_jobs_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["resent_from_number"], ["jobs.number"], name=op.f("fk_jobs_resent_from_number_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_jobs_workflow_id_workflows")
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_jobs")),
        sa.UniqueConstraint("resent_from_number", name=op.f("uq_jobs_resent_from_number")),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name=op.f("uq_jobs_tenant_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_tenant_agent_created",
            ["tenant_id", "agent_id", "created_at", "number"],
            unique=False,
        )
        batch_op.create_index(
            "ix_jobs_tenant_created", ["tenant_id", "created_at", "number"], unique=False
        )
        batch_op.create_index(
            "ix_jobs_tenant_status_created",
            ["tenant_id", "status", "created_at", "number"],
            unique=False,
        )
        batch_op.create_index(
            "ix_jobs_tenant_workflow_created",
            ["tenant_id", "workflow_id", "created_at", "number"],
            unique=False,
        )
        batch_op.create_index(
            "ix_jobs_tenant_workflow_status", ["tenant_id", "workflow_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_jobs_tenant_agent_status", ["tenant_id", "agent_id", "status"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        # Ticket search is a case-insensitive substring match: trigrams serve it at any size.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_jobs_ticket_key_trgm ON jobs USING gin (lower(ticket_key) gin_trgm_ops)"
        )

    op.create_table(
        "job_events",
        sa.Column("sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "job_number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "from_status",
            sa.Enum(
                "SCHEDULED",
                "PENDING",
                "RUNNING",
                "WAITING",
                "PAUSED",
                "COMPLETED",
                "FAILED",
                "CANCELLED",
                name="jobstatus",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "SCHEDULED",
                "PENDING",
                "RUNNING",
                "WAITING",
                "PAUSED",
                "COMPLETED",
                "FAILED",
                "CANCELLED",
                name="jobstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_number"],
            ["jobs.number"],
            name=op.f("fk_job_events_job_number_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_job_events")),
    )
    with op.batch_alter_table("job_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_events_job_sequence", ["job_number", "sequence"], unique=False
        )
        batch_op.create_index(
            "ix_job_events_tenant_sequence", ["tenant_id", "sequence"], unique=False
        )

    op.create_table(
        "job_steps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "job_number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "RUNNING",
                "COMPLETED",
                "FAILED",
                "SKIPPED",
                name="stepstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column(
            "input",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "output",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_number"],
            ["jobs.number"],
            name=op.f("fk_job_steps_job_number_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_steps")),
        sa.UniqueConstraint("job_number", "index", name=op.f("uq_job_steps_job_number_index")),
    )
    op.create_table(
        "log_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "job_number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column(
            "stream",
            sa.Enum("STDOUT", "STDERR", "SYSTEM", name="logstream", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_number"],
            ["jobs.number"],
            name=op.f("fk_log_lines_job_number_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_lines")),
        sa.UniqueConstraint(
            "job_number", "sequence", name=op.f("uq_log_lines_job_number_sequence")
        ),
    )


def downgrade() -> None:
    op.drop_table("log_lines")
    op.drop_table("job_steps")
    with op.batch_alter_table("job_events", schema=None) as batch_op:
        batch_op.drop_index("ix_job_events_tenant_sequence")
        batch_op.drop_index("ix_job_events_job_sequence")

    op.drop_table("job_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_jobs_ticket_key_trgm")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_tenant_agent_status")
        batch_op.drop_index("ix_jobs_tenant_workflow_status")
        batch_op.drop_index("ix_jobs_tenant_workflow_created")
        batch_op.drop_index("ix_jobs_tenant_status_created")
        batch_op.drop_index("ix_jobs_tenant_created")
        batch_op.drop_index("ix_jobs_tenant_agent_created")

    op.drop_table("jobs")
    op.drop_table("workflows")
    op.drop_table("job_status_counts")
    op.drop_table("agents")
