"""The public directory API: ``GET /api/v1/therapists`` and ``GET /api/v1/therapists/{id}``.

Most tests here stand the search engine (and its query parser) in with a fake that records what
it was asked and answers what the test says, so they pin the API's own job exactly: reading the
query string, shaping rows and facets, errors as problem+json, query counts and cache headers.
The tests at the end run the real parser and engine end to end.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django.utils import timezone

from rapport.directory import api as directory_api
from rapport.directory.models import (
    AccessibilityFeature,
    BetweenSessionContact,
    Concern,
    Designation,
    Faith,
    Language,
    Licence,
    Modality,
    Population,
    Regulator,
    VerificationStatus,
)
from rapport.directory.search.contract import (
    FacetCount,
    SearchHit,
    SearchQuery,
    SearchQueryError,
    SearchResult,
)
from rapport.directory.search.engine.cache import RecentRows
from tests.factories import make_office, make_therapist, make_user

SEARCH_URL = "/api/v1/therapists"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the taxonomies and credentials."""


@dataclass
class FakeSearch:
    """Stands in for ``parse_search_query`` and ``search``: records the calls, answers
    ``result`` (or raises ``error`` while parsing)."""

    result: SearchResult = field(default_factory=lambda: SearchResult(0, 1, 1, []))
    error: SearchQueryError | None = None
    parsed: list[tuple[dict[str, list[str]], int]] = field(default_factory=list)
    searched: list[SearchQuery] = field(default_factory=list)

    def parse(self, parameters: QueryDict, *, page_size: int, index: object = None) -> SearchQuery:
        self.parsed.append((dict(parameters.lists()), page_size))
        if self.error is not None:
            raise self.error
        return SearchQuery(page=int(parameters.get("page", "1")), page_size=page_size)

    def search(self, query: SearchQuery, *, now: dt.datetime, index: object = None) -> SearchResult:
        self.searched.append(query)
        return self.result


@pytest.fixture
def fake(monkeypatch) -> FakeSearch:
    fake = FakeSearch()
    monkeypatch.setattr(directory_api, "parse_search_query", fake.parse)
    monkeypatch.setattr(directory_api, "search", fake.search)
    # The fake needs no index, and building one would add queries the tests do not expect;
    # without an index there is nothing to keep answers in either.
    monkeypatch.setattr(
        directory_api,
        "current_index",
        lambda: SimpleNamespace(recent_row_texts=RecentRows()),
    )
    monkeypatch.setattr(
        directory_api, "cached_answer", lambda index, *, key, now, compute: compute()
    )
    monkeypatch.setattr(
        directory_api, "cached_rows", lambda rows, ids, *, now, read: dict(read(ids))
    )
    return fake


def _problem(response) -> dict[str, Any]:
    assert response["Content-Type"] == PROBLEM, response.content[:300]
    return json.loads(response.content)


# --- results and facets ---------------------------------------------------------------------


