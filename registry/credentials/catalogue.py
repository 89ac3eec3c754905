"""The catalogue of credential types and modalities (migration 0001 seeds a frozen copy)."""

from sqlalchemy import select

TECH = ["technologist"]
PHYS = ["physician"]
BOTH = ["technologist", "physician"]
ABRET = "ABRET Neurodiagnostic Credentialing and Accreditation"

CREDENTIAL_TYPES = [
    # code, name, issuer, category, kinds, requires_jurisdiction, depends_on, validity, grace
    (
        "CNIM",
        "Certification in Neurophysiologic Intraoperative Monitoring",
        ABRET,
        "certification",
        TECH,
        False,
        None,
        60,
        31,
    ),
    (
        "CNIM-CS",
        "CNIM Certification Status (recertification by continuing education)",
        ABRET,
        "certification",
        TECH,
        False,
        None,
        60,
        31,
    ),
    (
        "R-EP-T",
        "Registered Evoked Potential Technologist",
        ABRET,
        "certification",
        TECH,
        False,
        None,
        60,
        31,
    ),
    (
        "R-EEG-T",
        "Registered Electroencephalographic Technologist",
        ABRET,
        "certification",
        TECH,
        False,
        None,
        60,
        31,
    ),
    ("CLTM", "Certified Long Term Monitoring", ABRET, "certification", TECH, False, None, 60, 31),
    (
        "DABNM",
        "Diplomate of the American Board of Neurophysiologic Monitoring",
        "American Board of Neurophysiologic Monitoring",
        "certification",
        BOTH,
        False,
        None,
        60,
        None,
    ),
    (
        "ABCN",
        "Clinical Neurophysiology (American Board of Clinical Neurophysiology)",
        "American Board of Clinical Neurophysiology",
        "board_certification",
        PHYS,
        False,
        None,
        120,
        None,
    ),
    (
        "ABPN-N",
        "Neurology (American Board of Psychiatry and Neurology)",
        "American Board of Psychiatry and Neurology",
        "board_certification",
        PHYS,
        False,
        None,
        120,
        None,
    ),
    (
        "ABPN-CN",
        "Clinical Neurophysiology subspecialty (ABPN)",
        "American Board of Psychiatry and Neurology",
        "board_certification",
        PHYS,
        False,
        "ABPN-N",
        120,
        None,
    ),
    (
        "MEDICAL_LICENSE",
        "State medical license",
        "State medical board",
        "license",
        PHYS,
        True,
        None,
        24,
        None,
    ),
    (
        "BLS",
        "Basic Life Support",
        "American Heart Association",
        "training",
        BOTH,
        False,
        None,
        24,
        None,
    ),
    (
        "ACLS",
        "Advanced Cardiovascular Life Support",
        "American Heart Association",
        "training",
        BOTH,
        False,
        None,
        24,
        None,
    ),
    (
        "MALPRACTICE",
        "Professional liability insurance",
        None,
        "insurance",
        BOTH,
        False,
        None,
        12,
        None,
    ),
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


def credential_type_rows() -> list[dict]:
    """The seeded credential types as plain dicts."""
    keys = (
        "code",
        "name",
        "issuer",
        "category",
        "kinds",
        "requires_jurisdiction",
        "depends_on",
        "validity_months",
        "grace_days",
    )
    return [dict(zip(keys, row, strict=True)) for row in CREDENTIAL_TYPES]


def seed_catalogue(session) -> None:
    """Insert any missing catalogue entries (idempotent; never overwrites an admin's edits)."""
    from registry.credentials.models import CredentialType, Modality

    existing = set(session.scalars(select(CredentialType.code)))
    for row in credential_type_rows():
        if row["code"] not in existing:
            session.add(CredentialType(**row))
    session.flush()
    existing_modalities = set(session.scalars(select(Modality.code)))
    for code, name in MODALITIES:
        if code not in existing_modalities:
            session.add(Modality(code=code, name=name))
    session.flush()
