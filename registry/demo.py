"""``registry seed-demo``: a small, believable IONM network around Kansas City.

Four facilities on both sides of the state line, twelve technologists and five physicians with
their certifications, licenses, appointments, scopes and supervision agreements. Dates are
computed from today's date in America/Chicago, so some items always expire within 30, 60 and 90
days and some have always lapsed, however old the code is. Seeding is idempotent: records are
looked up by their natural keys (``external_id`` for people and facilities) and skipped when they
exist, so a second run changes nothing.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from registry import clock
from registry.agreements.models import SupervisionAgreement
from registry.credentials.catalogue import MODALITIES, seed_catalogue
from registry.credentials.models import Credential
from registry.facilities.models import Appointment, Facility
from registry.people.models import Person
from registry.scopes.models import Scope
from schemas.base import npi_check_digit

TIMEZONE = "America/Chicago"
VERIFIER = "Dana Whitfield, credentialing"
ALL_MODALITIES = [code for code, _ in MODALITIES]
TECH_MODALITIES = ["SSEP", "TCMEP", "EMG", "TRIGGERED_EMG", "EEG"]

VERIFICATION_SOURCES = {
    "CNIM": "https://abret.org/verify",
    "R-EP-T": "https://abret.org/verify",
    "R-EEG-T": "https://abret.org/verify",
    "DABNM": "https://abnm.org/verify",
    "ABCN": "https://abcn.org/verify",
    "ABPN-N": "https://abpn.org/verify-certification",
    "ABPN-CN": "https://abpn.org/verify-certification",
    "BLS": "https://ecards.heart.org",
    "ACLS": "https://ecards.heart.org",
}
LICENSE_SOURCES = {"KS": "https://www.ksbha.org/verify", "MO": "https://pr.mo.gov/licensee-search"}
TERM_YEARS = {"ABCN": 10, "ABPN-N": 10, "ABPN-CN": 10, "DABNM": 5}
ISSUERS = {"KS": "Kansas State Board of Healing Arts", "MO": "Missouri State Board of Registration"}


@dataclass(frozen=True)
class Cred:
    """One credential of the demo, with dates relative to today.

    ``abret`` is an expiration year offset from this year (ABRET credentials lapse on 31 December
    and run five years); ``days`` is an expiry in days from today (negative: already lapsed);
    neither means no expiry.
    """

    type: str
    number: str
    abret: int | None = None
    days: int | None = None
    jurisdiction: str | None = None
    verified: bool = True


@dataclass(frozen=True)
class Post:
    """An appointment at a facility: a 2- or 3-year term, ``served`` days of it already gone."""

    facility: str
    served: int
    years: int = 2
    status: str = "active"


FACILITIES = [
    # external_id, name, state, required credentials
    ("KC-FAC-WUH", "Wyandotte University Hospital (Kansas City, KS)", "KS", ["BLS", "ACLS"]),
    ("KC-FAC-OPS", "Overland Park Spine & Orthopedic Surgery Center", "KS", ["BLS"]),
    ("KC-FAC-RMC", "River Market Medical Center (Kansas City, MO)", "MO", ["BLS"]),
    ("KC-FAC-NKC", "North Kansas City Regional Hospital", "MO", ["BLS"]),
]

# external_id, given, family, phone, NPI prefix, active, credentials, appointments, modalities
TECHNOLOGISTS = [
    (
        "KC-TECH-001",
        "Megan",
        "Alvarez",
        "913-555-0101",
        "154872039",
        True,
        [
            Cred("CNIM", "CNIM-18342", abret=3),
            Cred("R-EP-T", "REPT-7731", abret=2),
            Cred("BLS", "AHA-BLS-50211", days=410),
            Cred("ACLS", "AHA-ACLS-30871", days=380),
        ],
        [Post("KC-FAC-WUH", 300), Post("KC-FAC-OPS", 120, years=3)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-002",
        "Jordan",
        "Okafor",
        "816-555-0102",
        "132968471",
        True,
        [Cred("CNIM", "CNIM-20415", abret=4), Cred("BLS", "AHA-BLS-50388", days=540)],
        [Post("KC-FAC-RMC", 200), Post("KC-FAC-NKC", 200)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-003",
        "Priya",
        "Raman",
        "913-555-0103",
        "176340925",
        True,
        [
            Cred("CNIM", "CNIM-16877", abret=1),
            Cred("R-EEG-T", "REEGT-4410", abret=2),
            Cred("BLS", "AHA-BLS-49127", days=12),
        ],
        [Post("KC-FAC-OPS", 500), Post("KC-FAC-RMC", 90)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-004",
        "Samuel",
        "Whitaker",
        "816-555-0104",
        "118257643",
        True,
        [
            Cred("DABNM", "DABNM-0392", days=900),
            Cred("CNIM", "CNIM-11208", abret=2),
            Cred("BLS", "AHA-BLS-50702", days=600),
            Cred("ACLS", "AHA-ACLS-31044", days=600),
        ],
        [Post("KC-FAC-WUH", 400, years=3), Post("KC-FAC-RMC", 150), Post("KC-FAC-NKC", 60)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-005",
        "Hannah",
        "Lindqvist",
        "913-555-0105",
        "190463718",
        True,
        # lapsed last 31 December: the one-month ABRET grace is over unless it is January
        [Cred("CNIM", "CNIM-09954", abret=-1), Cred("BLS", "AHA-BLS-49860", days=300)],
        [Post("KC-FAC-OPS", 640)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-006",
        "Marcus",
        "Bell",
        "816-555-0106",
        "143719862",
        True,
        # a new hire whose CNIM has not been verified with ABRET yet
        [
            Cred("CNIM", "CNIM-21760", abret=4, verified=False),
            Cred("BLS", "AHA-BLS-51033", days=700),
        ],
        [Post("KC-FAC-NKC", 20)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-007",
        "Elena",
        "Castillo",
        "816-555-0107",
        "165204397",
        True,
        [Cred("CNIM", "CNIM-17390", abret=2), Cred("BLS", "AHA-BLS-48551", days=-10)],
        [Post("KC-FAC-RMC", 420, years=3)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-008",
        "Tyler",
        "Nguyen",
        "913-555-0108",
        "128930546",
        True,
        [
            Cred("CNIM", "CNIM-19023", abret=3),
            Cred("BLS", "AHA-BLS-50119", days=365),
            Cred("ACLS", "AHA-ACLS-30556", days=50),
        ],
        [Post("KC-FAC-WUH", 250), Post("KC-FAC-OPS", 250)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-009",
        "Aisha",
        "Mahmoud",
        "913-555-0109",
        "187615204",
        True,
        [
            Cred("CNIM", "CNIM-15561", abret=1),
            Cred("R-EP-T", "REPT-6920", abret=1),
            Cred("BLS", "AHA-BLS-49402", days=45),
        ],
        [Post("KC-FAC-OPS", 700)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-010",
        "Connor",
        "Brennan",
        "816-555-0110",
        "150398726",
        True,
        # a trainee: EEG-registered, CNIM exam not yet taken, no TCMEP in his scope
        [Cred("R-EEG-T", "REEGT-5283", abret=3), Cred("BLS", "AHA-BLS-50947", days=560)],
        [Post("KC-FAC-NKC", 100)],
        ["SSEP", "EMG", "TRIGGERED_EMG", "EEG"],
    ),
    (
        "KC-TECH-011",
        "Rachel",
        "Kim",
        "816-555-0111",
        "139572048",
        True,
        [Cred("CNIM", "CNIM-18811", abret=0), Cred("BLS", "AHA-BLS-49718", days=80)],
        [Post("KC-FAC-RMC", 330), Post("KC-FAC-NKC", 330)],
        TECH_MODALITIES,
    ),
    (
        "KC-TECH-012",
        "Derek",
        "Foster",
        "913-555-0112",
        "171846390",
        False,
        # left the group last quarter: inactive, appointment ended
        [Cred("CNIM", "CNIM-12674", abret=1), Cred("BLS", "AHA-BLS-48990", days=200)],
        [Post("KC-FAC-OPS", 600, status="ended")],
        TECH_MODALITIES,
    ),
]

PHYSICIANS = [
    (
        "KC-PHYS-001",
        "Laura",
        "Haddad",
        "913-555-0201",
        "112605873",
        True,
        [
            Cred("ABCN", "ABCN-2841", days=2100),
            Cred("MEDICAL_LICENSE", "KS-04-31877", days=420, jurisdiction="KS"),
            Cred("MEDICAL_LICENSE", "MO-2011004527", days=300, jurisdiction="MO"),
            Cred("BLS", "AHA-BLS-47321", days=500),
            Cred("ACLS", "AHA-ACLS-29904", days=500),
        ],
        [Post("KC-FAC-WUH", 500, years=3), Post("KC-FAC-OPS", 300), Post("KC-FAC-NKC", 100)],
        ALL_MODALITIES,
    ),
    (
        "KC-PHYS-002",
        "Robert",
        "Ellison",
        "816-555-0202",
        "183927451",
        True,
        [
            Cred("ABPN-N", "ABPN-N-61204", days=2500),
            Cred("ABPN-CN", "ABPN-CN-2290", days=2500),
            Cred("MEDICAL_LICENSE", "MO-2008017733", days=21, jurisdiction="MO"),
            Cred("BLS", "AHA-BLS-47650", days=390),
        ],
        [Post("KC-FAC-RMC", 710), Post("KC-FAC-NKC", 400)],
        ALL_MODALITIES,
    ),
    (
        "KC-PHYS-003",
        "Grace",
        "Okonkwo",
        "913-555-0203",
        "146073928",
        True,
        [
            Cred("ABPN-N", "ABPN-N-58833", days=1800),
            Cred("ABPN-CN", "ABPN-CN-2117", days=1800),
            Cred("MEDICAL_LICENSE", "KS-04-29114", days=75, jurisdiction="KS"),
            Cred("MEDICAL_LICENSE", "MO-2014009981", days=520, jurisdiction="MO"),
            Cred("BLS", "AHA-BLS-48012", days=58),
            Cred("ACLS", "AHA-ACLS-30120", days=330),
        ],
        [Post("KC-FAC-WUH", 200), Post("KC-FAC-OPS", 200), Post("KC-FAC-RMC", 500, years=3)],
        ALL_MODALITIES,
    ),
    (
        "KC-PHYS-004",
        "William",
        "Tran",
        "913-555-0204",
        "124759310",
        True,
        [
            Cred("ABCN", "ABCN-3107", days=3000),
            Cred("MEDICAL_LICENSE", "KS-04-33590", days=610, jurisdiction="KS"),
            Cred("BLS", "AHA-BLS-48377", days=450),
            Cred("ACLS", "AHA-ACLS-30233", days=450),
        ],
        [Post("KC-FAC-WUH", 705)],  # the appointment that lapses soon
        ["SSEP", "EMG", "TRIGGERED_EMG", "EEG"],
    ),
    (
        "KC-PHYS-005",
        "Nadia",
        "Petrova",
        "816-555-0205",
        "168391025",
        True,
        [
            Cred("ABCN", "ABCN-2566", days=1200),
            Cred("MEDICAL_LICENSE", "MO-2016022145", days=250, jurisdiction="MO"),
            Cred("MEDICAL_LICENSE", "KS-04-30651", days=-40, jurisdiction="KS"),
            Cred("BLS", "AHA-BLS-47998", days=88),
        ],
        [Post("KC-FAC-RMC", 260), Post("KC-FAC-NKC", 260)],
        ALL_MODALITIES,
    ),
]

# facility, physician, modes, max concurrent cases, technologists (empty: all), ends in days
AGREEMENTS = [
    ("KC-FAC-WUH", "KC-PHYS-001", ["in_person", "remote"], 3, [], None),
    ("KC-FAC-WUH", "KC-PHYS-003", ["remote"], 3, [], None),
    ("KC-FAC-WUH", "KC-PHYS-004", ["in_person"], 3, [], None),
    ("KC-FAC-OPS", "KC-PHYS-001", ["remote"], 2, [], None),
    ("KC-FAC-OPS", "KC-PHYS-003", ["remote"], 3, ["KC-TECH-008", "KC-TECH-009"], None),
    ("KC-FAC-RMC", "KC-PHYS-002", ["in_person", "remote"], 3, [], None),
    ("KC-FAC-RMC", "KC-PHYS-005", ["remote"], 3, [], 75),
    ("KC-FAC-NKC", "KC-PHYS-002", ["remote"], 3, [], None),
    ("KC-FAC-NKC", "KC-PHYS-005", ["in_person", "remote"], 3, [], None),
]


def _add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later or earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _credential_dates(cred: Cred, today: date, index: int) -> tuple[date, date | None]:
    """Issue and expiry dates of a demo credential, relative to ``today``."""
    if cred.abret is not None:
        expires = date(today.year + cred.abret, 12, 31)
        # ABRET: a five-year cycle ending 31 December; spread issue months for realism
        return date(expires.year - 5, 1 + index % 12, 1 + (index * 7) % 28), expires
    if cred.days is None:
        return today - timedelta(days=900 + index), None
    expires = today + timedelta(days=cred.days)
    term = TERM_YEARS.get(cred.type, 2)
    return _add_years(expires, -term) + timedelta(days=1), expires


class _Seeder:
    """Adds what is missing and counts what it added and what it found."""

    def __init__(self, session, today: date):
        self.session = session
        self.today = today
        self.created: Counter = Counter()
        self.existing: Counter = Counter()

    def _add(self, label: str, obj):
        self.session.add(obj)
        self.created[label] += 1
        return obj

    def facility(self, external_id, name, state, required) -> Facility:
        found = self.session.scalar(select(Facility).where(Facility.external_id == external_id))
        if found is not None:
            self.existing["facilities"] += 1
            return found
        return self._add(
            "facilities",
            Facility(
                external_id=external_id,
                name=name,
                state=state,
                timezone=TIMEZONE,
                required_credentials=required,
                active=True,
            ),
        )

    def person(self, kind, external_id, given, family, phone, npi_prefix, active) -> Person:
        found = self.session.scalar(select(Person).where(Person.external_id == external_id))
        if found is not None:
            self.existing["people"] += 1
            return found
        return self._add(
            "people",
            Person(
                kind=kind,
                external_id=external_id,
                given_name=given,
                family_name=family,
                email=f"{given}.{family}@example.org".lower(),
                phone=phone,
                npi=npi_prefix + npi_check_digit(npi_prefix),
                active=active,
            ),
        )

    def credential(self, person: Person, cred: Cred, index: int) -> None:
        found = self.session.scalar(
            select(Credential).where(
                Credential.person_id == person.id,
                Credential.type == cred.type,
                Credential.number == cred.number,
            )
        )
        if found is not None:
            self.existing["credentials"] += 1
            return
        issued, expires = _credential_dates(cred, self.today, index)
        verification = {}
        if cred.verified:
            source = (
                LICENSE_SOURCES[cred.jurisdiction]
                if cred.jurisdiction
                else VERIFICATION_SOURCES[cred.type]
            )
            verification = {
                "verification_method": "primary_source",
                "verified_on": min(self.today, max(issued, self.today - timedelta(days=60))),
                "verified_by": VERIFIER,
                "verification_source": source,
            }
        self._add(
            "credentials",
            Credential(
                person_id=person.id,
                type=cred.type,
                number=cred.number,
                issuer=ISSUERS.get(cred.jurisdiction) if cred.jurisdiction else None,
                jurisdiction=cred.jurisdiction,
                issued_on=issued,
                expires_on=expires,
                status="active",
                **verification,
            ),
        )

    def appointment(self, person: Person, facility: Facility, post: Post) -> None:
        found = self.session.scalar(
            select(Appointment).where(
                Appointment.person_id == person.id, Appointment.facility_id == facility.id
            )
        )
        if found is not None:
            self.existing["appointments"] += 1
            return
        starts = self.today - timedelta(days=post.served)
        expires = _add_years(starts, post.years) - timedelta(days=1)
        self._add(
            "appointments",
            Appointment(
                person_id=person.id,
                facility_id=facility.id,
                status=post.status,
                starts_on=starts,
                expires_on=expires,
            ),
        )

    def scope(self, person: Person, modalities: list[str]) -> None:
        activity = "perform" if person.kind == "technologist" else "interpret"
        found = self.session.scalar(
            select(Scope).where(
                Scope.person_id == person.id,
                Scope.activity == activity,
                Scope.facility_id.is_(None),
            )
        )
        if found is not None:
            self.existing["scopes"] += 1
            return
        self._add(
            "scopes",
            Scope(
                person_id=person.id,
                activity=activity,
                modalities=list(modalities),
                facility_id=None,
                effective_from=self.today - timedelta(days=730),
                effective_to=None,
            ),
        )

    def agreement(self, facility, physician, modes, max_cases, technologists, ends_in) -> None:
        found = self.session.scalar(
            select(SupervisionAgreement).where(
                SupervisionAgreement.facility_id == facility.id,
                SupervisionAgreement.physician_id == physician.id,
            )
        )
        if found is not None:
            self.existing["agreements"] += 1
            return
        self._add(
            "agreements",
            SupervisionAgreement(
                facility_id=facility.id,
                physician_id=physician.id,
                modes=list(modes),
                max_concurrent_cases=max_cases,
                effective_from=self.today - timedelta(days=365),
                effective_to=None if ends_in is None else self.today + timedelta(days=ends_in),
                document_ref=f"agreements/{facility.external_id}-{physician.external_id}.pdf",
                active=True,
                technologists=technologists,
            ),
        )

    def summary(self) -> str:
        labels = ["facilities", "people", "credentials", "appointments", "scopes", "agreements"]
        created = ", ".join(f"{self.created[label]} {label}" for label in labels)
        return (
            f"demo network (Kansas City, {TIMEZONE}): created {created}; "
            f"{sum(self.existing.values())} records already present"
        )


def seed(*, session) -> str:
    """Add the demo network's missing records (idempotent); returns a one-line summary."""
    seed_catalogue(session)
    seeder = _Seeder(session, clock.today(TIMEZONE))
    facilities = {row[0]: seeder.facility(*row) for row in FACILITIES}
    people: dict[str, Person] = {}
    for kind, rows in (("technologist", TECHNOLOGISTS), ("physician", PHYSICIANS)):
        for external_id, given, family, phone, npi_prefix, active, _, _, _ in rows:
            people[external_id] = seeder.person(
                kind, external_id, given, family, phone, npi_prefix, active
            )
    session.flush()  # ids for the records that hang off people and facilities
    index = 0
    for rows in (TECHNOLOGISTS, PHYSICIANS):
        for external_id, *_, credentials, posts, modalities in rows:
            person = people[external_id]
            for cred in credentials:
                seeder.credential(person, cred, index)
                index += 1
            for post in posts:
                seeder.appointment(person, facilities[post.facility], post)
            seeder.scope(person, modalities)
    for facility_id, physician_id, modes, max_cases, technologists, ends_in in AGREEMENTS:
        seeder.agreement(
            facilities[facility_id],
            people[physician_id],
            modes,
            max_cases,
            [people[tech] for tech in technologists],
            ends_in,
        )
    session.flush()
    return seeder.summary()