def test_search_rows_carry_what_a_card_shows_in_the_engines_order(client, fake):
    ada = make_therapist(
        display_name="Ada Okafor",
        pronouns="she/her",
        fee_minor=14000,
        sliding_scale_min_minor=9000,
        offers_in_person=True,
        offers_video=True,
        offers_phone=True,
        next_consultation_at=dt.datetime(2099, 3, 4, 15, 30, tzinfo=dt.UTC),
        has_video_introduction=True,
        has_captioned_video=True,
    )
    ada.languages.set(Language.objects.filter(slug__in=["fr", "en"]))
    Licence.objects.create(
        therapist=ada,
        jurisdiction_id="CA-BC",
        designation=Designation.objects.get(code="RCC"),
        regulator=Regulator.objects.get(jurisdiction_id="CA-BC", abbreviation="BCACC"),
        number="BC-1",
    )
    Licence.objects.create(  # expired: not "licensed in" any more
        therapist=ada,
        jurisdiction_id="CA-QC",
        designation=Designation.objects.get(code="RP"),
        regulator=Regulator.objects.get(jurisdiction_id="CA-QC", abbreviation="OPQ"),
        number="QC-1",
        expires_on=timezone.now().date() - dt.timedelta(days=1),
    )
    bo = make_therapist(
        display_name="Bo Lindqvist",
        fee_minor=9000,
        currency="CAD",
        offers_video=False,
        offers_phone=True,
        # Already past: stale until the booking app refreshes it, so not shown.
        next_consultation_at=timezone.now() - dt.timedelta(minutes=5),
        # Captions stored without a published introduction: not a captioned introduction.
        has_captioned_video=True,
    )
    fake.result = SearchResult(
        total=2,
        page=1,
        pages=1,
        # The engine's order, not the database's: Bo first.
        hits=[SearchHit(bo.id, None), SearchHit(ada.id, 3.14159)],
    )

    response = client.get(SEARCH_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "total": 2,
        "page": 1,
        "pages": 1,
        "results": [
            {
                "id": str(bo.public_id),
                "name": "Bo Lindqvist",
                "pronouns": "",
                "designation": "RP",
                "licensed_in": ["CA-ON"],
                "distance_km": None,
                "fee": 9000,
                "currency": "CAD",
                "sliding_scale_min": None,
                "delivery": ["phone"],
                "languages": [],
                "accepting_new_clients": True,
                "next_consultation_at": None,
                "has_video_introduction": False,
                "has_captioned_video": False,
                "url": f"/therapists/{bo.public_id}/",
            },
            {
                "id": str(ada.public_id),
                "name": "Ada Okafor",
                "pronouns": "she/her",
                "designation": "RP",
                "licensed_in": ["CA-BC", "CA-ON"],
                "distance_km": 3.1,
                "fee": 14000,
                "currency": "CAD",
                "sliding_scale_min": 9000,
                "delivery": ["in_person", "video", "phone"],
                "languages": ["en", "fr"],
                "accepting_new_clients": True,
                "next_consultation_at": "2099-03-04T15:30:00Z",
                "has_video_introduction": True,
                "has_captioned_video": True,
                "url": f"/therapists/{ada.public_id}/",
            },
        ],
        "facets": {},
    }


def test_search_facets_are_passed_through_with_their_order(client, fake):
    fake.result = SearchResult(
        total=0,
        page=1,
        pages=1,
        hits=[],
        facets={
            "concern": [
                FacetCount("grief", "Grief", 4, True),
                FacetCount("anxiety", "Anxiety", 0, False),
            ],
            "language": [FacetCount("fr", "French", 2, False)],
        },
    )

    body = client.get(SEARCH_URL).json()

    assert body["facets"] == {
        "concern": [
            {"value": "grief", "label": "Grief", "count": 4, "selected": True},
            {"value": "anxiety", "label": "Anxiety", "count": 0, "selected": False},
        ],
        "language": [{"value": "fr", "label": "French", "count": 2, "selected": False}],
    }


def test_search_hands_the_raw_query_string_to_the_shared_parser(client, fake):
    client.get(f"{SEARCH_URL}?concern=anxiety&concern=grief&near=Toronto&page=2&page_size=7")

    # page_size too, as sent: the parser reads only the search's own parameters.
    assert fake.parsed == [
        (
            {
                "concern": ["anxiety", "grief"],
                "near": ["Toronto"],
                "page": ["2"],
                "page_size": ["7"],
            },
            7,
        )
    ]
    assert fake.searched[0].page == 2
    assert fake.searched[0].page_size == 7


def test_page_size_defaults_to_20(client, fake):
    client.get(SEARCH_URL)
    assert fake.parsed == [({}, 20)]


def test_a_hit_whose_therapist_was_removed_meanwhile_is_left_out(client, fake):
    kept = make_therapist()
    fake.result = SearchResult(total=2, page=1, pages=1, hits=[SearchHit(10**9, None)])
    fake.result.hits.append(SearchHit(kept.id, None))

    body = client.get(SEARCH_URL).json()

    assert [row["id"] for row in body["results"]] == [str(kept.public_id)]


# --- bad input -------------------------------------------------------------------------------


def test_an_unusable_filter_is_a_400_problem_naming_the_parameter(client, fake):
    fake.error = SearchQueryError("max_fee", "Give the highest fee as a whole number, e.g. 150.")

    response = client.get(f"{SEARCH_URL}?max_fee=cheap")

    assert response.status_code == 400
    assert _problem(response) == {
        "type": "about:blank",
        "title": "Invalid request",
        "status": 400,
        "detail": "Give the highest fee as a whole number, e.g. 150.",
        "errors": [
            {"field": "max_fee", "message": "Give the highest fee as a whole number, e.g. 150."}
        ],
    }
    assert response["Cache-Control"] == "no-store"
    assert fake.searched == []


