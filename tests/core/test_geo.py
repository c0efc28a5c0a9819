"""Offline geocoding of what people type, and great-circle distances."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.core.geo import (
    EARTH_RADIUS_KM,
    PlaceNotFound,
    distance_km,
    geocode,
    served_cities,
)

HALF_CIRCUMFERENCE_KM = math.pi * EARTH_RADIUS_KM

# --- geocode -------------------------------------------------------------------------------


def test_geocode_finds_a_city_with_its_jurisdiction_and_time_zone():
    toronto = geocode("Toronto")
    assert (toronto.name, toronto.jurisdiction_code, toronto.time_zone) == (
        "Toronto",
        "CA-ON",
        "America/Toronto",
    )
    assert (toronto.is_region, toronto.label, toronto.country_code) == (False, "Toronto, ON", "CA")
    # Toronto City Hall is at 43.653, -79.384; GeoNames' point is a few kilometres north.
    assert toronto.latitude == pytest.approx(43.653, abs=0.1)
    assert toronto.longitude == pytest.approx(-79.384, abs=0.1)


@pytest.mark.parametrize(
    "query", ["toronto ", "  TORONTO", "Toronto,", "toronto, on", "Toronto, Ontario"]
)
def test_geocode_ignores_case_spacing_and_an_agreeing_province(query):
    assert geocode(query) == geocode("Toronto")


@pytest.mark.parametrize("query", ["Montreal", "montreal", "MONTRÉAL", "Montréal", "montreal, qc"])
def test_geocode_folds_accents_to_find_montreal(query):
    montreal = geocode(query)
    assert (montreal.name, montreal.jurisdiction_code, montreal.label) == (
        "Montréal",
        "CA-QC",
        "Montréal, QC",
    )


@pytest.mark.parametrize(
    ("query", "jurisdiction_code", "time_zone"),
    [
        ("Portland, OR", "US-OR", "America/Los_Angeles"),
        ("Portland, Oregon", "US-OR", "America/Los_Angeles"),
        ("Portland, ME", "US-ME", "America/New_York"),
        ("portland, maine", "US-ME", "America/New_York"),
    ],
)
def test_geocode_uses_the_state_after_a_comma_to_pick_between_namesakes(
    query, jurisdiction_code, time_zone
):
    portland = geocode(query)
    assert (portland.name, portland.jurisdiction_code, portland.time_zone) == (
        "Portland",
        jurisdiction_code,
        time_zone,
    )


def test_geocode_of_a_bare_shared_name_picks_the_most_populous_town():
    assert geocode("Portland").jurisdiction_code == "US-OR"


def test_geocode_ontario_means_the_province_not_ontario_california():
    ontario = geocode("Ontario")
    assert (ontario.name, ontario.jurisdiction_code, ontario.is_region, ontario.label) == (
        "Ontario",
        "CA-ON",
        True,
        "Ontario",
    )
    assert ontario.time_zone == "America/Toronto"


def test_geocode_ontario_with_a_state_finds_the_californian_city():
    city = geocode("Ontario, CA")
    assert (city.name, city.jurisdiction_code, city.is_region) == ("Ontario", "US-CA", False)


def test_geocode_new_york_means_the_city():
    new_york = geocode("New York")
    assert (new_york.name, new_york.jurisdiction_code, new_york.is_region) == (
        "New York City",
        "US-NY",
        False,
    )
    assert new_york.time_zone == "America/New_York"


@pytest.mark.parametrize(
    ("query", "jurisdiction_code"),
    [
        # Each is also the name of a town in another state; the person means the region.
        ("Delaware", "US-DE"),  # not Delaware, Ohio
        ("Wyoming", "US-WY"),  # not Wyoming, Michigan
        ("Yukon", "CA-YT"),  # not Yukon, Oklahoma
        ("Nevada", "US-NV"),  # not Nevada, Missouri
        ("Quebec", "CA-QC"),  # Québec City is in Quebec, but no metropolis
    ],
)
def test_geocode_a_bare_region_name_means_the_region(query, jurisdiction_code):
    place = geocode(query)
    assert (place.jurisdiction_code, place.is_region) == (jurisdiction_code, True)


@pytest.mark.parametrize(
    ("query", "name", "time_zone"),
    [
        ("US-NY", "New York", "America/New_York"),
        ("us-ny", "New York", "America/New_York"),
        ("CA-ON", "Ontario", "America/Toronto"),
        ("ca-on", "Ontario", "America/Toronto"),
    ],
)
def test_geocode_reads_iso_region_codes(query, name, time_zone):
    region = geocode(query)
    assert (region.name, region.jurisdiction_code, region.is_region, region.time_zone) == (
        name,
        query.upper(),
        True,
        time_zone,
    )


@pytest.mark.parametrize(
    ("query", "jurisdiction_code", "time_zone"),
    [
        ("St. John's", "CA-NL", "America/St_Johns"),
        ("St. John\u2019s", "CA-NL", "America/St_Johns"),  # typographic apostrophe
        ("Vancouver", "CA-BC", "America/Vancouver"),
        ("Halifax", "CA-NS", "America/Halifax"),
        ("Regina", "CA-SK", "America/Regina"),
        ("Phoenix", "US-AZ", "America/Phoenix"),
        ("Honolulu", "US-HI", "Pacific/Honolulu"),
        ("Anchorage", "US-AK", "America/Anchorage"),
    ],
)
def test_geocode_gives_each_city_its_own_time_zone(query, jurisdiction_code, time_zone):
    place = geocode(query)
    assert (place.jurisdiction_code, place.time_zone) == (jurisdiction_code, time_zone)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        ",",
        "Atlantis",
        "Toronto, Narnia",
        "Toronto, NY",  # a real city, in the wrong state
        "x" * 201,
        "Toronto " * 40,
    ],
    ids=[
        "empty",
        "blank",
        "comma",
        "unknown",
        "unknown-region",
        "city-not-in-region",
        "huge",
        "huge-repeated-city",
    ],
)
def test_geocode_raises_place_not_found_for_what_it_cannot_place(query):
    with pytest.raises(PlaceNotFound) as raised:
        geocode(query)
    assert raised.value.args == (query,)


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("Toronto, ON, Canada", "Toronto, ON"),
        ("Toronto, Canada", "Toronto, ON"),
        ("Portland, Maine, USA", "Portland, ME"),
        ("Portland, United States", "Portland, OR"),
        ("London, Canada", "London, ON"),
        ("Ontario, Canada", "Ontario"),
        # "CA" after a city is California, not Canada.
        ("Los Angeles, CA", "Los Angeles, CA"),
    ],
)
def test_geocode_reads_a_trailing_country_as_a_narrowing(query, label):
    assert geocode(query).label == label


@pytest.mark.parametrize("query", ["Portland, Canada", "Toronto, ON, USA", "a, b, c, d"])
def test_geocode_refuses_a_place_outside_the_country_given(query):
    with pytest.raises(PlaceNotFound):
        geocode(query)


def test_served_cities_are_canadian_and_american_most_populous_first():
    cities = served_cities()
    assert {city.country_code for city in cities} == {"CA", "US"}
    populations = [city.population for city in cities]
    assert populations == sorted(populations, reverse=True)
    assert cities[0].name == "New York City"
    assert all(city.population >= 5000 for city in cities)


# --- distance_km ---------------------------------------------------------------------------

TORONTO = (43.70643, -79.39864)  # GeoNames' points, as geocode() returns them
MONTREAL = (45.50884, -73.58781)
# The WGS-84 ellipsoidal (Vincenty) distance between those two points is 502.731 km. A sphere of
# the mean radius is off from the ellipsoid by at most about 0.5 %, the error the haversine
# formula accepts by design, so that is the tolerance (±2.5 km here); the sphere gives 501.6 km.
TORONTO_MONTREAL_ELLIPSOIDAL_KM = 502.731


def test_distance_from_a_point_to_itself_is_zero():
    assert distance_km(*TORONTO, *TORONTO) == 0.0


def test_distance_toronto_to_montreal_matches_the_ellipsoidal_distance():
    assert distance_km(*TORONTO, *MONTREAL) == pytest.approx(
        TORONTO_MONTREAL_ELLIPSOIDAL_KM, rel=0.005
    )


def test_distance_between_geocoded_toronto_and_montreal_is_about_503_km():
    toronto, montreal = geocode("Toronto"), geocode("Montreal")
    distance = distance_km(
        toronto.latitude, toronto.longitude, montreal.latitude, montreal.longitude
    )
    assert distance == pytest.approx(TORONTO_MONTREAL_ELLIPSOIDAL_KM, rel=0.005)


def test_distance_is_the_same_both_ways():
    assert distance_km(*TORONTO, *MONTREAL) == distance_km(*MONTREAL, *TORONTO)


@pytest.mark.parametrize(
    ("point", "antipode"),
    [((0.0, 0.0), (0.0, 180.0)), ((45.0, 10.0), (-45.0, -170.0)), ((90.0, 0.0), (-90.0, 0.0))],
)
def test_distance_to_the_antipode_is_half_the_circumference(point, antipode):
    assert distance_km(*point, *antipode) == pytest.approx(HALF_CIRCUMFERENCE_KM, rel=1e-9)


def test_distance_along_a_quarter_of_the_equator_is_a_quarter_circumference():
    assert distance_km(0.0, 0.0, 0.0, 90.0) == pytest.approx(HALF_CIRCUMFERENCE_KM / 2, rel=1e-12)


def test_distance_across_the_date_line_takes_the_short_way():
    # One degree of longitude on the equator, not 359.
    assert distance_km(0.0, 179.5, 0.0, -179.5) == pytest.approx(
        HALF_CIRCUMFERENCE_KM / 180, rel=1e-9
    )


latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
points = st.tuples(latitudes, longitudes)

# Rounding: near antipodal points asin() amplifies a 1e-16 error in its argument to about
# 1e-8 radians, i.e. 0.1 m; a metre is far above that and far below anything that matters.
ROUNDING_KM = 1e-3


@settings(deadline=None)
@given(a=points, b=points, c=points)
def test_distance_obeys_the_triangle_inequality(a, b, c):
    assert distance_km(*a, *c) <= distance_km(*a, *b) + distance_km(*b, *c) + ROUNDING_KM


@settings(deadline=None)
@given(a=points, b=points)
def test_distance_is_symmetric_and_between_zero_and_half_the_circumference(a, b):
    distance = distance_km(*a, *b)
    assert 0.0 <= distance <= HALF_CIRCUMFERENCE_KM
    assert distance == pytest.approx(distance_km(*b, *a), rel=1e-12, abs=1e-9)
    assert distance_km(*a, *a) == 0.0


def test_distances_from_one_point_to_many_match_each_distance_alone():
    import numpy as np

    from rapport.core.geo import distances_km

    others = [(45.5019, -73.5674), (49.2827, -123.1207), (-33.87, 151.21), (43.6532, -79.3832)]
    phis = np.radians([latitude for latitude, _ in others])
    lambdas = np.radians([longitude for _, longitude in others])

    many = distances_km(latitude=43.6532, longitude=-79.3832, phis=phis, lambdas=lambdas)
    with_cosines = distances_km(
        latitude=43.6532, longitude=-79.3832, phis=phis, lambdas=lambdas, cos_phis=np.cos(phis)
    )

    alone = [distance_km(43.6532, -79.3832, latitude, longitude) for latitude, longitude in others]
    assert many.tolist() == pytest.approx(alone, abs=1e-9)
    assert with_cosines.tolist() == pytest.approx(alone, abs=1e-9)
    assert many[3] == 0.0
    assert 503 < many[0] < 505  # Toronto to Montréal
