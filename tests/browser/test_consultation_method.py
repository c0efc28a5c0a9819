"""Booking a phone consultation in a real browser, on a phone and on a desktop: the form asks
for the number, the confirmation page says who calls whom, and the calendar file says it too
(read back with the independent RFC 5545 reader); axe finds nothing serious on either page."""

from __future__ import annotations

import re

import pytest

from rapport.booking.models import Appointment, BookingPolicy, ConsultationMethod
from rapport.booking.views.common import slot_key
from rapport.directory.models import TherapistProfile
from tests.booking.factories import give_availability, make_appointment
from tests.booking.helpers import free_times_ahead
from tests.booking.rfc5545 import parse
from tests.browser.conftest import Tab
from tests.browser.test_practice_dashboard import sign_in
from tests.browser.test_therapist_journey import check_page
from tests.directory.factories import make_therapist_with_account
from tests.factories import load_reference_data, make_therapist

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Read in the page, so the file is the one the browser would save.
FETCH_TEXT = "href => fetch(href).then(response => response.text())"


@pytest.fixture
def therapist() -> TherapistProfile:
    load_reference_data()
    therapist = make_therapist(display_name="Dana Reyes", time_zone="America/Toronto")
    give_availability(
        therapist, weekdays=(0, 1, 2, 3, 4, 5, 6), minimum_notice_hours=2, buffer_minutes=0
    )
    BookingPolicy.objects.filter(therapist=therapist).update(
        consultation_method=ConsultationMethod.PHONE
    )
    return therapist


@pytest.mark.parametrize("width", [375, 1280])
def test_a_phone_consultation_says_who_calls_whom(tab: Tab, therapist, width: int):
    page = tab.page
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(10_000)
    checked: list[str] = []
    # An hour past the 2 hours' notice: still free when the form is sent, however long the
    # page takes.
    first = free_times_ahead(therapist, hours_ahead=3)[0]
    key = slot_key(first.starts_at)

    tab.visit(f"/therapists/{therapist.public_id}/book/{key}/?tz=America/Toronto", until="load")
    assert "By phone: the therapist calls you at this time." in page.locator("main").inner_text()
    check_page(tab, checked)

    page.get_by_label("Your name").fill("Sam Client")
    page.get_by_label("Your e-mail address").fill("sam@example.org")
    # A typo first: refused at the field, nothing booked.
    page.get_by_label("Your phone number").fill("call me")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_load_state("load")
    assert "Enter a phone number the therapist can call" in page.locator("main").inner_text()
    assert not Appointment.objects.exists()
    check_page(tab, checked)

    page.get_by_label("Your phone number").fill("416 555 0188")
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url(re.compile(r"/consultations/[^/]+/$"))

    main = page.locator("main").inner_text()
    assert "Your consultation is booked." in main
    assert "Dana Reyes calls you on the number you gave when booking." in main
    assert "416 555 0188" in main
    check_page(tab, checked)

    href = page.get_by_role("link", name="Add to your calendar (.ics file)").get_attribute("href")
    assert href
    (event,) = parse(page.evaluate(FETCH_TEXT, href)).components("VEVENT")
    assert event.one("LOCATION").value == "Phone call: Dana Reyes calls you"
    assert "Dana Reyes calls you" in event.one("DESCRIPTION").value
    assert event.one("STATUS").value == "CONFIRMED"
    assert "555 0188" not in event.one("DESCRIPTION").value
    assert len(checked) == 3
    assert tab.traffic.page_errors == []


@pytest.mark.parametrize("width", [375, 1280])
def test_the_therapist_sets_video_and_sees_a_phone_clients_number(
    tab: Tab, live_server, width: int
):
    load_reference_data()
    therapist = make_therapist_with_account(display_name="Dana Reyes", mfa=True)
    give_availability(therapist, minimum_notice_hours=0, buffer_minutes=0)
    make_appointment(
        therapist,
        client_name="Sam Client",
        consultation_method=ConsultationMethod.PHONE,
        client_phone="416 555 0188",
    )
    page = tab.page
    page.set_viewport_size({"width": width, "height": 900})
    page.set_default_timeout(10_000)
    checked: list[str] = []
    sign_in(tab, live_server, therapist.user)

    tab.visit("/practice/", until="load")
    assert "You call Sam on 416 555 0188." in page.locator("main").inner_text()
    check_page(tab, checked)

    tab.visit("/practice/availability/", until="load")
    page.get_by_label("By video: my own meeting link").check()
    page.get_by_label("Your meeting link (for video)").fill("http://meet.example.org/dana")
    page.get_by_role("button", name="Save how consultations happen").click()
    page.wait_for_load_state("load")
    assert "beginning with https://" in page.locator("main").inner_text()
    check_page(tab, checked)

    page.get_by_label("By video: my own meeting link").check()
    page.get_by_label("Your meeting link (for video)").fill("https://meet.example.org/dana")
    page.get_by_role("button", name="Save how consultations happen").click()
    page.wait_for_load_state("load")
    assert "How your consultations happen is saved." in page.locator("main").inner_text()
    policy = BookingPolicy.objects.get(therapist=therapist)
    assert policy.meeting_link == "https://meet.example.org/dana"
    check_page(tab, checked)