@pytest.mark.parametrize(
    "value",
    ["0", "101", "-1", "1.5", "abc", "٣", "1_0", "9" * 5000, " ", "+5", "1e2", "\x00"],
)
def test_a_page_size_out_of_range_is_a_400_problem(client, fake, value):
    response = client.get(SEARCH_URL, {"page_size": value})

    if value == " ":  # blank like a missing value: the default
        assert response.status_code == 200
        assert fake.parsed[0][1] == 20
        return
    assert response.status_code == 400
    body = _problem(response)
    assert body["errors"] == [
        {"field": "page_size", "message": "Give page_size as a whole number from 1 to 100."}
    ]
    assert fake.parsed == []


@pytest.mark.parametrize("value", ["1", "100", "007"])
def test_page_size_accepts_1_to_100(client, fake, value):
    assert client.get(SEARCH_URL, {"page_size": value}).status_code == 200
    assert fake.parsed[0][1] == int(value)


def test_page_size_given_twice_is_a_400_problem(client, fake):
    response = client.get(f"{SEARCH_URL}?page_size=5&page_size=6")

    assert response.status_code == 400
    assert _problem(response)["errors"] == [
        {"field": "page_size", "message": "Give page_size once."}
    ]


def test_a_page_past_the_end_is_a_400_problem_saying_how_many_pages(client, fake):
    fake.result = SearchResult(total=41, page=9, pages=3, hits=[], page_past_end=True)

    response = client.get(f"{SEARCH_URL}?page=9")

    assert response.status_code == 400
    assert _problem(response) == {
        "type": "about:blank",
        "title": "Invalid request",
        "status": 400,
        "detail": "There are only 3 pages.",
        "errors": [{"field": "page", "message": "There are only 3 pages."}],
    }


def test_a_page_past_the_end_of_one_page_uses_the_singular(client, fake):
    fake.result = SearchResult(total=0, page=2, pages=1, hits=[], page_past_end=True)

    response = client.get(f"{SEARCH_URL}?page=2")

    assert _problem(response)["detail"] == "There is only 1 page."


# --- profiles --------------------------------------------------------------------------------


def _full_therapist():
    therapist = make_therapist(
        display_name="Dr. Mei Chen",
        pronouns="she/they",
        gender_category="woman",
        gender_description="Queer woman",
        identifies_as_lgbtq2s=True,
        cultural_background="Taiwanese Canadian",
        lgbtq2s_affirming=True,
        practice_start_year=timezone.now().year - 9,
        headline="Steady help with anxiety and grief.",
        about="About me.",
        approach="How I work.",
        first_session="We talk.",
        style_structure=2,
        style_direction=3,
        style_challenge=4,
        style_time_focus=1,
        style_humour=5,
        fee_minor=16500,
        sliding_scale_min_minor=10000,
        accepts_insurance=True,
        direct_billing=True,
        insurance_note="Most extended health plans.",
        session_minutes=60,
        consultation_minutes=20,
        offers_in_person=True,
        offers_video=True,
        offers_phone=False,
        between_session_contact=BetweenSessionContact.BRIEF_CHECK_INS,
        reply_within_hours=24,
        contact_hours="Weekdays 9:00–17:00",
        accepting_confirmed_at=timezone.now().replace(microsecond=0) - dt.timedelta(days=3),
        has_video_introduction=True,
    )
    therapist.concerns.set(Concern.objects.filter(slug__in=["grief", "anxiety"]))
    therapist.modalities.set(Modality.objects.filter(slug="cbt"))
    therapist.populations.set(Population.objects.filter(slug="individuals"))
    therapist.languages.set(Language.objects.filter(slug__in=["en", "zh-cmn"]))
    therapist.faiths.set(Faith.objects.filter(slug="buddhist"))
    office = make_office(therapist, label="Annex office", accessibility_note="Ramp at the side.")
    office.accessibility_features.set(
        AccessibilityFeature.objects.filter(slug__in=["step-free", "elevator"])
    )
    return therapist


