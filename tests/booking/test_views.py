"""The client's booking pages: the picker, the booking form, and the e-mailed links (manage,
cancel, reschedule, calendar file, e-mail confirmation)."""

from __future__ import annotations

import datetime as dt
import html
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from rapport.accounts.models import User
from rapport.booking import services, tokens
from rapport.booking.models import Appointment, AppointmentStatus, Party
from rapport.booking.views.common import slot_key
from rapport.core.timezones import clock_label, day_label
from rapport.directory.models import TherapistProfile
from tests.accounts.factories import make_therapist_user
from tests.booking.factories import book_consultation, give_availability, make_bookable_therapist
from tests.booking.helpers import free_times_ahead
from tests.factories import make_therapist, make_user

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_bookable_therapist(display_name="Dana Reyes", user=make_therapist_user())


def picker_url(therapist: TherapistProfile, **query: str) -> str:
    url = reverse("booking:consultation_book", args=[therapist.public_id])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def book_url(therapist: TherapistProfile, moment: dt.datetime) -> str:
    return reverse("booking:consultation_book_time", args=[therapist.public_id, slot_key(moment)])


def manage_url(appointment: Appointment) -> str:
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)
    return reverse("booking:consultation_manage", args=[token])


def text(response) -> str:
    return html.unescape(response.content.decode())


# --- the picker ---------------------------------------------------------------------------------


def test_picker_shows_free_times_in_the_clients_zone_grouped_by_local_date(client, therapist):
    first = free_times_ahead(therapist)[0]
    local = first.starts_at.astimezone(LONDON)

    response = client.get(picker_url(therapist, tz="Europe/London"))

    page = text(response)
    assert response.status_code == 200
    assert "shown in UK Time (London)" in page
    assert f'<h3 id="day-{local:%Y%m%d}">{day_label(local.date())}</h3>' in page
    link = f'href="{book_url(therapist, first.starts_at)}?tz=Europe/London"'
    assert link in page
    assert (
        "Dana Reyes works in Eastern Time (Toronto); you will see the time in both "
        "zones before you book." in page
    )
    # The person chose a zone, so the browser's is not asked for.
    assert "booking/zone.js" not in page


def test_picker_without_a_zone_shows_the_therapists_and_asks_the_browser(client, therapist):
    response = client.get(picker_url(therapist))

    page = text(response)
    assert response.status_code == 200
    assert "shown in Eastern Time (Toronto)" in page
    assert 'data-detect-zone="true"' in page
    assert "booking/zone.js" in page
    assert '<option value="America/Toronto" selected>' in page


def test_picker_with_an_unknown_zone_says_so_and_uses_the_therapists(client, therapist):
    response = client.get(picker_url(therapist, tz="Mars/Olympus_Mons"))

    page = text(response)
    assert response.status_code == 400
    assert (
        "“Mars/Olympus_Mons” is not a time zone we know. "
        "Times are shown in Eastern Time (Toronto) instead." in page
    )
    assert 'aria-describedby="tz-help tz-error" aria-invalid="true"' in page
    assert "shown in Eastern Time (Toronto)" in page


def test_picker_offers_a_zone_outside_the_menu_once_it_is_chosen(client, therapist):
    response = client.get(picker_url(therapist, tz="Asia/Tokyo"))

    assert response.status_code == 200
    assert '<option value="Asia/Tokyo" selected>Tokyo time</option>' in text(response)


def test_picker_pages_week_by_week_within_the_horizon(client, therapist):
    first_page = text(client.get(picker_url(therapist, tz="America/Toronto")))
    last_page = text(client.get(picker_url(therapist, tz="America/Toronto", week="3")))

    # 21 days ahead (the default horizon) reach into a fourth week, and no further.
    assert "week=1" in first_page
    assert "Earlier week" not in first_page
    assert "Later week" not in last_page
    assert "week=2" in last_page


def test_picker_says_plainly_when_there_is_no_free_time(client, reference_data):
    therapist = make_therapist(display_name="Fully Booked")

    response = client.get(picker_url(therapist))

    page = text(response)
    assert response.status_code == 200
    assert "No free consultation times in the next 21 days." in page
    assert f'href="{reverse("directory:therapist_detail", args=[therapist.public_id])}"' in page


def test_picker_for_a_therapist_without_consultations_is_not_found(client, reference_data):
    therapist = make_therapist(consultation_minutes=0)
    give_availability(therapist, minimum_notice_hours=0)

    assert client.get(picker_url(therapist)).status_code == 404


