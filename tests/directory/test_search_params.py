"""Query strings to SearchQuery: every bad input is refused with its field and a clear message."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from rapport.directory.models import Concern
from rapport.directory.search.contract import SearchQuery, SearchQueryError
from rapport.directory.search.params import jurisdiction_near, parse_search_query

pytestmark = pytest.mark.usefixtures("reference_data")


def parse(query_string: str, page_size: int = 20) -> SearchQuery:
    return parse_search_query(QueryDict(query_string), page_size=page_size)


def refusal(query_string: str) -> tuple[str, str]:
    with pytest.raises(SearchQueryError) as caught:
        parse(query_string)
    return caught.value.field, caught.value.message


def test_empty_query_string_is_the_default_query():
    # Without a place the default is the soonest free consultation, not names from A.
    assert parse("") == SearchQuery(page_size=20, sort="soonest")


def test_a_place_sorts_nearest_first_by_default():
    assert parse("near=Toronto").sort == "distance"
    assert parse("lat=43.65&lon=-79.38").sort == "distance"
    assert parse("near=Toronto&sort=").sort == "distance"


def test_name_order_stays_available():
    assert parse("sort=name").sort == "name"
    assert parse("near=Toronto&sort=name").sort == "name"


def test_empty_form_fields_count_as_not_given():
    assert parse("near=&lat=&lon=&radius_km=&concern=&max_fee=&q=&sort=&page=") == SearchQuery(
        page_size=20, sort="soonest"
    )


def test_parameters_that_are_not_the_searchs_own_are_left_alone():
    # The API hands its whole query string over, page_size included (and a link's utm_source).
    assert parse("concern=anxiety&page_size=abc&page_size=7&utm_source=x", page_size=7) == (
        parse("concern=anxiety", page_size=7)
    )


def test_place_name_is_geocoded_with_label_and_jurisdiction():
    query = parse("near=Toronto")
    assert (query.place_label, query.jurisdiction_code) == ("Toronto, ON", "CA-ON")
    assert query.latitude == 43.70643
    assert query.longitude == -79.39864
    assert query.sort == "distance"
    assert query.radius_km == 25.0


def test_every_filter_parses_exactly():
    query = parse(
        "near=Vancouver&radius_km=10.5&delivery=video&delivery=in_person"
        "&concern=anxiety&concern=grief&modality=cbt&population=couples&language=fr"
        "&gender=woman&gender=non_binary&lived_experience=immigration&faith=jewish"
        "&lgbtq2s_affirming=1&max_fee=150.50&sliding_scale=1&insurance=1&direct_billing=1"
        "&has_video=1&captioned_video=1"
        "&contact=none&accessibility=step-free&accessibility=elevator&accepting=0"
        "&q=+couples+therapy+&sort=fee&page=3&style_humour=4&style_structure=2",
        page_size=7,
    )
    assert query == SearchQuery(
        latitude=query.latitude,
        longitude=query.longitude,
        place_label="Vancouver, BC",
        jurisdiction_code="CA-BC",
        radius_km=10.5,
        delivery=frozenset({"video", "in_person"}),
        concerns=frozenset({"anxiety", "grief"}),
        modalities=frozenset({"cbt"}),
        populations=frozenset({"couples"}),
        languages=frozenset({"fr"}),
        genders=frozenset({"woman", "non_binary"}),
        lived_experiences=frozenset({"immigration"}),
        faiths=frozenset({"jewish"}),
        lgbtq2s_affirming=True,
        style=(("style_structure", 2), ("style_humour", 4)),
        max_fee_minor=15050,
        sliding_scale=True,
        insurance=True,
        direct_billing=True,
        has_video=True,
        captioned_video=True,
        contact=frozenset({"none"}),
        accessibility=frozenset({"step-free", "elevator"}),
        accepting_only=False,
        text="couples therapy",
        sort="fee",
        page=3,
        page_size=7,
    )


def test_coordinates_take_the_jurisdiction_of_the_nearest_served_town():
    query = parse("lat=43.65&lon=-79.38")
    assert (query.latitude, query.longitude, query.place_label) == (43.65, -79.38, None)
    assert query.jurisdiction_code == "CA-ON"
    assert query.sort == "distance"


def test_coordinates_far_from_any_served_town_have_no_jurisdiction():
    assert parse("lat=0&lon=0").jurisdiction_code is None
    assert jurisdiction_near(47.6, -122.33) == "US-WA"


def test_best_fit_sort_is_allowed_with_a_style_preference():
    assert parse("style_direction=5&sort=best_fit").sort == "best_fit"


@pytest.mark.parametrize(
    ("query_string", "field", "message"),
    [
        ("concern=worry", "concern", "Unknown concern: “worry”."),
        ("concern=anxiety&concern=zz&concern=aa", "concern", "Unknown concern values: “aa”, “zz”."),
        ("modality=yelling", "modality", "Unknown approach: “yelling”."),
        ("population=pets", "population", "Unknown client group: “pets”."),
        ("language=xx", "language", "Unknown language: “xx”."),
        ("lived_experience=x", "lived_experience", "Unknown lived experience: “x”."),
        ("faith=x", "faith", "Unknown faith: “x”."),
        ("accessibility=x", "accessibility", "Unknown accessibility feature: “x”."),
        ("delivery=carrier-pigeon", "delivery", "Unknown way of meeting: “carrier-pigeon”."),
        ("gender=robot", "gender", "Unknown gender: “robot”."),
        ("contact=24-7", "contact", "Unknown contact policy: “24-7”."),
        ("near=Toronto&radius_km=0", "radius_km", "The distance must be more than 0 km."),
        ("near=Toronto&radius_km=-5", "radius_km", "The distance must be more than 0 km."),
        ("near=Toronto&radius_km=501", "radius_km", "The distance can be at most 500 km."),
        ("radius_km=far", "radius_km", "Enter the distance as a number, not “far”."),
        ("radius_km=nan", "radius_km", "Enter the distance as a number, not “nan”."),
        ("lat=abc&lon=1", "lat", "Enter the latitude as a number, not “abc”."),
        ("lat=1&lon=inf", "lon", "Enter the longitude as a number, not “inf”."),
        ("lat=91&lon=0", "lat", "The latitude must be between -90 and 90."),
        ("lat=0&lon=-181", "lon", "The longitude must be between -180 and 180."),
        ("lat=43.6", "lon", "Give a longitude with the latitude."),
        ("lon=-79.4", "lat", "Give a latitude with the longitude."),
        ("near=Toronto&lat=1&lon=1", "near", "Give a place name or coordinates, not both."),
        (
            "near=Xyzzyville",
            "near",
            "We could not find “Xyzzyville” in Canada or the United States. "
            "Try a city with its province or state, e.g. “Toronto, ON”.",
        ),
        ("q=" + "a" * 201, "q", "Keep the search words under 200 characters."),
        (
            "sort=popularity",
            "sort",
            "Sort by one of best_fit, distance, fee, soonest, name, not “popularity”.",
        ),
        ("sort=distance", "sort", "Sorting by distance needs a place to measure from."),
        ("sort=best_fit", "sort", "Sorting by best fit needs a style preference."),
        ("page=0", "page", "Pages start at 1."),
        ("page=-2", "page", "The page must be a whole number, not “-2”."),
        ("page=two", "page", "The page must be a whole number, not “two”."),
        ("page=1.5", "page", "The page must be a whole number, not “1.5”."),
        ("page=" + "9" * 40, "page", "That page number is too large."),
        # Only ASCII digits are numbers, as on the search page (rapport.directory.views).
        ("page=1_0", "page", "The page must be a whole number, not “1_0”."),
        ("page=١", "page", "The page must be a whole number, not “١”."),
        ("page=%2B2", "page", "The page must be a whole number, not “+2”."),
        # Beyond Python's 4,300-digit limit for int(): refused, never a server error.
        ("page=" + "9" * 5000, "page", "That page number is too large."),
        (
            "style_structure=" + "9" * 5000,
            "style_structure",
            "Choose a whole number from 1 to 5, not “" + "9" * 40 + "”.",
        ),
        ("style_direction=٣", "style_direction", "Choose a whole number from 1 to 5, not “٣”."),
        (
            "consultation_within_days=" + "7" * 5000,
            "consultation_within_days",
            "Choose a whole number of days from 1 to 90, not “" + "7" * 40 + "”.",
        ),
        (
            "max_fee=" + "9" * 5000,
            "max_fee",
            "Enter the most you can pay as a number of at most 32 characters.",
        ),
        ("max_fee=1_000", "max_fee", "Enter the most you can pay as a number, not “1_000”."),
        ("max_fee=١٠٠", "max_fee", "Enter the most you can pay as a number, not “١٠٠”."),
        ("max_fee=1e999", "max_fee", "The most you can pay can be at most 100,000."),
        ("lat=١&lon=0", "lat", "Enter the latitude as a number, not “١”."),
        (
            "near=Toronto&radius_km=" + "1" * 5000,
            "radius_km",
            "Enter the distance as a number of at most 32 characters.",
        ),
        ("style_structure=0", "style_structure", "Choose a whole number from 1 to 5, not “0”."),
        ("style_humour=6", "style_humour", "Choose a whole number from 1 to 5, not “6”."),
        ("style_challenge=2.5", "style_challenge", "Choose a whole number from 1 to 5, not “2.5”."),
        ("max_fee=-1", "max_fee", "The most you can pay cannot be negative."),
        ("max_fee=cheap", "max_fee", "Enter the most you can pay as a number, not “cheap”."),
        ("max_fee=NaN", "max_fee", "Enter the most you can pay as a number, not “NaN”."),
        ("max_fee=1e9", "max_fee", "The most you can pay can be at most 100,000."),
        ("insurance=maybe", "insurance", "Use 1 or 0 for insurance, not “maybe”."),
        ("has_video=maybe", "has_video", "Use 1 or 0 for has_video, not “maybe”."),
        ("has_video=2", "has_video", "Use 1 or 0 for has_video, not “2”."),
        ("captioned_video=x", "captioned_video", "Use 1 or 0 for captioned_video, not “x”."),
        (
            "has_video=1&captioned_video=sure",
            "captioned_video",
            "Use 1 or 0 for captioned_video, not “sure”.",
        ),
        ("accepting=all", "accepting", "Use 1 or 0 for accepting, not “all”."),
    ],
)
def test_bad_input_is_refused_with_its_field_and_message(query_string, field, message):
    assert refusal(query_string) == (field, message)


@pytest.mark.parametrize("name", ["has_video", "captioned_video", "insurance"])
def test_video_flags_read_values_exactly_like_the_other_flags(name):
    # Each of these is also the SearchQuery attribute's name.
    for raw, expected in (("1", True), ("on", True), ("yes", True), ("TRUE", True),
                          ("0", False), ("off", False), ("no", False), ("", False)):  # fmt: skip
        assert getattr(parse(f"{name}={raw}"), name) is expected, raw
    # The last non-empty value wins, as for every single-valued parameter.
    assert getattr(parse(f"{name}=0&{name}=1"), name) is True


def test_numbers_are_read_in_plain_ascii_notation_with_leading_zeros_allowed():
    query = parse("page=0003&style_humour=04&max_fee=%2B1.5e2&consultation_within_days=007")
    assert (query.page, query.style, query.max_fee_minor, query.consultation_within_days) == (
        3,
        (("style_humour", 4),),
        15000,
        7,
    )
    assert parse("lat=4.365e1&lon=-79.38").latitude == 43.65


def test_an_inactive_term_is_not_a_filter_any_more():
    Concern.objects.filter(slug="grief").update(is_active=False)
    assert refusal("concern=grief") == ("concern", "Unknown concern: “grief”.")


def test_a_plain_mapping_of_lists_works_like_a_query_dict():
    query = parse_search_query({"concern": ["anxiety", "grief"], "page": ["2"]}, page_size=5)
    assert (query.concerns, query.page, query.page_size) == (
        frozenset({"anxiety", "grief"}),
        2,
        5,
    )
