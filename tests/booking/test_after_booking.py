"""After booking: the page of a consultation that will not happen offers similar therapists and
the way back to the search; the message after booking is the page's focus target; the crisis
line sits in every page's header."""

from __future__ import annotations

import datetime as dt
import html
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from rapport.booking import services, tokens
from rapport.booking.models import Appointment, AppointmentKind, AppointmentStatus, Party
from rapport.booking.views.common import slot_key
from rapport.directory.models import TherapistProfile
from tests.booking.factories import book_consultation, make_appointment, make_bookable_therapist
from tests.booking.helpers import free_times_ahead
from tests.directory.factories import make_therapist
from tests.html_tree import Node, page_tree

pytestmark = pytest.mark.django_db


def manage_url(appointment: Appointment) -> str:
    token = tokens.appointment_token_make(appointment=appointment, purpose=tokens.PURPOSE_MANAGE)
    return reverse("booking:consultation_manage", args=[token])


def others(response) -> Node | None:
    tree = page_tree(response.content.decode())
    return next(iter(tree.find_all("section", **{"class": "panel other-therapists"})), None)


def suggested_names(response) -> list[str]:
    section = others(response)
    assert section is not None
    return [h3.text() for h3 in section.find_all("h3")]


@pytest.fixture
def dana(reference_data: None) -> TherapistProfile:
    return make_bookable_therapist(
        display_name="Dana Reyes", concerns=("anxiety",), modalities=("cbt",)
    )


def _in_days(days: int) -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=days)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )


# --- the page of a consultation that will not happen ----------------------------------------


def test_cancelling_leads_to_similar_therapists_but_never_the_same_unlisted_or_full_ones(
    client, dana
):
    shares_both = make_therapist(
        display_name="Ari Both", concerns=("anxiety",), modalities=("cbt",)
    )
    shares_concern = make_therapist(display_name="Bo Concern", concerns=("anxiety",))
    make_therapist(display_name="Cy Unlisted", concerns=("anxiety",), is_listed=False)
    make_therapist(display_name="Di Full", concerns=("anxiety",), accepting_new_clients=False)
    make_therapist(display_name="Ed Unrelated", concerns=("depression",))
    appointment = book_consultation(dana, free_times_ahead(dana)[0].starts_at)

    response = client.post(
        manage_url(appointment) + "cancel/", {"reason": "Something came up."}, follow=True
    )

    assert response.status_code == 200
    assert suggested_names(response) == [shares_both.display_name, shares_concern.display_name]
    section = others(response)
    assert section is not None
    assert section.links()["Back to the search"] == reverse("directory:therapist_list")
    profile_links = {a.text(): a.attrs["href"] for a in section.find_all("a")}
    assert profile_links["Ari Both"] == reverse(
        "directory:therapist_detail", args=[shares_both.public_id]
    )


def test_at_most_three_are_offered_soonest_free_first_with_their_next_free_time(client, dana):
    soon = timezone.now() + dt.timedelta(days=1)
    for number, days in enumerate([4, 2, 3, 5], start=1):
        make_therapist(
            display_name=f"Similar {number}",
            concerns=("anxiety",),
            modalities=("cbt",),
            next_consultation_at=soon + dt.timedelta(days=days),
        )
    appointment = make_appointment(
        dana,
        status=AppointmentStatus.DECLINED,
        ended_by=Party.THERAPIST,
        client_time_zone="America/Vancouver",
    )

    response = client.get(manage_url(appointment))

    assert suggested_names(response) == ["Similar 2", "Similar 3", "Similar 1"]
    section = others(response)
    assert section is not None
    first_card = section.find_all("li")[0].text()
    local = (soon + dt.timedelta(days=2)).astimezone(ZoneInfo("America/Vancouver"))
    assert "Next free consultation:" in first_card
    assert f"{local:%B}" in first_card
    assert "See free times with Similar 2" in first_card


def test_someone_with_a_free_time_comes_before_someone_with_none(client, dana):
    make_therapist(display_name="Al None", concerns=("anxiety",), modalities=("cbt",))
    make_therapist(
        display_name="Zo Soon",
        concerns=("anxiety",),
        modalities=("cbt",),
        next_consultation_at=timezone.now() + dt.timedelta(days=2),
    )
    appointment = make_appointment(
        dana, status=AppointmentStatus.DECLINED, ended_by=Party.THERAPIST
    )

    # SQLite sorts an empty time first and PostgreSQL last: the order says which is meant.
    assert suggested_names(client.get(manage_url(appointment))) == ["Zo Soon", "Al None"]


