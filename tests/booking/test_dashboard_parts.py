"""The practice home's "Needs your attention" region: apps above booking register parts
(rapport.booking.hooks.register_dashboard_part) and booking renders them without importing
those apps."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from rapport.booking import hooks

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_parts(monkeypatch):
    """An empty registry for the test (the apps' own registrations are put back after)."""
    monkeypatch.setattr(hooks, "_dashboard_parts", {})


def test_parts_render_by_name_and_empty_ones_are_left_out(no_parts):
    seen = []

    def part(name: str, html: str):
        def render(request, therapist):
            seen.append((name, request, therapist))
            return html

        return render

    hooks.register_dashboard_part("b-second", part("b", mark_safe("<p>B</p>")))
    hooks.register_dashboard_part("a-first", part("a", mark_safe("<p>A</p>")))
    hooks.register_dashboard_part("c-empty", part("c", ""))
    request = RequestFactory().get("/practice/")
    therapist = object()

    rendered = hooks.dashboard_parts_render(request=request, therapist=therapist)  # type: ignore[arg-type]

    assert rendered == ["<p>A</p>", "<p>B</p>"]
    assert all(isinstance(html, SafeString) for html in rendered)
    # Every part was asked, each with the request and the therapist.
    assert [name for name, _request, _therapist in seen] == ["a", "b", "c"]
    assert all(r is request and t is therapist for _name, r, t in seen)


def test_registering_a_name_again_replaces_the_part(no_parts):
    hooks.register_dashboard_part("care", lambda request, therapist: mark_safe("<p>old</p>"))
    hooks.register_dashboard_part("care", lambda request, therapist: mark_safe("<p>new</p>"))
    request = RequestFactory().get("/practice/")
    assert hooks.dashboard_parts_render(request=request, therapist=None) == ["<p>new</p>"]  # type: ignore[arg-type]


def test_a_plain_string_is_escaped_not_taken_as_markup(no_parts):
    hooks.register_dashboard_part("plain", lambda request, therapist: "<b>5 alerts</b>")
    request = RequestFactory().get("/practice/")
    (html,) = hooks.dashboard_parts_render(request=request, therapist=None)  # type: ignore[arg-type]
    assert html == "&lt;b&gt;5 alerts&lt;/b&gt;"


def test_care_registers_its_alerts_part():
    assert "care-alerts" in hooks._dashboard_parts


def test_the_practice_home_shows_the_parts_in_the_attention_region(no_parts, reference_data):
    from django.test import Client

    from tests.factories import make_therapist, make_therapist_user

    therapist = make_therapist(user=make_therapist_user(mfa=True))
    hooks.register_dashboard_part(
        "test", lambda request, t: format_html('<p id="part">for {}</p>', t.pk)
    )
    browser = Client()
    assert therapist.user is not None
    browser.force_login(therapist.user)
    page = browser.get("/practice/").content.decode()
    region = page[page.index('id="attention-heading"') : page.index('id="listing-heading"')]
    assert f'<p id="part">for {therapist.pk}</p>' in region
    assert "Nothing needs your attention" not in region