def _terms(model, slugs):
    return [
        {"slug": term.slug, "name": term.name}
        for term in model.objects.filter(slug__in=slugs).order_by("sort_order", "name")
    ]


def test_profile_has_everything_the_profile_page_shows(client):
    therapist = _full_therapist()
    licence = therapist.licences.get()

    response = client.get(f"{SEARCH_URL}/{therapist.public_id}")

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body == {
        "id": str(therapist.public_id),
        "name": "Dr. Mei Chen",
        "pronouns": "she/they",
        "designation": "RP",
        "designation_name": therapist.designation.name,
        "years_in_practice": 9,
        "photo_url": None,
        "licences": [
            {
                "jurisdiction": "CA-ON",
                "jurisdiction_name": "Ontario",
                "designation": "RP",
                "regulator": licence.regulator.name,
                "regulator_abbreviation": "CRPO",
                "number": licence.number,
                "expires_on": None,
            }
        ],
        "headline": "Steady help with anxiety and grief.",
        "about": "About me.",
        "approach": "How I work.",
        "first_session": "We talk.",
        "style": [
            {
                "dimension": "style_structure",
                "low": "Structured",
                "high": "Exploratory",
                "value": 2,
                "words": "Closer to structured",
            },
            {
                "dimension": "style_direction",
                "low": "Directive",
                "high": "Client-led",
                "value": 3,
                "words": "Between directive and client-led",
            },
            {
                "dimension": "style_challenge",
                "low": "Gentle",
                "high": "Challenging",
                "value": 4,
                "words": "Closer to challenging",
            },
            {
                "dimension": "style_time_focus",
                "low": "Present-focused",
                "high": "Past-focused",
                "value": 1,
                "words": "Present-focused",
            },
            {
                "dimension": "style_humour",
                "low": "Rarely uses humour",
                "high": "Often uses humour",
                "value": 5,
                "words": "Often uses humour",
            },
        ],
        "concerns": _terms(Concern, ["grief", "anxiety"]),
        "modalities": _terms(Modality, ["cbt"]),
        "populations": _terms(Population, ["individuals"]),
        "languages": _terms(Language, ["en", "zh-cmn"]),
        "lgbtq2s_affirming": True,
        "identity": [
            {"label": "Gender", "words": "Queer woman"},
            {"label": "2SLGBTQ+", "words": "Identifies as 2SLGBTQ+"},
            {"label": "Cultural background", "words": "Taiwanese Canadian"},
            {"label": "Faith or spirituality", "words": Faith.objects.get(slug="buddhist").name},
        ],
        "fee": 16500,
        "currency": "CAD",
        "sliding_scale_min": 10000,
        "accepts_insurance": True,
        "direct_billing": True,
        "insurance_note": "Most extended health plans.",
        "session_minutes": 60,
        "consultation_minutes": 20,
        "delivery": ["in_person", "video"],
        "time_zone": "America/Toronto",
        "offices": [
            {
                "label": "Annex office",
                "street_address": "100 Queen St W",
                "city": "Toronto",
                "jurisdiction": "CA-ON",
                "jurisdiction_name": "Ontario",
                "postal_code": "M5H 2N2",
                "accessibility_features": _terms(AccessibilityFeature, ["step-free", "elevator"]),
                "accessibility_note": "Ramp at the side.",
            }
        ],
        "contact_policy": {
            "between_sessions": "brief_check_ins",
            "reply_within_hours": 24,
            "contact_hours": "Weekdays 9:00–17:00",
            "summary": "Aims to reply within a day. Brief check-ins are welcome between "
            "sessions. Contact hours: Weekdays 9:00–17:00.",
        },
        "accepting_new_clients": True,
        "accepting_confirmed_at": body["accepting_confirmed_at"],
        "has_video_introduction": True,
        "has_captioned_video": False,
        "url": f"/therapists/{therapist.public_id}/",
    }
    assert dt.datetime.fromisoformat(body["accepting_confirmed_at"]) == (
        therapist.accepting_confirmed_at
    )
    assert body["accepting_confirmed_at"].endswith("Z")  # UTC, written as search rows write it
    # The body is written as plain JSON; the schema the OpenAPI document publishes must hold it.
    assert directory_api.ProfileOut.model_validate(body).model_dump(mode="json") == body


