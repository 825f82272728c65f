"""Automations: webhook rules, the deliveries received, and the rule that dispatched a job

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.types import JSONDocument, UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "automations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", _ID, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("rule", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_automations_workflow_id_workflows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automations")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_automations_tenant_id_name")),
    )
    op.create_table(
        "hook_deliveries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=True),
        sa.Column("event_key", sa.String(length=300), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hook_deliveries")),
        sa.UniqueConstraint(
            "tenant_id",
            "source",
            "delivery_id",
            name=op.f("uq_hook_deliveries_tenant_id_source_delivery_id"),
        ),
    )
    op.create_index(
        "ix_hook_deliveries_event",
        "hook_deliveries",
        ["tenant_id", "source", "event_key", "received_at"],
        unique=False,
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("automation_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_jobs_automation_id_automations"),
            "automations",
            ["automation_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_jobs_automation_created", ["automation_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_automation_created")
        batch_op.drop_constraint(
            batch_op.f("fk_jobs_automation_id_automations"), type_="foreignkey"
        )
        batch_op.drop_column("automation_id")
    op.drop_index("ix_hook_deliveries_event", table_name="hook_deliveries")
    op.drop_table("hook_deliveries")
    op.drop_table("automations")
