"""The contact hours before booking, in the visitor's own zone: on the public profile and the
booking form (messaging's parts in the directory's and booking's registries).

Expected clock readings are worked out by hand from the zones' offsets: Vancouver is UTC-8 in
winter (UTC-7 in summer) and Halifax UTC-4 (UTC-3), four hours ahead all year, since both change
their clocks on the same dates; Toronto is UTC-5 until Sunday, March 8, 2026 and UTC-4 after,
while Phoenix keeps UTC-7 all year.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from rapport.booking.views.common import slot_key
from rapport.directory.display import contact_policy
from rapport.directory.models import BetweenSessionContact, TherapistProfile
from rapport.messaging.policy_parts import hours_context
from tests.booking.factories import make_bookable_therapist
from tests.booking.helpers import free_times_ahead
from tests.messaging.factories import make_consultation_thread, set_hours

pytestmark = pytest.mark.django_db

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# One window as policy.window_label writes it when it crosses the reader's midnight.
CROSSING = re.compile(
    r"<li>(\w+day), (\w+ \d+, \d{4}), (\d+:\d\d [ap]\.m\.) to (\w+day), (\w+ \d+, \d{4}), "
    r"(\d+:\d\d [ap]\.m\.) ([^<]+)</li>"
)


@pytest.fixture
def vancouver(reference_data: None) -> TherapistProfile:
    """Reads messages 5 p.m. to 9 p.m., Monday to Friday, in Vancouver."""
    therapist = make_bookable_therapist(
        display_name="Robin Vale",
        time_zone="America/Vancouver",
        between_session_contact=BetweenSessionContact.SCHEDULING,
        reply_within_hours=24,
    )
    set_hours(therapist, days=(0, 1, 2, 3, 4), starts=dt.time(17), ends=dt.time(21))
    return therapist


def profile_url(therapist: TherapistProfile, **query: str) -> str:
    url = reverse("directory:therapist_detail", args=[therapist.public_id])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def book_url(therapist: TherapistProfile, **query: str) -> str:
    moment = free_times_ahead(therapist)[0].starts_at
    url = reverse("booking:consultation_book_time", args=[therapist.public_id, slot_key(moment)])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def assert_vancouver_evenings_in_halifax(page: str) -> None:
    """Each window is 9:00 p.m. to 1:00 a.m. the next day: Monday-Friday evenings ending
    Tuesday-Saturday, and no evening on a weekend."""
    assert "Their hours in the coming week, in your time (Atlantic Time (Halifax))" in page
    windows = CROSSING.findall(page)
    assert windows, page
    for start_day, _, starts, end_day, _, ends, zone in windows:
        assert (starts, ends, zone) == ("9:00 p.m.", "1:00 a.m.", "Atlantic Time (Halifax)")
        assert start_day in WEEKDAYS[:5]
        assert end_day == WEEKDAYS[WEEKDAYS.index(start_day) + 1]
    # Over the coming seven days every one of the five evenings comes once (one may come twice
    # when the first is already under way).
    assert {window[0] for window in windows} == set(WEEKDAYS[:5])
    assert {window[3] for window in windows} == set(WEEKDAYS[1:6])


# --- the public profile -------------------------------------------------------------------------


def test_profile_shows_the_hours_in_the_therapists_zone_and_the_visitors(client, vancouver):
    page = text(client.get(profile_url(vancouver, tz="America/Halifax")))

    assert contact_policy(vancouver) in page  # the policy's words, as before
    assert (
        "Reads messages Monday to Friday, 5:00 p.m. to 9:00 p.m. in their time "
        "(Pacific Time (Vancouver))." in page
    )
    assert_vancouver_evenings_in_halifax(page)
    # The menu shows the zone in use, labelled and in words.
    assert '<label for="contact-hours-tz">Show these hours in</label>' in page
    assert re.search(r'<option value="America/Halifax" selected>Atlantic Time \(Halifax\)', page)


def test_profile_without_a_chosen_zone_shows_the_therapists(client, vancouver):
    page = text(client.get(profile_url(vancouver)))

    assert (
        "Reads messages Monday to Friday, 5:00 p.m. to 9:00 p.m. (Pacific Time (Vancouver))."
        in page
    )
    assert "in your time" not in page  # nothing to convert


def test_a_signed_in_clients_saved_zone_is_theirs_unless_they_choose_another(client, vancouver):
    thread = make_consultation_thread(therapist=vancouver, client_time_zone="America/Halifax")
    client.force_login(thread.client)

    assert_vancouver_evenings_in_halifax(text(client.get(profile_url(vancouver))))

    chosen = text(client.get(profile_url(vancouver, tz="America/Vancouver")))
    assert "in your time" not in chosen


def test_a_saved_zone_from_a_thread_with_another_therapist_counts_too(client, vancouver):
    thread = make_consultation_thread(client_time_zone="America/Halifax")
    client.force_login(thread.client)

    assert_vancouver_evenings_in_halifax(text(client.get(profile_url(vancouver))))


def test_a_saved_zone_no_longer_known_falls_back_to_the_therapists(client, vancouver):
    thread = make_consultation_thread(therapist=vancouver)
    type(thread).objects.filter(pk=thread.pk).update(client_time_zone="Mars/Olympus")
    client.force_login(thread.client)

    page = text(client.get(profile_url(vancouver)))

    assert "(Pacific Time (Vancouver))." in page
    assert "in your time" not in page


def test_an_unknown_zone_is_refused_at_the_menu_and_the_therapists_is_used(client, vancouver):
    page = text(client.get(profile_url(vancouver, tz="Mars/Olympus")))

    assert "“Mars/Olympus” is not a time zone we know." in page
    assert 'aria-describedby="contact-hours-tz-error"' in page
    assert "(Pacific Time (Vancouver))." in page
    assert "in your time" not in page


def test_profile_without_messaging_settings_shows_the_words_without_hours(client, reference_data):
    therapist = make_bookable_therapist(contact_hours="Weekday mornings")

    page = text(client.get(profile_url(therapist, tz="America/Halifax")))

    assert contact_policy(therapist) in page
    assert "Contact hours: Weekday mornings." in page
    assert "Reads messages" not in page
    assert "Show these hours in" not in page


# --- the booking form ---------------------------------------------------------------------------


def test_booking_form_shows_the_policy_and_hours_in_the_visitors_zone(client, vancouver):
    page = text(client.get(book_url(vancouver, tz="America/Halifax")))

    assert "How Robin Vale handles messages" in page
    assert "Scheduling questions only." in page
    assert "Replies within 24 hours, counted from when their hours begin." in page
    assert "Reads messages Monday to Friday, 5:00 p.m. to 9:00 p.m. in their time" in page
    assert_vancouver_evenings_in_halifax(page)


def test_booking_form_in_the_therapists_zone_names_it_and_lists_nothing_converted(
    client, vancouver
):
    page = text(client.get(book_url(vancouver)))

    assert (
        "Reads messages Monday to Friday, 5:00 p.m. to 9:00 p.m. (Pacific Time (Vancouver))."
        in page
    )
    assert "in your time" not in page


def test_booking_form_without_messaging_settings_shows_the_words_without_hours(
    client, reference_data
):
    therapist = make_bookable_therapist(
        display_name="Sam Ortiz",
        between_session_contact=BetweenSessionContact.BRIEF_CHECK_INS,
        contact_hours="Weekday mornings",
    )

    page = text(client.get(book_url(therapist, tz="America/Halifax")))

    assert "How Sam Ortiz handles messages" in page
    assert "Brief check-ins between sessions." in page
    assert "Hours, in their words: Weekday mornings" in page
    assert "Reads messages" not in page
    assert "in your time" not in page


def test_a_refused_booking_keeps_the_policy_in_the_chosen_zone(client, vancouver):
    url = book_url(vancouver)
    response = client.post(
        url, {"client_name": "", "client_email": "", "time_zone": "America/Halifax"}
    )

    assert response.status_code == 400
    assert_vancouver_evenings_in_halifax(html.unescape(response.content.decode()))


# --- the conversion, on fixed dates -------------------------------------------------------------


def test_the_evenings_cross_midnight_into_the_next_day(vancouver):
    # Monday, December 7, 2026, noon UTC: Vancouver's 5 p.m. is 1:00 UTC the next day, 9 p.m.
    # Halifax time.
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)

    windows = hours_context(vancouver, zone_name="America/Halifax", now=now)["windows"]

    assert windows == [
        f"{day}, December {date}, 2026, 9:00 p.m. to {next_day}, December {date + 1}, 2026, "
        "1:00 a.m. Atlantic Time (Halifax)"
        for day, next_day, date in (
            ("Monday", "Tuesday", 7),
            ("Tuesday", "Wednesday", 8),
            ("Wednesday", "Thursday", 9),
            ("Thursday", "Friday", 10),
            ("Friday", "Saturday", 11),
        )
    ]


def test_a_clock_change_in_only_one_zone_moves_the_converted_hours(reference_data):
    therapist = make_bookable_therapist(time_zone="America/Toronto")
    set_hours(therapist, days=(0, 1, 2, 3, 4), starts=dt.time(9), ends=dt.time(17))
    # Friday, March 6, 2026: Toronto's 9-to-5 is 14:00-22:00 UTC (EST), 7 a.m.-3 p.m. in
    # Phoenix; from Monday, March 9 (EDT) 13:00-21:00 UTC, 6 a.m.-2 p.m. in Phoenix.
    now = dt.datetime(2026, 3, 6, 12, 0, tzinfo=dt.UTC)

    context = hours_context(therapist, zone_name="America/Phoenix", now=now)

    assert context["therapist_hours"] == "Monday to Friday, 9:00 a.m. to 5:00 p.m."
    assert context["windows"] == [
        "Friday, March 6, 2026: 7:00 a.m. to 3:00 p.m. Arizona Time (Phoenix)",
        "Monday, March 9, 2026: 6:00 a.m. to 2:00 p.m. Arizona Time (Phoenix)",
        "Tuesday, March 10, 2026: 6:00 a.m. to 2:00 p.m. Arizona Time (Phoenix)",
        "Wednesday, March 11, 2026: 6:00 a.m. to 2:00 p.m. Arizona Time (Phoenix)",
        "Thursday, March 12, 2026: 6:00 a.m. to 2:00 p.m. Arizona Time (Phoenix)",
    ]