def test_search_answers_hold_to_the_published_schema(client):
    make_office(_full_therapist())

    body = client.get(SEARCH_URL, {"near": "Toronto", "radius_km": "25"}).json()

    assert body["total"] == 1
    assert directory_api.SearchOut.model_validate(body).model_dump(mode="json") == body


def test_profile_reads_take_a_fixed_number_of_queries(client, django_assert_num_queries):
    therapist = _full_therapist()
    # The profile with its designation, current licences, offices, their accessibility
    # features (one statement), and every taxonomy term in one query.
    with django_assert_num_queries(4):
        assert client.get(f"{SEARCH_URL}/{therapist.public_id}").status_code == 200


def _hidden_therapists():
    now = timezone.now()
    return {
        "pending": make_therapist(
            verification_status=VerificationStatus.PENDING, verification_decided_at=None
        ),
        "suspended": make_therapist(verification_status=VerificationStatus.SUSPENDED),
        "switched off": make_therapist(is_listed=False),
        "stale": make_therapist(accepting_confirmed_at=now - dt.timedelta(days=400)),
    }


def test_unknown_and_hidden_profiles_are_the_same_404_problem(client):
    urls = [f"{SEARCH_URL}/{uuid.uuid4()}", f"{SEARCH_URL}/not-a-uuid", f"{SEARCH_URL}/%E2%98%83"]
    urls += [f"{SEARCH_URL}/{t.public_id}" for t in _hidden_therapists().values()]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert _problem(response) == {"type": "about:blank", "title": "Not found", "status": 404}


# --- queries, sessions and caching -----------------------------------------------------------


