"""The practice dashboard (/practice/): the listing's state in words, requests with their
48-hour clock, upcoming appointments in the therapist's zone, measured figures, and a page
that costs the same few queries however full the practice is."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.booking.dashboard import request_expires_at, time_left_phrase
from rapport.booking.models import Appointment, AppointmentKind, AppointmentStatus
from rapport.booking.views.practice import UPCOMING_PAGE_SIZE
from rapport.core.timezones import moment_label
from rapport.directory.models import TherapistProfile, VerificationStatus
from tests.booking.factories import make_appointment, make_bookable_therapist
from tests.factories import make_therapist, make_therapist_user, make_user

pytestmark = pytest.mark.django_db

VANCOUVER = ZoneInfo("America/Vancouver")
HOME = "booking:practice_home"


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_bookable_therapist(
        display_name="Dana Reyes",
        time_zone="America/Vancouver",
        user=make_therapist_user(mfa=True),
    )


@pytest.fixture
def signed_in(therapist: TherapistProfile) -> Client:
    assert therapist.user is not None
    browser = Client()
    browser.force_login(therapist.user)
    return browser


def text(response) -> str:
    return html.unescape(response.content.decode())


def section(page: str, heading_id: str) -> str:
    """The page from the section headed ``heading_id`` to the next section."""
    return page.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


def request_made(
    therapist: TherapistProfile, *, ago: dt.timedelta, starts_in: dt.timedelta, name: str
) -> Appointment:
    now = timezone.now().replace(microsecond=0)
    appointment = make_appointment(
        therapist,
        now + starts_in,
        status=AppointmentStatus.REQUESTED,
        client_name=name,
        client_email=f"{name.split()[0].lower()}@example.org",
    )
    Appointment.objects.filter(pk=appointment.pk).update(created_at=now - ago)
    appointment.refresh_from_db()
    return appointment


# --- who may see it --------------------------------------------------------------------------


def test_a_therapist_account_without_a_listing_is_sent_to_start_one(reference_data):
    browser = Client()
    browser.force_login(make_therapist_user(mfa=True))

    response = browser.get(reverse(HOME))

    assert response.status_code == 302
    assert response["Location"] == reverse("directory:practice_profile_start")


def test_a_client_gets_the_same_404_as_for_nothing(reference_data):
    browser = Client()
    browser.force_login(make_user(role="client"))

    assert browser.get(reverse(HOME)).status_code == 404


def test_a_therapist_without_a_second_factor_is_sent_to_set_one_up(reference_data):
    therapist = make_therapist(user=make_therapist_user(mfa=False))
    make_appointment(therapist, client_name="Private Person")
    browser = Client()
    browser.force_login(therapist.user)  # type: ignore[arg-type]

    response = browser.get(reverse(HOME))

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert "Private Person" not in text(response)


def test_a_profile_linked_to_a_client_account_still_needs_the_second_factor(reference_data):
    # Roles follow data: the account says "client", the profile makes it a therapist's.
    therapist = make_therapist(user=make_user(role="client"))
    browser = Client()
    browser.force_login(therapist.user)  # type: ignore[arg-type]

    response = browser.get(reverse(HOME))

    assert response["Location"] == reverse("mfa_activate_totp")


def test_another_therapists_requests_and_appointments_never_appear(signed_in, therapist):
    other = make_bookable_therapist(user=make_therapist_user(mfa=True))
    request_made(
        other, ago=dt.timedelta(hours=1), starts_in=dt.timedelta(days=4), name="Olive Other"
    )
    make_appointment(other, client_name="Oscar Other", client_email="oscar@example.org")
    make_appointment(
        other,
        timezone.now() - dt.timedelta(days=1),
        client_name="Otto Other",
        client_email="otto@example.org",
    )
    make_appointment(therapist, client_name="Mine Client")

    page = text(signed_in.get(reverse(HOME)))

    assert "Mine Client" in page
    for name in ("Olive Other", "Oscar Other", "Otto Other", "other@", "oscar@", "otto@"):
        assert name not in page


# --- the page's order and the care region ------------------------------------------------------


def test_the_attention_region_comes_first_and_says_honestly_that_it_is_empty(signed_in):
    page = text(signed_in.get(reverse(HOME)))

    headings = ["attention-heading", "listing-heading", "pending-heading", "upcoming-heading"]
    positions = [page.index(f'id="{heading}"') for heading in headings]
    assert positions == sorted(positions)
    assert "Nothing needs your attention right now." in section(page, "attention-heading")


# --- requests and their clock ------------------------------------------------------------------


def test_a_pending_request_shows_how_long_is_left_and_when_it_expires(signed_in, therapist):
    request = request_made(
        therapist, ago=dt.timedelta(hours=10), starts_in=dt.timedelta(days=5), name="Rita Request"
    )

    page = text(signed_in.get(reverse(HOME)))

    pending = section(page, "pending-heading")
    expires_at = request.created_at + dt.timedelta(hours=48)
    assert "Rita Request" in pending
    # 38 hours less the moment the test takes, rounded down: never more time than there is.
    # The practice pages read in the therapist's zone, machine-readable times too.
    local_iso = expires_at.astimezone(VANCOUVER).isoformat()
    assert (
        f'Answer within 1 day 13 hours, by <time datetime="{local_iso}">'
        f"{moment_label(expires_at, VANCOUVER)}</time>, or it is declined for you." in pending
    )
    assert moment_label(expires_at, VANCOUVER).endswith("Pacific Time (Vancouver)")


def test_a_request_for_a_time_sooner_than_48_hours_expires_at_that_time(signed_in, therapist):
    request = request_made(
        therapist, ago=dt.timedelta(hours=1), starts_in=dt.timedelta(hours=3), name="Soon Client"
    )

    page = text(signed_in.get(reverse(HOME)))

    assert request_expires_at(request) == request.starts_at
    assert "<strong>Answer within 2 hours 59 minutes</strong>" in section(page, "pending-heading")
    assert moment_label(request.starts_at, VANCOUVER) in section(page, "pending-heading")


def test_a_request_past_its_window_says_it_is_being_declined(signed_in, therapist):
    request_made(
        therapist, ago=dt.timedelta(hours=49), starts_in=dt.timedelta(days=4), name="Late Client"
    )

    page = text(signed_in.get(reverse(HOME)))

    assert "Its time to answer has run out:</strong> it is being declined for you." in page


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (dt.timedelta(days=1, hours=13, minutes=59), "1 day 13 hours"),
        (dt.timedelta(days=2), "2 days"),
        (dt.timedelta(hours=1, minutes=1), "1 hour 1 minute"),
        (dt.timedelta(hours=5), "5 hours"),
        (dt.timedelta(minutes=12, seconds=59), "12 minutes"),
        (dt.timedelta(seconds=59), "less than a minute"),
        (dt.timedelta(hours=-3), "less than a minute"),
    ],
)
def test_time_left_is_said_in_words_rounded_down(left, words):
    assert time_left_phrase(left) == words


# --- upcoming --------------------------------------------------------------------------------


def test_upcoming_items_are_in_time_order_in_the_therapists_zone(signed_in, therapist):
    now = timezone.now().replace(second=0, microsecond=0)
    later = make_appointment(therapist, now + dt.timedelta(days=6), client_name="Later Client")
    sooner = make_appointment(
        therapist,
        now + dt.timedelta(days=2),
        client_name="Sooner Client",
        kind=AppointmentKind.SESSION,
        minutes=50,
    )
    make_appointment(
        therapist,
        now + dt.timedelta(days=1),
        client_name="Cancelled Client",
        status=AppointmentStatus.CANCELLED,
    )

    page = text(signed_in.get(reverse(HOME)))

    upcoming = section(page, "upcoming-heading")
    assert upcoming.index("Sooner Client") < upcoming.index("Later Client")
    assert f"{moment_label(sooner.starts_at, VANCOUVER)} · 50 minutes" in upcoming
    assert f"{moment_label(later.starts_at, VANCOUVER)} · 15 minutes" in upcoming
    assert "Cancelled Client" not in upcoming
    assert "In the next 7 days: 1 consultation and 1 session." in upcoming
    assert "Times are shown in your time zone, Pacific Time (Vancouver)." in page
    assert "America/Vancouver" not in page


def test_upcoming_is_paged_and_a_page_past_the_end_says_so(signed_in, therapist):
    now = timezone.now().replace(second=0, microsecond=0)
    size = UPCOMING_PAGE_SIZE
    for day in range(size + 5):
        make_appointment(
            therapist, now + dt.timedelta(days=day + 1), client_name=f"Client N{day:02d}"
        )

    first = section(text(signed_in.get(reverse(HOME))), "upcoming-heading")
    second = section(text(signed_in.get(reverse(HOME), {"page": "2"})), "upcoming-heading")
    past = section(text(signed_in.get(reverse(HOME), {"page": "9"})), "upcoming-heading")

    assert first.count('<li class="appointment">') == size
    assert "Client N00" in first
    assert f"Client N{size:02d}" not in first
    assert second.count('<li class="appointment">') == 5
    assert f"Client N{size:02d}" in second
    assert f"Client N{size + 4:02d}" in second
    assert "There are only 2 pages." in past
    assert f"Client N{size + 4:02d}" in past


def test_the_dashboard_makes_the_same_few_queries_however_full_the_practice(
    signed_in, therapist, django_assert_max_num_queries
):
    now = timezone.now().replace(second=0, microsecond=0)
    make_appointment(therapist, now + dt.timedelta(days=1))
    request_made(therapist, ago=dt.timedelta(hours=2), starts_in=dt.timedelta(days=9), name="Ann A")
    signed_in.get(reverse(HOME))  # the session's first request writes its clocks
    with django_assert_max_num_queries(25) as few:
        signed_in.get(reverse(HOME))
    for index in range(60):
        make_appointment(
            therapist, now + dt.timedelta(days=2, hours=index * 5), client_name=f"Up {index}"
        )
        make_appointment(
            therapist,
            now - dt.timedelta(days=3, hours=index * 5),
            client_name=f"Past {index}",
            status=AppointmentStatus.CANCELLED,
            ended_at=now - dt.timedelta(days=1),
        )
    for index in range(5):
        request_made(
            therapist,
            ago=dt.timedelta(hours=index + 1),
            starts_in=dt.timedelta(days=20, hours=index),
            name=f"Req {index}",
        )

    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        page = text(signed_in.get(reverse(HOME)))

    assert len(many.captured_queries) == len(few.captured_queries)
    assert page.count('<li class="appointment">') >= UPCOMING_PAGE_SIZE + 6


# --- the listing and "still accepting?" --------------------------------------------------------


def sent_for_review(therapist: TherapistProfile) -> None:
    """Pending review: sent by the therapist (where profiles record that) and not decided."""
    changes: dict[str, object] = {
        "verification_status": VerificationStatus.PENDING,
        "verification_decided_at": None,
    }
    if any(field.name == "submitted_for_review_at" for field in TherapistProfile._meta.fields):
        changes["submitted_for_review_at"] = timezone.now()
    TherapistProfile.objects.filter(pk=therapist.pk).update(**changes)


def test_a_pending_licence_is_never_called_accepting(signed_in, therapist):
    sent_for_review(therapist)

    page = text(signed_in.get(reverse(HOME)))
    response = signed_in.post(
        reverse("booking:practice_listing"), {"accepting": "yes", "return_to": "home"}, follow=True
    )

    listing = section(page, "listing-heading")
    assert "Your licence is being checked." in listing
    assert "Clients cannot see your listing until your licence is verified." in listing
    assert "pauses on" not in listing
    assert response.redirect_chain == [(reverse(HOME), 302)]
    after = text(response)
    assert "Your listing is not shown yet: your licence is still being checked." in after
    assert "Your listing shows you as accepting" not in after
    assert "Thank you. Your listing shows you as accepting" not in after


def test_the_listing_page_does_not_call_a_pending_listing_accepting_either(signed_in, therapist):
    sent_for_review(therapist)

    response = signed_in.post(
        reverse("booking:practice_listing"), {"accepting": "yes"}, follow=True
    )

    page = text(response)
    assert response.redirect_chain == [(reverse("booking:practice_listing"), 302)]
    assert "Your listing shows you as accepting" not in page
    assert "your listing pauses on" not in page
    assert "Clients cannot see your listing until your licence is verified." in page


def test_a_live_listing_says_so_and_when_it_pauses(signed_in, therapist):
    page = text(signed_in.get(reverse(HOME)))

    listing = section(page, "listing-heading")
    assert "Your listing is live" in listing
    pauses = therapist.accepting_confirmed_at + dt.timedelta(days=30)
    assert f"your listing pauses on <strong>{moment_label(pauses, VANCOUVER)}</strong>" in listing
    assert 'name="return_to" value="home"' in listing


def test_not_accepting_offers_the_one_action_that_fixes_it(signed_in, therapist):
    TherapistProfile.objects.filter(pk=therapist.pk).update(accepting_new_clients=False)

    listing = section(text(signed_in.get(reverse(HOME))), "listing-heading")

    assert "You said you are not accepting new clients" in listing
    assert (
        f'<a class="button" href="{reverse("booking:practice_listing")}">'
        "Say you are accepting again</a>" in listing
    )


def test_answering_from_the_dashboard_returns_to_it(signed_in, therapist):
    TherapistProfile.objects.filter(pk=therapist.pk).update(
        accepting_confirmed_at=timezone.now() - dt.timedelta(days=40)
    )
    assert "Your listing is paused" in section(
        text(signed_in.get(reverse(HOME))), "listing-heading"
    )

    response = signed_in.post(
        reverse("booking:practice_listing"), {"accepting": "yes", "return_to": "home"}
    )

    therapist.refresh_from_db()
    assert response["Location"] == reverse(HOME)
    assert therapist.accepting_confirmed_at > timezone.now() - dt.timedelta(minutes=1)


def test_an_unknown_return_address_is_ignored(signed_in):
    response = signed_in.post(
        reverse("booking:practice_listing"),
        {"accepting": "yes", "return_to": "https://example.com/"},
    )

    assert response["Location"] == reverse("booking:practice_listing")


# --- measured figures ------------------------------------------------------------------------


def test_measured_reply_time_and_first_session_rate_are_shown_in_words(signed_in, therapist):
    TherapistProfile.objects.filter(pk=therapist.pk).update(
        median_reply_minutes=200, first_session_rate_percent=62
    )

    figures = section(text(signed_in.get(reverse(HOME))), "figures-heading")

    assert "You usually answer a request within 4 hours (the median)." in figures
    assert "62% of your held consultations." in figures


def test_figures_say_when_there_is_not_enough_to_measure(signed_in):
    figures = section(text(signed_in.get(reverse(HOME))), "figures-heading")

    assert "Not enough requests yet to say: it shows after 5." in figures
    assert "Not enough held consultations yet to say: it shows after 5." in figures


# --- Server-Timing ---------------------------------------------------------------------------


def test_practice_pages_say_how_long_they_took_and_how_much_was_the_database(signed_in):
    response = signed_in.get(reverse(HOME))

    app, database = (part.strip() for part in response["Server-Timing"].split(","))
    assert re.fullmatch(r"app;dur=\d+\.\d\d", app)
    assert re.fullmatch(r'db;dur=\d+\.\d\d;desc="\d+ queries"', database)


def test_public_pages_do_not_publish_their_timing(client, reference_data):
    assert "Server-Timing" not in client.get(reverse("directory:therapist_list"))


def test_each_reason_field_is_labelled_for_what_it_does(signed_in, therapist):
    request_made(therapist, ago=dt.timedelta(hours=1), starts_in=dt.timedelta(days=4), name="Ann A")
    upcoming = make_appointment(therapist, client_name="Uma Upcoming")

    page = text(signed_in.get(reverse(HOME)))

    assert ">Reason for declining</label>" in section(page, "pending-heading")
    assert (
        f'<label for="id_cancel-{upcoming.public_id.hex}-reason">Reason for cancelling</label>'
        in section(page, "upcoming-heading")
    )
