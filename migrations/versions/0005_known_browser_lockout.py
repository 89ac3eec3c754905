"""known browsers: failed sign-ins from the browsers a user signed in with before are counted,
and lock out, apart from everyone else's

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 20:30:00

Before, five failed sign-ins from anywhere locked the account for everyone, so anyone who knew
a coordinator's email could keep them out. A browser the user signed in with now carries a
signed mark (registry/admin/signin.py); its failures go to these two columns, and a stranger's
to ``failed_logins`` / ``locked_until`` as before (registry/auth/users.py).
"""

import sqlalchemy as sa
from alembic import op

from registry.database import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs on both databases (no table rebuild on SQLite)
    op.add_column(
        "users",
        sa.Column("known_browser_failed_logins", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "users", sa.Column("known_browser_locked_until", UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("known_browser_locked_until")
        batch.drop_column("known_browser_failed_logins")
