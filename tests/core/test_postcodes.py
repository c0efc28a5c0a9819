"""Postal and ZIP codes typed as a place: their shape, where they are, and their clock.

The expected points were looked up by hand on a map (the landmark named beside each), not taken
from the packages' data; a code's area centre is allowed a few kilometres from it.
"""

from __future__ import annotations

import math

import pytest

from rapport.core.geo import PlaceNotFound, PostalCodeNotFound, geocode
from rapport.core.postal import SearchPostalCode, search_postal_code
from rapport.core.postcodes import canadian_areas, us_area


def _km(latitude_a, longitude_a, latitude_b, longitude_b):
    """Haversine on a 6,371 km sphere, written out here rather than borrowed from geo."""
    phi_a, phi_b = math.radians(latitude_a), math.radians(latitude_b)
    d_phi = phi_b - phi_a
    d_lambda = math.radians(longitude_b - longitude_a)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


# typed, label, jurisdiction, IANA zone, (latitude, longitude) of a landmark inside the area,
# how far the area's centre may be from it.
KNOWN_CODES = [
    # CN Tower, 43.6426, -79.3871
    ("M5V 2T6", "M5V (Downtown Toronto, ON)", "CA-ON", "America/Toronto", (43.6426, -79.3871), 4),
    ("m5v2t6", "M5V (Downtown Toronto, ON)", "CA-ON", "America/Toronto", (43.6426, -79.3871), 4),
    (" M5V ", "M5V (Downtown Toronto, ON)", "CA-ON", "America/Toronto", (43.6426, -79.3871), 4),
    # Boulevard Saint-Laurent at rue Sherbrooke, Montréal (America/Montreal is a link to
    # America/Toronto in the time zone database)
    (
        "H2X",
        "H2X (Plateau Mont-Royal Southeast, QC)",
        "CA-QC",
        "America/Toronto",
        (45.5113, -73.5694),
        3,
    ),
    # Waterfront station, Vancouver
    ("V6B", "V6B (Vancouver, BC)", "CA-BC", "America/Vancouver", (49.2859, -123.1117), 3),
    # Saskatchewan keeps Central Standard Time all year: not the -6 offset plus summer time
    ("S4P", None, "CA-SK", "America/Regina", (50.4452, -104.6189), 4),
    # Water Street, St. John's: a half-hour zone
    ("A1C", None, "CA-NL", "America/St_Johns", (47.5615, -52.7126), 6),
    # Pike Place Market, Seattle
    ("98101", "98101 (Seattle, WA)", "US-WA", "America/Los_Angeles", (47.6097, -122.3422), 3),
    ("98101-1234", "98101 (Seattle, WA)", "US-WA", "America/Los_Angeles", (47.6097, -122.3422), 3),
    ("98101 1234", "98101 (Seattle, WA)", "US-WA", "America/Los_Angeles", (47.6097, -122.3422), 3),
    # Penn Station, New York
    ("10001", "10001 (New York, NY)", "US-NY", "America/New_York", (40.7506, -73.9935), 3),
    # Central Square, Cambridge: the leading zero is part of the code
    ("02139", "02139 (Cambridge, MA)", "US-MA", "America/New_York", (42.3654, -71.1037), 3),
    # Iolani Palace, Honolulu
    ("96813", "96813 (Honolulu, HI)", "US-HI", "Pacific/Honolulu", (21.3069, -157.8583), 5),
]


@pytest.mark.parametrize(
    ("typed", "label", "jurisdiction", "zone", "landmark", "within_km"), KNOWN_CODES
)
def test_a_postal_code_is_the_centre_of_its_area(
    typed, label, jurisdiction, zone, landmark, within_km
):
    place = geocode(typed)
    assert place.jurisdiction_code == jurisdiction
    assert place.time_zone == zone
    if label is not None:
        assert place.label == label
    assert _km(place.latitude, place.longitude, *landmark) < within_km
    assert not place.is_region


