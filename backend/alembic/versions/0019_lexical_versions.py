"""A version per collection's lexical index and the documents each version changed, so a
search engine beside Postgres (LEXICAL_ENGINE=tantivy, search/tantivy_index.py) can tell when
its copy of a collection is current and bring it up to date document by document.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "collections",
        sa.Column("lexical_version", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "lexical_changes",
        sa.Column("collection_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("collections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("document_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.PrimaryKeyConstraint("collection_id", "version", "document_id"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("lexical_changes")
    op.drop_column("collections", "lexical_version")
