"""rules context stamp: replaced by triggers whenever what every check reads alike changes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:40:00

Each process keeps modalities, credential types and each facility's supervision agreements
between checks; a check's statement compares the stamp it kept with this one (see
registry/qualification/loader.py). The triggers make every change count, whoever makes it:
the app, an import, or an operator's SQL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The tables whose rows every check at a facility reads alike. On SQLite, a later migration
# that rebuilds one of them (Alembic's batch mode copies the table and drops the old one)
# drops its triggers too, and must create them again as below; tests/test_rules_context.py
# checks that every watched table has them at the head revision.
WATCHED = ("modalities", "credential_types", "supervision_agreements", "agreement_technologists")


def upgrade() -> None:
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
        # its own search_path: a writer with another (pg_restore sets an empty one) still
        # finds the table
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
    else:  # SQLite: row triggers, one per kind of change
        for table in WATCHED:
            for change in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_{change.lower()}_renews_rules_context_stamp"
                    f" AFTER {change} ON {table} BEGIN {renew} END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_renew_rules_context_stamp ON {table}")
        op.execute("DROP FUNCTION renew_rules_context_stamp()")
    else:
        for table in WATCHED:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{change}_renews_rules_context_stamp")
    op.drop_table("rules_context_stamp")
