"""Several granularities: chunks rows are 'chunk' (what users see) or extra representations
('document': the whole document where it fits the embedder's window; 'section'), searched like
chunks and mapped back to a chunk on every hit.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "chunks",
        sa.Column("granularity", sa.String(16), nullable=False, server_default="chunk"),
    )
    op.create_check_constraint(
        "ck_chunks_granularity", "chunks", "granularity IN ('chunk', 'document', 'section')"
    )


def downgrade() -> None:
    op.drop_constraint("ck_chunks_granularity", "chunks", type_="check")
    op.drop_column("chunks", "granularity")
