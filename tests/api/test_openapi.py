"""The OpenAPI document at /api/v1/openapi.json, and the public endpoints it describes holding
to it: every query string built from the documented parameters, sensible or not, is answered
with a 200 or a 400 problem, never a server error."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.directory.search import contract
from tests.factories import make_office, make_therapist

OPENAPI_URL = "/api/v1/openapi.json"
SEARCH_PATH = "/api/v1/therapists"
PROFILE_PATH = "/api/v1/therapists/{id}"

pytestmark = pytest.mark.django_db

# Every name a search understands (style dimensions included), plus the API's own page size.
SEARCH_PARAMETERS = {str(parameter) for parameter in contract.SearchParam} | {"page_size"}


def _document() -> dict:
    response = Client().get(OPENAPI_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_the_document_is_json_served_at_the_documented_address():
    document = _document()

    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Rapport API"
    assert {SEARCH_PATH, PROFILE_PATH} <= set(document["paths"])


def test_search_documents_every_query_parameter_of_the_html_page():
    operation = _document()["paths"][SEARCH_PATH]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}

    assert set(parameters) == SEARCH_PARAMETERS
    for name, parameter in parameters.items():
        assert parameter["in"] == "query", name
        assert parameter["required"] is False, name
        assert len(parameter["description"]) > 10, name
    assert operation["summary"] == "Search the directory"
    assert "There are only 3 pages." in operation["description"]


def test_multi_valued_filters_are_documented_as_repeated_parameters():
    operation = _document()["paths"][SEARCH_PATH]["get"]
    types = {
        parameter["name"]: parameter["schema"]["type"] for parameter in operation["parameters"]
    }

    for name in ("concern", "modality", "population", "language", "gender", "lived_experience",
                 "faith", "delivery", "contact", "accessibility"):  # fmt: skip
        assert types[name] == "array", name
    for name in ("max_fee", "page", "page_size", *contract.STYLE_PARAMS):
        assert types[name] == "integer", name
    # Yes/no filters: a single string, 1 or 0.
    for name in ("lgbtq2s_affirming", "sliding_scale", "insurance", "direct_billing",
                 "has_video", "captioned_video", "accepting"):  # fmt: skip
        schema = next(p["schema"] for p in operation["parameters"] if p["name"] == name)
        assert (schema["type"], schema["enum"]) == ("string", ["1", "0"]), name
    page_size = next(p for p in operation["parameters"] if p["name"] == "page_size")
    assert page_size["schema"]["minimum"] == 1
    assert page_size["schema"]["maximum"] == 100
    assert page_size["schema"]["default"] == 20


def test_responses_and_their_schemas_are_documented():
    document = _document()
    search = document["paths"][SEARCH_PATH]["get"]
    profile = document["paths"][PROFILE_PATH]["get"]
    schemas = document["components"]["schemas"]

    assert search["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SearchOut"
    }
    assert "application/problem+json" in search["responses"]["400"]["content"]
    assert "application/problem+json" in profile["responses"]["404"]["content"]
    assert set(schemas["SearchOut"]["properties"]) == {
        "total", "page", "pages", "results", "facets"
    }  # fmt: skip
    assert set(schemas["SearchResultOut"]["properties"]) == {
        "id", "name", "pronouns", "designation", "licensed_in", "distance_km", "fee",
        "currency", "sliding_scale_min", "delivery", "languages", "accepting_new_clients",
        "next_consultation_at", "has_video_introduction", "has_captioned_video", "url",
    }  # fmt: skip
    for name in ("has_video_introduction", "has_captioned_video"):
        assert schemas["SearchResultOut"]["properties"][name]["type"] == "boolean", name
        assert schemas["ProfileOut"]["properties"][name]["type"] == "boolean", name
        assert name in schemas["SearchResultOut"]["required"], name
    assert set(schemas["FacetOut"]["properties"]) == {"value", "label", "count", "selected"}
    assert profile["parameters"] == [
        {
            "in": "path",
            "name": "id",
            "schema": {
                "description": "The therapist's public id (a UUID).",
                "title": "Id",
                "type": "string",
            },
            "required": True,
            "description": "The therapist's public id (a UUID).",
        }
    ]
    # Public: no security requirement on either operation.
    assert "security" not in search
    assert "security" not in profile


# --- a hand-made property test: schemathesis in miniature -------------------------------------

_DOCUMENTED = sorted(SEARCH_PARAMETERS)
_VALUES = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "1", "0", "true", "Toronto", "Montréal", "anxiety", "fr",
                     "distance", "best_fit", "in_person", "woman", "9" * 400, "1e309",
                     "-0", "NaN", "%", "\x00", "🙂", "٣", "49.5", "-79.4", "500.0001"]),
)  # fmt: skip
_PAIRS = st.lists(
    st.tuples(st.one_of(st.sampled_from(_DOCUMENTED), st.text(max_size=8)), _VALUES), max_size=8
)


@pytest.fixture
def small_directory(reference_data):
    for number in range(3):
        make_office(make_therapist(display_name=f"Fuzz Therapist {number}", offers_in_person=True))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pairs=_PAIRS)
def test_any_query_string_gets_a_200_or_a_400_problem(small_directory, pairs):
    response = Client().get(f"{SEARCH_PATH}?{urlencode(pairs)}")

    assert response.status_code in (200, 400), (pairs, response.content[:300])
    body = json.loads(response.content)
    if response.status_code == 200:
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert set(body) == {"total", "page", "pages", "results", "facets"}
    else:
        assert response["Content-Type"] == "application/problem+json"
        assert body["title"] == "Invalid request"
        assert {error["field"] for error in body["errors"]} <= SEARCH_PARAMETERS


@settings(max_examples=60, deadline=None)
@given(identifier=st.text(max_size=60))
def test_any_profile_id_gets_a_404_problem(identifier):
    from urllib.parse import quote

    response = Client().get(f"{SEARCH_PATH}/{quote(identifier, safe='')}")

    # An empty id is the search itself; everything else is some therapist nobody lists.
    if identifier == "":
        return
    assert response.status_code == 404, (identifier, response.content[:300])
    assert response["Content-Type"] == "application/problem+json"


# --- booking ---------------------------------------------------------------------------------

SLOTS_PATH = "/api/v1/therapists/{id}/slots"
BOOK_PATH = "/api/v1/consultations"
CANCEL_PATH = "/api/v1/consultations/{id}/cancel"
RESCHEDULE_PATH = "/api/v1/consultations/{id}/reschedule"


def _problem_statuses(operation: dict) -> set[str]:
    return {
        status
        for status, response in operation["responses"].items()
        if "application/problem+json" in response.get("content", {})
    }


def test_booking_routes_are_documented_with_their_problem_answers():
    paths = _document()["paths"]

    slots = paths[SLOTS_PATH]["get"]
    book = paths[BOOK_PATH]["post"]
    cancel = paths[CANCEL_PATH]["post"]
    reschedule = paths[RESCHEDULE_PATH]["post"]

    assert _problem_statuses(slots) == {"400", "404"}
    assert _problem_statuses(book) == {"400", "404", "409"}
    assert _problem_statuses(cancel) == {"400", "404", "409"}
    assert _problem_statuses(reschedule) == {"400", "404", "409"}
    assert "201" in book["responses"]
    assert (
        "next_free"
        in (book["responses"]["409"]["content"]["application/problem+json"]["schema"]["properties"])
    )
    assert {parameter["name"] for parameter in slots["parameters"]} == {"id", "start", "end", "tz"}
    # Open to people without accounts: no session, so no security requirement and no CSRF.
    for operation in (slots, book, cancel, reschedule):
        assert "security" not in operation


def test_booking_schemas_name_every_field():
    schemas = _document()["components"]["schemas"]

    assert set(schemas["ConsultationIn"]["properties"]) == {
        "therapist_id", "starts_at", "name", "email", "time_zone", "phone"
    }  # fmt: skip
    assert set(schemas["BookedOut"]["properties"]) == {
        "id", "status", "starts_at", "ends_at", "therapist_id", "manage_token"
    }  # fmt: skip
    assert set(schemas["SlotsOut"]["properties"]) == {
        "therapist_id", "therapist_time_zone", "time_zone", "start", "end", "slots"
    }  # fmt: skip
    assert set(schemas["FreeTimeOut"]["properties"]) == {
        "starts_at", "ends_at", "local_starts_at", "local_ends_at"
    }  # fmt: skip
    assert set(schemas["CancelIn"]["required"]) == {"token", "reason"}
    assert set(schemas["RescheduleIn"]["required"]) == {"token", "starts_at"}


_SLOT_VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "2030-03-04", "2030-03-04T09:00:00Z", "2030-03-04T09:00:00+05:30",
                     "2030-03-04 09:00:00 01:00", "2030-02-30", "9999-12-31", "0001-01-01",
                     "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "UTC",
                     "America/Toronto", "Asia/Tokyo", "Europe/London", "../zoneinfo", "\x00",
                     "NaN", "1969-12-31", "8999-12-31"]),
)  # fmt: skip
_SLOT_PAIRS = st.lists(
    st.tuples(st.sampled_from(["start", "end", "tz", "other"]), _SLOT_VALUES), max_size=4
)


@pytest.fixture
def bookable(reference_data):
    from tests.booking.factories import give_availability

    therapist = make_therapist(display_name="Fuzz Bookable")
    give_availability(therapist, minimum_notice_hours=0)
    return therapist


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pairs=_SLOT_PAIRS)
def test_any_slots_query_gets_a_200_or_a_400_problem_naming_a_parameter(bookable, pairs):
    response = Client().get(f"/api/v1/therapists/{bookable.public_id}/slots?{urlencode(pairs)}")

    assert response.status_code in (200, 400), (pairs, response.content[:300])
    if response.status_code == 400:
        assert response["Content-Type"] == "application/problem+json"
        assert {error["field"] for error in json.loads(response.content)["errors"]} <= {
            "start", "end", "tz"
        }  # fmt: skip


# --- what the filters' descriptions promise ----------------------------------------------------


def _search_parameters() -> dict[str, dict]:
    operation = _document()["paths"][SEARCH_PATH]["get"]
    return {parameter["name"]: parameter for parameter in operation["parameters"]}


def test_each_multi_valued_filter_says_whether_any_or_every_chosen_value_must_match():
    # The rules as the engine's brute-force oracle states them
    # (tests/directory/test_search_property.py::qualifies): one of the chosen ways of meeting,
    # genders, faiths or contact policies is enough; the other lists are all required.
    any_of = ("delivery", "gender", "faith", "contact")
    all_of = ("concern", "modality", "population", "language", "lived_experience", "accessibility")
    parameters = _search_parameters()

    for name in any_of:
        description = parameters[name]["description"].lower()
        assert "any of" in description, name
        assert "every" not in description, name
        assert "require" not in description, name
    for name in all_of:
        description = parameters[name]["description"].lower()
        assert "require" in description or "every" in description, name
        assert "any of" not in description, name


def test_enumerated_filters_list_every_value_the_search_accepts(client, small_directory):
    parameters = _search_parameters()
    enums = {
        name: parameters[name]["schema"]["items"]["enum"]
        for name in ("delivery", "gender", "contact")
    }

    assert enums == {
        "delivery": ["in_person", "video", "phone"],
        "gender": ["woman", "man", "non_binary", "two_spirit", "another", "undisclosed"],
        "contact": ["none", "scheduling", "brief_check_ins"],
    }
    for name, values in enums.items():
        for value in values:
            response = client.get(SEARCH_PATH, {name: value})
            assert response.status_code == 200, (name, value, response.content[:200])


def test_the_facet_count_says_how_any_of_filters_are_counted():
    count = _document()["components"]["schemas"]["FacetOut"]["properties"]["count"]

    assert "delivery, gender, faith and contact" in count["description"]
