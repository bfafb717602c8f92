"""Collection shares by email (invitations): a share names an email address, and a user id
once an account has that address. Sharing answers the same for known and unknown addresses
(no account enumeration); the access rule still grants only through user_id.

Existing shares get an id and their user's email. Downgrading drops pending invitations
(shares without a user): below this revision a share must name a user.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "collection_shares"


def _pk_name() -> str:
    name = sa.inspect(op.get_bind()).get_pk_constraint(TABLE)["name"]
    assert name, "collection_shares has no primary key"
    return str(name)


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("id", postgresql.UUID(as_uuid=True), nullable=True))
    op.add_column(TABLE, sa.Column("email", sa.String(320), nullable=True))
    op.execute(
        "UPDATE collection_shares s SET id = gen_random_uuid(), email = lower(u.email) "
        "FROM users u WHERE u.id = s.user_id"
    )
    op.alter_column(TABLE, "id", nullable=False)
    op.alter_column(TABLE, "email", nullable=False)
    op.drop_constraint(_pk_name(), TABLE, type_="primary")
    op.create_primary_key("pk_collection_shares", TABLE, ["id"])
    op.alter_column(TABLE, "user_id", nullable=True)
    op.create_unique_constraint(
        "uq_collection_shares_collection_email", TABLE, ["collection_id", "email"]
    )


def downgrade() -> None:
    op.execute("DELETE FROM collection_shares WHERE user_id IS NULL")
    op.drop_constraint("uq_collection_shares_collection_email", TABLE, type_="unique")
    op.drop_constraint(_pk_name(), TABLE, type_="primary")
    op.alter_column(TABLE, "user_id", nullable=False)
    op.create_primary_key("collection_shares_pkey", TABLE, ["collection_id", "user_id"])
    op.drop_column(TABLE, "email")
    op.drop_column(TABLE, "id")
