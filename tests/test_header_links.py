"""The header's "Your practice" and "Staff" links: shown to whoever owns a therapist profile and
to staff, and cheap (no query for a therapist-role account; one looked-up answer kept in the
session for anyone else)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport import navigation
from tests.factories import make_therapist, make_user

pytestmark = pytest.mark.django_db

PRACTICE_LINK = f'<a href="{reverse("booking:practice_home")}"'
STAFF_LINK = f'<a href="{reverse("directory:staff_figures")}"'
THERAPY_LINK = f'<a href="{reverse("care:client_home")}"'


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    pass


def header(client: Client, path: str = "/") -> str:
    page = client.get(path).content.decode()
    return page.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def profile_queries(captured: CaptureQueriesContext) -> list[str]:
    """Look-ups of a profile by its account (the home page counts listed profiles too)."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if '"directory_therapistprofile"."user_id"' in query["sql"]
    ]


def test_signed_out_visitors_see_neither_link(client):
    links = header(client)

    assert PRACTICE_LINK not in links
    assert STAFF_LINK not in links


def test_a_client_sees_neither_link_but_their_therapy():
    links = header(signed_in(make_user(role="client")))

    assert PRACTICE_LINK not in links
    assert STAFF_LINK not in links
    assert f"{THERAPY_LINK}>Your therapy</a>" in links


def test_the_therapy_link_is_for_clients_not_practices(client):
    therapist = signed_in(make_therapist(user=make_user(role="therapist", mfa=True)).user)

    assert THERAPY_LINK not in header(client)  # signed out
    assert THERAPY_LINK not in header(therapist)


def test_a_therapist_sees_your_practice_without_a_query_for_it():
    browser = signed_in(make_therapist(user=make_user(role="therapist", mfa=True)).user)

    with CaptureQueriesContext(connection) as captured:
        links = header(browser)

    assert f"{PRACTICE_LINK}>Your practice</a>" in links
    assert STAFF_LINK not in links
    assert profile_queries(captured) == []


def test_the_practice_link_is_marked_current_on_practice_pages():
    browser = signed_in(make_therapist(user=make_user(role="therapist", mfa=True)).user)

    links = header(browser, reverse("booking:practice_home"))

    assert f'{PRACTICE_LINK} aria-current="page">Your practice</a>' in links


def test_a_profile_linked_to_a_client_account_shows_your_practice():
    # Roles follow data: the admin can link a profile to an account whose role says "client".
    therapist = make_therapist(user=make_user(role="client", mfa=True))

    links = header(signed_in(therapist.user))

    assert f"{PRACTICE_LINK}>Your practice</a>" in links


def test_the_looked_up_answer_is_kept_in_the_session():
    browser = signed_in(make_user(role="client"))
    header(browser)

    with CaptureQueriesContext(connection) as captured:
        header(browser)

    assert profile_queries(captured) == []
    assert not any("auth_permission" in query["sql"] for query in captured.captured_queries)


def test_the_kept_answer_is_looked_up_again_after_a_while(monkeypatch):
    user = make_user(role="client", mfa=True)
    browser = signed_in(user)
    assert PRACTICE_LINK not in header(browser)
    make_therapist(user=user)
    assert PRACTICE_LINK not in header(browser)  # the kept answer, for now

    later = navigation.time.time() + navigation.RECHECK_SECONDS + 1
    monkeypatch.setattr(navigation.time, "time", lambda: later)

    assert PRACTICE_LINK in header(browser)


@pytest.mark.parametrize(
    "who",
    [
        {"role": "staff", "mfa": True},
        {"role": "client", "is_staff": True, "mfa": True},
        {"role": "client", "mfa": True, "permissions": ("directory.review_licences",)},
    ],
    ids=["staff-role", "staff-flag", "licence-reviewer"],
)
def test_staff_see_the_staff_link(who):
    links = header(signed_in(make_user(**who)))

    assert f"{STAFF_LINK}>Staff</a>" in links
    assert PRACTICE_LINK not in links


def test_the_staff_link_leads_to_a_page_staff_can_open():
    browser = signed_in(make_user(role="staff", mfa=True))

    response = browser.get(reverse("directory:staff_figures"))

    assert response.status_code == 200
    assert f'{STAFF_LINK} aria-current="page">Staff</a>' in header(
        browser, reverse("directory:staff_figures")
    )
