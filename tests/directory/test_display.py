import datetime as dt

import pytest
from django.utils import timezone

from rapport.directory.display import (
    confirmed_ago,
    duration_phrase,
    initials,
    join_words,
    licence_summary,
    location_label,
    style_words,
    years_in_practice_label,
)
from rapport.directory.models import Designation, Licence, Regulator
from rapport.directory.selectors import therapist_profile
from tests.factories import load_reference_data, make_office, make_therapist


@pytest.mark.parametrize(
    ("hours", "phrase"),
    [(1, "an hour"), (6, "6 hours"), (24, "a day"), (36, "36 hours"), (48, "2 days")],
)
def test_duration_phrase_prefers_whole_days(hours, phrase):
    assert duration_phrase(hours) == phrase


@pytest.mark.parametrize(
    ("name", "letters"),
    [
        ("Amira Haddad", "AH"),
        ("Dr. Jonathan Okafor", "JO"),
        ("Ana Sofía Gutiérrez", "AG"),
        ("Cher", "C"),
        ("élise roy", "ÉR"),
    ],
)
def test_initials_take_first_and_last_name_and_skip_titles(name, letters):
    assert initials(name) == letters


def test_join_words_reads_like_a_sentence():
    assert join_words([]) == ""
    assert join_words(["a"]) == "a"
    assert join_words(["a", "b"]) == "a and b"
    assert join_words(["a", "b", "c"]) == "a, b and c"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1, "Structured"),
        (2, "Closer to structured"),
        (3, "Between structured and exploratory"),
        (4, "Closer to exploratory"),
        (5, "Exploratory"),
    ],
)
def test_style_words_place_the_therapist_between_the_poles(value, words):
    assert style_words({"low": "Structured", "high": "Exploratory", "value": value}) == words


def test_confirmed_ago_counts_whole_days():
    now = timezone.now()

    assert confirmed_ago(now - dt.timedelta(hours=3), now=now) == "today"
    assert confirmed_ago(now - dt.timedelta(days=1, hours=2), now=now) == "yesterday"
    assert confirmed_ago(now - dt.timedelta(days=12), now=now) == "12 days ago"
    assert confirmed_ago(None, now=now) == ""


@pytest.mark.django_db
def test_licence_summary_names_a_second_title_and_joins_licences():
    load_reference_data()
    therapist = make_therapist()
    therapist.licences.update(number="12345")
    Licence.objects.create(
        therapist=therapist,
        jurisdiction_id="CA-BC",
        designation=Designation.objects.get(code="RCC"),
        regulator=Regulator.objects.get(jurisdiction_id="CA-BC", abbreviation="BCACC"),
        number="678",
    )
    listed = therapist_profile(public_id=therapist.public_id, now=timezone.now())
    assert listed is not None

    assert licence_summary(listed) == (
        "Verified — licensed in British Columbia (RCC, BCACC #678) and Ontario (CRPO #12345)"
    )


@pytest.mark.django_db
def test_location_label_handles_in_person_without_an_office():
    load_reference_data()
    virtual = make_therapist(offers_in_person=False)
    in_person = make_therapist(offers_in_person=True)
    no_office_yet = make_therapist(offers_in_person=True)
    make_office(in_person, city="Ottawa")

    assert location_label(virtual) == "Virtual only"
    assert location_label(in_person) == "Ottawa"
    assert location_label(no_office_yet) == ""


@pytest.mark.django_db
def test_years_in_practice_label_reads_naturally():
    load_reference_data()
    this_year = timezone.now().year

    assert years_in_practice_label(make_therapist(practice_start_year=this_year)) == (
        "Less than a year in practice"
    )
    assert years_in_practice_label(make_therapist(practice_start_year=this_year - 1)) == (
        "1 year in practice"
    )
    assert years_in_practice_label(make_therapist(practice_start_year=this_year - 9)) == (
        "9 years in practice"
    )
