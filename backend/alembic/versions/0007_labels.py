"""Labels as data: one row per claim a model or a person makes about a document or chunk.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("chunk_id", sa.BigInteger(), sa.ForeignKey("chunks.id", ondelete="CASCADE")),
        sa.Column(
            "collection_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("collections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("model_name", sa.String(200)),
        sa.Column("model_version", sa.String(64)),
        sa.Column("taxonomy_version", sa.Integer()),
        sa.Column(
            "created_by",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("source IN ('model', 'human')", name="ck_labels_source"),
        sa.CheckConstraint("status IN ('active', 'rejected')", name="ck_labels_status"),
        sa.CheckConstraint(
            "status = 'active' OR source = 'human'", name="ck_labels_rejected_is_human"
        ),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name="ck_labels_confidence_range"
        ),
    )
    op.create_index("ix_labels_document", "labels", ["document_id"])
    op.create_index("ix_labels_collection_kind_value", "labels", ["collection_id", "kind", "value"])
    # One claim per (document, chunk or whole document, kind, value, source).
    op.execute(
        "CREATE UNIQUE INDEX uq_labels_claim ON labels "
        "(document_id, COALESCE(chunk_id, 0), kind, value, source)"
    )


def downgrade() -> None:
    op.drop_table("labels")
