"""drop the rules context stamp and its triggers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 23:00:00

The per-process cache of modalities, credential types and agreements that the stamp kept fresh
is gone: a check reads them with plain selects (they cost about 6% of a check's CPU, below the
15% a hand-tuned piece must buy). Downgrading puts the stamp and its triggers back as 0002 made
them, for an older release that still keeps the cache.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WATCHED = ("modalities", "credential_types", "supervision_agreements", "agreement_technologists")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_renew_rules_context_stamp ON {table}")
        op.execute("DROP FUNCTION IF EXISTS renew_rules_context_stamp()")
    else:
        for table in WATCHED:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{change}_renews_rules_context_stamp")
    op.drop_table("rules_context_stamp")


def downgrade() -> None:
    op.create_table(
        "rules_context_stamp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules_context_stamp")),
        sa.CheckConstraint("id = 1", name=op.f("ck_rules_context_stamp_one_row")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    new_stamp = "gen_random_uuid()::text" if postgres else "lower(hex(randomblob(16)))"
    renew = f"UPDATE rules_context_stamp SET stamp = {new_stamp} WHERE id = 1;"
    op.execute(f"INSERT INTO rules_context_stamp (id, stamp) VALUES (1, {new_stamp})")
    if postgres:
        op.execute(
            "CREATE FUNCTION renew_rules_context_stamp() RETURNS trigger LANGUAGE plpgsql"
            f" SET search_path FROM CURRENT AS $$ BEGIN {renew} RETURN NULL; END $$"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_renew_rules_context_stamp"
                f" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION renew_rules_context_stamp()"
            )
    else:
        for table in WATCHED:
            for change in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_{change.lower()}_renews_rules_context_stamp"
                    f" AFTER {change} ON {table} BEGIN {renew} END"
                )
