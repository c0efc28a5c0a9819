"""The therapist's practice pages: requests and appointments, availability, the calendar feed
and the "accepting new clients" re-confirmation."""

from __future__ import annotations

import datetime as dt
import html
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.booking import services
from rapport.booking.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingPolicy,
    DateException,
    ExceptionKind,
    Party,
    WeeklyWindow,
)
from rapport.core.timezones import clock_label, day_label
from rapport.directory.models import TherapistProfile
from tests.booking.factories import book_consultation, make_appointment, make_bookable_therapist
from tests.booking.helpers import free_times_ahead
from tests.factories import make_therapist, make_therapist_user, make_user

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_bookable_therapist(display_name="Dana Reyes", user=make_therapist_user(mfa=True))


@pytest.fixture
def signed_in(therapist: TherapistProfile) -> Client:
    assert therapist.user is not None
    browser = Client()
    browser.force_login(therapist.user)
    return browser


def book(therapist: TherapistProfile, moment: dt.datetime, name: str = "Sam Client") -> Appointment:
    """Booked through the service by ``name``, at an address made from the first name."""
    return book_consultation(
        therapist, moment, client_name=name, client_email=f"{name.split()[0].lower()}@example.org"
    )


def held_consultation(therapist: TherapistProfile) -> Appointment:
    """A confirmed consultation that ended yesterday."""
    return make_appointment(
        therapist,
        timezone.now().replace(microsecond=0) - dt.timedelta(days=1),
        client_name="Held Client",
        client_email="held@example.org",
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def toronto_label(moment: dt.datetime) -> str:
    local = moment.astimezone(TORONTO)
    return f"{day_label(local.date())} at {clock_label(local)} Eastern Time (Toronto)"


# --- who may open the pages ---------------------------------------------------------------------

PRACTICE_PAGES = ["practice_home", "practice_availability", "practice_calendar", "practice_listing"]


@pytest.mark.parametrize("name", PRACTICE_PAGES)
def test_practice_pages_open_for_the_signed_in_therapist(signed_in, name):
    response = signed_in.get(reverse(f"booking:{name}"))

    assert response.status_code == 200
    assert '<nav class="practice-nav" aria-label="Your practice">' in text(response)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", PRACTICE_PAGES)
def test_practice_pages_are_not_found_for_a_signed_in_client(reference_data, name):
    browser = Client()
    browser.force_login(make_user(role="client"))

    assert browser.get(reverse(f"booking:{name}")).status_code == 404


@pytest.mark.parametrize("name", PRACTICE_PAGES)
def test_practice_pages_send_a_signed_out_visitor_to_sign_in(client, name):
    url = reverse(f"booking:{name}")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


# --- requests and appointments ------------------------------------------------------------------


def test_practice_home_lists_requests_upcoming_and_held_consultations(signed_in, therapist):
    first, second = free_times_ahead(therapist)[:2]
    therapist.booking_policy.requires_confirmation = True
    therapist.booking_policy.save()
    request = book(therapist, first.starts_at, "Rita Request")
    therapist.booking_policy.requires_confirmation = False
    therapist.booking_policy.save()
    upcoming = book(therapist, second.starts_at, "Una Upcoming")
    held = held_consultation(therapist)

    page = text(signed_in.get(reverse("booking:practice_home")))

    pending_part, rest = page.split('id="upcoming-heading"')
    upcoming_part, held_part = rest.split('id="held-heading"')
    assert "Rita Request" in pending_part
    assert "Una Upcoming" not in pending_part
    assert toronto_label(request.starts_at) in pending_part
    assert "Una Upcoming" in upcoming_part
    assert "Acknowledge" in upcoming_part
    assert toronto_label(upcoming.starts_at) in upcoming_part
    assert reverse("booking:practice_first_session", args=[held.public_id]) in held_part
    assert "Times are shown in your time zone, Eastern Time (Toronto)." in page


def test_confirming_a_request(signed_in, therapist):
    therapist.booking_policy.requires_confirmation = True
    therapist.booking_policy.save()
    appointment = book(therapist, free_times_ahead(therapist)[0].starts_at)

    response = signed_in.post(
        reverse("booking:practice_confirm", args=[appointment.public_id]), follow=True
    )

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.therapist_responded_at is not None
    assert "Confirmed: Sam Client has been told." in text(response)


def test_declining_needs_a_reason_shown_beside_that_requests_field(signed_in, therapist):
    therapist.booking_policy.requires_confirmation = True
    therapist.booking_policy.save()
    appointment = book(therapist, free_times_ahead(therapist)[0].starts_at)
    url = reverse("booking:practice_decline", args=[appointment.public_id])
    prefix = f"decline-{appointment.public_id.hex}"

    response = signed_in.post(url, {f"{prefix}-reason": ""})

    page = text(response)
    assert response.status_code == 400
    assert (
        f'<p class="field-error" id="id_{prefix}-reason-error">This field is required.</p>' in page
    )
    assert '<details class="appointment__more" open>' in page
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.REQUESTED

    signed_in.post(url, {f"{prefix}-reason": "My practice is full this month"})

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.DECLINED
    assert appointment.end_reason == "My practice is full this month"


def test_cancelling_an_upcoming_consultation(signed_in, therapist):
    appointment = book(therapist, free_times_ahead(therapist)[0].starts_at)
    prefix = f"cancel-{appointment.public_id.hex}"

    response = signed_in.post(
        reverse("booking:practice_cancel", args=[appointment.public_id]),
        {f"{prefix}-reason": "I am unwell"},
        follow=True,
    )

    appointment.refresh_from_db()
    assert (appointment.status, appointment.ended_by) == (
        AppointmentStatus.CANCELLED,
        Party.THERAPIST,
    )
    assert "Sam Client's free consultation is cancelled, and they have been told." in text(response)


def test_rescheduling_a_consultation_to_another_free_time(signed_in, therapist):
    first, second = free_times_ahead(therapist)[:2]
    appointment = book(therapist, first.starts_at)
    url = reverse("booking:practice_reschedule", args=[appointment.public_id])
    assert "Choose another time for Sam Client" in text(signed_in.get(url))

    response = signed_in.post(url, {"starts_at": second.starts_at.strftime("%Y%m%dT%H%MZ")})

    appointment.refresh_from_db()
    assert appointment.starts_at == second.starts_at
    assert response["Location"] == reverse("booking:practice_home")


def test_booking_the_first_session_after_a_held_consultation(signed_in, therapist):
    held = held_consultation(therapist)
    day = (timezone.now() + dt.timedelta(days=3)).astimezone(TORONTO).date()

    response = signed_in.post(
        reverse("booking:practice_first_session", args=[held.public_id]),
        {"date": day.isoformat(), "time": "18:30"},
    )

    session = Appointment.objects.get(kind=AppointmentKind.SESSION)
    assert session.follows == held
    assert session.starts_at == dt.datetime.combine(day, dt.time(18, 30), tzinfo=TORONTO)
    assert session.ends_at - session.starts_at == dt.timedelta(minutes=therapist.session_minutes)
    assert response["Location"] == reverse("booking:practice_home")


def test_a_first_session_at_a_time_the_clocks_skip_is_refused_beside_the_time(signed_in, therapist):
    held = held_consultation(therapist)

    response = signed_in.post(
        reverse("booking:practice_first_session", args=[held.public_id]),
        # Clocks in Toronto jump from 2:00 to 3:00 on 14 March 2027.
        {"date": "2027-03-14", "time": "02:30"},
    )

    assert response.status_code == 400
    assert 'id="id_time-error">' in text(response)
    assert not Appointment.objects.filter(kind=AppointmentKind.SESSION).exists()


# --- availability --------------------------------------------------------------------------------


def test_availability_page_previews_the_next_free_times(signed_in, therapist):
    first = free_times_ahead(therapist)[0]

    page = text(signed_in.get(reverse("booking:practice_availability")))

    local = first.starts_at.astimezone(TORONTO)
    assert day_label(local.date()) in page
    assert f"<li>{clock_label(local)}</li>" in page
    assert 'name="windows-TOTAL_FORMS" value="10"' in page  # seven days, plus three empty rows


def test_saving_the_booking_rules(signed_in, therapist):
    response = signed_in.post(
        reverse("booking:practice_availability"),
        {
            "buffer_minutes": "15",
            "minimum_notice_hours": "48",
            "horizon_days": "30",
            "max_consultations_per_day": "3",
            "requires_confirmation": "on",
        },
    )

    policy = BookingPolicy.objects.get(therapist=therapist)
    assert (
        policy.buffer_minutes,
        policy.minimum_notice_hours,
        policy.horizon_days,
        policy.max_consultations_per_day,
        policy.requires_confirmation,
    ) == (15, 48, 30, 3, True)
    assert response["Location"] == reverse("booking:practice_availability")


def test_booking_rules_out_of_range_are_refused_beside_the_field(signed_in, therapist):
    response = signed_in.post(
        reverse("booking:practice_availability"),
        {
            "buffer_minutes": "500",
            "minimum_notice_hours": "0",
            "horizon_days": "21",
            "max_consultations_per_day": "4",
        },
    )

    assert response.status_code == 400
    assert (
        'id="id_buffer_minutes-error">Ensure this value is less than or equal to 120.</p>'
        in text(response)
    )
    assert BookingPolicy.objects.get(therapist=therapist).buffer_minutes == 0


def _windows_post(rows: list[tuple[str, str, str]]) -> dict[str, str]:
    data = {
        "windows-TOTAL_FORMS": str(len(rows)),
        "windows-INITIAL_FORMS": "0",
        "windows-MIN_NUM_FORMS": "0",
        "windows-MAX_NUM_FORMS": "50",
    }
    for index, (weekday, start, end) in enumerate(rows):
        data[f"windows-{index}-weekday"] = weekday
        data[f"windows-{index}-starts_at"] = start
        data[f"windows-{index}-ends_at"] = end
    return data


def test_replacing_the_weekly_hours(signed_in, therapist):
    response = signed_in.post(
        reverse("booking:practice_windows"),
        _windows_post([("1", "09:00", "12:00"), ("1", "13:00", "17:00"), ("", "", "")]),
    )

    rows = list(
        WeeklyWindow.objects.filter(therapist=therapist).values_list(
            "weekday", "starts_at", "ends_at"
        )
    )
    assert rows == [(1, dt.time(9), dt.time(12)), (1, dt.time(13), dt.time(17))]
    assert response["Location"] == reverse("booking:practice_availability")


def test_overlapping_weekly_hours_are_refused_and_nothing_changes(signed_in, therapist):
    response = signed_in.post(
        reverse("booking:practice_windows"),
        _windows_post([("2", "09:00", "12:00"), ("2", "11:00", "14:00")]),
    )

    assert response.status_code == 400
    overlap = "Wednesday 9:00 a.m. to 12:00 p.m. overlaps Wednesday 11:00 a.m. to 2:00 p.m."
    assert overlap in text(response)
    assert WeeklyWindow.objects.filter(therapist=therapist).count() == 7


def test_a_window_ending_before_it_starts_is_refused_beside_its_end(signed_in, therapist):
    response = signed_in.post(
        reverse("booking:practice_windows"), _windows_post([("3", "17:00", "09:00")])
    )

    assert response.status_code == 400
    assert 'id="id_windows-0-ends_at-error">The end must be after the start.' in text(response)


def test_adding_and_removing_a_day_off(signed_in, therapist):
    day = (timezone.now() + dt.timedelta(days=5)).astimezone(TORONTO).date()

    signed_in.post(
        reverse("booking:practice_exception_add"),
        {"exception-date": day.isoformat(), "exception-kind": ExceptionKind.TIME_OFF},
    )

    exception = DateException.objects.get(therapist=therapist)
    assert (exception.date, exception.kind, exception.starts_at) == (
        day,
        ExceptionKind.TIME_OFF,
        None,
    )
    page = text(signed_in.get(reverse("booking:practice_availability")))
    assert f"{day:%A, %B} {day.day}, {day.year}: Time off, the whole day" in page

    signed_in.post(
        reverse("booking:practice_exception_remove"), {"exception_id": str(exception.pk)}
    )

    assert not DateException.objects.filter(therapist=therapist).exists()


def test_extra_hours_without_times_are_refused_beside_the_times(signed_in, therapist):
    day = (timezone.now() + dt.timedelta(days=5)).astimezone(TORONTO).date()

    response = signed_in.post(
        reverse("booking:practice_exception_add"),
        {"exception-date": day.isoformat(), "exception-kind": ExceptionKind.EXTRA_HOURS},
    )

    assert response.status_code == 400
    assert 'id="id_exception-starts_at-error">Extra hours need a start time.' in text(response)
    assert not DateException.objects.exists()


def test_removing_another_therapists_day_off_is_not_found(signed_in, therapist):
    other = make_therapist()
    exception = DateException.objects.create(
        therapist=other, date=dt.date(2030, 1, 2), kind=ExceptionKind.TIME_OFF
    )

    response = signed_in.post(
        reverse("booking:practice_exception_remove"), {"exception_id": str(exception.pk)}
    )

    assert response.status_code == 404
    assert DateException.objects.filter(pk=exception.pk).exists()


# --- calendar feed and listing -----------------------------------------------------------------


def test_calendar_page_shows_the_private_feed_address(signed_in, therapist):
    token = therapist.booking_policy.feed_token

    page = text(signed_in.get(reverse("booking:practice_calendar")))

    feed = f"{settings.SITE_URL}{reverse('booking:calendar_feed', args=[token])}"
    assert f'value="{feed}"' in page
    for calendar in ("Google Calendar", "Apple Calendar", "Outlook"):
        assert f"<h3>{calendar}" in page


def test_making_a_new_feed_address_retires_the_old_one(signed_in, therapist):
    old = therapist.booking_policy.feed_token

    response = signed_in.post(reverse("booking:practice_calendar"), follow=True)

    new = BookingPolicy.objects.get(therapist=therapist).feed_token
    assert new != old
    page = text(response)
    assert "The old one has stopped working" in page
    assert reverse("booking:calendar_feed", args=[new]) in page
    assert old not in page


def test_listing_page_says_when_the_listing_would_pause(signed_in, therapist):
    page = text(signed_in.get(reverse("booking:practice_listing")))

    pauses = therapist.accepting_confirmed_at + dt.timedelta(days=settings.LISTING_FRESHNESS_DAYS)
    assert f"your listing pauses on <strong>{toronto_label(pauses)}</strong>" in page


def test_reconfirming_accepting_new_clients(signed_in, therapist):
    before = therapist.accepting_confirmed_at

    response = signed_in.post(reverse("booking:practice_listing"), {"accepting": "yes"})

    therapist.refresh_from_db()
    assert therapist.accepting_new_clients is True
    assert therapist.accepting_confirmed_at > before
    assert response["Location"] == reverse("booking:practice_listing")


def test_saying_not_accepting_hides_the_listing(signed_in, therapist):
    response = signed_in.post(reverse("booking:practice_listing"), {"accepting": "no"}, follow=True)

    therapist.refresh_from_db()
    assert therapist.accepting_new_clients is False
    assert "Your listing is hidden from search" in text(response)


def test_listing_answer_is_required(signed_in, therapist):
    response = signed_in.post(reverse("booking:practice_listing"), {})

    assert response.status_code == 400
    assert 'id="id_accepting-error">This field is required.</p>' in text(response)


def test_practice_home_makes_the_same_queries_however_many_appointments(signed_in, therapist):
    times = free_times_ahead(therapist)
    book(therapist, times[0].starts_at, "One Client")
    held_consultation(therapist)
    with CaptureQueriesContext(connection) as few:
        signed_in.get(reverse("booking:practice_home"))
    for index, free in enumerate(times[2:8:2]):
        book(therapist, free.starts_at, f"Client{index} More")

    with CaptureQueriesContext(connection) as many:
        page = text(signed_in.get(reverse("booking:practice_home")))

    assert page.count('<li class="appointment">') == 5
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_first_session_on_a_date_at_the_calendars_ends_is_refused_beside_the_date(
    signed_in, therapist, day
):
    held = held_consultation(therapist)

    response = signed_in.post(
        reverse("booking:practice_first_session", args=[held.public_id]),
        {"date": day, "time": "23:30"},
    )

    assert response.status_code == 400
    assert 'id="id_date-error">Choose a date within the next year.</p>' in text(response)
    assert not Appointment.objects.filter(kind=AppointmentKind.SESSION).exists()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_moving_a_session_to_a_date_at_the_calendars_ends_is_refused_beside_the_date(
    signed_in, therapist, day
):
    held = held_consultation(therapist)
    starts_at = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    session = services.first_session_book(consultation=held, starts_at=starts_at)

    response = signed_in.post(
        reverse("booking:practice_reschedule", args=[session.public_id]),
        {"date": day, "time": "23:30"},
    )

    assert response.status_code == 400
    assert 'id="id_date-error">Choose a date within the next year.</p>' in text(response)
    session.refresh_from_db()
    assert (session.starts_at, session.sequence) == (starts_at, 0)


def test_practice_home_shows_clients_cancellations_with_their_reason(signed_in, therapist):
    first, second = free_times_ahead(therapist)[:2]
    cancelled = book(therapist, first.starts_at, "Robin Client")
    services.appointment_cancel(
        appointment=cancelled, by=Party.CLIENT, reason="Found a closer therapist"
    )
    by_therapist = book(therapist, second.starts_at, "Kim Client")
    services.appointment_cancel(appointment=by_therapist, by=Party.THERAPIST, reason="Unwell")

    page = text(signed_in.get(reverse("booking:practice_home")))

    section = page.split('id="client-cancelled-heading"', 1)[1]
    assert "Robin Client" in section
    assert f"Was {toronto_label(first.starts_at)}" in section
    assert "<p>Reason: Found a closer therapist</p>" in section
    assert "Kim Client" not in section
    assert "Unwell" not in page


def test_reason_forms_do_not_promise_an_e_mail(signed_in, therapist):
    book(therapist, free_times_ahead(therapist)[0].starts_at)

    page = text(signed_in.get(reverse("booking:practice_home")))

    assert "The other person sees this reason. Keep health details out of it." in page
    assert "reads this in their e-mail" not in page