def test_search_query_count_does_not_grow_with_page_size(client, fake):
    therapists = []
    for number in range(50):
        therapist = make_therapist(display_name=f"Therapist {number:02d}")
        therapist.languages.set(Language.objects.filter(slug__in=["en", "fr"]))
        Licence.objects.create(
            therapist=therapist,
            jurisdiction_id="CA-BC",
            designation=Designation.objects.get(code="RCC"),
            regulator=Regulator.objects.get(jurisdiction_id="CA-BC", abbreviation="BCACC"),
            number=f"BC-{number}",
        )
        therapists.append(therapist)

    def queries_for(page_size: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        fake.result = SearchResult(
            50, 1, 50 // page_size, [SearchHit(t.id, 1.0) for t in therapists[:page_size]]
        )
        with CaptureQueriesContext(connection) as captured:
            body = client.get(SEARCH_URL, {"page_size": page_size}).json()
        assert len(body["results"]) == page_size
        assert body["results"][0]["licensed_in"] == ["CA-BC", "CA-ON"]
        return len(captured)

    small, large = queries_for(5), queries_for(50)
    assert small == large
    assert large <= 3  # therapists with designations, licences, languages


def test_gets_need_no_session_or_csrf_token_and_set_no_cookie(fake):
    therapist = make_therapist()
    client = Client(enforce_csrf_checks=True)

    for url in (SEARCH_URL, f"{SEARCH_URL}/{therapist.public_id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.cookies == {}, url


def test_a_signed_in_client_gets_the_same_answers(fake):
    therapist = make_therapist()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(role="client"))

    for url in (SEARCH_URL, f"{SEARCH_URL}/{therapist.public_id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        # Nothing here is private, but a signed-in person's pages are never stored (the
        # site-wide rule in SecurityHeadersMiddleware).
        assert response["Cache-Control"] == "no-store, private", url


def test_public_answers_are_revalidated_every_time_and_errors_never_stored(client, fake):
    therapist = make_therapist()

    # A suspension must hide a listing at once, so no cache may answer from a stored copy.
    for url in (SEARCH_URL, f"{SEARCH_URL}/{therapist.public_id}"):
        assert client.get(url)["Cache-Control"] == "no-cache", url
    assert client.get(f"{SEARCH_URL}/{uuid.uuid4()}")["Cache-Control"] == "no-store"
    assert client.get(SEARCH_URL, {"page_size": "0"})["Cache-Control"] == "no-store"


def test_writes_are_not_allowed(client, fake):
    for url in (SEARCH_URL, f"{SEARCH_URL}/{uuid.uuid4()}"):
        response = client.post(url, data="{}", content_type="application/json")
        assert response.status_code == 405, url


# --- the real parser and engine --------------------------------------------------------------


@pytest.fixture
def real_engine():
    """The real parser and engine, with an index that sees this test's rows."""
    from rapport.directory.search.engine import reset_index
    from rapport.directory.services import search_index_version_bump

    reset_index()
    yield search_index_version_bump
    reset_index()


def _toronto():
    from rapport.core.geo import geocode

    return geocode("Toronto")


def test_real_search_near_toronto_with_three_filters(client, real_engine):
    from rapport.core.geo import distance_km

    ada = make_therapist(display_name="Ada", fee_minor=12000, offers_in_person=True)
    ada.concerns.set(Concern.objects.filter(slug="anxiety"))
    ada.languages.set(Language.objects.filter(slug="en"))
    office = make_office(ada)
    pricey = make_therapist(display_name="Bo", fee_minor=18000, offers_in_person=True)
    pricey.concerns.set(Concern.objects.filter(slug__in=["anxiety", "grief"]))
    pricey.languages.set(Language.objects.filter(slug__in=["en", "fr"]))
    make_office(pricey, latitude=43.70, longitude=-79.40)
    real_engine()
    toronto = _toronto()

    response = client.get(
        SEARCH_URL,
        {"near": "Toronto", "concern": "anxiety", "language": "en", "max_fee": "150",
         "sort": "distance"},
    )  # fmt: skip

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert (body["total"], body["page"], body["pages"]) == (1, 1, 1)
    assert [row["id"] for row in body["results"]] == [str(ada.public_id)]
    expected_km = round(
        distance_km(office.latitude, office.longitude, toronto.latitude, toronto.longitude), 1
    )
    assert body["results"][0]["distance_km"] == expected_km
    concern = {facet["value"]: facet for facet in body["facets"]["concern"]}
    assert concern["anxiety"] == {
        "value": "anxiety",
        "label": Concern.objects.get(slug="anxiety").name,
        "count": 1,
        "selected": True,
    }
    assert concern["grief"]["count"] == 0  # Ada does not list grief
    assert concern["grief"]["selected"] is False


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("max_fee=cheap", "max_fee"),
        ("max_fee=-5", "max_fee"),
        ("near=Atlantis%20Under%20The%20Sea", "near"),
        ("radius_km=-5&near=Toronto", "radius_km"),
        ("radius_km=100000&near=Toronto", "radius_km"),
        ("sort=sideways", "sort"),
        ("sort=distance", "sort"),
        ("style_humour=9", "style_humour"),
        ("page=0", "page"),
        ("page=" + "9" * 40, "page"),
        ("concern=not-a-concern", "concern"),
        ("lat=91&lon=0", "lat"),
        ("lat=45", "lon"),
        ("q=" + "x" * 300, "q"),
        ("insurance=maybe", "insurance"),
        ("has_video=maybe", "has_video"),
        ("captioned_video=2", "captioned_video"),
        ("page_size=500", "page_size"),
    ],
)
def test_real_parser_errors_are_400_problems_naming_the_field(client, real_engine, query, field):
    response = client.get(f"{SEARCH_URL}?{query}")

    assert response.status_code == 400, response.content[:300]
    body = _problem(response)
    assert body["title"] == "Invalid request"
    assert body["errors"][0]["field"] == field
    assert body["detail"] == body["errors"][0]["message"]


