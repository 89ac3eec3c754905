"""Every model, imported in one place so Alembic and the audit hook see the whole schema."""

from registry.agreements.models import SupervisionAgreement, agreement_technologists
from registry.alerts.models import Alert, Digest, JobRun, Webhook
from registry.assignments.models import Assignment
from registry.audit.models import AuditEvent
from registry.auth.models import ApiKey, User
from registry.credentials.models import Credential, CredentialType, Modality
from registry.database import Base
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.qualification.models import QualificationCheck
from registry.scopes.models import Scope

__all__ = [
    "Alert",
    "ApiKey",
    "Appointment",
    "Assignment",
    "AuditEvent",
    "Base",
    "Credential",
    "CredentialType",
    "Digest",
    "Facility",
    "JobRun",
    "Modality",
    "Person",
    "QualificationCheck",
    "Scope",
    "SupervisionAgreement",
    "User",
    "Webhook",
    "agreement_technologists",
]