@pytest.mark.parametrize(
    ("status", "ended_by"),
    [
        (AppointmentStatus.CANCELLED, Party.THERAPIST),
        (AppointmentStatus.DECLINED, Party.THERAPIST),
        (AppointmentStatus.EXPIRED, Party.SYSTEM),
    ],
)
def test_seen_later_after_the_therapist_ended_it_the_page_offers_others(
    client, dana, status, ended_by
):
    make_therapist(display_name="Ari Both", concerns=("anxiety",))
    appointment = make_appointment(dana, status=status, ended_by=ended_by)

    response = client.get(manage_url(appointment))

    assert suggested_names(response) == ["Ari Both"]


def test_with_nobody_similar_the_page_still_leads_back_to_the_search(client, dana):
    appointment = make_appointment(dana, status=AppointmentStatus.CANCELLED)

    response = client.get(manage_url(appointment))

    section = others(response)
    assert section is not None
    assert section.find_all("li") == []
    assert section.links()["Back to the search"] == "/therapists/"


def test_a_booked_consultation_and_an_ended_session_offer_no_one_else(client, dana):
    make_therapist(display_name="Ari Both", concerns=("anxiety",))
    booked = make_appointment(dana)
    session = make_appointment(
        dana, _in_days(6), kind=AppointmentKind.SESSION, status=AppointmentStatus.CANCELLED
    )

    assert others(client.get(manage_url(booked))) is None
    assert others(client.get(manage_url(session))) is None


# --- focus after booking ----------------------------------------------------------------------


def test_after_booking_the_success_message_is_the_pages_focus_target(client, dana):
    moment = free_times_ahead(dana)[0].starts_at
    url = reverse("booking:consultation_book_time", args=[dana.public_id, slot_key(moment)])

    response = client.post(
        url,
        {"client_name": "Sam Client", "client_email": "sam@example.org", "time_zone": "UTC"},
        follow=True,
    )

    assert response.redirect_chain[0][0].startswith("/consultations/")
    tree = page_tree(response.content.decode())
    message = tree.get("page-message")
    assert message.attrs["role"] == "status"
    assert message.attrs["tabindex"] == "-1"
    assert "data-focus-on-load" in message.attrs
    assert message.text().startswith("Your consultation is booked.")
    # First in the main area, before the page's heading, so it reads well without JavaScript.
    main = tree.get("main")
    order = [id(node) for node in main.walk()]
    assert order.index(id(message)) < order.index(id(main.find_all("h1")[0]))
    scripts = [node.attrs["src"] for node in tree.find_all("script") if "src" in node.attrs]
    assert "/static/booking/focus.js" in scripts
    # Shown once: the base page's own message list is not repeated.
    assert html.unescape(response.content.decode()).count("Your consultation is booked.") == 1


def test_without_a_message_nothing_takes_the_focus(client, dana):
    appointment = make_appointment(dana)

    tree = page_tree(client.get(manage_url(appointment)).content.decode())

    assert tree.by_id("page-message") is None


def test_a_cancellation_message_is_focused_too(client, dana):
    appointment = services.consultation_book(
        therapist=dana,
        starts_at=free_times_ahead(dana)[0].starts_at,
        client_name="Sam",
        client_email="sam@example.org",
        client_time_zone="UTC",
    )

    response = client.post(
        manage_url(appointment) + "cancel/", {"reason": "I found someone."}, follow=True
    )

    message = page_tree(response.content.decode()).get("page-message")
    assert message.text().startswith("Your consultation is cancelled.")


# --- the crisis line in the header ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/therapists/", "/accounts/login/", "/guide/"])
def test_every_page_has_the_crisis_line_in_its_header_before_the_menu(client, path, dana):
    tree = page_tree(client.get(path).content.decode())

    header = tree.find_all("header", **{"class": "site-header"})[0]
    details = header.find_all("details", **{"class": "crisis-help"})
    assert len(details) == 1
    summary = details[0].find_all("summary")[0]
    assert summary.text() == "Crisis help"
    card = details[0].text()
    assert "In Canada and the US, call or text 9-8-8" in card
    assert "Call 911 if you are in immediate danger." in card
    assert "Rapport is a directory, not an emergency service." in card
    hrefs = [a.attrs["href"] for a in details[0].find_all("a")]
    assert hrefs == ["tel:988", "sms:988", "tel:911"]
    # Before the menu, in reading and tab order.
    children = [node for node in header.walk() if node.tag in {"details", "nav"}]
    assert [node.tag for node in children] == ["details", "nav"]
    # The footer's note stays.
    footer = tree.find_all("footer")[0]
    assert "If you are in crisis:" in footer.text()
