"""Image vectors: one row per analysed image (vector with an HNSW index, perceptual hash, NSFW
score, object labels, description).

The vector dimension is read from the configured image embedder when the migration runs
(IMAGE_EMBEDDER: 1280 for the bundled EfficientNet-Lite0; a CLIP ONNX file's output size);
changing to an embedder of another dimension needs a new column and a re-analysis.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

from alembic import op
from app.core.config import get_settings
from app.providers.vision import image_embedding_dim

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    dim = image_embedding_dim(get_settings())
    op.create_table(
        "image_vectors",
        sa.Column(
            "document_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "collection_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("collections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("vector", Vector(dim), nullable=False),
        sa.Column("phash", sa.BigInteger(), nullable=False),
        sa.Column("nsfw", sa.Float()),
        sa.Column("objects", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("labeler", sa.String(200)),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_image_vectors_collection", "image_vectors", ["collection_id"])
    op.execute(
        "CREATE INDEX ix_image_vectors_vector_hnsw ON image_vectors "
        "USING hnsw (vector vector_cosine_ops) WITH (m = 16, ef_construction = 128)"
    )


def downgrade() -> None:
    op.drop_table("image_vectors")
