"""The person's fit profile page in a real browser, at a phone's width and a desktop's: what did
not fit with past therapists is listed in words and each answer is removed by keyboard alone,
with no script; the page passes axe-core with no serious or critical violation
(``check_page``) and nothing scrolls sideways on a phone."""

from __future__ import annotations

import pytest
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from rapport.matching.answers import MISFIT_LABELS, MisfitReason
from rapport.matching.models import FitProfile
from rapport.matching.selectors import fit_profile_answers
from tests.browser.conftest import Tab
from tests.browser.test_matching_pages import (
    FITS_SIDEWAYS,
    WIDTHS,
    main_text,
    open_at,
    reference_data_loaded,  # noqa: F401 (a fixture, used by name)
    sign_in,
    tab_to,
)
from tests.browser.test_therapist_journey import check_page
from tests.factories import make_user
from tests.matching.factories import fit_profile

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.usefixtures("reference_data_loaded")
@pytest.mark.parametrize("width", WIDTHS)
def test_what_did_not_fit_is_listed_and_removed_by_keyboard(
    tab: Tab, live_server: LiveServer, width: int
):
    person = make_user(role="client")
    fit_profile(
        owner=person,
        did_not_fit=[MisfitReason.TOO_DIRECTIVE, MisfitReason.TOO_EXPENSIVE],
    )
    sign_in(tab, live_server, person)
    open_at(tab, width)
    page = tab.page
    checked: list[str] = []
    url = reverse("matching:profile")

    assert tab.visit(url, until="load") == []
    region = page.get_by_role("region", name="What did not fit with past therapists")
    assert region.is_visible()
    for reason in (MisfitReason.TOO_DIRECTIVE, MisfitReason.TOO_EXPENSIVE):
        assert MISFIT_LABELS[reason] in region.inner_text()
    assert page.evaluate(FITS_SIDEWAYS)
    check_page(tab, checked)

    # Each button's accessible name says which answer it removes.
    tab_to(tab, tag="BUTTON", text=f"Remove “{MISFIT_LABELS[MisfitReason.TOO_DIRECTIVE]}”")
    page.keyboard.press("Enter")
    # The form posts, and the redirect comes back to this same address with a message.
    page.get_by_text("Removed. Your matches no longer lean away from it.").wait_for()
    page.wait_for_load_state("load")

    assert tab.csp_violations() == []
    text = main_text(tab)
    assert MISFIT_LABELS[MisfitReason.TOO_DIRECTIVE] not in text
    assert MISFIT_LABELS[MisfitReason.TOO_EXPENSIVE] in text
    answers = fit_profile_answers(FitProfile.objects.get(owner=person))
    assert answers.did_not_fit == (MisfitReason.TOO_EXPENSIVE,)
    check_page(tab, checked)
    assert tab.traffic.failed == []
    assert tab.traffic.page_errors == []
