"""jobStats: a covering index over a window of jobs (no table reads)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "tenant_id",
    "created_at",
    "workflow_id",
    "status",
    "started_at",
    "completed_at",
    "cost_usd",
]


def upgrade() -> None:
    op.create_index("ix_jobs_tenant_created_stats", "jobs", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_jobs_tenant_created_stats", table_name="jobs")
