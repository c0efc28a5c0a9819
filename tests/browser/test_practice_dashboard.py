"""The practice dashboard and the staff figures in a real browser, at phone and desktop widths:
no CSP violation, every visible control labelled (the <details> forms opened too), headings in
order, and nothing scrolling sideways at 320 px.

The project ships no axe-core, so these are the checks a browser answers exactly.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from rapport.booking.models import Appointment, AppointmentKind, AppointmentStatus
from rapport.directory.models import Regulator, TherapistProfile, VerificationStatus
from tests.booking.factories import make_appointment
from tests.browser.conftest import Tab
from tests.factories import (
    load_reference_data,
    make_therapist,
    make_therapist_with_account,
    make_user,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Every visible form control that no <label> (nor aria-label) names.
UNLABELLED_CONTROLS = """
() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((control) => control.type !== "hidden" && control.offsetParent !== null)
  .filter((control) => control.labels.length === 0 && !control.getAttribute("aria-label"))
  .map((control) => control.name || control.id)
"""
# Heading levels in document order: a level never jumps down by more than one.
HEADING_LEVELS = """
() => Array.from(document.querySelectorAll("main h1, main h2, main h3, main h4"))
  .map((heading) => Number(heading.tagName[1]))
"""
OPEN_EVERY_DETAILS = "() => document.querySelectorAll('details').forEach((d) => d.open = true)"


def sign_in(tab: Tab, live_server: LiveServer, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    tab.page.context.add_cookies(
        [{"name": session.key, "value": session.value, "url": live_server.url}]
    )


@pytest.fixture
def therapist() -> TherapistProfile:
    load_reference_data()
    therapist = make_therapist_with_account(display_name="Dana Reyes", mfa=True)
    now = timezone.now().replace(second=0, microsecond=0)
    request = make_appointment(
        therapist,
        now + dt.timedelta(days=4),
        status=AppointmentStatus.REQUESTED,
        client_name="Rita Request",
        client_email="rita@example.org",
    )
    Appointment.objects.filter(pk=request.pk).update(created_at=now - dt.timedelta(hours=5))
    make_appointment(therapist, now + dt.timedelta(days=2), client_name="Uma Upcoming")
    make_appointment(
        therapist,
        now + dt.timedelta(days=3),
        client_name="Sam Session",
        kind=AppointmentKind.SESSION,
        minutes=50,
    )
    return therapist


def assert_accessible_basics(tab: Tab, width: int) -> None:
    page = tab.page
    page.evaluate(OPEN_EVERY_DETAILS)
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    levels = page.evaluate(HEADING_LEVELS)
    assert levels[0] == 1
    assert all(later - earlier <= 1 for earlier, later in itertools.pairwise(levels))
    if width <= 320:
        assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [320, 1280])
def test_the_dashboard_is_labelled_ordered_and_fits(tab, live_server, therapist, width):
    assert therapist.user is not None
    sign_in(tab, live_server, therapist.user)
    tab.page.set_viewport_size({"width": width, "height": 800})

    violations = tab.visit(reverse("booking:practice_home"), until="load")

    assert violations == []
    main = tab.page.locator("main").inner_text()
    assert "Rita Request" in main
    assert "Answer within 1 day 18 hours" in main
    assert tab.page.get_by_role("link", name="Your practice").count() == 1
    assert_accessible_basics(tab, width)
    assert tab.traffic.page_errors == []


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("page_name", ["staff_figures", "verification_queue"])
def test_the_staff_pages_are_labelled_ordered_and_fit(tab, live_server, page_name, width):
    load_reference_data()
    Regulator.objects.update(register_url="https://register.example.org/")
    make_therapist(
        display_name="Pending Person",
        verification_status=VerificationStatus.PENDING,
        verification_decided_at=None,
    )
    sign_in(
        tab,
        live_server,
        make_user(role="staff", mfa=True, permissions=("directory.review_licences",)),
    )
    tab.page.set_viewport_size({"width": width, "height": 800})

    violations = tab.visit(reverse(f"directory:{page_name}"), until="load")

    assert violations == []
    assert tab.page.get_by_role("link", name="Staff").count() == 1
    assert_accessible_basics(tab, width)
