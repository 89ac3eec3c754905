"""The digest places a person's credentials under the facilities where they work that day."""

from datetime import date, timedelta

from jobs.digest import NO_FACILITY, digest_payload
from registry import clock
from registry.database import db
from tests.jobs import factories as f

TODAY = date(2026, 11, 27)


def sections(text: str) -> dict[str, str]:
    parts = text.split("== ")[1:]
    return {part.split(" ==")[0]: part for part in parts}


def test_credentials_are_listed_where_the_appointment_is_in_force_today(
    app_context, job_config, frozen
):
    spine = f.facility("Spine Center")
    river = f.facility("River Market Hospital")
    harbor = f.facility("Harbor Hospital")
    tess = f.person("technologist", "Tess", "Nguyen")
    f.appointment(tess, spine)
    f.appointment(tess, river, expires_on=TODAY - timedelta(days=3))  # lapsed: listed itself
    f.appointment(tess, harbor, status="suspended")
    f.credential(tess, "BLS", expires_on=TODAY + timedelta(days=10))
    kim = f.person("technologist", "Kim", "Lee")
    f.appointment(kim, river, expires_on=TODAY - timedelta(days=1))
    f.credential(kim, "CNIM", expires_on=TODAY + timedelta(days=5))
    text = digest_payload(db.session, now=clock.now(), config=job_config)["text"]
    found = sections(text)
    assert set(found) == {"Spine Center", "River Market Hospital", NO_FACILITY}
    assert "BLS: expires in 10 days" in found["Spine Center"]
    assert "BLS" not in found["River Market Hospital"]
    assert "facility appointment (privileges): LAPSED 3 days ago" in found["River Market Hospital"]
    assert "Kim Lee" in found[NO_FACILITY] and "CNIM: expires in 5 days" in found[NO_FACILITY]