def test_a_full_canadian_code_is_placed_by_its_first_three_characters():
    assert geocode("M5V 2T6") == geocode("M5V") == geocode("m5v 9z9")
    assert geocode("98101-1234") == geocode("98101")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("M5V 2T6", SearchPostalCode("CA", "M5V 2T6", "M5V")),
        ("m5v2t6", SearchPostalCode("CA", "M5V 2T6", "M5V")),
        ("  m5v   2t6 ", SearchPostalCode("CA", "M5V 2T6", "M5V")),
        ("h2x", SearchPostalCode("CA", "H2X", "H2X")),
        ("Z9Z", SearchPostalCode("CA", "Z9Z", "Z9Z")),
        ("98101", SearchPostalCode("US", "98101", "98101")),
        ("98101-1234", SearchPostalCode("US", "98101-1234", "98101")),
        ("981011234", SearchPostalCode("US", "98101-1234", "98101")),
        ("02139", SearchPostalCode("US", "02139", "02139")),
    ],
)
def test_postal_code_shapes_are_read_and_written_the_standard_way(typed, expected):
    assert search_postal_code(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "M5V 2T",  # a code cut short
        "M5",
        "5V2",
        "M5V-2T6",
        "MM5V",
        "9810",
        "981012",
        "98101-12",
        "98101-12345",
        "Toronto",
        "M5V Toronto",
        "",
    ],
)
def test_other_shapes_are_not_postal_codes(typed):
    assert search_postal_code(typed) is None


@pytest.mark.parametrize("typed", ["M5V 2T", "9810", "98101-12", "5V2", "M5V-2T6"])
def test_a_malformed_code_is_not_a_place(typed):
    with pytest.raises(PlaceNotFound) as raised:
        geocode(typed)
    assert not isinstance(raised.value, PostalCodeNotFound)


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("Z9Z", "Z9Z"),  # Z starts no Canadian code
        ("z9z 9z9", "Z9Z 9Z9"),
        ("W1A", "W1A"),  # neither does W
        ("00000", "00000"),
        ("99999", "99999"),
        ("00000-1234", "00000-1234"),
    ],
)
def test_a_well_formed_but_unknown_code_says_so(typed, written):
    with pytest.raises(PostalCodeNotFound) as raised:
        geocode(typed)
    assert raised.value.code == written


def test_codes_outside_the_fifty_states_and_dc_are_not_served():
    # San Juan, Puerto Rico, and military mail have ZIP codes but no licensing jurisdiction here.
    for code in ("00901", "09001"):
        with pytest.raises(PostalCodeNotFound):
            geocode(code)


def test_every_canadian_area_is_loaded_once_into_a_province():
    areas = canadian_areas()
    assert len(areas) == 1645  # the package's documented count
    assert canadian_areas() is areas  # loaded once per process
    provinces = {area.jurisdiction_code for area in areas.values()}
    assert provinces == {
        "CA-AB", "CA-BC", "CA-MB", "CA-NB", "CA-NL", "CA-NS", "CA-NT",
        "CA-NU", "CA-ON", "CA-PE", "CA-QC", "CA-SK", "CA-YT",
    }  # fmt: skip
    # Each area's first letter is its province's, as Canada Post assigns them.
    first_letters = {"CA-ON": "KLMNP", "CA-QC": "GHJ", "CA-BC": "V", "CA-AB": "T"}
    for code, area in areas.items():
        if area.jurisdiction_code in first_letters:
            assert code[0] in first_letters[area.jurisdiction_code], code


def test_a_us_area_carries_the_packages_time_zone():
    area = us_area("99501")  # Anchorage
    assert area is not None
    assert (area.name, area.jurisdiction_code, area.time_zone) == (
        "Anchorage",
        "US-AK",
        "America/Anchorage",
    )


@pytest.mark.parametrize(
    ("typed", "town"),
    [
        ("M5V 2T6", "Toronto, ON"),  # not a downtown neighbourhood GeoNames lists on its own
        ("H2X", "Montréal, QC"),
        ("J8X", "Gatineau, QC"),  # Ottawa is closer to some of it, but across the border
        ("98101", "Seattle, WA"),
    ],
)
def test_a_postal_code_is_told_to_others_as_its_town_alone(typed, town):
    place = geocode(typed)
    assert place.town_label == town
    assert geocode("Toronto").town_label == "Toronto, ON"
