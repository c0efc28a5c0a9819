"""The account page lists the person's consultations (booking's account section), and the
confirm-address page tells a person who confirmed how to reach that list."""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import rapport.accounts
from rapport.accounts.models import User
from rapport.accounts.sections import registered_account_sections
from rapport.booking import tokens
from rapport.booking.models import Appointment, AppointmentKind, AppointmentStatus, Party
from tests.accounts.factories import make_user
from tests.booking.factories import book_consultation, make_appointment, make_bookable_therapist
from tests.booking.helpers import free_times_ahead
from tests.directory.factories import make_therapist
from tests.html_tree import page_tree

pytestmark = pytest.mark.django_db

ACCOUNT = "/account/"
DAY = dt.timedelta(days=1)


def _at(days: float, hour: int = 15) -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def rows(response) -> list[tuple[str, str, str]]:
    """(group heading, heading of the row, state) for each listed consultation, in page order."""
    section = page_tree(response.content.decode()).get("consultations")
    found = []
    group = ""
    for node in section.walk():
        if node.tag == "h3":
            group = node.text()
        if node.tag == "li" and "appointment" in node.attrs.get("class", "").split():
            heading = node.find_all("h4")[0].text()
            state = node.find_all("span", **{"class": "booking-status__label"})[0].text()
            found.append((group, heading, state))
    return found


@pytest.fixture
def person(reference_data: None) -> User:
    return make_user(email="maya@example.org")


@pytest.fixture
def signed_in(client, person) -> Client:
    client.force_login(person)
    return client


def test_booking_registers_its_section_with_accounts_which_never_imports_booking():
    names = [section.name for section in registered_account_sections()]
    assert names == ["consultations"]
    assert registered_account_sections()[0].health_data is True
    for module in Path(rapport.accounts.__file__).parent.rglob("*.py"):
        assert "rapport.booking" not in module.read_text(), module


def test_upcoming_first_soonest_first_then_past_and_cancelled_latest_first(signed_in, person):
    alder = make_therapist(display_name="Alder Park")
    birch = make_therapist(display_name="Birch Lane")
    cedar = make_therapist(display_name="Cedar Ruiz")
    dune = make_therapist(display_name="Dune Okoro")
    elm = make_therapist(display_name="Elm Sato")
    mine = {"client": person, "client_email": "maya@example.org"}
    make_appointment(birch, _at(5), **mine)  # confirmed, later
    make_appointment(alder, _at(2), status=AppointmentStatus.REQUESTED, **mine)
    make_appointment(cedar, _at(-10), **mine)  # took place
    make_appointment(dune, _at(3), status=AppointmentStatus.CANCELLED, **mine)  # by the client
    make_appointment(
        elm, _at(-4), status=AppointmentStatus.DECLINED, ended_by=Party.THERAPIST, **mine
    )

    response = signed_in.get(ACCOUNT)

    assert response.status_code == 200
    assert rows(response) == [
        ("Upcoming", "Free consultation with Alder Park", "Waiting for the therapist to confirm"),
        ("Upcoming", "Free consultation with Birch Lane", "Confirmed"),
        ("Past and cancelled", "Free consultation with Dune Okoro", "Cancelled by you"),
        ("Past and cancelled", "Free consultation with Elm Sato", "Declined by the therapist"),
        ("Past and cancelled", "Free consultation with Cedar Ruiz", "Took place"),
    ]


def test_each_row_says_when_how_and_links_its_own_manage_page(signed_in, person):
    therapist = make_bookable_therapist(display_name="Alder Park")
    starts_at = free_times_ahead(therapist)[0].starts_at
    appointment = book_consultation(
        therapist, starts_at, client_email="maya@example.org", client_time_zone="America/Toronto"
    )

    page = page_tree(signed_in.get(ACCOUNT).content.decode()).get("consultations")

    item = page.find_all("li", **{"class": "appointment"})[0]
    facts = dict(
        zip(
            [dt_.text() for dt_ in item.find_all("dt")],
            [dd.text() for dd in item.find_all("dd")],
            strict=True,
        )
    )
    local = starts_at.astimezone(zoneinfo.ZoneInfo("America/Toronto"))
    assert f"{local:%-d}" in facts["When"]
    assert f"{local:%B}" in facts["When"]
    assert facts["How"]  # the therapist's method in words ("To be arranged" when unset)
    link = next(a.attrs["href"] for a in item.find_all("a") if "See or change it" in a.text())
    token = link.rstrip("/").split("/")[-1]
    assert tokens.appointment_token_read(token=token, purpose=tokens.PURPOSE_MANAGE) == (
        appointment.public_id
    )
    manage = signed_in.get(link)
    assert manage.status_code == 200
    assert "Alder Park" in manage.content.decode()


def test_a_session_is_listed_as_agreed_with_the_therapist(signed_in, person):
    therapist = make_therapist(display_name="Alder Park")
    make_appointment(therapist, _at(4), kind=AppointmentKind.SESSION, client=person, minutes=50)

    item = page_tree(signed_in.get(ACCOUNT).content.decode()).get("consultations")

    assert "Session with Alder Park" in item.text()
    assert "As agreed with Alder Park" in item.text()


