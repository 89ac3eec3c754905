"""user session epoch: a new password or a deactivation ends the user's open UI sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 16:30:00

A signed-in admin UI session carries the epoch it was opened in; the UI accepts it only while the
user's epoch is unchanged (registry/admin/signin.py), and setting a password or deactivating a
user moves the epoch on (registry/auth/users.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN on both databases (no table rebuild on SQLite)
    op.add_column(
        "users",
        sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
