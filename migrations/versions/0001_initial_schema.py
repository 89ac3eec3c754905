"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 02:26:44.005226
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import registry.database

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen here: later catalogue changes belong in a new migration, not in this one.
CREDENTIAL_TYPES = [
    {
        "code": "CNIM",
        "name": "Certification in Neurophysiologic Intraoperative Monitoring",
        "issuer": "ABRET Neurodiagnostic Credentialing and Accreditation",
        "category": "certification",
        "kinds": ["technologist"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 60,
        "grace_days": 31,
    },
    {
        "code": "CNIM-CS",
        "name": "CNIM Certification Status (recertification by continuing education)",
        "issuer": "ABRET Neurodiagnostic Credentialing and Accreditation",
        "category": "certification",
        "kinds": ["technologist"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 60,
        "grace_days": 31,
    },
    {
        "code": "R-EP-T",
        "name": "Registered Evoked Potential Technologist",
        "issuer": "ABRET Neurodiagnostic Credentialing and Accreditation",
        "category": "certification",
        "kinds": ["technologist"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 60,
        "grace_days": 31,
    },
    {
        "code": "R-EEG-T",
        "name": "Registered Electroencephalographic Technologist",
        "issuer": "ABRET Neurodiagnostic Credentialing and Accreditation",
        "category": "certification",
        "kinds": ["technologist"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 60,
        "grace_days": 31,
    },
    {
        "code": "CLTM",
        "name": "Certified Long Term Monitoring",
        "issuer": "ABRET Neurodiagnostic Credentialing and Accreditation",
        "category": "certification",
        "kinds": ["technologist"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 60,
        "grace_days": 31,
    },
    {
        "code": "DABNM",
        "name": "Diplomate of the American Board of Neurophysiologic Monitoring",
        "issuer": "American Board of Neurophysiologic Monitoring",
        "category": "certification",
        "kinds": ["technologist", "physician"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 60,
        "grace_days": None,
    },
    {
        "code": "ABCN",
        "name": "Clinical Neurophysiology (American Board of Clinical Neurophysiology)",
        "issuer": "American Board of Clinical Neurophysiology",
        "category": "board_certification",
        "kinds": ["physician"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 120,
        "grace_days": None,
    },
    {
        "code": "ABPN-N",
        "name": "Neurology (American Board of Psychiatry and Neurology)",
        "issuer": "American Board of Psychiatry and Neurology",
        "category": "board_certification",
        "kinds": ["physician"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 120,
        "grace_days": None,
    },
    {
        "code": "ABPN-CN",
        "name": "Clinical Neurophysiology subspecialty (ABPN)",
        "issuer": "American Board of Psychiatry and Neurology",
        "category": "board_certification",
        "kinds": ["physician"],
        "requires_jurisdiction": False,
        "depends_on": "ABPN-N",
        "validity_months": 120,
        "grace_days": None,
    },
    {
        "code": "MEDICAL_LICENSE",
        "name": "State medical license",
        "issuer": "State medical board",
        "category": "license",
        "kinds": ["physician"],
        "requires_jurisdiction": True,
        "depends_on": None,
        "validity_months": 24,
        "grace_days": None,
    },
    {
        "code": "BLS",
        "name": "Basic Life Support",
        "issuer": "American Heart Association",
        "category": "training",
        "kinds": ["technologist", "physician"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 24,
        "grace_days": None,
    },
    {
        "code": "ACLS",
        "name": "Advanced Cardiovascular Life Support",
        "issuer": "American Heart Association",
        "category": "training",
        "kinds": ["technologist", "physician"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 24,
        "grace_days": None,
    },
    {
        "code": "MALPRACTICE",
        "name": "Professional liability insurance",
        "issuer": None,
        "category": "insurance",
        "kinds": ["technologist", "physician"],
        "requires_jurisdiction": False,
        "depends_on": None,
        "validity_months": 12,
        "grace_days": None,
    },
]
MODALITIES = [
    ("SSEP", "Somatosensory evoked potentials"),
    ("TCMEP", "Transcranial motor evoked potentials"),
    ("EMG", "Free-running electromyography"),
    ("TRIGGERED_EMG", "Triggered electromyography"),
    ("EEG", "Electroencephalography"),
    ("BAEP", "Brainstem auditory evoked potentials"),
    ("VEP", "Visual evoked potentials"),
    ("DCS", "Direct cortical stimulation"),
    ("ECOG", "Electrocorticography"),
    ("TOF", "Train-of-four"),
]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "alerts",
        sa.Column("item_type", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("facility_id", sa.String(length=36), nullable=True),
        sa.Column("lapse_date", sa.Date(), nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "item_type",
            "item_id",
            "lapse_date",
            "threshold_days",
            "channel",
            "recipient",
            name=op.f("uq_alerts_item_type_item_id_lapse_date_threshold_days_channel_recipient"),
        ),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_item_id"), ["item_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alerts_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alerts_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_status"), ["status"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("revoked_at", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_prefix"), ["prefix"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("occurred_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_entity_type"), ["entity_type"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "credential_types",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("requires_jurisdiction", sa.Boolean(), nullable=False),
        sa.Column("depends_on", sa.String(length=40), nullable=True),
        sa.Column("validity_months", sa.Integer(), nullable=True),
        sa.Column("grace_days", sa.Integer(), nullable=True),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["depends_on"],
            ["credential_types.code"],
            name=op.f("fk_credential_types_depends_on_credential_types"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_credential_types")),
    )
    op.create_table(
        "digests",
        sa.Column("digest_date", sa.Date(), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint(
            "digest_date", "recipient", name=op.f("uq_digests_digest_date_recipient")
        ),
    )
    op.create_table(
        "facilities",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("required_credentials", sa.JSON(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilities")),
        sa.UniqueConstraint("external_id", name=op.f("uq_facilities_external_id")),
    )
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_run_on", sa.Date(), nullable=True),
        sa.Column("last_started_at", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )
    op.create_table(
        "modalities",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_modalities")),
    )
    op.create_table(
        "people",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("external_id", name=op.f("uq_people_external_id")),
        sa.UniqueConstraint("npi", name=op.f("uq_people_npi")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_family_name"), ["family_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_kind"), ["kind"], unique=False)

    op.create_table(
        "users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "webhooks",
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_table(
        "appointments",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("facility_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_appointments_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_appointments_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointments_expires_on"), ["expires_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_appointments_facility_id"), ["facility_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_appointments_person_id"), ["person_id"], unique=False)

    op.create_table(
        "credentials",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=True),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("jurisdiction", sa.String(length=2), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("verification_method", sa.String(length=20), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.Column("verified_by", sa.String(length=200), nullable=True),
        sa.Column("verification_source", sa.String(length=500), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_credentials_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["type"], ["credential_types.code"], name=op.f("fk_credentials_type_credential_types")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credentials_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_credentials_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credentials_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_credentials_type"), ["type"], unique=False)

    op.create_table(
        "qualification_checks",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("case", sa.JSON(), nullable=False),
        sa.Column("qualified", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("checked_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("asked_by", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_qualification_checks_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification_checks")),
    )
    with op.batch_alter_table("qualification_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qualification_checks_checked_at"), ["checked_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_qualification_checks_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "scopes",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("activity", sa.String(length=20), nullable=False),
        sa.Column("modalities", sa.JSON(), nullable=False),
        sa.Column("facility_id", sa.String(length=36), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_scopes_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_scopes_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scopes")),
    )
    with op.batch_alter_table("scopes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scopes_facility_id"), ["facility_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scopes_person_id"), ["person_id"], unique=False)

    op.create_table(
        "supervision_agreements",
        sa.Column("facility_id", sa.String(length=36), nullable=False),
        sa.Column("physician_id", sa.String(length=36), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("max_concurrent_cases", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("document_ref", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["facilities.id"],
            name=op.f("fk_supervision_agreements_facility_id_facilities"),
        ),
        sa.ForeignKeyConstraint(
            ["physician_id"],
            ["people.id"],
            name=op.f("fk_supervision_agreements_physician_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_agreements")),
    )
    with op.batch_alter_table("supervision_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supervision_agreements_effective_to"), ["effective_to"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supervision_agreements_facility_id"), ["facility_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supervision_agreements_physician_id"), ["physician_id"], unique=False
        )

    op.create_table(
        "agreement_technologists",
        sa.Column("agreement_id", sa.String(length=36), nullable=False),
        sa.Column("technologist_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["supervision_agreements.id"],
            name=op.f("fk_agreement_technologists_agreement_id_supervision_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["technologist_id"],
            ["people.id"],
            name=op.f("fk_agreement_technologists_technologist_id_people"),
        ),
        sa.PrimaryKeyConstraint(
            "agreement_id", "technologist_id", name=op.f("pk_agreement_technologists")
        ),
    )
    with op.batch_alter_table("agreement_technologists", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_technologists_technologist_id"),
            ["technologist_id"],
            unique=False,
        )

    op.create_table(
        "assignments",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("facility_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("remote", sa.Boolean(), nullable=False),
        sa.Column("payer", sa.String(length=20), nullable=False),
        sa.Column("case_ref", sa.String(length=100), nullable=True),
        sa.Column("case", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("check_id", sa.String(length=36), nullable=True),
        sa.Column("booked_by", sa.String(length=200), nullable=True),
        sa.Column("cancelled_at", registry.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=200), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", registry.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["qualification_checks.id"],
            name=op.f("fk_assignments_check_id_qualification_checks"),
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"], name=op.f("fk_assignments_facility_id_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_assignments_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_case_ref"), ["case_ref"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assignments_facility_id"), ["facility_id"], unique=False
        )
        batch_op.create_index(
            "ix_assignments_person_window", ["person_id", "starts_at", "ends_at"], unique=False
        )

    # ### end Alembic commands ###
    _seed_catalogue()


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_person_window")
        batch_op.drop_index(batch_op.f("ix_assignments_facility_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_case_ref"))

    op.drop_table("assignments")
    with op.batch_alter_table("agreement_technologists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_technologists_technologist_id"))

    op.drop_table("agreement_technologists")
    with op.batch_alter_table("supervision_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supervision_agreements_physician_id"))
        batch_op.drop_index(batch_op.f("ix_supervision_agreements_facility_id"))
        batch_op.drop_index(batch_op.f("ix_supervision_agreements_effective_to"))

    op.drop_table("supervision_agreements")
    with op.batch_alter_table("scopes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scopes_person_id"))
        batch_op.drop_index(batch_op.f("ix_scopes_facility_id"))

    op.drop_table("scopes")
    with op.batch_alter_table("qualification_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qualification_checks_person_id"))
        batch_op.drop_index(batch_op.f("ix_qualification_checks_checked_at"))

    op.drop_table("qualification_checks")
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_type"))
        batch_op.drop_index(batch_op.f("ix_credentials_status"))
        batch_op.drop_index(batch_op.f("ix_credentials_person_id"))
        batch_op.drop_index(batch_op.f("ix_credentials_expires_on"))

    op.drop_table("credentials")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_person_id"))
        batch_op.drop_index(batch_op.f("ix_appointments_facility_id"))
        batch_op.drop_index(batch_op.f("ix_appointments_expires_on"))

    op.drop_table("appointments")
    op.drop_table("webhooks")
    op.drop_table("users")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_kind"))
        batch_op.drop_index(batch_op.f("ix_people_family_name"))

    op.drop_table("people")
    op.drop_table("modalities")
    op.drop_table("job_runs")
    op.drop_table("facilities")
    op.drop_table("digests")
    op.drop_table("credential_types")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_entity_type"))
        batch_op.drop_index(batch_op.f("ix_audit_events_entity_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor"))

    op.drop_table("audit_events")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_prefix"))

    op.drop_table("api_keys")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_alerts_person_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_alerts_item_id"))

    op.drop_table("alerts")
    # ### end Alembic commands ###


def _seed_catalogue() -> None:
    """The credential types and modalities every installation starts with."""
    now = datetime.now(UTC)
    types = sa.table(
        "credential_types",
        *(
            sa.column(name)
            for name in (
                "code",
                "name",
                "issuer",
                "category",
                "requires_jurisdiction",
                "depends_on",
                "validity_months",
                "grace_days",
                "created_at",
                "updated_at",
                "version",
            )
        ),
        sa.column("kinds", sa.JSON),
    )
    op.bulk_insert(
        types,
        [dict(row, created_at=now, updated_at=now, version=1) for row in CREDENTIAL_TYPES],
    )
    modalities = sa.table("modalities", sa.column("code"), sa.column("name"))
    op.bulk_insert(modalities, [{"code": code, "name": name} for code, name in MODALITIES])
