"""The staff upload page for bulk imports: who may open it, what it reports, and bad uploads."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rapport.directory.models import TherapistProfile, VerificationDecision
from tests.directory.test_import import csv_file, row
from tests.factories import make_therapist_with_account, make_user

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
IMPORT = ("directory.add_therapistprofile",)
REVIEW = ("directory.review_licences",)
URL = "/staff/import/"


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the taxonomies and credentials."""


@pytest.fixture
def importer():
    return make_user(role="staff", mfa=True, permissions=IMPORT)


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_the_url_is_the_named_route():
    assert reverse("directory:therapist_import") == URL


@pytest.mark.parametrize(
    "who",
    [
        lambda: make_user(role="client"),
        lambda: make_therapist_with_account(mfa=True).user,
        # Staff without the permission to add listings, even licence reviewers.
        lambda: make_user(role="staff", mfa=True, permissions=REVIEW),
    ],
)
def test_people_who_may_not_import_get_a_404(client, who):
    client.force_login(who())
    before = TherapistProfile.objects.count()
    assert client.get(URL).status_code == 404
    data = csv_file(row()).getvalue()
    response = client.post(URL, {"file_format": "csv", "file": _upload("a.csv", data)})
    assert response.status_code == 404
    assert TherapistProfile.objects.count() == before


def test_signed_out_visitors_never_reach_the_page(client):
    response = client.get(URL)
    assert response.status_code in (302, 404)
    assert TherapistProfile.objects.count() == 0


def test_staff_without_a_second_factor_are_sent_to_set_one_up(client):
    staff = make_user(role="staff", mfa=False, permissions=IMPORT)
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/")


def test_the_page_offers_the_form_with_labels(client, importer):
    client.force_login(importer)
    page = client.get(URL).content.decode()
    assert "<h1>Import therapists</h1>" in page
    assert 'enctype="multipart/form-data"' in page
    assert '<label for="id_file">File to import</label>' in page
    assert 'aria-describedby="id_file-help"' in page
    # Only licence reviewers may vouch for the rows.
    assert 'name="verified"' not in page
    # The staff navigation marks this page as the current one.
    assert 'href="/staff/import/" aria-current="page">Import listings</a>' in page


def test_an_upload_imports_and_shows_the_row_by_row_report(client, importer):
    client.force_login(importer)
    data = csv_file(row(), row(external_id="p-2", email="b@practice.example", concerns="nope"))

    response = client.post(
        URL, {"file_format": "csv", "file": _upload("roster.csv", data.getvalue())}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "2 rows: 1 created, 0 updated, 1 failed." in page
    assert "<code>concerns</code>" in page
    assert "Unknown slug &quot;nope&quot;" in page
    assert '<th scope="row" rowspan="1">3</th>' in page
    assert list(TherapistProfile.objects.values_list("external_id", "verification_status")) == [
        ("practice-1", "pending")
    ]


def test_the_documented_example_imports_cleanly_through_the_page(client, importer):
    client.force_login(importer)
    data = (EXAMPLES / "therapists.jsonl").read_bytes()
    response = client.post(URL, {"file_format": "jsonl", "file": _upload("therapists.jsonl", data)})
    assert response.status_code == 200
    assert "3 rows: 3 created, 0 updated, 0 failed." in response.content.decode()


def test_a_reviewer_who_imports_can_mark_the_rows_verified(client):
    reviewer = make_user(role="staff", mfa=True, permissions=IMPORT + REVIEW)
    client.force_login(reviewer)
    assert 'name="verified"' in client.get(URL).content.decode()

    response = client.post(
        URL,
        {
            "file_format": "csv",
            "verified": "on",
            "file": _upload("a.csv", csv_file(row()).getvalue()),
        },
    )

    assert response.status_code == 200
    assert TherapistProfile.objects.get().verification_status == "verified"
    assert VerificationDecision.objects.get().reviewer == reviewer


def test_the_verified_box_is_ignored_for_importers_who_are_not_reviewers(client, importer):
    client.force_login(importer)
    response = client.post(
        URL,
        {
            "file_format": "csv",
            "verified": "on",
            "file": _upload("a.csv", csv_file(row()).getvalue()),
        },
    )
    assert "1 row: 1 created" in response.content.decode(), response.content.decode()[-3000:]
    assert TherapistProfile.objects.get().verification_status == "pending"
    assert VerificationDecision.objects.count() == 0


def test_a_file_over_the_cap_is_refused_at_the_field_and_nothing_is_written(
    client, importer, settings
):
    settings.THERAPIST_IMPORT_MAX_UPLOAD_BYTES = 2048
    client.force_login(importer)
    data = csv_file(row(about="x" * 5000)).getvalue()

    response = client.post(URL, {"file_format": "csv", "file": _upload("big.csv", data)})

    assert response.status_code == 400
    page = response.content.decode()
    assert "The file is larger than 0 MB" not in page
    assert "The file is larger than" in page
    assert 'id="id_file-error">The file is larger than' in page
    assert 'aria-invalid="true"' in page
    assert TherapistProfile.objects.count() == 0


def test_a_file_in_another_encoding_is_refused_at_the_field(client, importer):
    client.force_login(importer)
    data = csv_file(row(display_name="Zoë")).getvalue().decode().encode("latin-1")
    response = client.post(URL, {"file_format": "csv", "file": _upload("a.csv", data)})
    assert response.status_code == 400
    assert "The file is not UTF-8 text (line 2" in response.content.decode()
    assert TherapistProfile.objects.count() == 0


def test_no_file_is_a_message_at_the_field(client, importer):
    client.force_login(importer)
    response = client.post(URL, {"file_format": "csv"})
    assert response.status_code == 400
    assert 'id="id_file-error">This field is required.' in response.content.decode()


def test_the_page_needs_the_csrf_token(importer):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(importer)
    response = strict.post(URL, {"file_format": "csv", "file": io.BytesIO(b"x")})
    assert response.status_code == 403
    assert TherapistProfile.objects.count() == 0


def test_an_upload_kept_on_disk_imports_as_one_kept_in_memory(client, importer, settings):
    # Uploads over FILE_UPLOAD_MAX_MEMORY_SIZE arrive as temporary files.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100
    client.force_login(importer)
    data = (EXAMPLES / "therapists.csv").read_bytes()
    response = client.post(URL, {"file_format": "csv", "file": _upload("therapists.csv", data)})
    assert response.status_code == 200
    assert "3 rows: 3 created, 0 updated, 0 failed." in response.content.decode()