def test_picker_htmx_request_gets_only_the_times_and_the_status_out_of_band(client, therapist):
    response = client.get(picker_url(therapist, tz="Europe/London"), headers={"HX-Request": "true"})

    page = text(response)
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="picker-status"' in page
    assert 'hx-swap-oob="true"' in page
    assert "HX-Request" in response["Vary"]


# --- booking --------------------------------------------------------------------------------------


def test_booking_form_shows_the_time_in_both_zones(client, therapist):
    first = free_times_ahead(therapist)[0]

    response = client.get(book_url(therapist, first.starts_at) + "?tz=Europe/London")

    page = text(response)
    assert response.status_code == 200
    london = first.starts_at.astimezone(LONDON)
    assert f"{clock_label(london)} UK Time (London)" in page
    toronto = first.starts_at.astimezone(TORONTO)
    assert f"{clock_label(toronto)} Eastern Time (Toronto)" in page
    assert 'name="time_zone" value="Europe/London"' in page
    assert 'aria-describedby="id_client_email-help"' in page


def test_booking_creates_the_consultation_and_opens_its_page(client, therapist):
    first = free_times_ahead(therapist)[0]

    response = client.post(
        book_url(therapist, first.starts_at),
        {
            "client_name": "Sam  Client",
            "client_email": "Sam@Example.org",
            "time_zone": "Europe/London",
        },
    )

    appointment = Appointment.objects.get()
    assert (appointment.therapist, appointment.starts_at) == (therapist, first.starts_at)
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert (appointment.client_name, appointment.client_email) == ("Sam Client", "sam@example.org")
    assert appointment.client_time_zone == "Europe/London"
    assert appointment.client is None
    assert response.status_code == 302
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert tokens.appointment_token_read(token=token, purpose=tokens.PURPOSE_MANAGE) == (
        appointment.public_id
    )
    page = text(client.get(response["Location"]))
    assert "Your consultation is booked." in page
    assert "Dana Reyes expects you at this time." in page


def test_booking_when_the_therapist_confirms_each_request_says_it_is_waiting(client, therapist):
    therapist.booking_policy.requires_confirmation = True
    therapist.booking_policy.save()
    first = free_times_ahead(therapist)[0]

    response = client.post(
        book_url(therapist, first.starts_at),
        {"client_name": "Sam", "client_email": "sam@example.org", "time_zone": "America/Toronto"},
        follow=True,
    )

    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED
    page = text(response)
    assert "Your request is sent. Dana Reyes will confirm or decline it" in page
    assert "Waiting for Dana Reyes to confirm." in page


def test_booking_a_time_just_taken_shows_the_picker_with_the_next_free_times(client, therapist):
    first, second = free_times_ahead(therapist)[:2]
    book_consultation(therapist, first.starts_at, client_email="first@example.org")

    response = client.post(
        book_url(therapist, first.starts_at),
        {"client_name": "Sam", "client_email": "sam@example.org", "time_zone": "America/Toronto"},
    )

    page = text(response)
    assert response.status_code == 409
    assert "That time was just taken by someone else. Please choose another." in page
    assert f'href="{book_url(therapist, second.starts_at)}?tz=America/Toronto"' in page
    assert Appointment.objects.count() == 1


def test_booking_form_errors_sit_beside_their_fields(client, therapist):
    first = free_times_ahead(therapist)[0]

    response = client.post(
        book_url(therapist, first.starts_at),
        {"client_name": "", "client_email": "not an address", "time_zone": "America/Toronto"},
    )

    page = text(response)
    assert response.status_code == 400
    assert 'aria-describedby="id_client_name-help id_client_name-error"' in page
    assert '<p class="field-error" id="id_client_name-error">This field is required.</p>' in page
    assert 'id="id_client_email-error">Enter a valid email address.</p>' in page
    assert Appointment.objects.count() == 0


def test_a_time_outside_availability_is_explained_on_the_picker(client, therapist):
    first = free_times_ahead(therapist)[0]
    # 3 a.m. in Toronto: outside the 9–17 window on any day.
    night = dt.datetime.combine(
        first.starts_at.astimezone(TORONTO).date(), dt.time(3), tzinfo=TORONTO
    )

    response = client.get(book_url(therapist, night))

    assert response.status_code == 400
    assert "shown in Eastern Time (Toronto)" in text(response)
    assert 'class="notice" role="alert"' in text(response)


def test_a_malformed_time_in_the_address_is_not_found(client, therapist):
    url = reverse("booking:consultation_book_time", args=[therapist.public_id, "tomorrow"])

    assert client.get(url).status_code == 404


# --- the e-mailed links ---------------------------------------------------------------------------


