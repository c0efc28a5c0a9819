"""The onboarding wizard: a new therapist builds a profile step by step (saved at every step,
resumable), sends it for review, and a draft never shows to clients; then editing after going
live (licence changes go back to review, the rest is live at once)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from rapport.directory.completeness import listing_state, profile_completeness
from rapport.directory.models import (
    Concern,
    Designation,
    Language,
    Modality,
    Office,
    Population,
    Regulator,
    SearchIndexVersion,
    TherapistProfile,
    VerificationDecision,
)
from rapport.directory.selectors import therapist_listing
from rapport.directory.services import therapist_verification_decide
from tests.factories import make_licence, make_therapist_user, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

BIO = (
    "I work with adults who feel stuck after a loss or a big change: a move, a breakup, a new "
    "diagnosis. Sessions are a conversation; I ask a lot of questions and we go at your pace."
)


def url(name: str, *args: object) -> str:
    return reverse(f"directory:{name}", args=args)


def photo_upload(*, fmt: str = "JPEG", size: tuple[int, int] = (800, 600)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x8825] = {1: "N", 2: (43.0, 39.0, 0.0)}  # a GPS block
    image.save(buffer, format=fmt, exif=exif) if fmt == "JPEG" else image.save(buffer, format=fmt)
    return SimpleUploadedFile(f"me.{fmt.lower()}", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture(autouse=True)
def _private_files_here(settings, tmp_path) -> None:
    """Photos go to the videos' private storage: this test's own folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "videos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


@pytest.fixture
def therapist_client() -> tuple[Client, object]:
    user = make_therapist_user(email="new.therapist@example.org", mfa=True)
    client = Client()
    client.force_login(user)
    return client, user


def start_profile(client: Client) -> TherapistProfile:
    response = client.post(
        url("practice_profile_start"),
        {
            "display_name": "Rae Morgan",
            "designation": Designation.objects.get(code="RP").pk,
            "jurisdiction": "CA-ON",
        },
    )
    assert response["Location"] == url("practice_profile_about")
    return TherapistProfile.objects.get(display_name="Rae Morgan")


def about_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": "Rae Morgan",
        "pronouns": "she/her",
        "headline": "Helping adults through grief and big changes",
        "about": BIO,
        "approach": "",
        "first_session": "We talk about what brings you, and what you hope will change.",
    }
    data.update(overrides)
    return data


def licence_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "jurisdiction": "CA-ON",
        "regulator": Regulator.objects.get(jurisdiction_id="CA-ON", abbreviation="CRPO").pk,
        "designation": Designation.objects.get(code="RP").pk,
        "number": "# 12 345",
        "practice_start_year": "2015",
    }
    data.update(overrides)
    return data


def topics_data() -> dict[str, object]:
    return {
        "concerns": [Concern.objects.get(slug="grief").pk, Concern.objects.get(slug="anxiety").pk],
        "modalities": [Modality.objects.get(slug="cbt").pk],
        "populations": [Population.objects.get(slug="individuals").pk],
        "languages": [Language.objects.get(slug="en").pk],
        "lgbtq2s_affirming": "on",
        "gender_category": "non_binary",
        "gender_description": "",
        "identifies_as_lgbtq2s": "yes",
        "cultural_background": "",
    }


def style_data() -> dict[str, str]:
    return {
        "style_structure": "2",
        "style_direction": "4",
        "style_challenge": "3",
        "style_time_focus": "1",
        "style_humour": "5",
    }


def fees_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "currency": "CAD",
        "fee": "140.00",
        "sliding_scale_min": "90",
        "session_minutes": "50",
        "consultation_minutes": "15",
    }
    data.update(overrides)
    return data


def office_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "office-street_address": "100 Queen St W",
        "office-city": "Toronto",
        "office-jurisdiction": "CA-ON",
        "office-postal_code": "m5h2n2",
        "add_office": "1",
    }
    data.update(overrides)
    return data


def contact_data() -> dict[str, str]:
    return {
        "between_session_contact": "scheduling",
        "reply_within_hours": "48",
        "contact_hours": "Weekdays 9:00–17:00",
    }


