"""Images as documents: image facts, thumbnails, per-page text paths, OCR chunks with boxes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("thumbnail_key", sa.String(512)))
    op.add_column("documents", sa.Column("pages", postgresql.JSONB()))
    op.create_index("ix_documents_thumbnail_key", "documents", ["thumbnail_key"])
    op.add_column(
        "chunks", sa.Column("source", sa.String(32), nullable=False, server_default="text")
    )
    op.add_column("chunks", sa.Column("boxes", postgresql.JSONB()))
    op.create_check_constraint(
        op.f("ck_chunks_source"), "chunks", "source IN ('text', 'ocr', 'image_description')"
    )
    op.create_table(
        "document_images",
        sa.Column(
            "document_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("exif", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("gps", postgresql.JSONB()),
        sa.Column("ocr", postgresql.JSONB()),
    )


def downgrade() -> None:
    op.drop_table("document_images")
    op.drop_constraint(op.f("ck_chunks_source"), "chunks", type_="check")
    op.drop_column("chunks", "boxes")
    op.drop_column("chunks", "source")
    op.drop_index("ix_documents_thumbnail_key", "documents")
    op.drop_column("documents", "pages")
    op.drop_column("documents", "thumbnail_key")
