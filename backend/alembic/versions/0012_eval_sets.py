"""Golden sets: judged queries per collection (eval_sets).

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "eval_sets",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "collection_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("collections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("match_by", sa.String(120), nullable=False),
        sa.Column("queries", postgresql.JSONB(), nullable=False),
        sa.Column("qrels", postgresql.JSONB(), nullable=False),
        sa.Column("judgements", sa.Integer(), nullable=False),
        sa.Column(
            "created_by",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("collection_id", "name", name="uq_eval_sets_name"),
    )
    op.create_index("ix_eval_sets_collection_id", "eval_sets", ["collection_id"])


def downgrade() -> None:
    op.drop_index("ix_eval_sets_collection_id", table_name="eval_sets")
    op.drop_table("eval_sets")
