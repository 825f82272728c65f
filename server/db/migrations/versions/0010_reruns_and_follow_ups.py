"""Reruns and follow-ups: the job a job re-runs or follows, the chain rule, the chain depth

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("rerun_of_number", _ID, nullable=True))
        batch.add_column(sa.Column("parent_number", _ID, nullable=True))
        batch.add_column(sa.Column("follow_up_rule", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("chain_depth", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.create_index("ix_jobs_rerun_of_number", "jobs", ["rerun_of_number", "number"])
    op.create_index("ix_jobs_parent_rule", "jobs", ["parent_number", "follow_up_rule"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_jobs_parent_rule", table_name="jobs")
    op.drop_index("ix_jobs_rerun_of_number", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("chain_depth")
        batch.drop_column("follow_up_rule")
        batch.drop_column("parent_number")
        batch.drop_column("rerun_of_number")