def walk_through(client: Client) -> TherapistProfile:
    """Every step in order, as a new therapist does it; returns the submitted profile."""
    therapist = start_profile(client)
    steps = [
        ("practice_profile_about", {**about_data(), "photo": photo_upload()}, "licence"),
        ("practice_profile_licence", licence_data(), "topics"),
        ("practice_profile_topics", topics_data(), "style"),
        ("practice_profile_style", style_data(), "fees"),
        ("practice_profile_fees", fees_data(), "where"),
    ]
    for name, data, following in steps:
        response = client.post(url(name), data)
        assert response.status_code == 302, (name, response.content.decode()[:2000])
        assert response["Location"] == url(f"practice_profile_{following}"), name
    assert client.post(url("practice_profile_where"), office_data()).status_code == 302
    response = client.post(
        url("practice_profile_where"),
        {"offers_in_person": "on", "offers_video": "on", "time_zone": "America/Toronto"},
    )
    assert response["Location"] == url("practice_profile_contact")
    assert client.post(url("practice_profile_contact"), contact_data())["Location"] == url(
        "practice_profile_availability"
    )
    for name, following in (
        ("availability", "videos"),
        ("videos", "preview"),
        ("preview", "submit"),
    ):
        assert client.get(url(f"practice_profile_{name}")).status_code == 200
        response = client.post(url(f"practice_profile_{name}"))
        assert response["Location"] == url(f"practice_profile_{following}")
    assert client.post(url("practice_profile_submit"))["Location"] == url("practice_profile")
    therapist.refresh_from_db()
    return therapist


def test_a_new_therapist_walks_through_every_step_and_sends_the_profile_for_review(
    therapist_client,
):
    client, _user = therapist_client
    therapist = walk_through(client)

    assert therapist.verification_status == "pending"
    assert therapist.submitted_for_review_at is not None
    assert therapist.headline == "Helping adults through grief and big changes"
    assert therapist.practice_start_year == 2015
    assert (therapist.fee_minor, therapist.sliding_scale_min_minor) == (14_000, 9_000)
    assert therapist.style_time_focus == 1
    assert therapist.style_humour == 5
    licence = therapist.licences.get()
    assert (licence.regulator.abbreviation, licence.number) == ("CRPO", "12345")
    office = therapist.offices.get()
    assert (office.city, office.postal_code, office.time_zone) == (
        "Toronto",
        "M5H 2N2",
        "America/Toronto",
    )
    assert office.latitude == pytest.approx(43.7, abs=0.2)
    assert set(therapist.concerns.values_list("slug", flat=True)) == {"grief", "anxiety"}
    assert therapist.lgbtq2s_affirming
    assert (therapist.gender_category, therapist.identifies_as_lgbtq2s) == ("non_binary", True)
    assert profile_completeness(therapist=therapist).meets_minimum
    assert listing_state(therapist=therapist).code == "pending_review"
    # Pending review: not listed, and its public address is the same 404 as nothing.
    assert not therapist_listing(now=timezone.now()).filter(pk=therapist.pk).exists()
    assert client.get(url("therapist_detail", therapist.public_id)).status_code == 404

    # Verified by staff: the listing goes live.
    reviewer = make_user(role="staff", is_staff=True, is_superuser=True, email="rev@example.org")
    therapist_verification_decide(
        therapist=therapist, reviewer=reviewer, status="verified", reason=""
    )
    therapist.refresh_from_db()
    assert therapist_listing(now=timezone.now()).filter(pk=therapist.pk).exists()
    assert listing_state(therapist=therapist).code == "live"
    assert Client().get(url("therapist_detail", therapist.public_id)).status_code == 200


def test_the_photo_is_re_encoded_square_without_its_metadata(therapist_client):
    client, _user = therapist_client
    therapist = start_profile(client)
    client.post(url("practice_profile_about"), {**about_data(), "photo": photo_upload()})
    therapist.refresh_from_db()
    with therapist.photo.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert image.size == (448, 448)
        assert not image.getexif()


