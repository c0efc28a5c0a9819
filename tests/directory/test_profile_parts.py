"""The profile page shows what the apps above the directory register for it (booking's link,
the video introductions), and nothing of an app that has nothing to add."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from rapport.directory import profile_parts
from tests.factories import make_therapist

pytestmark = pytest.mark.django_db


def _profile(therapist) -> str:
    response = Client().get(reverse("directory:therapist_detail", args=[therapist.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_booking_videos_and_messaging_register_their_parts():
    assert set(profile_parts._parts) == {"booking", "messaging", "videos"}


def test_the_booking_link_shows_only_for_a_therapist_offering_a_free_consultation(
    reference_data,
):
    offering = make_therapist(consultation_minutes=15)
    not_offering = make_therapist(consultation_minutes=0)
    book_url = reverse("booking:consultation_book", args=[offering.public_id])

    page = _profile(offering)
    assert page.count(f'href="{book_url}"') == 2  # at the top and in the consultation panel
    assert "/book/" not in _profile(not_offering)


def test_a_removed_part_leaves_the_page_working_without_it(reference_data, monkeypatch):
    monkeypatch.setattr(profile_parts, "_parts", {})
    therapist = make_therapist(consultation_minutes=15)

    page = _profile(therapist)

    assert "Book a free consultation" not in page
    assert therapist.display_name in page