def test_another_persons_consultations_never_appear(signed_in, person):
    therapist = make_therapist(display_name="Alder Park")
    other = make_user(email="sam@example.org")
    make_appointment(therapist, _at(2), client=other, client_email="sam@example.org")
    make_appointment(therapist, _at(3), client_email="sam@example.org")  # not linked at all
    # The person's own (verified) address on an appointment linked to another account: that
    # account's, not the person's (an address that changed hands must not bring its history).
    make_appointment(therapist, _at(4), client=other, client_email="MAYA@example.org")
    make_appointment(therapist, _at(5), client=person, client_email="maya@example.org")

    listed = rows(signed_in.get(ACCOUNT))

    assert listed == [("Upcoming", "Free consultation with Alder Park", "Confirmed")]


def test_a_booking_made_before_the_account_existed_with_its_verified_address_is_listed(
    signed_in, person
):
    therapist = make_therapist(display_name="Alder Park")
    make_appointment(therapist, _at(2), client=None, client_email="Maya@Example.org")

    assert rows(signed_in.get(ACCOUNT)) == [
        ("Upcoming", "Free consultation with Alder Park", "Confirmed")
    ]


def test_an_unverified_address_lists_nothing(client, reference_data):
    unverified = make_user(email="kim@example.org", verified_email=False)
    make_appointment(make_therapist(), _at(2), client_email="kim@example.org")
    client.force_login(unverified)

    response = client.get(ACCOUNT)

    assert rows(response) == []
    assert "You have no consultations yet." in page_tree(response.content.decode()).text()


def test_the_account_page_is_never_cached_and_each_listed_read_is_audited(signed_in, person):
    therapist = make_therapist()
    appointment = make_appointment(therapist, _at(2), client=person)
    reads = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, content_type__model="appointment"
    )
    before = reads.count()

    response = signed_in.get(ACCOUNT)

    assert "no-store" in response["Cache-Control"]
    assert reads.count() == before + 1
    entry = reads.latest("pk")
    assert entry.object_pk == str(appointment.pk)
    assert entry.actor == person
    assert entry.additional_data == {"reason": "account page"}


def test_the_list_does_not_grow_queries_with_its_length(
    signed_in, person, django_assert_max_num_queries
):
    therapist = make_therapist()
    for day in range(1, 4):
        make_appointment(therapist, _at(day), client=person)
    signed_in.get(ACCOUNT)  # warm caches (session, site)
    with django_assert_max_num_queries(40) as few:
        signed_in.get(ACCOUNT)
    for day in range(4, 12):
        make_appointment(therapist, _at(day), client=person)
    with django_assert_max_num_queries(len(few.captured_queries) + 2):
        signed_in.get(ACCOUNT)


# --- the confirm-address page ----------------------------------------------------------------


def _confirm_url(appointment: Appointment) -> str:
    token = tokens.appointment_token_make(
        appointment=appointment, purpose=tokens.PURPOSE_CONFIRM_EMAIL
    )
    return reverse("booking:client_email_confirm", args=[token])


def _confirm(client: Client, email: str) -> tuple[str, Appointment]:
    therapist = make_bookable_therapist(display_name="Alder Park")
    appointment = book_consultation(
        therapist, free_times_ahead(therapist)[0].starts_at, client_email=email
    )
    response = client.post(_confirm_url(appointment))
    assert response.status_code == 200
    return html.unescape(response.content.decode()), appointment


def test_signed_in_as_that_account_the_confirm_page_links_the_account_page(signed_in, person):
    page, _ = _confirm(signed_in, "maya@example.org")

    main = page_tree(page).get("main")
    links = main.links()
    assert links["See all your consultations"] == "/account/#consultations"
    assert "Forgot your password" not in page
    assert 'action="/accounts/password/reset/"' not in page


def test_an_account_with_a_password_is_asked_to_sign_in_and_lands_on_the_list(client, person):
    page, _ = _confirm(client, "maya@example.org")

    links = page_tree(page).get("main").links()
    assert links["Sign in to see them"] == "/accounts/login/?next=/account/"
    assert "Forgot your password" not in page


def test_a_new_account_without_a_password_gets_one_button_that_e_mails_a_set_password_link(
    client, reference_data, mailoutbox
):
    page, _ = _confirm(client, "new.client@example.org")
    user = User.objects.get(email="new.client@example.org")
    assert not user.has_usable_password()

    main = page_tree(page).get("main")
    forms = main.find_all("form")
    assert len(forms) == 1
    form = forms[0]
    assert form.attrs["action"] == "/accounts/password/reset/"
    assert [b.text() for b in form.find_all("button")] == ["E-mail me a link to set a password"]
    hidden = {i.attrs["name"]: i.attrs.get("value") for i in form.find_all("input")}
    assert hidden["email"] == "new.client@example.org"
    assert "Forgot your password" not in page

    sent_before = len(mailoutbox)
    response = client.post(form.attrs["action"], hidden)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert len(mailoutbox) == sent_before + 1
    message = mail.outbox[-1]
    assert message.to == ["new.client@example.org"]
    assert "/accounts/password/reset/key/" in message.body


def test_the_set_password_button_is_rate_limited_as_allauth_limits_resets(
    client, reference_data, mailoutbox
):
    page, _ = _confirm(client, "new.client@example.org")
    form = page_tree(page).get("main").find_all("form")[0]
    data = {i.attrs["name"]: i.attrs.get("value") for i in form.find_all("input")}
    sent_before = len(mailoutbox)

    answers = [client.post(form.attrs["action"], data).status_code for _ in range(6)]

    # allauth allows five reset e-mails a minute for one address.
    assert answers == [302, 302, 302, 302, 302, 429]
    assert len(mailoutbox) == sent_before + 5