def test_manage_page_shows_the_time_in_the_clients_and_the_therapists_zone(client, therapist):
    first = free_times_ahead(therapist)[0]
    appointment = book_consultation(therapist, first.starts_at)

    # One link: a token carries the second it was signed in, so two calls can differ.
    link = manage_url(appointment)
    page = text(client.get(link))

    london, toronto = first.starts_at.astimezone(LONDON), first.starts_at.astimezone(TORONTO)
    assert f"at {clock_label(london)} UK Time (London)" in page
    assert f"at {clock_label(toronto)} Eastern Time (Toronto)" in page
    assert "Sam Client (sam@example.org)" in page
    assert reverse("booking:consultation_calendar", args=[link.split("/")[-2]]) in page


@pytest.mark.parametrize("token", ["nonsense", "a" * 300])
def test_a_bad_link_is_a_clear_not_found_page(client, therapist, token):
    response = client.get(reverse("booking:consultation_manage", args=[token]))

    assert response.status_code == 404
    assert "This link is not valid or has expired" in text(response)


def test_a_confirm_email_token_does_not_open_the_manage_page(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)
    token = tokens.appointment_token_make(
        appointment=appointment, purpose=tokens.PURPOSE_CONFIRM_EMAIL
    )

    response = client.get(reverse("booking:consultation_manage", args=[token]))

    assert response.status_code == 404
    assert "This link is not valid or has expired" in text(response)


def test_client_cancels_with_a_reason(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)
    url = manage_url(appointment)

    response = client.post(url + "cancel/", {"reason": "Found a closer therapist"}, follow=True)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert (appointment.ended_by, appointment.end_reason) == (
        Party.CLIENT,
        "Found a closer therapist",
    )
    page = text(response)
    assert "Your consultation is cancelled. Dana Reyes has been told." in page
    assert "You cancelled it." in page
    assert "Cancel this consultation" not in page


def test_cancelling_without_a_reason_keeps_the_consultation_and_says_why(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)

    response = client.post(manage_url(appointment) + "cancel/", {"reason": "  "})

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert response.status_code == 400
    assert '<p class="field-error" id="id_reason-error">This field is required.</p>' in text(
        response
    )


def test_cancel_by_get_changes_nothing(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)

    response = client.get(manage_url(appointment) + "cancel/")

    assert response.status_code == 405
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_client_moves_the_consultation_to_another_free_time(client, therapist):
    first, second = free_times_ahead(therapist)[:2]
    appointment = book_consultation(therapist, first.starts_at)
    url = manage_url(appointment) + "reschedule/"
    page = text(client.get(url))
    assert f'value="{slot_key(second.starts_at)}"' in page
    # Its own time is not offered as a "new" one.
    assert f'value="{slot_key(first.starts_at)}"' not in page

    response = client.post(url, {"starts_at": slot_key(second.starts_at), "reason": ""})

    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.sequence) == (second.starts_at, 1)
    assert response.status_code == 302
    # Back to the manage page of the same consultation (a fresh link: tokens carry the time
    # they were made, so the URL is compared by what its token names).
    location = response["Location"]
    assert location.startswith("/consultations/")
    token = location.rstrip("/").rsplit("/", 1)[-1]
    assert tokens.appointment_token_read(token=token, purpose=tokens.PURPOSE_MANAGE) == (
        appointment.public_id
    )


def test_moving_without_choosing_a_time_says_so_beside_the_times(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)

    response = client.post(manage_url(appointment) + "reschedule/", {"reason": ""})

    assert response.status_code == 400
    assert 'id="id_starts_at-error">Choose one of the free times.</p>' in text(response)