@pytest.mark.parametrize(
    "payload",
    [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a" + b"\x00" * 40],
)
def test_a_broken_or_foreign_image_is_refused_at_the_field_and_nothing_is_saved(
    therapist_client, payload
):
    client, _user = therapist_client
    therapist = start_profile(client)
    upload = SimpleUploadedFile("me.png", payload, content_type="image/png")
    response = client.post(url("practice_profile_about"), {**about_data(), "photo": upload})
    assert response.status_code == 400
    assert response.context["form"].errors["photo"]
    therapist.refresh_from_db()
    assert not therapist.photo
    assert therapist.headline == ""  # the whole step waits for a good answer


def test_a_decompression_bomb_is_refused(therapist_client, monkeypatch):
    from rapport.directory.onboarding import photos

    monkeypatch.setattr(photos, "PHOTO_MAX_PIXELS", 100 * 100)
    client, _user = therapist_client
    start_profile(client)
    response = client.post(
        url("practice_profile_about"), {**about_data(), "photo": photo_upload(size=(200, 200))}
    )
    assert "too many pixels" in " ".join(response.context["form"].errors["photo"])


def test_a_returning_therapist_lands_on_the_first_step_not_done(therapist_client):
    client, _user = therapist_client
    start_profile(client)
    assert client.get(url("practice_profile"))["Location"] == url("practice_profile_about")
    client.post(url("practice_profile_about"), about_data())
    client.post(url("practice_profile_licence"), licence_data())
    assert client.get(url("practice_profile"))["Location"] == url("practice_profile_topics")
    # Style has defaults, so it is done only once saved.
    client.post(url("practice_profile_topics"), topics_data())
    assert client.get(url("practice_profile"))["Location"] == url("practice_profile_style")


def test_an_incomplete_step_keeps_what_was_typed_and_says_what_is_missing(therapist_client):
    client, _user = therapist_client
    therapist = start_profile(client)
    response = client.post(
        url("practice_profile_about"), about_data(headline="", about="Too short.")
    )
    assert response.status_code == 400
    page = response.content.decode()
    errors = response.context["form"].errors
    assert set(errors) == {"headline", "about"}
    assert "Too short." in page  # kept
    assert 'id="id_about-error"' in page
    assert 'aria-invalid="true"' in page
    therapist.refresh_from_db()
    assert therapist.about == ""


def test_the_licence_step_refuses_an_unknown_regulator_and_a_number_that_does_not_fit(
    therapist_client,
):
    client, _user = therapist_client
    therapist = start_profile(client)
    unknown = client.post(url("practice_profile_licence"), licence_data(regulator="999999"))
    assert unknown.status_code == 400
    assert "Choose a regulator from the list" in unknown.context["form"].errors["regulator"][0]

    wrong = client.post(url("practice_profile_licence"), licence_data(number="Rae Morgan"))
    assert wrong.status_code == 400
    assert "CRPO" in wrong.context["form"].errors["number"][0]

    elsewhere = client.post(
        url("practice_profile_licence"),
        licence_data(
            regulator=Regulator.objects.get(jurisdiction_id="CA-BC", abbreviation="BCACC").pk
        ),
    )
    assert "regulator" in elsewhere.context["form"].errors
    assert not therapist.licences.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fee": "0"}, "fee"),
        ({"fee": "1000.01"}, "fee"),
        ({"fee": "100", "sliding_scale_min": "120"}, "sliding_scale_min"),
        ({"fee": "12O"}, "fee"),
        ({"fee": "120.005"}, "fee"),
    ],
)
def test_the_fees_step_refuses_bad_fees_at_the_field(therapist_client, overrides, field):
    client, _user = therapist_client
    therapist = start_profile(client)
    response = client.post(url("practice_profile_fees"), fees_data(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    therapist.refresh_from_db()
    assert therapist.fee_minor == 0


def test_an_office_whose_postal_code_or_city_does_not_match_is_refused(therapist_client):
    client, _user = therapist_client
    therapist = start_profile(client)
    response = client.post(
        url("practice_profile_where"), office_data(**{"office-postal_code": "V6B 1A1"})
    )
    assert response.status_code == 400
    assert response.context["office_form"].errors["postal_code"]
    response = client.post(
        url("practice_profile_where"), office_data(**{"office-city": "Vancouver"})
    )
    assert response.context["office_form"].errors["city"]
    # Right province, wrong city: Ottawa's code for a Toronto office.
    response = client.post(
        url("practice_profile_where"), office_data(**{"office-postal_code": "K1P 5G4"})
    )
    assert response.status_code == 400
    assert "km from Toronto" in response.context["office_form"].errors["postal_code"][0]
    assert not therapist.offices.exists()


def test_in_person_needs_an_office(therapist_client):
    client, _user = therapist_client
    start_profile(client)
    response = client.post(
        url("practice_profile_where"), {"offers_in_person": "on", "time_zone": "America/Toronto"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["offers_in_person"]


def test_another_therapists_office_is_a_404(therapist_client):
    client, _user = therapist_client
    start_profile(client)
    other_client = Client()
    other_client.force_login(make_therapist_user(email="other@example.org", mfa=True))
    start_profile_of_other = other_client.post(
        url("practice_profile_start"),
        {
            "display_name": "Other One",
            "designation": Designation.objects.get(code="RP").pk,
            "jurisdiction": "CA-ON",
        },
    )
    assert start_profile_of_other.status_code == 302
    other_client.post(url("practice_profile_where"), office_data())
    office = Office.objects.get(therapist__display_name="Other One")

    assert client.get(url("practice_office_edit", office.pk)).status_code == 404
    assert client.post(url("practice_office_edit", office.pk), office_data()).status_code == 404
    assert client.post(url("practice_office_remove", office.pk)).status_code == 404
    assert Office.objects.filter(pk=office.pk).exists()


def test_submitting_an_incomplete_profile_is_refused_with_what_is_missing(therapist_client):
    client, _user = therapist_client
    therapist = start_profile(client)
    response = client.post(url("practice_profile_submit"))
    assert response.status_code == 400
    assert "Your profile still needs" in response.content.decode()
    therapist.refresh_from_db()
    assert therapist.submitted_for_review_at is None
    assert listing_state(therapist=therapist).code == "draft"


def test_a_client_account_cannot_start_a_profile(client):
    user = make_user(email="client@example.org")
    client.force_login(user)
    assert client.get(url("practice_profile_start")).status_code == 404
    assert client.post(url("practice_profile_start"), {"display_name": "X"}).status_code == 404
    assert not TherapistProfile.objects.exists()


# --- editing after going live ---------------------------------------------------------------


@pytest.fixture
def live(therapist_client):
    client, _user = therapist_client
    therapist = walk_through(client)
    reviewer = make_user(role="staff", is_staff=True, is_superuser=True, email="rev@example.org")
    therapist_verification_decide(
        therapist=therapist, reviewer=reviewer, status="verified", reason=""
    )
    therapist.refresh_from_db()
    return client, therapist


def test_a_change_to_the_licence_sends_a_live_listing_back_to_review(live):
    client, therapist = live
    response = client.post(url("practice_profile_licence"), licence_data(number="54321"))
    assert response["Location"] == url("practice_profile")
    therapist.refresh_from_db()
    assert therapist.verification_status == "pending"
    assert not therapist_listing(now=timezone.now()).filter(pk=therapist.pk).exists()
    decision = VerificationDecision.objects.filter(therapist=therapist).first()
    assert decision is not None
    assert decision.status == "pending"
    assert decision.reviewer is None
    assert listing_state(therapist=therapist).code == "pending_review"


def test_saving_the_same_licence_again_keeps_the_listing_live(live):
    client, therapist = live
    client.post(url("practice_profile_licence"), licence_data())
    therapist.refresh_from_db()
    assert therapist.verification_status == "verified"


def test_other_changes_go_live_at_once_and_bump_the_search_index(live):
    client, therapist = live
    before = SearchIndexVersion.objects.get().version
    response = client.post(url("practice_profile_about"), about_data(headline="A new headline"))
    assert response["Location"] == url("practice_profile")
    therapist.refresh_from_db()
    assert therapist.verification_status == "verified"
    assert therapist.headline == "A new headline"
    assert SearchIndexVersion.objects.get().version > before
    page = Client().get(url("therapist_detail", therapist.public_id)).content.decode()
    assert "A new headline" in page


def test_the_overview_of_a_live_profile_shows_its_state_and_every_step(live):
    client, _therapist = live
    page = client.get(url("practice_profile"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Your listing is live" in text
    assert url("practice_profile_fees") in text


def test_the_preview_uses_the_public_profile_page(therapist_client):
    client, _user = therapist_client
    start_profile(client)
    client.post(url("practice_profile_about"), about_data())
    page = client.get(url("practice_profile_preview"))
    assert page.status_code == 200
    assert "directory/therapist_detail.html" in [t.name for t in page.templates]
    assert "Helping adults through grief" in page.content.decode()


def test_a_licence_edited_into_the_same_title_and_place_as_another_is_refused(live):
    client, therapist = live
    make_licence(therapist, jurisdiction_id="CA-BC", regulator="BCCSW", designation_code="RSW")
    response = client.post(
        url("practice_profile_licence"),
        licence_data(
            jurisdiction="CA-BC",
            regulator=Regulator.objects.get(jurisdiction_id="CA-BC", abbreviation="BCCSW").pk,
            designation=Designation.objects.get(code="RSW").pk,
        ),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["designation"]
    therapist.refresh_from_db()
    assert therapist.verification_status == "verified"


def test_self_disclosure_is_optional_and_not_saying_stays_unsaid(therapist_client):
    client, _user = therapist_client
    therapist = start_profile(client)
    data = {**topics_data(), "gender_category": "undisclosed", "identifies_as_lgbtq2s": ""}
    assert client.post(url("practice_profile_topics"), data).status_code == 302
    therapist.refresh_from_db()
    assert therapist.gender_category == "undisclosed"
    assert therapist.identifies_as_lgbtq2s is None
    page = client.get(url("practice_profile_topics")).content.decode()
    not_saying = re.search(r'<input[^>]*name="identifies_as_lgbtq2s"[^>]*value=""[^>]*>', page)
    assert not_saying is not None
    assert "checked" in not_saying.group(0)
