"""Registry records as FHIR R4 resources, built with fhir.resources' R4B models.

Pure functions: the caller reads the rows and asks the engine for each record's standing; here
they only take their FHIR shape. A person's date of birth is never read here.
"""

from dataclasses import dataclass

from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.verificationresult import VerificationResult

from registry.qualification import engine

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"
USPS_SYSTEM = "https://www.usps.com/"
PLAN_NET = "http://hl7.org/fhir/us/davinci-pdex-plan-net"
QUALIFICATION_EXTENSION = f"{PLAN_NET}/StructureDefinition/practitioner-qualification"
QUALIFICATION_STATUS_SYSTEM = f"{PLAN_NET}/CodeSystem/QualificationStatusCS"
PROVIDER_ROLE_SYSTEM = f"{PLAN_NET}/CodeSystem/ProviderRoleCS"
ORGANIZATION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
VALIDATION_PROCESS_SYSTEM = (
    "http://terminology.hl7.org/CodeSystem/verificationresult-validation-process"
)

# NUCC taxonomy codes of the board certifications a directory reader searches by
CLINICAL_NEUROPHYSIOLOGY = ("2084N0600X", "Clinical Neurophysiology Physician")
ELECTRONEURODIAGNOSTIC = ("246ZE0600X", "Electroneurodiagnostic Specialist/Technologist")
BOARD_TAXONOMY = {
    "ABCN": CLINICAL_NEUROPHYSIOLOGY,
    "ABPN-CN": CLINICAL_NEUROPHYSIOLOGY,
    "ABPN-N": ("2084N0400X", "Neurology Physician"),
}


@dataclass(frozen=True)
class RoleCoding:
    """How a kind of person's appointments read as PractitionerRole.code and .specialty."""

    code: str
    display: str
    text: str
    specialty: tuple[str, str]


ROLE_BY_KIND = {
    "technologist": RoleCoding(
        "te",
        "Technologists, Technicians and Other Technical Service Providers",
        "Technologist",
        ELECTRONEURODIAGNOSTIC,
    ),
    "physician": RoleCoding("ph", "Physician", "Interpreting physician", CLINICAL_NEUROPHYSIOLOGY),
}

VERIFICATION_METHOD_TEXT = {
    "primary_source": "Primary source verification",
    "document": "Verified from a document",
    "attestation": "Attestation",
}


@dataclass(frozen=True)
class IdentifierSystems:
    """The identifier systems the directory knows: NPI, and the callers' own ids under the
    registry's base URL."""

    base_url: str

    @property
    def person_external_id(self) -> str:
        return f"{self.base_url}/identifiers/person-external-id"

    @property
    def facility_external_id(self) -> str:
        return f"{self.base_url}/identifiers/facility-external-id"


def qualification_path(credential_id: str) -> str:
    """The FHIRPath of one credential's qualification in its Practitioner (its id is stable)."""
    return f"Practitioner.qualification.where(id='{credential_id}')"


