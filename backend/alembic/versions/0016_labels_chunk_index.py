"""An index on labels.chunk_id: deleting a document's chunks cascades to labels once per
chunk, which without it scans the whole labels table for each (a 1,000-chunk delete took
as many scans).

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_labels_chunk ON labels (chunk_id) "
        "WHERE chunk_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_labels_chunk", table_name="labels")
