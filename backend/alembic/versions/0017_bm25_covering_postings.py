"""BM25 from the postings alone: each posting carries its chunk's length (`lex_length`) and
the postings index covers every column BM25 reads, so a query's scores come from an
index-only scan of its terms, with no lookup of `chunks` or `documents` per posting (the
scope is then checked on the top candidates only, search/lexical.py).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("chunk_terms", sa.Column("lex_length", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE chunk_terms p SET lex_length = c.lex_length FROM chunks c WHERE c.id = p.chunk_id"
    )
    op.alter_column("chunk_terms", "lex_length", nullable=False)
    op.drop_index("ix_chunk_terms_collection_term", table_name="chunk_terms")
    op.create_index(
        "ix_chunk_terms_collection_term", "chunk_terms", ["collection_id", "term"],
        postgresql_include=["chunk_id", "tf", "lex_length"],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_chunk_terms_collection_term", table_name="chunk_terms")
    op.create_index(
        "ix_chunk_terms_collection_term", "chunk_terms", ["collection_id", "term", "chunk_id", "tf"]
    )
    op.drop_column("chunk_terms", "lex_length")