def _coding(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _period(start, end) -> dict | None:
    period = {}
    if start is not None:
        period["start"] = start.isoformat()
    if end is not None:
        period["end"] = end.isoformat()
    return period or None


def validated(model, data: dict) -> dict:
    """``data`` as resource ``model``'s JSON, once fhir.resources' R4B model has accepted it
    (unknown elements, wrong types and bad codes raise). The answer is ``data`` itself: the
    models' own serializer costs twice their validation (docs/performance.md)."""
    resource = {"resourceType": model.get_resource_type(), **_pruned(data)}
    model.model_validate(resource)
    return resource


def _pruned(value):
    """``value`` without empty elements at any depth (None, "", [], {}): FHIR allows none,
    and a blank name or number on file must not make a whole page fail."""
    if isinstance(value, dict):
        items = ((key, _pruned(item)) for key, item in value.items())
        return {key: item for key, item in items if item not in (None, "", [], {})}
    if isinstance(value, list):
        items = (_pruned(item) for item in value)
        return [item for item in items if item not in (None, "", [], {})]
    return value


def _full_name(person) -> str:
    return " ".join(part for part in (person.given_name, person.family_name) if part)


def qualification(credential, credential_type, standing: engine.Standing) -> dict:
    """One credential as a Practitioner.qualification, with Plan-Net's status and, for a
    license, where it is valid; ``standing`` is the engine's answer for today."""
    name = credential_type.name if credential_type is not None else credential.type
    code = {"text": f"{credential.type} — {name}"}
    taxonomy = BOARD_TAXONOMY.get(credential.type)
    if taxonomy:
        code["coding"] = [_coding(NUCC_SYSTEM, *taxonomy)]
    details = [{"url": "status", "valueCode": "active" if standing.counts else "inactive"}]
    if credential.jurisdiction:
        details.append(
            {
                "url": "whereValid",
                "valueCodeableConcept": {
                    "coding": [_coding(USPS_SYSTEM, credential.jurisdiction)],
                    "text": credential.jurisdiction,
                },
            }
        )
    issuer = credential.issuer or (credential_type.issuer if credential_type else None)
    return {
        "id": credential.id,
        "extension": [{"url": QUALIFICATION_EXTENSION, "extension": details}],
        "identifier": [{"value": credential.number}] if credential.number else None,
        "code": code,
        "period": _period(credential.issued_on, credential.expires_on),
        "issuer": {"display": issuer} if issuer else None,
    }


def practitioner(
    person, credentials, credential_types: dict, standings: dict, systems: IdentifierSystems
) -> dict:
    """A person as a Practitioner: identifiers, name, email and one qualification per
    credential on file (``credentials`` holds none entered in error)."""
    identifiers = []
    if person.npi:
        identifiers.append({"use": "official", "system": NPI_SYSTEM, "value": person.npi})
    if person.external_id:
        identifiers.append({"system": systems.person_external_id, "value": person.external_id})
    return validated(
        Practitioner,
        {
            "id": person.id,
            "identifier": identifiers,
            "active": person.active,
            "name": [
                {
                    "use": "official",
                    "text": _full_name(person),
                    "family": person.family_name,
                    "given": [person.given_name],
                }
            ],
            "telecom": [{"system": "email", "value": person.email, "use": "work"}]
            if person.email
            else None,
            "qualification": [
                qualification(c, credential_types.get(c.type), standings[c.id]) for c in credentials
            ],
        },
    )


def practitioner_role(appointment, person, facility, standing: engine.Standing) -> dict:
    """One appointment (privileges at a facility) as a PractitionerRole; active while the
    engine says the appointment is in force today and the person and facility are active."""
    role = ROLE_BY_KIND[person.kind]
    return validated(
        PractitionerRole,
        {
            "id": appointment.id,
            "active": bool(standing.counts and person.active and facility.active),
            "period": _period(appointment.starts_on, appointment.expires_on),
            "practitioner": {
                "reference": f"Practitioner/{person.id}",
                "display": _full_name(person),
            },
            "organization": {
                "reference": f"Organization/{facility.id}",
                "display": facility.name,
            },
            "code": [
                {
                    "coding": [_coding(PROVIDER_ROLE_SYSTEM, role.code, role.display)],
                    "text": role.text,
                }
            ],
            "specialty": [
                {"coding": [_coding(NUCC_SYSTEM, *role.specialty)], "text": role.specialty[1]}
            ],
        },
    )


def organization(facility, systems: IdentifierSystems) -> dict:
    """A facility as an Organization (a healthcare provider)."""
    return validated(
        Organization,
        {
            "id": facility.id,
            "identifier": [{"system": systems.facility_external_id, "value": facility.external_id}]
            if facility.external_id
            else None,
            "active": facility.active,
            "type": [
                {"coding": [_coding(ORGANIZATION_TYPE_SYSTEM, "prov", "Healthcare Provider")]}
            ],
            "name": facility.name,
            "address": [{"state": facility.state, "country": "US"}],
        },
    )


def verification_status(method: str, standing: engine.Standing) -> str:
    """``validated`` (primary source, document) or ``attested``; ``req-revalid`` while the
    engine holds the verification back (made before a revocation of the same credential)."""
    if standing.state == engine.HELD_BACK:
        return "req-revalid"
    return "attested" if method == "attestation" else "validated"


def verification_result(credential, standing: engine.Standing) -> dict:
    """How one verified credential was verified, and whether that verification still counts
    (``standing`` is the engine's answer for today)."""
    method = credential.verification_method
    process = {"text": VERIFICATION_METHOD_TEXT.get(method, method)}
    if method == "primary_source":
        process["coding"] = [_coding(VALIDATION_PROCESS_SYSTEM, "primary", "Primary Source")]
    return validated(
        VerificationResult,
        {
            "id": credential.id,
            "target": [{"reference": f"Practitioner/{credential.person_id}"}],
            "targetLocation": [qualification_path(credential.id)],
            "status": verification_status(method, standing),
            "statusDate": credential.verified_on.isoformat(),
            "validationProcess": [process],
            "primarySource": [{"who": {"display": credential.verification_source}}]
            if credential.verification_source
            else None,
        },
    )
