"""The guidance pages in a real browser, at a phone's width and a desktop's: the index and every
guide pass axe-core with no serious or critical violation, and nothing is wider than the screen.
"""

from __future__ import annotations

import pytest

from rapport.core.guides import GUIDES
from tests.browser.conftest import Tab
from tests.browser.test_therapist_journey import check_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("width", [375, 1280])
def test_every_guide_is_accessible_and_fits_the_screen(tab: Tab, width: int):
    tab.page.set_viewport_size({"width": width, "height": 900})
    checked: list[str] = []

    for path in ["/guide/", *(f"/guide/{guide.slug}/" for guide in GUIDES)]:
        assert tab.visit(path, until="load") == [], path
        check_page(tab, checked)

    assert len(checked) == len(GUIDES) + 1
    assert tab.traffic.failed == []
