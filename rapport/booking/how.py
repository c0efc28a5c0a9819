"""How a free consultation happens (phone, video or in person), in words for each person.

One place says it, so the confirmation page, every e-mail and the calendar file agree. The
client's phone number never goes into an e-mail or a calendar file (both leave our hands and
sync to other services): the client knows their own number, and the therapist reads it on
their practice page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from rapport.booking.models import (
    MEETING_LINK_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    Appointment,
    AppointmentKind,
    BookingPolicy,
    ConsultationMethod,
    Party,
)
from rapport.directory.models import Office

# Digits a real phone number has: at least a local number (7), at most E.164's 15.
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15
# What people type in a phone number besides digits; anything else (letters, emoji) is a typo.
_PHONE_SHAPE = re.compile(r"^\+?[0-9 ().\-]+(?:\s*(?:ext\.?|x)\s*[0-9]{1,6})?$", re.IGNORECASE)
_EXTENSION = re.compile(r"(?:ext\.?|x)\s*[0-9]{1,6}$", re.IGNORECASE)

PHONE_PROBLEM = (
    "Enter a phone number the therapist can call, with its area code, for example "
    "416 555 0123 or +1 416 555 0123."
)
LINK_PROBLEM = (
    "Enter your meeting link as it starts in your browser's address bar, beginning with "
    "https:// (for example https://meet.example.org/your-room)."
)


def phone_clean(raw: str) -> str:
    """The number as typed, with runs of spaces collapsed; raises ValidationError with one plain
    message when it cannot be a phone number."""
    value = " ".join((raw or "").split())
    if not value:
        raise ValidationError("Enter the phone number the therapist should call.", code="required")
    if len(value) > PHONE_MAX_LENGTH or not _PHONE_SHAPE.match(value):
        raise ValidationError(PHONE_PROBLEM, code="invalid_phone")
    digits = re.sub(r"[^0-9]", "", _EXTENSION.sub("", value))
    if not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        raise ValidationError(PHONE_PROBLEM, code="invalid_phone")
    return value


def meeting_link_clean(raw: str) -> str:
    """An https link with a real host name and no password in it; raises ValidationError."""
    value = (raw or "").strip()
    if not value:
        raise ValidationError("Enter the link clients use to join your video calls.")
    if len(value) > MEETING_LINK_MAX_LENGTH:
        raise ValidationError(f"Keep the link under {MEETING_LINK_MAX_LENGTH} characters.")
    try:
        URLValidator(schemes=["https"])(value)
    except ValidationError as error:
        raise ValidationError(LINK_PROBLEM, code="invalid_link") from error
    parts = urlsplit(value)
    if parts.username or parts.password:
        # A password in the link would be shown to every client and written to calendars.
        raise ValidationError(
            "Leave any user name or password out of the link; clients only need the address.",
            code="invalid_link",
        )
    return value


def office_address(office: Office) -> str:
    """One line, as calendars and maps read it."""
    place = ", ".join(
        part for part in (office.street_address, office.city, office.jurisdiction.name) if part
    )
    return f"{place} {office.postal_code}".strip() if office.postal_code else place


@dataclass(frozen=True)
class HowItHappens:
    """What one person is told about how a consultation happens."""

    method: str  # a ConsultationMethod value, or "" when the therapist has not said
    label: str  # "Phone call", "Video call", "In person", "To be arranged"
    sentence: str  # in words, for pages and e-mails (the link, when any, is ``url``)
    location: str  # the calendar's LOCATION ("" for none)
    url: str  # the meeting link (video), else ""
    access_note: str = ""
    # The client's number, only on the therapist's own practice page (never in e-mails or
    # calendars): there a phone call's sentence ends with it.
    phone: str = ""

    @property
    def text(self) -> str:
        """The label and the sentence, as pages, e-mails and calendars say it."""
        return f"{self.label}. {self.sentence}"


def consultation_policy(*, therapist_id: int) -> BookingPolicy | None:
    """The therapist's policy with the office and its province or state: everything the
    wording reads, in one query (None for a therapist who never saved one)."""
    return (
        BookingPolicy.objects.filter(therapist_id=therapist_id)
        .select_related("office__jurisdiction")
        .first()
    )


def _policy_of(appointment: Appointment) -> BookingPolicy | None:
    return consultation_policy(therapist_id=appointment.therapist_id)


def public_how(*, name: str, policy: BookingPolicy | None) -> str:
    """How a therapist's free consultations happen, for anyone reading their public profile.

    Never the meeting link (only a booked client gets it, on their confirmation) and never a
    number: a phone call goes the other way, the therapist calls the client. An office's address
    is already public on the profile.
    """
    method = policy.consultation_method if policy is not None else ""
    if method == ConsultationMethod.PHONE:
        return (
            f"Free consultations are by phone: {name} calls you, on the number you give when "
            f"booking (only {name} sees it)."
        )
    if method == ConsultationMethod.VIDEO and policy is not None and policy.meeting_link:
        return (
            f"Free consultations are by video, on {name}'s own meeting link: you get it when "
            "you book."
        )
    if method == ConsultationMethod.IN_PERSON and policy is not None and policy.office:
        return (
            f"Free consultations are in person, at {name}'s office: "
            f"{office_address(policy.office)}."
        )
    return (
        f"{name} will let you know how the consultation happens (phone, video or in person) "
        "when you book."
    )


def how_it_happens(
    appointment: Appointment, *, recipient: Party, policy: BookingPolicy | None = None
) -> HowItHappens | None:
    """How ``appointment`` happens, worded for ``recipient``; None for sessions (their place
    is agreed between the two people, not set by the booking).

    The method is the one the appointment was booked with; the link and the office are the
    policy's current ones, so a therapist who fixes a typo in their link fixes it for every
    booked client.
    """
    if appointment.kind != AppointmentKind.CONSULTATION:
        return None
    policy = policy if policy is not None else _policy_of(appointment)
    return _worded(appointment, recipient=recipient, policy=policy)


def how_on_practice_page(
    appointment: Appointment, *, policy: BookingPolicy | None
) -> HowItHappens | None:
    """How ``appointment`` happens, as the therapist's practice page lists it: the therapist's
    wording, except that a phone call's sentence leads to the client's number (the page every
    other place points to for it). ``policy`` is the therapist's, read once for the whole page
    (None when they have none), so a page of rows costs no query per row."""
    if appointment.kind != AppointmentKind.CONSULTATION:
        return None
    how = _worded(appointment, recipient=Party.THERAPIST, policy=policy)
    if how.method != ConsultationMethod.PHONE:
        return how
    if not appointment.client_phone:
        # Erased with the client's account: the page cannot point to itself for it.
        return replace(how, sentence="The client's number is no longer kept.")
    first = (appointment.client_name.split() or ["the client"])[0]
    return replace(how, sentence=f"You call {first} on", phone=appointment.client_phone)


def _worded(
    appointment: Appointment, *, recipient: Party, policy: BookingPolicy | None
) -> HowItHappens:
    name = appointment.therapist.display_name
    first = (appointment.client_name.split() or ["the client"])[0]
    to_client = recipient == Party.CLIENT
    method = appointment.consultation_method
    if method == ConsultationMethod.PHONE:
        if to_client:
            return HowItHappens(
                method=method,
                label="Phone call",
                sentence=f"{name} calls you on the number you gave when booking. Keep your "
                "phone nearby at this time; you do not need to call anyone.",
                location=f"Phone call: {name} calls you",
                url="",
            )
        return HowItHappens(
            method=method,
            label="Phone call",
            sentence=f"You call {first} at this time. Their number is with the consultation "
            "on your practice page.",
            location=f"Phone call: you call {first}",
            url="",
        )
    link = policy.meeting_link if policy is not None else ""
    if method == ConsultationMethod.VIDEO and link:
        if to_client:
            sentence = (
                f"At this time, open {name}'s meeting link in your browser; {name} lets you in."
            )
        else:
            sentence = f"With {first}, on your meeting link."
        return HowItHappens(
            method=method, label="Video call", sentence=sentence, location=link, url=link
        )
    office = policy.office if policy is not None else None
    if method == ConsultationMethod.IN_PERSON and office is not None:
        address = office_address(office)
        if to_client:
            sentence = f"At {name}'s office: {address}."
        else:
            sentence = f"With {first}, at your office: {address}."
        return HowItHappens(
            method=method,
            label="In person",
            sentence=sentence,
            location=address,
            url="",
            access_note=office.accessibility_note,
        )
    # Not said yet (or the link or office was removed since): say who will sort it out.
    if to_client:
        sentence = (
            f"{name} will let you know how the consultation happens (phone, video or in person)."
        )
    else:
        sentence = (
            f"Tell {first} how the consultation happens: you have not set a method, or its "
            "link or office is missing, on your availability page."
        )
    return HowItHappens(method="", label="To be arranged", sentence=sentence, location="", url="")
