"""How a free consultation happens: the therapist's method (phone, video, in person), the
booking form asking only for what it needs, and the confirmation page, e-mails and calendar
files saying it, with the client's number and the meeting link kept to the two people."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.selectors import account_export_data
from rapport.accounts.services import account_delete
from rapport.booking import outbox, services, tokens
from rapport.booking.calendar import therapist_feed
from rapport.booking.models import (
    Appointment,
    AppointmentStatus,
    BookingPolicy,
    ConsultationMethod,
    OutboxEmail,
    Party,
)
from rapport.booking.views.common import slot_key
from rapport.core.crypto import decrypt
from rapport.directory.models import TherapistProfile
from tests.accounts.factories import make_therapist_user
from tests.booking.factories import book_consultation, make_appointment, make_bookable_therapist
from tests.booking.helpers import free_times_ahead
from tests.booking.rfc5545 import parse
from tests.directory.factories import make_office
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PHONE = "416 555 0188"


def shows_the_number(content: str | bytes) -> bool:
    """Whether the client's number (555 0188, any separators) appears in ``content``.

    Not a bare "555": calendar UIDs and encrypted tokens are random and sometimes hold it.
    """
    text = content.decode() if isinstance(content, bytes) else content
    return re.search(r"555\D{0,3}0188", text) is not None


LINK = "https://meet.example.org/dana-reyes"


@pytest.fixture
def therapist(reference_data: None) -> TherapistProfile:
    return make_bookable_therapist(display_name="Dana Reyes", user=make_therapist_user(mfa=True))


def use_method(therapist: TherapistProfile, method: str, **fields: object) -> None:
    BookingPolicy.objects.filter(therapist=therapist).update(consultation_method=method, **fields)


def text(response) -> str:
    return html.unescape(response.content.decode())


def book_url(therapist: TherapistProfile, moment: dt.datetime) -> str:
    return reverse("booking:consultation_book_time", args=[therapist.public_id, slot_key(moment)])


def manage_url(appointment: Appointment) -> str:
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)
    return reverse("booking:consultation_manage", args=[token])


def calendar_url(appointment: Appointment) -> str:
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)
    return reverse("booking:consultation_calendar", args=[token])


def form_data(**overrides: str) -> dict[str, str]:
    return {
        "client_name": "Sam Client",
        "client_email": "sam@example.org",
        "time_zone": "America/Toronto",
        **overrides,
    }


def event_of(ics: bytes):
    (event,) = parse(ics).components("VEVENT")
    return event


def value(event, name: str) -> str:
    # The reader keeps TEXT values as written: undo RFC 5545 §3.3.11's escapes to compare.
    raw = event.one(name).value
    return raw.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def delivered(appointment: Appointment, mailoutbox) -> dict[str, EmailMessage]:
    """Deliver every e-mail about ``appointment``; the messages by recipient."""
    now = timezone.now()
    by_recipient: dict[str, EmailMessage] = {}
    for row in OutboxEmail.objects.filter(appointment=appointment, due_at__lte=now):
        before = len(mailoutbox)
        outbox.outbox_deliver(email_id=row.pk, now=now)
        assert len(mailoutbox) == before + 1
        by_recipient[row.recipient] = mailoutbox[-1]
    return by_recipient


def calendar_of(message) -> bytes:
    for part in message.attachments:
        content = part.get_payload(decode=True) if hasattr(part, "get_payload") else part[1]
        return content if isinstance(content, bytes) else content.encode()
    raise AssertionError("no calendar attached")


# --- the form asks only for what the method needs --------------------------------------------


@pytest.mark.parametrize(
    ("method", "asks_phone"),
    [
        (ConsultationMethod.PHONE, True),
        (ConsultationMethod.VIDEO, False),
        (ConsultationMethod.IN_PERSON, False),
        ("", False),
    ],
)
def test_the_booking_form_asks_a_phone_number_only_for_phone(client, therapist, method, asks_phone):
    use_method(therapist, method)
    moment = free_times_ahead(therapist)[0].starts_at

    page = text(client.get(book_url(therapist, moment)))

    assert ('name="client_phone"' in page) is asks_phone
    if method == ConsultationMethod.PHONE:
        assert "By phone: the therapist calls you at this time." in page
        assert 'autocomplete="tel"' in page


@pytest.mark.parametrize(
    "typed", ["", "call me", "12345", "+1 416 555 0188 0000 0000 99", "416-555-01ab"]
)
def test_a_bad_phone_number_is_refused_at_the_field_and_nothing_is_booked(client, therapist, typed):
    use_method(therapist, ConsultationMethod.PHONE)
    moment = free_times_ahead(therapist)[0].starts_at

    response = client.post(book_url(therapist, moment), form_data(client_phone=typed))

    assert response.status_code == 400
    page = text(response)
    assert 'id="id_client_phone-error"' in page
    assert (
        "Enter the phone number the therapist should call." in page
        if typed == ""
        else "Enter a phone number the therapist can call, with its area code" in page
    )
    assert 'aria-invalid="true"' in page
    assert not Appointment.objects.exists()
    assert not OutboxEmail.objects.exists()


def test_the_service_refuses_a_phone_booking_without_a_number(therapist):
    use_method(therapist, ConsultationMethod.PHONE)
    moment = free_times_ahead(therapist)[0].starts_at

    with pytest.raises(ValidationError) as caught:
        book_consultation(therapist, moment)

    assert "client_phone" in caught.value.message_dict
    assert not Appointment.objects.exists()


def test_a_number_sent_to_a_video_therapist_is_not_kept(therapist):
    use_method(therapist, ConsultationMethod.VIDEO, meeting_link=LINK)
    moment = free_times_ahead(therapist)[0].starts_at

    appointment = book_consultation(therapist, moment, client_phone=PHONE)

    assert appointment.client_phone == ""
    assert appointment.consultation_method == ConsultationMethod.VIDEO


# --- phone, end to end -------------------------------------------------------------------------


def test_phone_consultation_end_to_end(client, therapist, mailoutbox):
    use_method(therapist, ConsultationMethod.PHONE)
    moment = free_times_ahead(therapist)[0].starts_at

    response = client.post(
        book_url(therapist, moment), form_data(client_phone="  +1 (416) 555-0188 ")
    )

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.client_phone == "+1 (416) 555-0188"
    assert appointment.consultation_method == ConsultationMethod.PHONE
    # Encrypted at rest: the column holds a token that opens to the number.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_phone FROM booking_appointment WHERE id = %s", [appointment.pk]
        )
        (raw,) = cursor.fetchone()
    assert not shows_the_number(raw)
    assert decrypt(raw) == "+1 (416) 555-0188"

    page = text(client.get(response["Location"]))
    assert "How it happens" in page
    assert "Phone call. Dana Reyes calls you on the number you gave when booking." in page
    assert "+1 (416) 555-0188" in page  # the client sees their own number

    ics = client.get(calendar_url(appointment)).content
    event = event_of(ics)
    assert value(event, "LOCATION") == "Phone call: Dana Reyes calls you"
    assert value(event, "DESCRIPTION").startswith(
        "Phone call. Dana Reyes calls you on the number you gave"
    )
    assert event.all("URL") == []
    assert value(event, "STATUS") == "CONFIRMED"
    assert not shows_the_number(ics)

    mails = delivered(appointment, mailoutbox)
    client_mail, therapist_mail = mails[Party.CLIENT], mails[Party.THERAPIST]
    assert (
        "How it happens: Phone call. Dana Reyes calls you on the number you gave"
        in client_mail.body
    )
    assert "How it happens: Phone call. You call Sam at this time." in therapist_mail.body
    for message in (client_mail, therapist_mail):
        # Never the number in an e-mail or its calendar file (both leave our hands).
        assert not shows_the_number(str(message.body))
        assert not shows_the_number(calendar_of(message))
    therapist_event = event_of(calendar_of(therapist_mail))
    assert value(therapist_event, "LOCATION") == "Phone call: you call Sam"


def test_only_the_therapist_of_the_consultation_sees_the_number(therapist):
    use_method(therapist, ConsultationMethod.PHONE)
    appointment = book_consultation(
        therapist, free_times_ahead(therapist)[0].starts_at, client_phone=PHONE
    )
    own = Client()
    own.force_login(therapist.user)
    other_therapist = make_bookable_therapist(
        display_name="Lee Other", user=make_therapist_user(mfa=True)
    )
    assert other_therapist.user is not None
    other = Client()
    other.force_login(other_therapist.user)

    assert PHONE in text(own.get(reverse("booking:practice_home")))
    assert 'href="tel:4165550188"' in own.get(reverse("booking:practice_home")).content.decode()
    assert PHONE not in text(other.get(reverse("booking:practice_home")))
    reschedule = reverse("booking:practice_reschedule", args=[appointment.public_id])
    assert other.get(reschedule).status_code == 404


def test_the_number_is_masked_in_the_audit_log(therapist):
    use_method(therapist, ConsultationMethod.PHONE)
    appointment = book_consultation(
        therapist, free_times_ahead(therapist)[0].starts_at, client_phone=PHONE
    )
    services.appointment_cancel(appointment=appointment, by=Party.CLIENT, reason="Found someone")

    entries = LogEntry.objects.filter(object_pk=str(appointment.pk))
    logged = json.dumps([entry.changes for entry in entries])
    assert "client_phone" in logged
    assert not shows_the_number(logged)


def test_the_number_is_exported_and_erased_with_the_account(therapist):
    person = make_user(email="sam@example.org")
    make_appointment(
        therapist,
        client=person,
        consultation_method=ConsultationMethod.PHONE,
        client_phone=PHONE,
    )

    exported = account_export_data(user=person)["consultations"]
    assert exported[0]["phone_given"] == PHONE
    assert exported[0]["how_it_happened"] == "phone"

    account_delete(user=person)
    assert Appointment.objects.get().client_phone == ""


def test_the_api_asks_for_the_number_by_its_body_name(client, therapist):
    use_method(therapist, ConsultationMethod.PHONE)
    moment = free_times_ahead(therapist)[0].starts_at
    body = {
        "therapist_id": str(therapist.public_id),
        "starts_at": moment.isoformat(),
        "name": "Sam Client",
        "email": "sam@example.org",
        "time_zone": "America/Toronto",
    }

    refused = client.post("/api/v1/consultations", body, content_type="application/json")
    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == ["phone"]
    assert not Appointment.objects.exists()

    booked = client.post(
        "/api/v1/consultations", {**body, "phone": PHONE}, content_type="application/json"
    )
    assert booked.status_code == 201
    assert PHONE not in booked.content.decode()
    assert Appointment.objects.get().client_phone == PHONE


# --- video ---------------------------------------------------------------------------------------


def test_video_consultation_end_to_end(client, therapist, mailoutbox):
    use_method(therapist, ConsultationMethod.VIDEO, meeting_link=LINK)
    moment = free_times_ahead(therapist)[0].starts_at

    response = client.post(book_url(therapist, moment), form_data())

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.client_phone == ""
    page = text(client.get(response["Location"]))
    assert "Video call. At this time, open Dana Reyes's meeting link" in page
    assert f'<a href="{LINK}"' in page

    event = event_of(client.get(calendar_url(appointment)).content)
    assert value(event, "LOCATION") == LINK
    assert value(event, "URL") == LINK
    assert value(event, "DESCRIPTION").endswith(f"\nLink: {LINK}")

    mails = delivered(appointment, mailoutbox)
    assert f"Meeting link: {LINK}" in mails[Party.CLIENT].body
    assert f"Meeting link: {LINK}" in mails[Party.THERAPIST].body
    assert value(event_of(calendar_of(mails[Party.CLIENT])), "URL") == LINK


def test_a_request_waiting_for_the_therapist_is_tentative_and_confirmed_once_confirmed(
    client, therapist
):
    use_method(therapist, ConsultationMethod.VIDEO, meeting_link=LINK)
    BookingPolicy.objects.filter(therapist=therapist).update(requires_confirmation=True)
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)
    assert appointment.status == AppointmentStatus.REQUESTED

    assert value(event_of(client.get(calendar_url(appointment)).content), "STATUS") == "TENTATIVE"
    services.consultation_confirm(appointment=appointment)
    assert value(event_of(client.get(calendar_url(appointment)).content), "STATUS") == "CONFIRMED"


def test_the_link_is_never_on_the_public_profile_or_api(client, therapist):
    use_method(therapist, ConsultationMethod.VIDEO, meeting_link=LINK)

    profile = client.get(reverse("directory:therapist_detail", args=[therapist.public_id]))
    api = client.get(f"/api/v1/therapists/{therapist.public_id}")

    assert profile.status_code == 200
    assert api.status_code == 200
    for response in (profile, api):
        assert "meet.example.org" not in response.content.decode()


# --- in person -----------------------------------------------------------------------------------


def test_in_person_consultation_gives_the_address_and_access_notes(client, therapist, mailoutbox):
    office = make_office(
        therapist, accessibility_note="Step-free entrance on John Street; lift to floor 3."
    )
    use_method(therapist, ConsultationMethod.IN_PERSON, office=office)
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)

    address = "100 Queen St W, Toronto, Ontario M5H 2N2"
    page = text(client.get(manage_url(appointment)))
    assert f"In person. At Dana Reyes's office: {address}." in page
    assert "Getting in: Step-free entrance on John Street" in page

    event = event_of(client.get(calendar_url(appointment)).content)
    assert value(event, "LOCATION") == address
    assert "Getting in: Step-free entrance on John Street; lift to floor 3." in value(
        event, "DESCRIPTION"
    )
    assert event.all("URL") == []
    mails = delivered(appointment, mailoutbox)
    assert address in mails[Party.CLIENT].body
    assert "Getting in: Step-free entrance" in mails[Party.CLIENT].body


def test_a_consultation_without_a_method_says_the_therapist_will_tell(client, therapist):
    appointment = book_consultation(therapist, free_times_ahead(therapist)[0].starts_at)

    page = text(client.get(manage_url(appointment)))

    assert "Dana Reyes will let you know how the consultation happens" in page
    assert event_of(client.get(calendar_url(appointment)).content).all("LOCATION") == []


# --- the therapist sets it -----------------------------------------------------------------------


@pytest.fixture
def signed_in(therapist: TherapistProfile) -> Client:
    assert therapist.user is not None
    browser = Client()
    browser.force_login(therapist.user)
    return browser


METHOD_URL = "booking:practice_consultation_method"


def test_the_availability_page_sets_the_method(signed_in, therapist):
    page = text(signed_in.get(reverse("booking:practice_availability")))
    assert "How your free consultations happen" in page

    response = signed_in.post(reverse(METHOD_URL), {"method": "video", "meeting_link": LINK})

    assert response.status_code == 302
    policy = BookingPolicy.objects.get(therapist=therapist)
    assert (policy.consultation_method, policy.meeting_link) == ("video", LINK)


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("", "Enter the link clients use to join your video calls."),
        ("http://meet.example.org/room", "beginning with https://"),
        ("meet.example.org/room", "beginning with https://"),
        ("javascript:alert(1)", "beginning with https://"),
        ("https://me:secret@meet.example.org/room", "Leave any user name or password out"),
        ("https://" + "a" * 600 + ".org", "Ensure this value has at most 500 characters"),
    ],
)
def test_a_bad_meeting_link_is_refused_at_the_field(signed_in, therapist, link, message):
    response = signed_in.post(reverse(METHOD_URL), {"method": "video", "meeting_link": link})

    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert 'id="id_meeting_link-error"' in page
    policy = BookingPolicy.objects.get(therapist=therapist)
    assert (policy.consultation_method, policy.meeting_link) == ("", "")


def test_in_person_needs_one_of_the_therapists_own_offices(signed_in, therapist):
    stranger = make_bookable_therapist(display_name="Lee Other")
    their_office = make_office(stranger)

    response = signed_in.post(
        reverse(METHOD_URL), {"method": "in_person", "office": their_office.pk}
    )
    assert response.status_code == 400
    assert BookingPolicy.objects.get(therapist=therapist).consultation_method == ""

    with pytest.raises(ValidationError) as caught:
        services.consultation_method_update(
            therapist=therapist, method="in_person", office_id=their_office.pk
        )
    assert "office" in caught.value.message_dict

    own_office = make_office(therapist)
    response = signed_in.post(reverse(METHOD_URL), {"method": "in_person", "office": own_office.pk})
    assert response.status_code == 302
    assert BookingPolicy.objects.get(therapist=therapist).office_id == own_office.pk


def test_changing_the_method_drops_what_the_old_one_needed(therapist):
    services.consultation_method_update(therapist=therapist, method="video", meeting_link=LINK)
    services.consultation_method_update(therapist=therapist, method="phone", meeting_link=LINK)

    policy = BookingPolicy.objects.get(therapist=therapist)
    assert (policy.consultation_method, policy.meeting_link, policy.office_id) == (
        "phone",
        "",
        None,
    )


def test_a_booked_consultation_keeps_its_method_when_the_therapist_changes_it(therapist):
    use_method(therapist, ConsultationMethod.PHONE)
    appointment = book_consultation(
        therapist, free_times_ahead(therapist)[0].starts_at, client_phone=PHONE
    )
    services.consultation_method_update(therapist=therapist, method="video", meeting_link=LINK)

    appointment.refresh_from_db()
    assert appointment.consultation_method == ConsultationMethod.PHONE


def test_the_therapists_feed_says_how_each_consultation_happens_without_the_number(therapist):
    use_method(therapist, ConsultationMethod.PHONE)
    book_consultation(therapist, free_times_ahead(therapist)[0].starts_at, client_phone=PHONE)

    feed = therapist_feed(therapist=therapist, now=timezone.now())

    (event,) = parse(feed).components("VEVENT")
    assert value(event, "LOCATION") == "Phone call: you call Sam"
    assert not shows_the_number(feed)
