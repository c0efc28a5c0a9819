"""The shortlist (session, no account), the comparison table and the profile's cost planner."""

import datetime as dt
import re

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from rapport.directory.models import BetweenSessionContact
from rapport.directory.shortlist import SESSION_KEY, SHORTLIST_LIMIT
from tests.factories import make_therapist

ADD_URL = "/therapists/shortlist/add/"
REMOVE_URL = "/therapists/shortlist/remove/"
SHORTLIST_URL = "/therapists/shortlist/"
COMPARE_URL = "/therapists/compare/"


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the taxonomies and credentials."""


def saved(client):
    return client.session.get(SESSION_KEY, [])


def add(client, therapist, **extra):
    return client.post(ADD_URL, {"public_id": str(therapist.public_id), **extra})


def profile_url(therapist):
    return f"/therapists/{therapist.public_id}/"


# --- shortlist ----------------------------------------------------------------------------------


def test_save_to_shortlist_from_the_profile_and_back(client):
    therapist = make_therapist(display_name="Ada Saved")

    profile = client.get(profile_url(therapist))
    assertContains(
        profile,
        '<button type="submit" class="button button--quiet">Save to shortlist</button>',
        html=True,
    )

    response = add(client, therapist, next=profile_url(therapist))

    assert response.status_code == 302
    assert response["Location"] == profile_url(therapist)
    assert saved(client) == [str(therapist.public_id)]
    again = client.get(profile_url(therapist))
    assertContains(again, "Saved to your shortlist.")
    assertContains(
        again,
        '<button type="submit" class="button button--quiet">Remove from shortlist</button>',
        html=True,
    )


def test_adding_twice_keeps_one_entry(client):
    therapist = make_therapist()

    add(client, therapist)
    add(client, therapist)

    assert saved(client) == [str(therapist.public_id)]


def test_shortlist_holds_at_most_the_limit(client):
    therapists = [make_therapist() for _ in range(SHORTLIST_LIMIT + 1)]
    for therapist in therapists[:SHORTLIST_LIMIT]:
        add(client, therapist)

    response = add(client, therapists[-1], next=SHORTLIST_URL)

    assert len(saved(client)) == SHORTLIST_LIMIT
    assert str(therapists[-1].public_id) not in saved(client)
    assertContains(
        client.get(response["Location"]),
        "Your shortlist holds up to 20 therapists. Remove one to make room.",
    )


@pytest.mark.parametrize(
    "overrides",
    [{"is_listed": False}, {"accepting_new_clients": False}],
    ids=["unlisted", "not-accepting"],
)
def test_only_listed_therapists_can_be_saved(client, overrides):
    hidden = make_therapist(**overrides)

    response = add(client, hidden)

    assert response.status_code == 404
    assert saved(client) == []


@pytest.mark.parametrize("value", ["", "not-a-uuid", "3f2b8c1e-9a4d-4e6f-8b7a-0c1d2e3f4a5b"])
def test_adding_an_unknown_id_is_not_found(client, value):
    assert client.post(ADD_URL, {"public_id": value}).status_code == 404
    assert saved(client) == []


def test_remove_from_shortlist(client):
    first, second = make_therapist(), make_therapist()
    add(client, first)
    add(client, second)

    response = client.post(REMOVE_URL, {"public_id": str(first.public_id)})

    assert response.status_code == 302
    assert response["Location"] == SHORTLIST_URL
    assert saved(client) == [str(second.public_id)]


def test_get_does_not_change_the_shortlist(client):
    therapist = make_therapist()
    add(client, therapist)

    assert client.get(ADD_URL, {"public_id": str(make_therapist().public_id)}).status_code == 405
    assert client.get(REMOVE_URL, {"public_id": str(therapist.public_id)}).status_code == 405
    assert saved(client) == [str(therapist.public_id)]


def test_add_and_remove_require_the_csrf_token():
    therapist = make_therapist()
    client = Client(enforce_csrf_checks=True)

    assert add(client, therapist).status_code == 403
    assert client.post(REMOVE_URL, {"public_id": str(therapist.public_id)}).status_code == 403
    assert saved(client) == []


def test_redirect_after_saving_never_leaves_the_site(client):
    therapist = make_therapist()

    response = add(client, therapist, next="https://evil.example/")

    assert response["Location"] == profile_url(therapist)


def test_shortlist_page_lists_saved_therapists_and_notes_hidden_ones(client):
    kept = make_therapist(display_name="Kept Person")
    gone = make_therapist(display_name="Gone Person")
    add(client, kept)
    add(client, gone)
    gone.is_listed = False
    gone.save()

    response = client.get(SHORTLIST_URL)

    assertContains(response, '<a href="/therapists/' + str(kept.public_id) + '/">Kept Person</a>')
    assertNotContains(response, "Gone Person")
    assertContains(
        response,
        '<div class="notice" role="status"><p>1 therapist you saved is no longer listed and is '
        "not shown.</p></div>",
        html=True,
    )
    assertContains(
        response,
        f'<input type="checkbox" id="compare-{kept.public_id}" name="id" '
        f'value="{kept.public_id}" form="compare-form">',
    )
    assert "no-store" in response["Cache-Control"]


def test_empty_shortlist_says_so(client):
    assertContains(
        client.get(SHORTLIST_URL),
        "<p>Nothing saved yet. Choose “Save” on a therapist in the search results or on their "
        "profile.</p>",
        html=True,
    )


def test_session_tampering_is_cleaned_on_read(client):
    therapist = make_therapist(display_name="Real One")
    session = client.session
    session[SESSION_KEY] = ["junk", 42, str(therapist.public_id), str(therapist.public_id)]
    session.save()

    response = client.get(SHORTLIST_URL)

    assert re.findall(
        r'<a href="/therapists/[0-9a-f-]{36}/">([^<]+)</a>', response.content.decode()
    ) == ["Real One"]


# --- comparison ---------------------------------------------------------------------------------


def compare(client, *therapists_or_ids):
    ids = [str(getattr(item, "public_id", item)) for item in therapists_or_ids]
    return client.get(COMPARE_URL, {"id": ids})


def column_names(response):
    return re.findall(
        r'<th scope="col"><a href="/therapists/[0-9a-f-]{36}/">([^<]+)</a>',
        response.content.decode(),
    )


def test_compare_two_side_by_side(client):
    first = make_therapist(
        display_name="First",
        fee_minor=15000,
        sliding_scale_min_minor=9000,
        accepts_insurance=True,
        direct_billing=True,
        offers_in_person=True,
        style_structure=1,
        reply_within_hours=24,
        between_session_contact=BetweenSessionContact.NONE,
        practice_start_year=2015,
        consultation_minutes=20,
        languages=["en", "fr"],
        concerns=["anxiety", "grief"],
        modalities=["cbt"],
    )
    second = make_therapist(
        display_name="Second", fee_minor=12000, currency="USD", consultation_minutes=0
    )

    response = compare(client, second, first)

    assert response.status_code == 200
    assert column_names(response) == ["Second", "First"]
    years = first.years_in_practice
    for row in (
        '<tr><th scope="row">Fee per session</th><td>US$120 (50 minutes)</td>'
        "<td>CA$150 (50 minutes)</td></tr>",
        '<tr><th scope="row">Sliding scale</th><td>No</td><td>From CA$90</td></tr>',
        '<tr><th scope="row">Insurance</th><td>Does not accept insurance</td>'
        "<td>Accepts insurance; bills your insurer directly</td></tr>",
        '<tr><th scope="row">Sessions</th><td>Video</td><td>In person and video</td></tr>',
        '<tr><th scope="row">Languages</th><td>Not stated</td><td>English and French</td></tr>',
        '<tr><th scope="row">Can help with</th><td>Not stated</td>'
        "<td>Anxiety and Grief and loss</td></tr>",
        '<tr><th scope="row">Approaches</th><td>Not stated</td>'
        "<td>Cognitive behavioural therapy (CBT)</td></tr>",
        '<tr><th scope="row">Style: structured or exploratory</th>'
        "<td>Between structured and exploratory</td><td>Structured</td></tr>",
        '<tr><th scope="row">Contact policy</th><td>Aims to reply within 2 days. Scheduling '
        "questions only between sessions.</td><td>Aims to reply within a day. No contact "
        "between sessions.</td></tr>",
        f'<tr><th scope="row">Experience</th><td>{second.years_in_practice} years in practice</td>'
        f"<td>{years} years in practice</td></tr>",
        '<tr><th scope="row">Free consultation</th><td>Not offered</td><td>20 minutes</td></tr>',
    ):
        assertContains(response, row, html=True)
    assertContains(
        response,
        f'<td><a href="/therapists/{first.public_id}/#consultation">Book a free consultation'
        '<span class="visually-hidden"> of First</span></a></td>',
        html=True,
    )


def test_compare_four(client):
    therapists = [make_therapist(display_name=name) for name in ("A", "B", "C", "D")]

    response = compare(client, *therapists)

    assert response.status_code == 200
    assert column_names(response) == ["A", "B", "C", "D"]
    assertContains(
        response, '<caption id="compare-caption">4 therapists side by side</caption>', html=True
    )


def test_compare_one_asks_for_more(client):
    response = compare(client, make_therapist(display_name="Lonely"))

    assert response.status_code == 400
    assertContains(
        response,
        "<p>Choose at least 2 therapists to compare; you chose 1.</p>",
        html=True,
        status_code=400,
    )
    assert column_names(response) == []


def test_compare_five_is_too_many(client):
    response = compare(client, *[make_therapist() for _ in range(5)])

    assertContains(
        response,
        "<p>You can compare up to 4 therapists at a time; you chose 5.</p>",
        html=True,
        status_code=400,
    )
    assert column_names(response) == []


def test_compare_the_same_id_twice_counts_once(client):
    therapist = make_therapist()

    assert compare(client, therapist, therapist).status_code == 400


def test_compare_drops_hidden_and_unknown_ids_with_a_note(client):
    shown = [make_therapist(display_name=name) for name in ("Shown One", "Shown Two")]
    hidden = make_therapist(display_name="Hidden Person", is_listed=False)

    response = compare(client, shown[0], hidden, shown[1], "garbage")

    assert response.status_code == 200
    assert column_names(response) == ["Shown One", "Shown Two"]
    assertNotContains(response, "Hidden Person")
    assertContains(
        response,
        "<p>2 therapists are not listed (or the link was incomplete) and were left out.</p>",
        html=True,
    )


def test_compare_with_too_few_listed_left_says_so(client):
    shown = make_therapist()
    hidden = make_therapist(accepting_new_clients=False)

    response = compare(client, shown, hidden)

    assertContains(
        response,
        "<p>There are not enough listed therapists here to compare.</p>",
        html=True,
        status_code=400,
    )


# --- profile: consultation and cost planner -----------------------------------------------------


def test_profile_links_to_booking_and_names_the_next_free_time(client):
    therapist = make_therapist(
        display_name="Kind Person",
        consultation_minutes=15,
        time_zone="America/Toronto",
        # 15:30 UTC is 10:30 in Toronto (EST) on this December day.
        next_consultation_at=dt.datetime(2099, 12, 1, 15, 30, tzinfo=dt.UTC),
    )
    book_url = f"/therapists/{therapist.public_id}/book/"

    response = client.get(profile_url(therapist))

    assertContains(
        response, f'<a class="button" href="{book_url}">Book a free consultation</a>', html=True
    )
    assertContains(
        response,
        "<p>Kind Person offers a free 15-minute consultation, so you can hear how they talk and "
        "ask your questions before deciding anything.</p>",
        html=True,
    )
    assertContains(
        response,
        "<p>Next free time: Tuesday, December 1, 2099 at 10:30 a.m. Eastern Time (Toronto).</p>",
        html=True,
    )
    assertContains(
        response, f'<a class="button" href="{book_url}">See free times and book</a>', html=True
    )


def test_profile_without_a_known_free_time_says_so(client):
    therapist = make_therapist(display_name="Kind Person", consultation_minutes=15)

    response = client.get(profile_url(therapist))

    assertContains(
        response,
        "<p>No free time is open right now; new times appear as Kind Person adds hours.</p>",
        html=True,
    )


def test_profile_without_a_consultation_has_no_booking_button(client):
    therapist = make_therapist(display_name="Busy Person", consultation_minutes=0)

    response = client.get(profile_url(therapist))

    assertNotContains(response, "Book a free consultation")
    assertContains(response, "<p>Busy Person does not offer a free consultation.</p>", html=True)


def planner_answer(response):
    match = re.search(
        r'<div class="planner-answer" role="status">(.*?)</div>', response.content.decode(), re.S
    )
    assert match is not None
    return re.findall(r"<p>(.*?)</p>", match.group(1))


@pytest.mark.parametrize(
    ("fee", "floor", "budget", "frequency", "sentences"),
    [
        (
            15000,
            None,
            "600",
            "weekly",
            ["CA$600 covers 4 sessions: about 4 weeks weekly or 8 weeks every two weeks."],
        ),
        (
            15000,
            None,
            "600",
            "every_two_weeks",
            ["CA$600 covers 4 sessions: about 8 weeks every two weeks or 4 weeks weekly."],
        ),
        (
            15000,
            None,
            "$1,000.99",
            "weekly",
            ["CA$1,000.99 covers 6 sessions: about 6 weeks weekly or 12 weeks every two weeks."],
        ),
        (
            15000,
            9000,
            "600",
            "weekly",
            [
                "CA$600 covers 4 sessions: about 4 weeks weekly or 8 weeks every two weeks.",
                "At the sliding-scale floor of CA$90, CA$600 covers 6 sessions: about 6 weeks "
                "weekly or 12 weeks every two weeks.",
            ],
        ),
        (
            15000,
            9000,
            "100",
            "weekly",
            [
                "CA$100 does not cover a whole session.",
                "At the sliding-scale floor of CA$90, CA$100 covers 1 session: about 1 week "
                "weekly or 2 weeks every two weeks.",
            ],
        ),
        (
            15000,
            0,
            "50",
            "weekly",
            [
                "CA$50 does not cover a whole session.",
                "At the sliding-scale floor of CA$0, sessions are free.",
            ],
        ),
        (0, None, "50", "weekly", ["Sessions with this therapist are free of charge."]),
    ],
)
def test_cost_planner_arithmetic(client, fee, floor, budget, frequency, sentences):
    therapist = make_therapist(fee_minor=fee, sliding_scale_min_minor=floor)

    response = client.get(profile_url(therapist), {"budget": budget, "frequency": frequency})

    assert response.status_code == 200
    assert planner_answer(response) == sentences


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("0", "Enter a budget greater than zero."),
        ("-50", "Enter a budget greater than zero."),
        ("0.001", "Enter a budget greater than zero."),
        ("lots", "Enter your budget as a number, such as 600."),
        ("NaN", "Enter your budget as a number, such as 600."),
        ("Infinity", "Enter your budget as a number, such as 600."),
        ("", "Enter your budget as an amount, such as 600."),
        ("99999999999", "Enter a budget of at most CA$1,000,000."),
        # Too large for Decimal's 28 digits once in cents: refused, never a server error.
        ("1e26", "Enter a budget of at most CA$1,000,000."),
        ("1" * 27, "Enter a budget of at most CA$1,000,000."),
        ("9" * 5000, "Enter your budget as a number of at most 32 characters."),
        # Only ASCII digits are numbers, as everywhere else in a URL.
        ("١٠٠", "Enter your budget as a number, such as 600."),
        ("1_000", "Enter your budget as a number, such as 600."),
    ],
)
def test_cost_planner_bad_budget_gets_a_clear_message(client, budget, message):
    therapist = make_therapist()

    response = client.get(profile_url(therapist), {"budget": budget, "frequency": "weekly"})

    assert response.status_code == 400
    assertContains(
        response, f'<p class="field-error" id="budget-error">{message}</p>', status_code=400
    )
    assertContains(response, 'aria-invalid="true"', status_code=400)
    assert planner_answer(response) == []


def test_cost_planner_is_quiet_until_used(client):
    therapist = make_therapist()

    response = client.get(profile_url(therapist))

    assert planner_answer(response) == []
    assertContains(
        response,
        '<input type="radio" id="id_frequency_1" name="frequency" value="weekly" checked>',
    )
