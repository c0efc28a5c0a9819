"""The therapist's contact hours before booking, in a real browser at a phone's width and a
desktop's: on the profile the visitor picks their zone from the menu (no script needed) and
sees the coming week's hours in it; the booking form, reached with the picker's zone, shows
the whole policy in that zone. Every page is checked with axe-core (``check_page``)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from rapport.booking.views.common import slot_key
from tests.booking.factories import make_bookable_therapist
from tests.booking.helpers import free_times_ahead
from tests.browser.conftest import Tab
from tests.browser.test_therapist_journey import check_page
from tests.factories import load_reference_data
from tests.messaging.factories import set_hours

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Vancouver's 5 p.m. to 9 p.m. is 9 p.m. to 1 a.m. in Halifax, four hours ahead all year.
HALIFAX_EVENING = re.compile(
    r"^\w+day, \w+ \d+, \d{4}, 9:00 p\.m\. to \w+day, \w+ \d+, \d{4}, 1:00 a\.m\. "
    r"Atlantic Time \(Halifax\)$"
)


@pytest.mark.parametrize("width", [375, 1280])
def test_the_contact_hours_in_the_visitors_zone_on_the_profile_and_the_booking_form(
    tab: Tab, width: int
):
    load_reference_data()
    therapist = make_bookable_therapist(display_name="Robin Vale", time_zone="America/Vancouver")
    set_hours(therapist, days=(0, 1, 2, 3, 4), starts=dt.time(17), ends=dt.time(21))
    page = tab.page
    page.set_viewport_size({"width": width, "height": 800})
    checked: list[str] = []

    tab.visit(reverse("directory:therapist_detail", args=[therapist.public_id]), until="load")
    check_page(tab, checked)
    hours = page.locator(".messaging-hours")
    assert "(Pacific Time (Vancouver))" in hours.inner_text()
    page.get_by_label("Show these hours in").select_option("America/Halifax")
    hours.get_by_role("button", name="Show").click()
    page.wait_for_load_state("load")
    check_page(tab, checked)
    windows = hours.locator("li").all_inner_texts()
    assert windows
    assert all(HALIFAX_EVENING.match(window.strip()) for window in windows), windows

    moment = free_times_ahead(therapist)[0].starts_at
    book = reverse("booking:consultation_book_time", args=[therapist.public_id, slot_key(moment)])
    tab.visit(f"{book}?tz=America/Halifax", until="load")
    check_page(tab, checked)
    policy = page.locator(".messaging-policy")
    assert "How Robin Vale handles messages" in policy.inner_text()
    windows = policy.locator("h3 + ul li").all_inner_texts()
    assert windows
    assert all(HALIFAX_EVENING.match(window.strip()) for window in windows), windows
