"""Labelers: per-document labeler runs, versioned collection taxonomies, relabel jobs.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = postgresql.UUID(as_uuid=True)


def _now(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "labeler_runs",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("document_id", UUID, sa.ForeignKey("documents.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("labeler", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("ms", sa.Float()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        _now("updated_at"),
        sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed')",
                           name="ck_labeler_runs_status"),
        sa.UniqueConstraint("document_id", "labeler", name="uq_labeler_runs_document_labeler"),
    )
    op.create_index("ix_labeler_runs_status_updated", "labeler_runs", ["status", "updated_at"])
    op.create_table(
        "taxonomies",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("collection_id", UUID, sa.ForeignKey("collections.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("labels", postgresql.JSONB(), nullable=False),
        sa.Column("created_by", UUID, sa.ForeignKey("users.id", ondelete="SET NULL")),
        _now("created_at"),
        sa.UniqueConstraint("collection_id", "version", name="uq_taxonomies_collection_version"),
    )
    op.create_table(
        "label_jobs",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("collection_id", UUID, sa.ForeignKey("collections.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("taxonomy_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text()),
        sa.Column("created_by", UUID, sa.ForeignKey("users.id", ondelete="SET NULL")),
        _now("created_at"),
        _now("updated_at"),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name="ck_label_jobs_status"),
    )
    op.create_index("ix_label_jobs_status_updated", "label_jobs", ["status", "updated_at"])
    # The label filters (search and the document list) look labels up by document and kind.
    op.create_index("ix_labels_document_kind_value", "labels", ["document_id", "kind", "value"])


def downgrade() -> None:
    op.drop_index("ix_labels_document_kind_value", table_name="labels")
    op.drop_table("label_jobs")
    op.drop_table("taxonomies")
    op.drop_table("labeler_runs")
