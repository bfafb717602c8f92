"""Each term's postings in impact order: the postings index gets a third key, the posting's
BM25 factor at fixed k1, b and avgdl (descending), so BM25 can read a common term's best
postings first and stop (BM25_TERM_POSTINGS, search/lexical.py). Still covering.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# frozen copy of app.search.models.POSTING_IMPACT (a test checks they are equal)
POSTING_IMPACT = (
    "(tf::float8 / (tf::float8 + 0.54::float8 + 0.005625::float8 * lex_length::float8))"
)


def upgrade() -> None:
    op.drop_index("ix_chunk_terms_collection_term", table_name="chunk_terms")
    op.create_index(
        "ix_chunk_terms_collection_term", "chunk_terms",
        ["collection_id", "term", sa.text(f"{POSTING_IMPACT} DESC")],
        postgresql_include=["chunk_id", "tf", "lex_length"],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_chunk_terms_collection_term", table_name="chunk_terms")
    op.create_index(
        "ix_chunk_terms_collection_term", "chunk_terms", ["collection_id", "term"],
        postgresql_include=["chunk_id", "tf", "lex_length"],
    )  # fmt: skip
