"""Booking a free consultation in a real browser: the picker takes the browser's own time zone,
shows times in it, and a booking ends on the consultation's own page.

The project ships no axe-core, so the accessibility checks here are the ones a browser answers
exactly: every visible control has a label, and nothing scrolls sideways at 320 px.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from rapport.booking.models import Appointment, AppointmentStatus
from rapport.core.timezones import clock_label, day_label
from rapport.directory.models import TherapistProfile
from tests.booking.factories import give_availability
from tests.booking.helpers import free_times_ahead
from tests.browser.conftest import (
    RECORD_CSP_VIOLATIONS,
    Chromium,
    OnBrowserThread,
    PageTraffic,
    Tab,
    origin_of,
)
from tests.factories import load_reference_data, make_therapist

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LONDON = ZoneInfo("Europe/London")

# Every visible form control that no <label> (nor aria-label) names.
UNLABELLED_CONTROLS = """
() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((control) => control.type !== "hidden" && control.offsetParent !== null)
  .filter((control) => control.labels.length === 0 && !control.getAttribute("aria-label"))
  .map((control) => control.name || control.id)
"""


@pytest.fixture
def london_tab(chromium: Chromium, live_server: LiveServer) -> Iterator[Tab]:
    """A tab whose browser says it is in London, whatever the machine's zone is."""
    traffic = PageTraffic(origin=origin_of(live_server.url))

    def open_tab() -> Page:
        context = chromium.browser.new_context(timezone_id="Europe/London")
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        page = context.new_page()
        page.on("pageerror", lambda error: traffic.page_errors.append(str(error)))
        page.on("console", traffic.on_console)
        return page

    page = chromium.thread.call(open_tab)
    yield Tab(page=cast(Page, OnBrowserThread(chromium.thread, page)), traffic=traffic)
    chromium.thread.call(page.context.close)


@pytest.fixture
def therapist() -> TherapistProfile:
    load_reference_data()
    therapist = make_therapist(display_name="Dana Reyes", time_zone="America/Toronto")
    # Open on one weekday only, three days ahead: the first free time is that day's first slot
    # whatever the minute the test runs. (With every day open, the first time moves on whenever
    # now plus the 2 hours' notice passes a slot while the page loads.)
    today = timezone.localtime(timezone.now(), ZoneInfo("America/Toronto")).date()
    open_day = (today + dt.timedelta(days=3)).weekday()
    give_availability(therapist, weekdays=(open_day,), minimum_notice_hours=2, buffer_minutes=0)
    return therapist


def test_picker_uses_the_browsers_zone_and_a_booking_lands_on_its_page(london_tab, therapist):
    page = london_tab.page
    first = free_times_ahead(therapist, hours_ahead=0)[0]  # the picker's first time
    local = first.starts_at.astimezone(LONDON)

    london_tab.visit(f"/therapists/{therapist.public_id}/book/", until="load")
    # booking/zone.js asked the browser and reloaded with its zone.
    page.wait_for_url(re.compile(r"\?tz=Europe%2FLondon$"))
    page.wait_for_load_state("load")

    status = page.locator("#picker-status").inner_text()
    assert "UK Time (London)" in status
    assert page.locator("#id_tz").input_value() == "Europe/London"
    first_day = page.locator(".slot-day").first
    assert first_day.locator("h3").inner_text() == day_label(local.date())
    first_slot = first_day.locator("a.slot").first
    assert first_slot.locator(".slot__time").inner_text() == clock_label(local)
    assert page.evaluate(UNLABELLED_CONTROLS) == []

    first_slot.click()
    page.wait_for_url(re.compile(r"/book/\d{8}T\d{4}Z/\?tz=Europe/London$"))
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    page.get_by_label("Your name").fill("Sam Client")
    page.get_by_label("Your e-mail address").fill("sam@example.org")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url(re.compile(r"/consultations/[^/]+/$"))

    assert "Your consultation is booked." in page.locator("main").inner_text()
    appointment = Appointment.objects.get()
    assert appointment.starts_at == first.starts_at
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.client_time_zone == "Europe/London"
    assert f"at {clock_label(local)} UK Time (London)" in page.locator("main").inner_text()
    assert london_tab.csp_violations() == []
    assert london_tab.traffic.console_policy == []
    assert london_tab.traffic.page_errors == []


def test_picker_and_booking_form_fit_a_320_pixel_screen(london_tab, therapist):
    page = london_tab.page
    page.set_viewport_size({"width": 320, "height": 640})

    london_tab.visit(f"/therapists/{therapist.public_id}/book/?tz=Europe/London")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    page.locator("a.slot").first.click()
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # The first control is reachable from the keyboard.
    page.get_by_label("Your name").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "client_email"


def test_choosing_another_zone_updates_the_times_in_place(london_tab, therapist):
    page = london_tab.page
    first = free_times_ahead(therapist, hours_ahead=0)[0]  # the picker's first time
    vancouver = first.starts_at.astimezone(ZoneInfo("America/Vancouver"))
    london_tab.visit(f"/therapists/{therapist.public_id}/book/?tz=Europe/London")

    page.get_by_label("Show times in").select_option("America/Vancouver")
    page.locator("#picker-status", has_text="Vancouver").wait_for()

    assert page.locator("a.slot .slot__time").first.inner_text() == clock_label(vancouver)
    # htmx swapped the region (no reload) and put the choice in the address.
    assert page.url.endswith("?tz=America%2FVancouver")
    assert "Europe/London" not in page.locator("a.slot").first.get_attribute("href")
    assert london_tab.csp_violations() == []
    assert london_tab.traffic.page_errors == []
