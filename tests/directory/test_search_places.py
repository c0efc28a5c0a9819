"""Postal codes and misspelt place names on the search page and in the API.

Distances are checked against a haversine written out here, from the area centre that a
neighbourhood map gives for M5V (about King and Spadina, Toronto) within a few kilometres.
"""

from __future__ import annotations

import html
import math
import re

import pytest

from rapport.core.geo import geocode
from tests.factories import make_office, make_therapist

URL = "/therapists/"
API = "/api/v1/therapists"
HTMX = {"HTTP_HX_REQUEST": "true"}

pytestmark = pytest.mark.usefixtures("reference_data")


def _km(latitude_a, longitude_a, latitude_b, longitude_b):
    phi_a, phi_b = math.radians(latitude_a), math.radians(latitude_b)
    h = (
        math.sin((phi_b - phi_a) / 2) ** 2
        + math.cos(phi_a)
        * math.cos(phi_b)
        * math.sin(math.radians(longitude_b - longitude_a) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


def _three_offices():
    """Offices at Queen St W (Toronto), North York and Ottawa; each therapist sees clients in
    person only, so distance alone decides who shows."""
    places = [
        ("Queen West", 43.6534, -79.3841),
        ("North York", 43.7615, -79.4111),
        ("Ottawa Centre", 45.4215, -75.6972),
    ]
    for name, latitude, longitude in places:
        therapist = make_therapist(display_name=name, offers_in_person=True, offers_video=False)
        make_office(therapist, latitude=latitude, longitude=longitude)
    return places


def _card_names(response):
    return re.findall(
        r'<a href="/therapists/[0-9a-f-]{36}/">([^<]+)</a>', response.content.decode()
    )


def _distance_words(km):
    """How the page writes a distance (tenths under 10 km, whole kilometres from there)."""
    return f"{km:.1f} km away" if km < 10 else f"{km:,.0f} km away"


@pytest.mark.parametrize("typed", ["M5V 2T6", "m5v2t6", "M5V"])
def test_a_postal_code_lists_the_nearest_first_with_distances(client, typed):
    places = _three_offices()
    centre = geocode("M5V")

    response = client.get(URL, {"near": typed, "radius_km": "50"})

    assert response.status_code == 200
    # Ottawa is 350 km away: outside 50 km.
    assert _card_names(response) == ["Queen West", "North York"]
    text = html.unescape(response.content.decode())
    assert "2 therapists match near M5V (Downtown Toronto, ON)." in text
    for _name, latitude, longitude in places[:2]:
        km = _km(centre.latitude, centre.longitude, latitude, longitude)
        assert f"<dd>{_distance_words(km)}</dd>" in text
    # The centre of M5V is within a few km of King and Spadina (43.6446, -79.3950).
    assert _km(centre.latitude, centre.longitude, 43.6446, -79.3950) < 4


def test_a_zip_code_searches_around_its_area(client):
    therapist = make_therapist(
        display_name="Pike Place", offers_in_person=True, offers_video=False, currency="USD"
    )
    make_office(
        therapist,
        street_address="1st Ave",
        city="Seattle",
        jurisdiction_id="US-WA",
        postal_code="98101",
        latitude=47.6097,
        longitude=-122.3422,
        time_zone="America/Los_Angeles",
    )
    response = client.get(URL, {"near": "98101-1234"})

    assert response.status_code == 200
    assert _card_names(response) == ["Pike Place"]
    assert "near 98101 (Seattle, WA)" in html.unescape(response.content.decode())


def test_an_unknown_postal_code_says_so_at_the_field(client):
    response = client.get(URL, {"near": "Z9Z"}, **HTMX)

    assert response.status_code == 200  # the htmx fragment; the page itself is a 400
    assert (
        '<p id="error-near" hx-swap-oob="innerHTML">We do not know the postal code '
        "“Z9Z”. Check it, or enter the city instead, e.g. “Toronto, ON”.</p>"
    ) in response.content.decode()
    assert client.get(URL, {"near": "00000"}).status_code == 400


def _suggestion_links(response):
    """(text, href) of the links in the "Did you mean" sentence of the problem notice."""
    notice = re.search(
        r'<div class="notice" id="search-problem">(.*?)</div>', response.content.decode(), re.S
    )
    assert notice is not None
    item = re.search(r"<li>(.*?)</li>", notice.group(1), re.S)
    assert item is not None
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', item.group(1))
    return html.unescape(re.sub(r"<[^>]+>", "", item.group(1))), [
        (html.unescape(text), html.unescape(href)) for href, text in links
    ]


def test_a_misspelt_place_offers_the_place_meant_keeping_every_other_filter(client):
    _three_offices()
    asked = {"near": "Torono", "radius_km": "50", "concern": "anxiety", "max_fee": "200"}

    response = client.get(URL, {**asked, "page": "2"})

    assert response.status_code == 400
    sentence, links = _suggestion_links(response)
    assert sentence == "We could not find “Torono”. Did you mean Toronto, ON?"
    assert links == [
        ("We could not find “Torono”.", "#id_near"),
        (
            "Toronto, ON",
            "/therapists/?near=Toronto%2C+ON&radius_km=50&concern=anxiety&max_fee=200#results",
        ),
    ]
    # The field's own message says the same, for a screen reader on the field.
    field_error = re.search(
        r'<p class="field-error" id="error-near">(.*?)</p>', response.content.decode()
    )
    assert field_error is not None
    assert html.unescape(field_error.group(1)) == (
        "We could not find “Torono”. Did you mean Toronto, ON?"
    )


def test_following_the_suggestion_lands_on_results(client):
    _three_offices()
    response = client.get(URL, {"near": "Torono", "radius_km": "50"}, **HTMX)
    _sentence, links = _suggestion_links(response)

    followed = client.get(links[1][1].removesuffix("#results"))

    assert followed.status_code == 200
    assert _card_names(followed) == ["Queen West", "North York"]


def test_two_near_equal_places_are_both_offered_the_bigger_first(client):
    # ("Vancover" itself is among GeoNames' other names for Vancouver, so it is found.)
    response = client.get(URL, {"near": "Vancuver"})

    sentence, links = _suggestion_links(response)
    assert sentence == (
        "We could not find “Vancuver”. Did you mean Vancouver, BC or Vancouver, WA?"
    )
    assert [text for text, _href in links[1:]] == ["Vancouver, BC", "Vancouver, WA"]


@pytest.mark.parametrize("typed", ["asdfgh", "12345 Main"])
def test_nothing_is_suggested_for_what_is_not_close_to_a_name(client, typed):
    response = client.get(URL, {"near": typed})

    assert response.status_code == 400
    assert "Did you mean" not in response.content.decode()


# --- the API ------------------------------------------------------------------------------------


def test_the_api_searches_by_postal_code_nearest_first(client):
    places = _three_offices()
    centre = geocode("M5V")

    response = client.get(API, {"near": "M5V 2T6", "radius_km": "50"})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["name"] for row in rows] == ["Queen West", "North York"]
    for row, (_name, latitude, longitude) in zip(rows, places, strict=False):
        expected = _km(centre.latitude, centre.longitude, latitude, longitude)
        assert row["distance_km"] == pytest.approx(expected, abs=0.1)


def test_the_api_problem_for_a_misspelt_place_carries_suggestions(client):
    response = client.get(API, {"near": "Torono"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["suggestions"] == ["Toronto, ON"]
    assert body["errors"] == [
        {"field": "near", "message": "We could not find “Torono”. Did you mean Toronto, ON?"}
    ]


def test_the_api_problem_has_no_suggestions_when_nothing_is_close(client):
    body = client.get(API, {"near": "Xyzzyville"}).json()
    assert "suggestions" not in body
    unknown = client.get(API, {"near": "00000"}).json()
    assert "suggestions" not in unknown
    assert unknown["detail"].startswith("We do not know the postal code “00000”.")


def test_the_openapi_document_describes_the_suggestions_member(client):
    document = client.get("/api/v1/openapi.json").json()
    problem = document["paths"]["/api/v1/therapists"]["get"]["responses"]["400"]
    schema = problem["content"]["application/problem+json"]["schema"]
    assert schema["properties"]["suggestions"]["type"] == "array"