def test_real_video_filters_narrow_results_with_live_counts(client, real_engine):
    captioned = make_therapist(
        display_name="Ada Captioned", has_video_introduction=True, has_captioned_video=True
    )
    captioned.concerns.set(Concern.objects.filter(slug="anxiety"))
    video = make_therapist(display_name="Ben Video", has_video_introduction=True)
    video.concerns.set(Concern.objects.filter(slug="grief"))
    plain = make_therapist(display_name="Cy Plain")
    plain.concerns.set(Concern.objects.filter(slug="anxiety"))
    real_engine()

    def search(**params: str) -> dict[str, Any]:
        # By name: the default order's ties rotate daily (tests/directory/test_search_ties.py).
        response = client.get(SEARCH_URL, {"sort": "name", **params})
        assert response.status_code == 200, response.content[:500]
        return response.json()

    def names(body: dict[str, Any]) -> list[str]:
        return [row["name"] for row in body["results"]]

    def counts(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        return body["facets"]["has_video"][0], body["facets"]["captioned_video"][0]

    everyone = search()
    assert names(everyone) == ["Ada Captioned", "Ben Video", "Cy Plain"]
    assert counts(everyone) == (
        {"value": "1", "label": "Has a video introduction", "count": 2, "selected": False},
        {"value": "1", "label": "Has captioned videos", "count": 1, "selected": False},
    )
    assert [
        (row["has_video_introduction"], row["has_captioned_video"]) for row in everyone["results"]
    ] == [(True, True), (True, False), (False, False)]

    with_video = search(has_video="1")
    assert names(with_video) == ["Ada Captioned", "Ben Video"]
    assert [facet["count"] for facet in counts(with_video)] == [2, 1]
    assert counts(with_video)[0]["selected"] is True

    assert names(search(captioned_video="1")) == ["Ada Captioned"]
    assert names(search(has_video="1", captioned_video="1")) == ["Ada Captioned"]

    # Counts follow the other filters: among therapists for anxiety, one has a video.
    anxious = search(concern="anxiety")
    assert names(anxious) == ["Ada Captioned", "Cy Plain"]
    assert [facet["count"] for facet in counts(anxious)] == [1, 1]
    grieving = search(concern="grief", captioned_video="1")
    assert names(grieving) == []
    assert [facet["count"] for facet in counts(grieving)] == [0, 0]
    # ... and the HTML page's own words for a flag count in the API too.
    assert names(search(has_video="on", concern="grief")) == ["Ben Video"]


def test_real_video_filter_error_has_the_same_shape_as_other_flags(client, real_engine):
    video = _problem(client.get(SEARCH_URL, {"has_video": "maybe"}))
    insurance = _problem(client.get(SEARCH_URL, {"insurance": "maybe"}))

    assert video == {
        "type": "about:blank",
        "title": "Invalid request",
        "status": 400,
        "detail": "Use 1 or 0 for has_video, not “maybe”.",
        "errors": [{"field": "has_video", "message": "Use 1 or 0 for has_video, not “maybe”."}],
    }
    assert video["detail"].replace("has_video", "insurance") == insurance["detail"]


def test_real_page_past_the_end_is_a_400_problem(client, real_engine):
    make_therapist()
    real_engine()

    response = client.get(SEARCH_URL, {"page": "5"})

    assert response.status_code == 400
    assert _problem(response)["detail"] == "There is only 1 page."


@pytest.mark.parametrize(
    "query",
    [
        "max_fee=" + "9" * 1000,
        "max_fee=1e999",
        "max_fee=1&max_fee=2",
        "page=1&page=2",
        "near=Toronto&near=Ottawa",
        "near=%00",
        "q=%00%FF",
        "q=" + "🙂" * 50,
        "near=" + "é" * 150,
        # Digits of other scripts: not a ZIP code (the ZIP package's native code failed on them).
        "near=%EF%BC%91%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%91",
        "near=%D9%A1%D9%A0%D9%A0%D9%A0%D9%A1",
        "concern=",
        "concern=&concern=",
        "lat=nan&lon=nan",
        "lat=inf&lon=-inf",
        "radius_km=nan&near=Toronto",
        "sort=",
        "page=",
        "page=%D9%A3",
        "accepting=0&accepting=1",
        "style_structure=%EF%BC%93",
        "gender=woman&gender=woman",
        "unknown=1&=&&&=x",
        # Past Python's 4,300-digit limit for int(), and a fee Decimal cannot multiply out.
        "style_structure=" + "9" * 5000,
        "page=" + "9" * 5000,
        "page_size=" + "9" * 5000,
        "consultation_within_days=" + "9" * 5000,
        "lat=" + "9" * 5000 + "&lon=" + "9" * 5000,
        "near=Toronto&radius_km=" + "9" * 5000,
        "max_fee=" + "9" * 5000,
        "max_fee=1e26",
    ],
)
def test_odd_inputs_are_never_a_server_error(client, real_engine, query):
    make_therapist()
    real_engine()

    response = client.get(f"{SEARCH_URL}?{query}")

    assert response.status_code in (200, 400), response.content[:300]
    expected = "application/json; charset=utf-8" if response.status_code == 200 else PROBLEM
    assert response["Content-Type"] == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1_0", "The page must be a whole number, not “1_0”."),
        ("١", "The page must be a whole number, not “١”."),
        ("%2B1", "The page must be a whole number, not “+1”."),
        ("-1", "The page must be a whole number, not “-1”."),
        ("1.0", "The page must be a whole number, not “1.0”."),
        ("9" * 5000, "That page number is too large."),
    ],
)
def test_real_page_number_is_ascii_digits_only_as_on_the_search_page(
    client, real_engine, raw, message
):
    make_therapist()
    real_engine()

    response = client.get(f"{SEARCH_URL}?page={raw}")

    assert response.status_code == 400
    assert _problem(response)["errors"] == [{"field": "page", "message": message}]


