"""Embedding spaces: a collection's vectors from another model, built while search goes on.

`embedding_spaces` holds one row per extra model of a collection (provider, model, dimension,
the re-embedding job's status and progress, and `active`: at most one per collection, the space
its queries use; none active: the default space, `chunks.embedding` with the configured model
and its HNSW index, as before). `space_vectors` keeps the vectors of every extra space, untyped
(`vector`); each space gets a partial expression HNSW index with its own dimension when its
job completes (created at run time: `ix_space_vectors_<id>`).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "embedding_spaces",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "collection_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("collections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="building"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("embedded", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('building', 'ready', 'failed')", name="status"),
        sa.CheckConstraint("dim > 0 AND dim <= 16000", name="dim"),
        sa.UniqueConstraint("collection_id", "provider", "model",
                            name="uq_embedding_spaces_collection_model"),
    )
    op.create_index("ix_embedding_spaces_collection", "embedding_spaces", ["collection_id"])
    op.create_index("uq_embedding_spaces_active", "embedding_spaces", ["collection_id"],
                    unique=True, postgresql_where=sa.text("active"))
    op.create_table(
        "space_vectors",
        sa.Column("space_id", sa.Integer(),
                  sa.ForeignKey("embedding_spaces.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("chunk_id", sa.BigInteger(),
                  sa.ForeignKey("chunks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("embedding", Vector(), nullable=False),
    )
    # Deleting a chunk cascades here; the lookup needs the chunk side indexed.
    op.create_index("ix_space_vectors_chunk", "space_vectors", ["chunk_id"])
    op.add_column("documents", sa.Column("title", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("documents", "title")
    op.drop_table("space_vectors")
    op.drop_table("embedding_spaces")