def test_calendar_file_of_the_consultation(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)

    response = client.get(manage_url(appointment) + "calendar.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert f"UID:{appointment.calendar_uid}" in body
    assert "METHOD:REQUEST" in body


def test_confirming_the_address_makes_an_account_without_signing_in(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)
    token = tokens.appointment_token_make(
        appointment=appointment, purpose=tokens.PURPOSE_CONFIRM_EMAIL
    )
    url = reverse("booking:client_email_confirm", args=[token])
    assert "Confirm my address" in text(client.get(url))
    assert not User.objects.filter(email="sam@example.org").exists()

    response = client.post(url)

    user = User.objects.get(email="sam@example.org")
    appointment.refresh_from_db()
    assert appointment.client == user
    page = text(response)
    assert "Your e-mail address is confirmed" in page
    assert "E-mail me a link to set a password" in page
    assert SESSION_KEY not in client.session


def test_pages_reached_by_e_mailed_links_are_never_cached(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)

    response = client.get(manage_url(appointment))

    assert "no-store" in response["Cache-Control"]


def test_a_signed_in_client_who_books_is_linked_to_the_consultation(therapist):
    user = make_user(role="client", email="signed@example.org")
    browser = Client()
    browser.force_login(user)
    first = free_times_ahead(therapist)[0]

    browser.post(
        book_url(therapist, first.starts_at),
        {"client_name": "Sig", "client_email": "signed@example.org", "time_zone": "UTC"},
    )

    assert Appointment.objects.get().client == user


def test_a_signed_in_person_booking_with_another_address_is_not_linked(therapist):
    user = make_user(role="client", email="signed@example.org")
    browser = Client()
    browser.force_login(user)
    first = free_times_ahead(therapist)[0]

    browser.post(
        book_url(therapist, first.starts_at),
        {"client_name": "Sig", "client_email": "victim@example.org", "time_zone": "UTC"},
    )

    appointment = Appointment.objects.get()
    assert (appointment.client_email, appointment.client) == ("victim@example.org", None)


def test_a_signed_in_person_with_an_unverified_address_is_not_linked(therapist):
    user = make_user(role="client", email="unproven@example.org", verified_email=False)
    browser = Client()
    browser.force_login(user)
    first = free_times_ahead(therapist)[0]

    browser.post(
        book_url(therapist, first.starts_at),
        {"client_name": "Un", "client_email": "Unproven@example.org", "time_zone": "UTC"},
    )

    assert Appointment.objects.get().client is None


def test_confirm_page_never_shows_an_account_linked_under_another_address(therapist):
    # A link made before booking checked the address: the page must not reveal this account.
    other = make_user(role="client", email="signed@example.org")
    appointment = book_consultation(
        therapist, free_times_ahead(therapist)[0].starts_at, client_email="v@example.org"
    )
    Appointment.objects.filter(pk=appointment.pk).update(client=other)
    token = tokens.appointment_token_make(
        appointment=appointment, purpose=tokens.PURPOSE_CONFIRM_EMAIL
    )

    response = Client().post(reverse("booking:client_email_confirm", args=[token]))

    page = text(response)
    assert response.status_code == 200
    assert "signed@example.org" not in page
    assert "the Rapport account for <strong>v@example.org</strong>" in page
    appointment.refresh_from_db()
    assert appointment.client == User.objects.get(email="v@example.org")


@pytest.mark.parametrize("key", ["00010101T0000Z", "99991231T2300Z", "19700101T0000Z"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_time_in_a_far_off_year_is_not_found(client, therapist, key, method):
    url = reverse("booking:consultation_book_time", args=[therapist.public_id, key])

    response = getattr(client, method)(
        url, {"client_name": "", "client_email": "", "time_zone": "Asia/Tokyo"}
    )

    assert response.status_code == 404
    assert Appointment.objects.count() == 0


def test_manage_page_shows_the_therapists_reason_for_cancelling(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)
    services.appointment_cancel(
        appointment=appointment, by=Party.THERAPIST, reason="I am unwell that week"
    )

    page = text(client.get(manage_url(appointment)))

    assert "Dana Reyes cancelled it." in page
    assert "<dt>Dana Reyes's reason</dt><dd>I am unwell that week</dd>" in page


def test_manage_page_shows_the_therapists_reason_for_declining(client, therapist):
    therapist.booking_policy.requires_confirmation = True
    therapist.booking_policy.save()
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)
    services.consultation_decline(appointment=appointment, reason="My practice is full")

    page = text(client.get(manage_url(appointment)))

    assert "Dana Reyes declined this request." in page
    assert "<dt>Dana Reyes's reason</dt><dd>My practice is full</dd>" in page


def test_manage_page_does_not_repeat_the_clients_own_reason_as_the_therapists(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason="Found another")

    page = text(client.get(manage_url(appointment)))

    assert "You cancelled it." in page
    assert "reason</dt>" not in page


def test_a_client_moving_the_consultation_leaves_a_note_the_therapist_reads(client, therapist):
    times = free_times_ahead(therapist)
    appointment = book_consultation(therapist, times[0].starts_at)
    url = manage_url(appointment) + "reschedule/"
    assert 'name="reason"' in text(client.get(url))

    response = client.post(url, {"starts_at": slot_key(times[6].starts_at), "reason": "A strike."})

    assert response.status_code == 302
    stored = Appointment.objects.get(pk=appointment.pk)
    assert (stored.starts_at, stored.change_reason, stored.changed_by) == (
        times[6].starts_at,
        "A strike.",
        Party.CLIENT,
    )
    # The client's own note is not shown back to them as the therapist's.
    assert "reason</dt>" not in text(client.get(manage_url(appointment)))