def test_real_search_query_count_does_not_grow_with_page_size(client, real_engine):
    for number in range(50):
        therapist = make_therapist(display_name=f"Therapist {number:02d}")
        therapist.languages.set(Language.objects.filter(slug__in=["en", "fr"]))
    real_engine()
    client.get(SEARCH_URL)  # builds this process's index

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rapport.directory.search.engine import current_index

    counts = []
    for page_size in (5, 50):
        current_index().recent_row_texts.clear()  # rows written a moment ago would be reused
        with CaptureQueriesContext(connection) as captured:
            body = client.get(SEARCH_URL, {"page_size": page_size}).json()
        assert len(body["results"]) == page_size
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_a_repeated_search_is_answered_from_the_index_without_reading_rows(client, real_engine):
    for number in range(3):
        make_therapist(display_name=f"Therapist {number}")
    real_engine()
    first = client.get(SEARCH_URL, {"sort": "fee"})

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        again = client.get(SEARCH_URL, {"sort": "fee"})
    # Only the index's version stamp is read: the body was worked out a moment ago.
    assert [query["sql"] for query in captured] == [
        query["sql"] for query in captured if "searchindexversion" in query["sql"]
    ]
    assert len(captured) == 1
    assert again.content == first.content


def test_the_facets_text_is_what_json_writes_for_them_as_objects():
    tricky = [
        FacetCount(
            value='say "hi"', label="Ünïcode \\ back\tslash </script>", count=3, selected=True
        ),
        FacetCount(value="x", label="Line\nbreak \u2028 and emoji 🙂", count=0, selected=False),
    ]
    result = SearchResult(
        total=3,
        page=1,
        pages=1,
        hits=[],
        facets={"concern": tricky, "language": [], 'odd "name"': tricky[:1]},
    )
    as_objects = {
        name: [
            {"value": f.value, "label": f.label, "count": f.count, "selected": f.selected}
            for f in counts
        ]
        for name, counts in result.facets.items()
    }

    text = directory_api._facets_json(result)

    assert text == json.dumps(as_objects, ensure_ascii=False)
    assert json.loads(text) == as_objects


def test_a_rows_text_is_reused_with_each_searchs_own_distance(client, real_engine):
    """Rows are written out once a minute and the body put together from parts: it must still
    be exactly what json.dumps writes, with each search's distance."""
    from rapport.core.geo import distance_km, geocode

    odd = make_therapist(
        display_name='Zoë "Zee" O\\Brien </script>', offers_in_person=True, pronouns=""
    )
    office = make_office(odd, latitude=43.70, longitude=-79.40)
    make_office(make_therapist(display_name="Ann Plain", offers_in_person=True))
    real_engine()

    answers = {}
    for place in ("Toronto", "Mississauga"):
        response = client.get(SEARCH_URL, {"near": place, "radius_km": "50", "sort": "distance"})
        text = response.content.decode()
        assert text == json.dumps(json.loads(text), ensure_ascii=False)
        answers[place] = {row["name"]: row for row in json.loads(text)["results"]}

    for place, rows in answers.items():
        where = geocode(place)
        assert where is not None
        assert rows[odd.display_name]["distance_km"] == round(
            distance_km(office.latitude, office.longitude, where.latitude, where.longitude), 1
        )
        assert rows[odd.display_name]["url"] == f"/therapists/{odd.public_id}/"
    assert (
        answers["Toronto"][odd.display_name]["distance_km"]
        != (answers["Mississauga"][odd.display_name]["distance_km"])
    )
