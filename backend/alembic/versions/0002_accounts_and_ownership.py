"""Accounts and tenant isolation: users, refresh tokens, API keys; collections get an owner
(names unique per owner, no longer globally) and can be shared with named users.

Collections that exist before this migration are adopted by the built-in local user
(local@cairn.local); the first admin created at startup takes them over (see
app.auth.bootstrap). Downgrading fails with a clear message if two owners use the same
collection name, since names are globally unique again below this revision.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCAL_USER_EMAIL = "local@cairn.local"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'member')", name="ck_users_role"),
    )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
    op.create_table(
        "refresh_tokens",
        sa.Column("jti", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("family_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_refresh_tokens_family", "refresh_tokens", ["family_id"])
    op.create_index("ix_refresh_tokens_user", "refresh_tokens", ["user_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_index("ix_api_keys_user", "api_keys", ["user_id"])

    # Collections get an owner. Existing ones go to the built-in local user.
    op.add_column("collections", sa.Column("owner_id", postgresql.UUID(as_uuid=True)))
    op.execute(
        sa.text(
            "INSERT INTO users (id, email, password_hash, role, is_active) "
            "SELECT gen_random_uuid(), :email, '!', 'admin', true "
            "WHERE EXISTS (SELECT 1 FROM collections)"
        ).bindparams(email=LOCAL_USER_EMAIL)
    )
    op.execute(
        sa.text(
            "UPDATE collections SET owner_id = (SELECT id FROM users WHERE email = :email)"
        ).bindparams(email=LOCAL_USER_EMAIL)
    )
    op.alter_column("collections", "owner_id", nullable=False)
    op.create_foreign_key(
        "fk_collections_owner_id_users", "collections", "users", ["owner_id"], ["id"],
        ondelete="CASCADE",
    )
    op.drop_index("ix_collections_name", table_name="collections")
    op.create_unique_constraint("uq_collections_owner_name", "collections", ["owner_id", "name"])
    op.create_index("ix_collections_owner_id", "collections", ["owner_id"])

    op.create_table(
        "collection_shares",
        sa.Column("collection_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", postgresql.UUID(as_uuid=True),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("permission", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("permission IN ('read', 'write')", name="ck_collection_shares_permission"),
    )
    op.create_index("ix_collection_shares_user_id", "collection_shares", ["user_id"])


def downgrade() -> None:
    clash = op.get_bind().execute(
        sa.text("SELECT name FROM collections GROUP BY name HAVING count(*) > 1 LIMIT 1")
    ).first()
    if clash is not None:
        raise RuntimeError(
            f"Cannot downgrade: several owners have a collection named {clash[0]!r}; "
            "rename them first (names are globally unique below revision 0002)."
        )
    op.drop_table("collection_shares")
    op.drop_index("ix_collections_owner_id", table_name="collections")
    op.drop_constraint("uq_collections_owner_name", "collections", type_="unique")
    op.create_index("ix_collections_name", "collections", ["name"], unique=True)
    op.drop_constraint("fk_collections_owner_id_users", "collections", type_="foreignkey")
    op.drop_column("collections", "owner_id")
    op.drop_table("api_keys")
    op.drop_table("refresh_tokens")
    op.drop_table("users")
