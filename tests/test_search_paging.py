"""POST /qualification-searches pages its unqualified list when the request names page."""

import json

import pytest

from registry.database import db
from tests import factories as f
from tests.test_qualification_api import case

URL = "/api/v1/qualification-searches"


@pytest.fixture
def crowd(app_context):
    """A network with 2 qualified technologists (one appointed, one more), an appointed one
    who is not qualified (no CNIM), and 22 with no appointment here: 23 unqualified."""
    where, doc, tech = f.network()
    f.qualified_technologist(where, "Ann", "Able")
    unqualified = f.person("technologist", "Cy", "Cannot")
    f.credential(unqualified, "BLS")
    f.appointment(unqualified, where)
    for i in range(22):
        f.person("technologist", f"U{i}", f"Unappointed{i:02d}")
    f.person("technologist", "Ina", "Inactive", active=False)  # never listed
    db.session.commit()
    return where


def _search(client, auth, where, **extra):
    body = {"role": "technologist", "case": case(where), "include_unqualified": True, **extra}
    return client.post(URL, json=body, headers=auth)


def _names(entries):
    return [entry["name"] for entry in entries]


def _pages(response) -> dict:
    return json.loads(response.headers["X-Pagination"])


def test_without_page_the_answer_is_whole_and_has_no_pagination_header(crowd, client, auth):
    whole = _search(client, auth, crowd)
    assert whole.status_code == 200
    assert "X-Pagination" not in whole.headers
    assert _names(whole.json["qualified"]) == ["Ann Able", "Tess Nguyen"]
    unqualified = _names(whole.json["unqualified"])
    assert len(unqualified) == 23 and unqualified[0] == "Cy Cannot"
    assert unqualified[1:] == [f"U{i} Unappointed{i:02d}" for i in range(22)]
    assert set(whole.json) == {"qualified", "unqualified"}


def test_pages_walk_the_whole_unqualified_list_in_name_order(crowd, client, auth):
    whole = _search(client, auth, crowd).json
    first = _search(client, auth, crowd, page=1, page_size=10)
    assert first.status_code == 200
    assert _pages(first) == {
        "total": 23,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 1,
        "next_page": 2,
    }
    middle = _search(client, auth, crowd, page=2, page_size=10)
    assert _pages(middle) == {
        "total": 23,
        "total_pages": 3,
        "first_page": 1,
        "last_page": 3,
        "page": 2,
        "previous_page": 1,
        "next_page": 3,
    }
    last = _search(client, auth, crowd, page=3, page_size=10)
    assert _pages(last)["page"] == 3 and "next_page" not in _pages(last)
    assert _pages(last)["previous_page"] == 2
    pages = [first.json, middle.json, last.json]
    assert [len(page["unqualified"]) for page in pages] == [10, 10, 3]
    # the same entries, reasons and all, as the whole answer; qualified whole on every page
    assert [entry for page in pages for entry in page["unqualified"]] == whole["unqualified"]
    assert all(page["qualified"] == whole["qualified"] for page in pages)
    # the appointed unqualified technologist keeps the reasons of a full evaluation
    reasons = [r["code"] for r in first.json["unqualified"][0]["reasons"]]
    assert "MISSING_CREDENTIAL" in reasons and "NO_APPOINTMENT" not in reasons
    # and those with no appointment here are evaluated in full too, not only NO_APPOINTMENT
    reasons = {r["code"] for r in first.json["unqualified"][1]["reasons"]}
    assert {"MISSING_CREDENTIAL", "NO_APPOINTMENT"} <= reasons


def test_the_default_page_size_is_ten(crowd, client, auth):
    answer = _search(client, auth, crowd, page=1)
    assert len(answer.json["unqualified"]) == 10 and _pages(answer)["total_pages"] == 3


def test_a_page_past_the_last_is_empty_with_the_header(crowd, client, auth):
    beyond = _search(client, auth, crowd, page=4, page_size=10)
    assert beyond.status_code == 200
    assert beyond.json["unqualified"] == [] and len(beyond.json["qualified"]) == 2
    assert _pages(beyond) == {"total": 23, "total_pages": 3, "first_page": 1, "last_page": 3}


def test_nobody_unqualified_is_one_empty_page(app_context, client, auth):
    where, _doc, _tech = f.network()
    answer = _search(client, auth, where, page=1)
    assert answer.status_code == 200 and answer.json["unqualified"] == []
    assert _pages(answer) == {"total": 0, "total_pages": 0}


@pytest.mark.parametrize(
    "paging, field",
    [
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"page": "two"}, "page"),
        ({"page": 1.5}, "page"),
        ({"page": 1, "page_size": 0}, "page_size"),
        ({"page": 1, "page_size": 101}, "page_size"),
        ({"page_size": 10}, "page_size"),  # a size without a page
    ],
)
def test_bad_paging_is_422_naming_the_field(crowd, client, auth, paging, field):
    answer = _search(client, auth, crowd, **paging)
    assert answer.status_code == 422
    assert field in answer.json["errors"]["json"], answer.json


def test_page_without_include_unqualified_is_422(crowd, client, auth):
    body = {"role": "technologist", "case": case(crowd), "page": 1}
    answer = client.post(URL, json=body, headers=auth)
    assert answer.status_code == 422 and "page" in answer.json["errors"]["json"]


def test_the_openapi_schema_documents_page_and_the_header(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/qualification-searches"]["post"]
    assert "X-Pagination" in operation["responses"]["200"]["headers"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    name = request["$ref"].rsplit("/", 1)[-1]
    properties = spec["components"]["schemas"][name]["properties"]
    assert properties["page"]["minimum"] == 1
    assert properties["page_size"]["maximum"] == 100
