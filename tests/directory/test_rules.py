"""The rules every way of writing a profile shares (rapport.directory.rules), checked against
tables written by hand from public facts, not derived from the code's own tables."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from rapport.core.postal import PostalCodeError, normalise_postal_code
from rapport.directory import rules
from rapport.directory.models import Regulator

# Real addresses' postal codes and the province or state they are in (city halls, legislatures,
# well-known landmarks).
REAL_POSTAL_CODES = [
    ("M5V 2T6", "CA-ON"),  # Toronto, CN Tower
    ("K1A 0A6", "CA-ON"),  # Ottawa, Parliament Hill
    ("H2X 1Y4", "CA-QC"),  # Montréal
    ("G1R 4P5", "CA-QC"),  # Québec City
    ("J8X 3X7", "CA-QC"),  # Gatineau
    ("V6B 1A1", "CA-BC"),  # Vancouver
    ("T2P 2M5", "CA-AB"),  # Calgary
    ("T5J 0N3", "CA-AB"),  # Edmonton
    ("R3C 4T3", "CA-MB"),  # Winnipeg
    ("S4P 3V7", "CA-SK"),  # Regina
    ("E1C 4M3", "CA-NB"),  # Moncton
    ("B3H 4R2", "CA-NS"),  # Halifax
    ("C1A 7N8", "CA-PE"),  # Charlottetown
    ("A1C 5M2", "CA-NL"),  # St. John's
    ("X1A 2L9", "CA-NT"),  # Yellowknife
    ("X0A 0H0", "CA-NU"),  # Iqaluit
    ("Y1A 1B1", "CA-YT"),  # Whitehorse
    ("10001", "US-NY"),  # New York
    ("02108", "US-MA"),  # Boston
    ("02903", "US-RI"),  # Providence
    ("03101", "US-NH"),  # Manchester
    ("04101", "US-ME"),  # Portland, Maine
    ("05401", "US-VT"),  # Burlington
    ("06103", "US-CT"),  # Hartford
    ("07102", "US-NJ"),  # Newark
    ("15222", "US-PA"),  # Pittsburgh
    ("19801", "US-DE"),  # Wilmington
    ("20500", "US-DC"),  # Washington
    ("21202", "US-MD"),  # Baltimore
    ("22201", "US-VA"),  # Arlington
    ("25301", "US-WV"),  # Charleston
    ("27601", "US-NC"),  # Raleigh
    ("29201", "US-SC"),  # Columbia
    ("30303", "US-GA"),  # Atlanta
    ("33101", "US-FL"),  # Miami
    ("35203", "US-AL"),  # Birmingham
    ("37203", "US-TN"),  # Nashville
    ("39201", "US-MS"),  # Jackson
    ("40202", "US-KY"),  # Louisville
    ("43215", "US-OH"),  # Columbus
    ("46204", "US-IN"),  # Indianapolis
    ("48226", "US-MI"),  # Detroit
    ("50309", "US-IA"),  # Des Moines
    ("53202", "US-WI"),  # Milwaukee
    ("55401", "US-MN"),  # Minneapolis
    ("57104", "US-SD"),  # Sioux Falls
    ("58102", "US-ND"),  # Fargo
    ("59601", "US-MT"),  # Helena
    ("60601", "US-IL"),  # Chicago
    ("63101", "US-MO"),  # St. Louis
    ("66603", "US-KS"),  # Topeka
    ("68102", "US-NE"),  # Omaha
    ("70112", "US-LA"),  # New Orleans
    ("72201", "US-AR"),  # Little Rock
    ("73102", "US-OK"),  # Oklahoma City
    ("77002", "US-TX"),  # Houston
    ("79901", "US-TX"),  # El Paso
    ("80202", "US-CO"),  # Denver
    ("82001", "US-WY"),  # Cheyenne
    ("83702", "US-ID"),  # Boise
    ("84101", "US-UT"),  # Salt Lake City
    ("85001", "US-AZ"),  # Phoenix
    ("87501", "US-NM"),  # Santa Fe
    ("89101", "US-NV"),  # Las Vegas
    ("90210", "US-CA"),  # Beverly Hills
    ("94103", "US-CA"),  # San Francisco
    ("96813", "US-HI"),  # Honolulu
    ("97201", "US-OR"),  # Portland, Oregon
    ("98101", "US-WA"),  # Seattle
    ("99501", "US-AK"),  # Anchorage
]

# The same real codes typed against a neighbouring province or state.
MISMATCHED_POSTAL_CODES = [
    ("M5V 2T6", "CA-QC"),
    ("H2X 1Y4", "CA-ON"),
    ("V6B 1A1", "CA-AB"),
    ("T2P 2M5", "CA-SK"),
    ("X1A 2L9", "CA-YT"),
    ("10001", "US-NJ"),
    ("07102", "US-NY"),
    ("02108", "US-RI"),
    ("90210", "US-NV"),
    ("98101", "US-OR"),
    ("20500", "US-VA"),
    ("22201", "US-DC"),
]


@pytest.mark.parametrize(("postal_code", "jurisdiction"), REAL_POSTAL_CODES)
def test_real_postal_codes_match_their_province_or_state(postal_code, jurisdiction):
    # Typed loosely (lower case, no space) they come back in the standard form.
    typed = postal_code.lower().replace(" ", "")
    assert normalise_postal_code(postal_code=typed, jurisdiction_code=jurisdiction) == postal_code


@pytest.mark.parametrize(("postal_code", "jurisdiction"), MISMATCHED_POSTAL_CODES)
def test_postal_codes_of_another_province_or_state_are_refused(postal_code, jurisdiction):
    with pytest.raises(PostalCodeError):
        normalise_postal_code(postal_code=postal_code, jurisdiction_code=jurisdiction)


@pytest.mark.parametrize(
    ("postal_code", "jurisdiction"),
    [
        ("D1A 1A1", "CA-NL"),  # D never starts a code
        ("M5V 2O6", "CA-ON"),  # O is never used
        ("M5V", "CA-ON"),  # half a code
        ("10001", "CA-ON"),  # a ZIP code in Canada
        ("M5V 2T6", "US-NY"),  # a Canadian code in the US
        ("1000", "US-NY"),
        ("100011", "US-NY"),
        ("10001-12", "US-NY"),
    ],
)
def test_malformed_postal_codes_are_refused(postal_code, jurisdiction):
    with pytest.raises(PostalCodeError):
        normalise_postal_code(postal_code=postal_code, jurisdiction_code=jurisdiction)


def test_zip_plus_four_is_kept_in_the_standard_form():
    assert (
        normalise_postal_code(postal_code="10001 1234", jurisdiction_code="US-NY") == "10001-1234"
    )


# --- locate_office ---------------------------------------------------------------------------

# City, province or state, postal code, and what an atlas says: rough latitude and longitude,
# and the time zone.
KNOWN_OFFICES = [
    ("Toronto", "CA-ON", "M5V 2T6", 43.7, -79.4, "America/Toronto"),
    ("montreal", "CA-QC", "H2X 1Y4", 45.5, -73.6, "America/Toronto"),
    ("Vancouver", "CA-BC", "V6B 1A1", 49.3, -123.1, "America/Vancouver"),
    ("Calgary", "CA-AB", "T2P 2M5", 51.0, -114.1, "America/Edmonton"),
    ("Halifax", "CA-NS", "B3H 4R2", 44.6, -63.6, "America/Halifax"),
    ("Phoenix", "US-AZ", "85001", 33.4, -112.1, "America/Phoenix"),
    ("Chicago", "US-IL", "60601", 41.9, -87.6, "America/Chicago"),
    ("Portland", "US-OR", "97201", 45.5, -122.7, "America/Los_Angeles"),
    ("Portland", "US-ME", "04101", 43.7, -70.3, "America/New_York"),
    # A suburb's code for the city next door is an address there, not a mistake.
    ("Toronto", "CA-ON", "L5B 1M2", 43.7, -79.4, "America/Toronto"),  # Mississauga City Hall
    # Rural codes span regions: X0A is most of Nunavut, its centre far from Iqaluit.
    ("Iqaluit", "CA-NU", "X0A 0H0", 63.7, -68.5, "America/Iqaluit"),
    # Two towns of one state share a name; the code says which: Chatham near Springfield,
    # not the Chicago neighbourhood the name alone would pick.
    ("Chatham", "US-IL", "62629", 39.7, -89.7, "America/Chicago"),
    ("Chatham", "US-IL", "60619", 41.7, -87.6, "America/Chicago"),
    # In the countryside the nearest town of 5,000 people is far from the code's own village:
    # Jordan, MT is 130 km from Miles City, Presidio, TX 100 km from Alpine; no nearer served
    # town exists, so the town named is the right one to give.
    ("Miles City", "US-MT", "59337", 46.4, -105.8, "America/Denver"),
    ("Alpine", "US-TX", "79845", 30.4, -103.7, "America/Chicago"),
    # A ZIP the data stores at 0, 0 (Hicksville's unique code) is unknown, not 8,600 km off.
    ("Hicksville", "US-NY", "11805", 40.8, -73.5, "America/New_York"),
]


@pytest.mark.parametrize(("city", "region", "postal", "lat", "lon", "zone"), KNOWN_OFFICES)
def test_locate_office_finds_coordinates_and_time_zone(city, region, postal, lat, lon, zone):
    location = rules.locate_office(city=city, jurisdiction_code=region, postal_code=postal)
    assert location.latitude == pytest.approx(lat, abs=0.3)
    assert location.longitude == pytest.approx(lon, abs=0.3)
    assert location.time_zone == zone
    assert location.postal_code == postal


def test_locate_office_refuses_a_city_not_in_that_province_and_suggests_close_names():
    with pytest.raises(ValidationError) as refused:
        rules.locate_office(city="Torontoo", jurisdiction_code="CA-ON", postal_code="M5V 2T6")
    assert set(refused.value.message_dict) == {"city"}
    assert "Toronto" in refused.value.message_dict["city"][0]

    with pytest.raises(ValidationError) as refused:
        rules.locate_office(city="Toronto", jurisdiction_code="CA-BC", postal_code="V6B 1A1")
    assert set(refused.value.message_dict) == {"city"}


def test_locate_office_refuses_a_postal_code_of_another_province():
    with pytest.raises(ValidationError) as refused:
        rules.locate_office(city="Toronto", jurisdiction_code="CA-ON", postal_code="V6B 1A1")
    assert set(refused.value.message_dict) == {"postal_code"}


# A city and a code of the same province or state that are far apart. The distances are the
# great-circle distances between the two city halls, from an atlas, rounded; the message gives
# the distance from the code's area centre, so it is checked loosely.
FAR_APART = [
    ("Ottawa", "CA-ON", "M5V 2T6", "Toronto", 350),
    ("Toronto", "CA-ON", "K1A 0A6", "Ottawa", 350),
    ("Québec", "CA-QC", "H2X 1Y4", "Montréal", 235),
    ("Spokane", "US-WA", "98101", "Seattle", 365),
    ("Buffalo", "US-NY", "10001", "New York", 470),
    # Presidio's code has Alpine 100 km away; Fort Stockton, 205 km, is not its town.
    ("Fort Stockton", "US-TX", "79845", "Presidio", 205),
]


@pytest.mark.parametrize(("city", "region", "postal", "code_city", "km"), FAR_APART)
def test_locate_office_refuses_a_postal_code_of_another_city(city, region, postal, code_city, km):
    with pytest.raises(ValidationError) as refused:
        rules.locate_office(city=city, jurisdiction_code=region, postal_code=postal)
    assert set(refused.value.message_dict) == {"postal_code"}
    message = refused.value.message_dict["postal_code"][0]
    assert code_city in message
    found = re.search(r"about ([\d,]+) km", message)
    assert found is not None, message
    stated = int(found.group(1).replace(",", ""))
    assert abs(stated - km) <= 0.15 * km


@pytest.mark.parametrize("postal", ["１０００１", "١٠٠٠١", "M５V 2T6"])
def test_digits_of_other_scripts_are_a_malformed_code_not_a_crash(postal):
    # They are digits to Python (str.isdigit), not to a postal service; the ZIP package's
    # native code used to fail on them outside Python's exceptions.
    with pytest.raises(ValidationError) as refused:
        rules.locate_office(city="New York", jurisdiction_code="US-NY", postal_code=postal)
    assert set(refused.value.message_dict) == {"postal_code"}


def test_locate_office_reports_both_problems_at_once():
    with pytest.raises(ValidationError) as refused:
        rules.locate_office(city="Nowhereville", jurisdiction_code="US-NY", postal_code="90210")
    assert set(refused.value.message_dict) == {"city", "postal_code"}


def test_locate_office_does_not_take_a_province_for_a_city():
    with pytest.raises(ValidationError) as refused:
        rules.locate_office(city="Ontario", jurisdiction_code="CA-ON", postal_code="M5V 2T6")
    assert "city" in refused.value.message_dict


# --- fees ---------------------------------------------------------------------------------


def test_fees_within_the_cap_with_a_floor_at_or_below_the_fee_pass():
    rules.check_fees(fee_minor=12_000, sliding_scale_min_minor=None)
    rules.check_fees(fee_minor=12_000, sliding_scale_min_minor=12_000)
    rules.check_fees(fee_minor=12_000, sliding_scale_min_minor=0)
    rules.check_fees(fee_minor=rules.FEE_CAP_MINOR, sliding_scale_min_minor=None)


def test_the_default_cap_is_one_thousand_per_session():
    assert rules.DEFAULT_FEE_CAP_MINOR == 100_000


@pytest.mark.parametrize(
    ("fee", "floor", "fields"),
    [
        (0, None, {"fee_minor"}),
        (100_001, None, {"fee_minor"}),
        (12_000, 12_001, {"sliding_scale_min_minor"}),
        (12_000, -1, {"sliding_scale_min_minor"}),
        (0, 5_000, {"fee_minor"}),
    ],
)
def test_bad_fees_are_refused_at_their_field(fee, floor, fields):
    with pytest.raises(ValidationError) as refused:
        rules.check_fees(fee_minor=fee, sliding_scale_min_minor=floor)
    assert set(refused.value.message_dict) == fields


@override_settings(THERAPIST_FEE_CAP_MINOR=20_000)
def test_the_cap_follows_the_setting():
    rules.check_fees(fee_minor=20_000, sliding_scale_min_minor=None)
    with pytest.raises(ValidationError):
        rules.check_fees(fee_minor=20_001, sliding_scale_min_minor=None)


# --- licence numbers ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize(
    ("jurisdiction", "abbreviation", "typed", "stored"),
    [
        ("CA-ON", "CRPO", "# 12 345", "12345"),
        ("CA-ON", "CRPO", "no. 004321", "004321"),
        ("CA-ON", "OCSWSSW", "812345", "812345"),
        ("CA-QC", "OPQ", "12345-06", "12345-06"),
        ("US-CA", "BBS", "lmft 123456", "LMFT123456"),
        ("US-AL", "BSW", "abc-1", "ABC-1"),  # no known form: any number
    ],
)
def test_licence_numbers_that_fit_are_normalised(jurisdiction, abbreviation, typed, stored):
    regulator = Regulator.objects.get(jurisdiction_id=jurisdiction, abbreviation=abbreviation)
    assert rules.check_licence_number(regulator=regulator, number=typed) == stored


@pytest.mark.django_db
@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize(
    ("jurisdiction", "abbreviation", "typed"),
    [
        ("CA-ON", "CRPO", "Jane Doe"),
        ("CA-ON", "CRPO", "12"),
        ("CA-ON", "CRPO", "416-555-0100"),
        ("US-NY", "NYSED", "LCSW"),
        ("US-AL", "BSW", ""),
        ("US-AL", "BSW", "   "),
        ("US-AL", "BSW", "9" * 41),
    ],
)
def test_licence_numbers_that_do_not_fit_are_refused_at_the_number(
    jurisdiction, abbreviation, typed
):
    regulator = Regulator.objects.get(jurisdiction_id=jurisdiction, abbreviation=abbreviation)
    with pytest.raises(ValidationError) as refused:
        rules.check_licence_number(regulator=regulator, number=typed)
    assert set(refused.value.message_dict) == {"number"}


def test_the_migration_and_the_fixture_hold_the_same_licence_number_patterns():
    migration = importlib.import_module("rapport.directory.migrations.0006_onboarding")
    fixture = Path(rules.__file__).parent / "fixtures" / "credentials.json"
    from_fixture = {
        (row["fields"]["jurisdiction"], row["fields"]["abbreviation"]): (
            row["fields"]["licence_number_pattern"],
            row["fields"]["licence_number_hint"],
        )
        for row in json.loads(fixture.read_text(encoding="utf-8"))
        if row["model"] == "directory.regulator" and row["fields"]["licence_number_pattern"]
    }
    assert from_fixture == migration.LICENCE_NUMBER_PATTERNS
