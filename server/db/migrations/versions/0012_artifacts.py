"""Artifacts: the files steps write, and their bytes when the database keeps them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "artifacts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("job_number", _ID, nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_number"],
            ["jobs.number"],
            name=op.f("fk_artifacts_job_number_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
        sa.UniqueConstraint(
            "job_number",
            "step",
            "attempt",
            "name",
            name=op.f("uq_artifacts_job_number_step_attempt_name"),
        ),
    )
    op.create_index("ix_artifacts_job_number", "artifacts", ["job_number", "id"])
    op.create_table(
        "artifact_chunks",
        sa.Column("artifact_id", _ID, nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["artifacts.id"],
            name=op.f("fk_artifact_chunks_artifact_id_artifacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("artifact_id", "index", name=op.f("pk_artifact_chunks")),
    )


def downgrade() -> None:
    op.drop_table("artifact_chunks")
    op.drop_index("ix_artifacts_job_number", table_name="artifacts")
    op.drop_table("artifacts")
