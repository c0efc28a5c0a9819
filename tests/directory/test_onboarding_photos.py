"""Profile photos: kept in the private storage the videos use and served by the photo view with
the listing's access rules; the admin and the API show them through it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from rapport.directory.models import TherapistProfile
from rapport.directory.onboarding import services
from tests.factories import make_therapist, make_therapist_user, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


@pytest.fixture
def photo_dir(settings, tmp_path: Path) -> Path:
    stored = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(stored), "base_url": None},
        },
    }
    return stored


def jpeg() -> ContentFile[bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", (448, 448), (10, 120, 200)).save(buffer, format="JPEG")
    return ContentFile(buffer.getvalue(), name="photo.jpg")


def with_photo(therapist: TherapistProfile) -> TherapistProfile:
    services.therapist_about_update(
        therapist=therapist,
        display_name=therapist.display_name,
        pronouns="",
        headline="A headline",
        about="x" * 150,
        approach="",
        first_session="We talk.",
        photo=jpeg(),
    )
    therapist.refresh_from_db()
    return therapist


def test_a_photo_is_stored_privately_and_replaced_without_leaving_the_old_file(
    photo_dir, django_capture_on_commit_callbacks
):
    therapist = with_photo(make_therapist())
    first = photo_dir / (therapist.photo.name or "")
    assert first.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        with_photo(therapist)
    files = [path for path in photo_dir.rglob("*") if path.is_file()]
    assert len(files) == 1
    assert files[0] != first


def test_a_listed_therapists_photo_is_public(photo_dir):
    therapist = with_photo(make_therapist())
    response = Client().get(therapist.photo_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=300"
    assert response.getvalue().startswith(b"\xff\xd8")


def test_a_draft_photo_is_seen_by_its_therapist_and_reviewers_only(photo_dir, admin_user):
    owner = make_therapist_user(email="owner@example.org", mfa=True)
    therapist = with_photo(
        make_therapist(user=owner, verification_status="pending", verification_decided_at=None)
    )
    url = therapist.photo_url

    assert Client().get(url).status_code == 404
    stranger = Client()
    stranger.force_login(make_user(email="someone@example.org"))
    assert stranger.get(url).status_code == 404
    other_therapist = Client()
    other_therapist.force_login(make_therapist_user(email="other@example.org", mfa=True))
    assert other_therapist.get(url).status_code == 404

    own = Client()
    own.force_login(owner)
    assert own.get(url).status_code == 200
    reviewer = Client()
    reviewer.force_login(admin_user)
    assert reviewer.get(url).status_code == 200


def test_no_photo_is_a_404(photo_dir):
    therapist = make_therapist()
    url = reverse("directory:therapist_photo", args=[therapist.public_id])
    assert Client().get(url).status_code == 404
    assert therapist.photo_url == ""


def test_pages_and_the_api_point_at_the_photo_view(photo_dir, admin_user):
    therapist = with_photo(make_therapist())
    page = Client().get(reverse("directory:therapist_detail", args=[therapist.public_id]))
    assert therapist.photo_url in page.content.decode()
    api = Client().get(f"/api/v1/therapists/{therapist.public_id}").json()
    assert api["photo_url"] == therapist.photo_url
    admin = Client()
    admin.force_login(admin_user)
    change = admin.get(reverse("admin:directory_therapistprofile_change", args=[therapist.pk]))
    assert change.status_code == 200
    assert therapist.photo_url in change.content.decode()
