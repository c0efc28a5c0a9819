"""Bulk import: the documented examples import cleanly, a re-import updates instead of
duplicating, and every kind of bad input is reported at its line and field with nothing of that
row written, while the good rows land."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from rapport.accounts.models import User
from rapport.booking.models import WeeklyWindow
from rapport.directory.importing import ImportReport, therapists_import
from rapport.directory.models import (
    Licence,
    Office,
    SearchIndexVersion,
    TherapistProfile,
    VerificationDecision,
)
from rapport.directory.selectors import therapist_listing
from tests.factories import make_therapist, make_user

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
REVIEW = ("directory.review_licences",)


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the taxonomies and credentials."""


def row(**overrides: Any) -> dict[str, Any]:
    """A complete, valid row (CSV column names) for an Ontario RP in Toronto."""
    values = {
        "external_id": "practice-1",
        "email": "ada.north@practice.example",
        "display_name": "Ada North",
        "designation": "RP",
        "practice_start_year": "2014",
        "fee": "140.00",
        "currency": "CAD",
        "time_zone": "America/Toronto",
        "languages": "en",
        "concerns": "anxiety;grief",
        "licence_1_jurisdiction": "CA-ON",
        "licence_1_regulator": "CRPO",
        "licence_1_number": "12345",
        "office_1_street_address": "100 Queen St W",
        "office_1_city": "Toronto",
        "office_1_jurisdiction": "CA-ON",
        "office_1_postal_code": "M5H 2N2",
        "availability": "mon 09:00-12:00; wed 13:00-17:00",
    }
    values.update(overrides)
    return values


def csv_file(*rows: dict[str, Any]) -> io.BytesIO:
    columns: list[str] = []
    for values in rows:
        columns += [name for name in values if name not in columns]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return io.BytesIO(text.getvalue().encode())


def import_csv(*rows: dict[str, Any], **options: Any) -> ImportReport:
    return therapists_import(source=csv_file(*rows), file_format="csv", **options)


def problems(report: ImportReport) -> list[tuple[int, str]]:
    return [(problem.line, problem.field) for problem in report.problems]


def messages(report: ImportReport) -> str:
    return " | ".join(problem.message for problem in report.problems)


# --- the documented examples -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "file_format"), [("therapists.csv", "csv"), ("therapists.jsonl", "jsonl")]
)
def test_the_documented_example_imports_cleanly_with_every_part(name, file_format):
    report = therapists_import(
        source=io.BytesIO((EXAMPLES / name).read_bytes()), file_format=file_format
    )

    assert report.problems == [], [str(problem) for problem in report.problems]
    assert (report.created, report.updated, report.failed) == (3, 0, 0)
    amara = TherapistProfile.objects.get(external_id="riverside-0001")
    assert (amara.display_name, amara.fee_minor, amara.sliding_scale_min_minor) == (
        "Amara Okafor",
        15000,
        9000,
    )
    assert (amara.currency, amara.time_zone, amara.style_humour) == ("CAD", "America/Toronto", 4)
    assert sorted(amara.concerns.values_list("slug", flat=True)) == [
        "anxiety",
        "life-transitions",
        "stress",
    ]
    assert sorted(amara.languages.values_list("slug", flat=True)) == ["en", "fr"]
    assert amara.about.startswith("I work with adults who feel stretched thin")
    assert "\n" in amara.about
    licence = amara.licences.get()
    assert (licence.jurisdiction_id, licence.regulator.abbreviation, licence.number) == (
        "CA-ON",
        "CRPO",
        "004512",
    )
    office = amara.offices.get()
    assert (office.city, office.postal_code, office.time_zone) == (
        "Toronto",
        "M5H 2N2",
        "America/Toronto",
    )
    assert round(office.latitude) == 44
    assert round(office.longitude) == -79
    assert sorted(office.accessibility_features.values_list("slug", flat=True)) == [
        "accessible-washroom",
        "elevator",
        "step-free",
    ]
    windows = [
        (window.weekday, f"{window.starts_at:%H:%M}", f"{window.ends_at:%H:%M}")
        for window in WeeklyWindow.objects.filter(therapist=amara).order_by("weekday", "starts_at")
    ]
    assert windows == [
        (0, "09:00", "12:00"),
        (0, "13:00", "17:00"),
        (2, "12:00", "20:00"),
        (4, "09:00", "13:00"),
    ]
    jonah = TherapistProfile.objects.get(external_id="riverside-0002")
    assert sorted(jonah.licences.values_list("jurisdiction_id", "number")) == [
        ("CA-BC", "13579"),
        ("CA-ON", "823456"),
    ]
    assert jonah.offices.count() == 2
    maya = TherapistProfile.objects.get(external_id="riverside-0003")
    assert (maya.offers_in_person, maya.currency, maya.identifies_as_lgbtq2s) == (
        False,
        "USD",
        True,
    )


def test_csv_and_json_lines_examples_describe_the_same_listings():
    therapists_import(
        source=io.BytesIO((EXAMPLES / "therapists.csv").read_bytes()), file_format="csv"
    )
    from_csv = list(TherapistProfile.objects.order_by("external_id").values())

    report = therapists_import(
        source=io.BytesIO((EXAMPLES / "therapists.jsonl").read_bytes()), file_format="jsonl"
    )

    assert (report.created, report.updated, report.failed) == (0, 3, 0)
    from_json = list(TherapistProfile.objects.order_by("external_id").values())
    ignore = {"updated_at"}
    assert [{k: v for k, v in item.items() if k not in ignore} for item in from_json] == [
        {k: v for k, v in item.items() if k not in ignore} for item in from_csv
    ]


# --- what a new listing is -------------------------------------------------------------------


def test_a_new_listing_waits_for_review_with_an_invited_therapist_account(
    django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=True):
        report = import_csv(row())

    assert report.created == 1
    therapist = TherapistProfile.objects.get(external_id="practice-1")
    assert therapist.verification_status == "pending"
    assert therapist.submitted_for_review_at is None
    assert not therapist_listing(now=timezone.now()).filter(pk=therapist.pk).exists()
    account = therapist.user
    assert account is not None
    assert (account.email, account.role, account.name) == (
        "ada.north@practice.example",
        "therapist",
        "Ada North",
    )
    assert not account.has_usable_password()
    assert EmailAddress.objects.filter(user=account, verified=True, primary=True).count() == 1

    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["ada.north@practice.example"]
    assert invitation.subject == "[Rapport] Your practice listed you on Rapport: claim your listing"
    assert "http://127.0.0.1:8000/practice/profile/" in invitation.body
    assert "Submit it: we check your licence" in invitation.body
    link = next(
        line.strip() for line in invitation.body.splitlines() if "/password/reset/key/" in line
    )
    # The link is allauth's own one-time password link: it opens the form to choose a password.
    response = client.get(link.removeprefix("http://127.0.0.1:8000"), follow=True)
    assert response.status_code == 200
    assert b'name="password1"' in response.content


def test_reimporting_updates_the_same_listing_and_never_duplicates(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        import_csv(row())
    first = TherapistProfile.objects.get(external_id="practice-1")

    with django_capture_on_commit_callbacks(execute=True):
        report = import_csv(
            row(
                fee="155.50",
                concerns="trauma",
                availability="tue 10:00-14:00",
                office_1_label="Main",
            )
        )

    assert (report.created, report.updated, report.failed) == (0, 1, 0)
    assert TherapistProfile.objects.count() == 1
    assert User.objects.count() == 1
    assert Licence.objects.count() == 1
    assert Office.objects.count() == 1
    therapist = TherapistProfile.objects.get()
    assert therapist.pk == first.pk
    assert therapist.user_id == first.user_id
    assert therapist.fee_minor == 15550
    assert list(therapist.concerns.values_list("slug", flat=True)) == ["trauma"]
    assert list(
        WeeklyWindow.objects.filter(therapist=therapist).values_list("weekday", flat=True)
    ) == [1]
    assert therapist.offices.get().label == "Main"
    # One invitation: an update sends none.
    assert len(mail.outbox) == 1


def test_a_column_left_out_leaves_that_field_as_it_was_on_update():
    import_csv(row(headline="Warm and practical", availability="fri 09:00-10:00"))
    values = row()
    del values["availability"]
    values.pop("concerns")

    report = import_csv(values)

    assert report.updated == 1
    therapist = TherapistProfile.objects.get()
    assert therapist.headline == "Warm and practical"
    assert sorted(therapist.concerns.values_list("slug", flat=True)) == ["anxiety", "grief"]
    assert WeeklyWindow.objects.filter(therapist=therapist).count() == 1


def test_the_search_index_version_is_bumped_once_per_import_not_per_row():
    before = SearchIndexVersion.objects.get().version

    report = import_csv(
        *[row(external_id=f"p-{n}", email=f"t{n}@practice.example") for n in range(4)]
    )

    assert report.created == 4
    assert SearchIndexVersion.objects.get().version == before + 1


def test_nothing_written_means_no_index_bump():
    before = SearchIndexVersion.objects.get().version
    report = import_csv(row(concerns="not-a-concern"))
    assert report.failed == 1
    assert SearchIndexVersion.objects.get().version == before


# --- verified by staff -----------------------------------------------------------------------


def test_rows_marked_verified_go_live_with_a_decision_each(django_capture_on_commit_callbacks):
    reviewer = make_user(role="staff", mfa=True, permissions=REVIEW)
    before = SearchIndexVersion.objects.get().version

    with django_capture_on_commit_callbacks(execute=True):
        report = import_csv(
            row(), row(external_id="practice-2", email="bo@practice.example"), verified_by=reviewer
        )

    assert (report.created, report.failed) == (2, 0)
    listed = set(therapist_listing(now=timezone.now()).values_list("external_id", flat=True))
    assert listed == {"practice-1", "practice-2"}
    decisions = VerificationDecision.objects.order_by("therapist__external_id")
    assert [(d.reviewer, d.previous_status, d.status) for d in decisions] == [
        (reviewer, "pending", "verified"),
        (reviewer, "pending", "verified"),
    ]
    assert decisions[0].licences_reviewed[0]["number"] == "12345"
    assert SearchIndexVersion.objects.get().version == before + 1
    # One e-mail per therapist: the invitation, which says the listing is verified.
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ada.north@practice.example",
        "bo@practice.example",
    ]
    assert "already verified" in mail.outbox[0].body


def test_only_licence_reviewers_can_import_rows_as_verified():
    staff = make_user(role="staff", mfa=True)
    with pytest.raises(PermissionDenied):
        import_csv(row(), verified_by=staff)
    assert TherapistProfile.objects.count() == 0


def test_a_verified_row_with_only_an_expired_licence_is_refused_whole():
    reviewer = make_user(role="staff", mfa=True, permissions=REVIEW)
    report = import_csv(row(licence_1_expires_on="2020-01-31"), verified_by=reviewer)
    assert report.failed == 1
    assert problems(report) == [(2, "licence_1_number")]
    assert "no current licence" in messages(report)
    assert TherapistProfile.objects.count() == 0
    assert User.objects.filter(role="therapist").count() == 0


def test_changed_licence_details_send_a_verified_listing_back_to_review():
    reviewer = make_user(role="staff", mfa=True, permissions=REVIEW)
    import_csv(row(), verified_by=reviewer)

    report = import_csv(row(licence_1_number="54321"))

    assert report.updated == 1
    therapist = TherapistProfile.objects.get()
    assert therapist.verification_status == "pending"
    # Back in the licence queue (not a draft), with the reason on record.
    assert therapist.submitted_for_review_at is not None
    assert therapist.licences.get().number == "54321"
    latest = VerificationDecision.objects.order_by("-decided_at").first()
    assert latest is not None
    assert (latest.reviewer, latest.previous_status, latest.status) == (None, "verified", "pending")
    assert latest.licences_reviewed[0]["number"] == "54321"


# --- bad input: a clear message at the line and field, nothing of that row written -----------


def _assert_only_good_rows_written(expected_ids: set[str]) -> None:
    assert set(TherapistProfile.objects.values_list("external_id", flat=True)) == expected_ids
    assert User.objects.filter(role="therapist").count() == len(expected_ids)


def test_an_unknown_taxonomy_slug_names_its_line_and_field():
    report = import_csv(
        row(),
        row(
            external_id="practice-2", email="bo@practice.example", modalities="cbt;made-up-therapy"
        ),
    )

    assert (report.created, report.failed) == (1, 1)
    assert problems(report) == [(3, "modalities")]
    assert '"made-up-therapy"' in messages(report)
    _assert_only_good_rows_written({"practice-1"})


def test_a_bad_time_zone_is_refused():
    report = import_csv(row(time_zone="US/Eastern"))
    assert problems(report) == [(2, "time_zone")]
    assert "US/Eastern" in messages(report)
    _assert_only_good_rows_written(set())


def test_a_duplicate_external_id_is_an_error_on_its_second_line():
    report = import_csv(row(), row(email="someone.else@practice.example"))

    assert (report.created, report.failed) == (1, 1)
    assert problems(report) == [(3, "external_id")]
    assert "already on line 2" in messages(report)
    _assert_only_good_rows_written({"practice-1"})


def test_a_missing_required_field_is_named():
    report = import_csv(row(display_name="", fee=""))
    assert sorted(problems(report)) == [(2, "display_name"), (2, "fee")]
    _assert_only_good_rows_written(set())


def test_a_missing_required_column_refuses_the_file():
    values = row()
    del values["currency"]
    report = import_csv(values)
    assert report.refused
    assert "currency" in report.file_problems[0]
    _assert_only_good_rows_written(set())


def test_an_unknown_column_refuses_the_file_with_a_suggestion():
    values = row()
    values["concern"] = values.pop("concerns")
    report = import_csv(values)
    assert report.refused
    assert report.file_problems == [
        'Unknown column "concern" (did you mean "concerns"?). docs/import-format.md lists every '
        "column."
    ]
    _assert_only_good_rows_written(set())


def test_a_csv_line_with_the_wrong_number_of_values_fails_alone():
    source = csv_file(row(), row(external_id="practice-2", email="bo@practice.example"))
    text = source.getvalue().decode().splitlines()
    text.insert(2, "only,three,values")
    report = therapists_import(source=io.BytesIO("\n".join(text).encode()), file_format="csv")
    assert (report.created, report.failed) == (2, 1)
    assert problems(report) == [(3, "")]
    assert "has 3 values but the header has" in messages(report)


def test_a_broken_csv_quote_is_reported_at_its_line():
    source = csv_file(row())
    text = source.getvalue().decode() + 'broken,"unterminated\n'
    report = therapists_import(source=io.BytesIO(text.encode()), file_format="csv")
    assert report.created == 1
    assert report.failed == 1
    assert report.problems[0].line == 3
    assert "cannot be read as CSV" in messages(report)


def test_a_malformed_json_line_fails_alone():
    good = {**_json_row(), "external_id": "j-1"}
    lines = [json.dumps(good), '{"external_id": "j-2", "email": ', "[1, 2]", ""]
    report = therapists_import(source=io.BytesIO("\n".join(lines).encode()), file_format="jsonl")

    assert (report.created, report.failed) == (1, 2)
    assert problems(report) == [(2, ""), (3, "")]
    assert "not valid JSON" in report.problems[0].message
    assert "one JSON object" in report.problems[1].message


def _json_row() -> dict[str, Any]:
    return {
        "external_id": "j-1",
        "email": "j@practice.example",
        "display_name": "Jo Park",
        "designation": "RP",
        "practice_start_year": 2010,
        "fee": "120.00",
        "currency": "CAD",
        "time_zone": "America/Toronto",
        "languages": ["en"],
        "licences": [{"jurisdiction": "CA-ON", "regulator": "CRPO", "number": "55555"}],
        "availability": [{"weekday": "monday", "starts_at": "09:00", "ends_at": "12:00"}],
    }


def test_json_fields_are_named_by_their_path():
    values = _json_row()
    values["licences"] = [{"jurisdiction": "CA-ON", "regulator": "CRPO", "number": "12"}]
    values["concerns"] = ["anxiety", "nope"]
    values["colour"] = "blue"
    report = therapists_import(source=io.BytesIO(json.dumps(values).encode()), file_format="jsonl")
    assert sorted(problems(report)) == [(1, "colour")]
    del values["colour"]
    report = therapists_import(source=io.BytesIO(json.dumps(values).encode()), file_format="jsonl")
    assert sorted(problems(report)) == [(1, "concerns"), (1, "licences[0].number")]
    assert "CRPO registration number" in messages(report)


def test_a_file_in_another_encoding_is_refused_before_anything_is_written():
    text = csv_file(
        row(), row(external_id="practice-2", email="bo@practice.example", display_name="Zoë Côté")
    )
    latin = text.getvalue().decode().encode("latin-1")
    report = therapists_import(source=io.BytesIO(latin), file_format="csv")
    assert report.refused
    assert report.file_problems[0].startswith("The file is not UTF-8 text (line 3 ")
    _assert_only_good_rows_written(set())


def test_a_byte_order_mark_is_accepted():
    data = b"\xef\xbb\xbf" + csv_file(row()).getvalue()
    report = therapists_import(source=io.BytesIO(data), file_format="csv")
    assert report.created == 1


def test_a_file_over_the_cap_is_refused():
    source = csv_file(row())
    report = therapists_import(source=source, file_format="csv", max_bytes=100)
    assert report.refused
    assert "larger than" in report.file_problems[0]
    _assert_only_good_rows_written(set())


def test_overlapping_availability_is_refused_and_nothing_of_the_row_is_written():
    report = import_csv(row(availability="mon 09:00-12:00; mon 11:00-13:00"))
    assert problems(report) == [(2, "availability")]
    overlap = "Monday 9:00 a.m. to 12:00 p.m. overlaps Monday 11:00 a.m. to 1:00 p.m."
    assert overlap in messages(report)
    _assert_only_good_rows_written(set())
    assert WeeklyWindow.objects.count() == 0


def test_bad_availability_text_is_explained():
    report = import_csv(row(availability="monday 9-5; funday 09:00-10:00; tue 12:00-11:00"))
    assert [problem.field for problem in report.problems] == ["availability"] * 3


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"fee": "0"}, "fee", "Enter your fee"),
        ({"fee": "5000.00"}, "fee", "are not accepted"),
        ({"fee": "120,00"}, "fee", "is not an amount"),
        ({"fee": "100.00", "sliding_scale_min": "120.00"}, "sliding_scale_min", "above your full"),
        ({"licence_1_number": "12AB"}, "licence_1_number", "CRPO registration number"),
        ({"licence_1_regulator": "CPSO"}, "licence_1_regulator", 'No regulator "CPSO"'),
        ({"licence_1_jurisdiction": "CA-XX"}, "licence_1_jurisdiction", "not a province"),
        ({"office_1_postal_code": "V6B 1A1"}, "office_1_postal_code", ""),
        # Ottawa's Parliament Hill code, for the Toronto office of the row: same province.
        ({"office_1_postal_code": "K1A 0A6"}, "office_1_postal_code", "km from Toronto"),
        ({"office_1_city": "Atlantis"}, "office_1_city", "could not find Atlantis"),
        ({"designation": "Guru"}, "designation", "Unknown designation"),
        ({"practice_start_year": "1900"}, "practice_start_year", "between 1950"),
        ({"style_humour": "9"}, "style_humour", "from 1"),
        ({"offers_video": "maybe"}, "offers_video", '"yes" or "no"'),
        ({"gender_category": "wizard"}, "gender_category", "Use one of"),
        ({"email": "not-an-address"}, "email", "is not an e-mail address"),
        ({"languages": ""}, "languages", "at least one"),
        ({"office_1_accessibility_features": "moat"}, "office_1_accessibility_features", "moat"),
    ],
)
def test_each_rule_is_reported_at_its_field(overrides, field, words):
    report = import_csv(row(**overrides))
    assert report.failed == 1
    assert field in [problem.field for problem in report.problems], report.problems
    assert words in messages(report)
    _assert_only_good_rows_written(set())


def test_a_row_without_any_licence_is_refused():
    values = {key: value for key, value in row().items() if not key.startswith("licence_")}
    report = import_csv(values)
    assert problems(report) == [(2, "licence_1_number")]


def test_an_address_that_already_has_an_account_is_refused():
    make_user(role="client", email="Ada.North@practice.example")
    report = import_csv(row())
    assert problems(report) == [(2, "email")]
    assert "already exists" in messages(report)
    assert TherapistProfile.objects.count() == 0


def test_a_listing_made_elsewhere_is_never_taken_over_by_its_external_id():
    existing = make_therapist(
        external_id="practice-1", user=make_user(role="therapist", email="x@y.example")
    )
    report = import_csv(row())
    assert problems(report) == [(2, "email")]
    assert "uses another address" in messages(report)
    existing.refresh_from_db()
    assert existing.fee_minor == 15000


# --- the command -----------------------------------------------------------------------------


def test_the_command_imports_and_reports(tmp_path, capsys):
    from django.core.management import CommandError, call_command

    path = tmp_path / "roster.csv"
    path.write_bytes(
        csv_file(row(), row(external_id="bad", email="b@p.example", fee="x")).getvalue()
    )

    with pytest.raises(CommandError) as failed:
        call_command("import_therapists", str(path))

    assert failed.value.returncode == 1
    output = capsys.readouterr()
    assert "1 row not imported" in str(failed.value)
    assert "line 3, fee:" in output.err
    assert "2 rows: 1 created, 0 updated, 1 failed." in output.out
    assert TherapistProfile.objects.get().external_id == "practice-1"


def test_the_command_needs_a_reviewer_for_verified_rows(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "roster.jsonl"
    path.write_text(json.dumps(_json_row()) + "\n")
    with pytest.raises(CommandError, match="--reviewer"):
        call_command("import_therapists", str(path), "--verified")
    reviewer = make_user(role="staff", mfa=True, permissions=REVIEW, email="rev@rapport.example")
    call_command("import_therapists", str(path), "--verified", "--reviewer", "rev@rapport.example")
    assert TherapistProfile.objects.get().verification_status == "verified"
    assert VerificationDecision.objects.get().reviewer == reviewer


def test_the_command_refuses_a_bad_file_with_its_reasons(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "roster.csv"
    path.write_bytes("name\nZoë\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_therapists", str(path))


def test_the_row_helper_is_a_valid_row_on_its_own():
    assert import_csv(row()).ok


# --- the format document ---------------------------------------------------------------------


def test_the_format_document_describes_every_field_and_the_csv_example_uses_them_all():
    from rapport.directory.importing.columns import LICENCE_KEYS, OFFICE_KEYS, PROFILE_COLUMNS
    from rapport.directory.importing.parts import import_part_fields

    document = (EXAMPLES.parent / "import-format.md").read_text()
    top_level = [column.name for column in PROFILE_COLUMNS] + list(import_part_fields())
    for name in [*top_level, *LICENCE_KEYS, *OFFICE_KEYS]:
        assert f"| `{name}` |" in document, name
    header = (EXAMPLES / "therapists.csv").read_text().splitlines()[0].split(",")
    grouped = {f"licence_1_{key}" for key in LICENCE_KEYS} | {
        f"office_1_{key}" for key in OFFICE_KEYS
    }
    assert set(top_level) | grouped <= set(header)


def test_an_empty_office_list_removes_the_offices_and_in_person_sessions():
    import_csv(row())
    values = _json_row()
    values.update(external_id="practice-1", email="ada.north@practice.example", offices=[])
    report = therapists_import(source=io.BytesIO(json.dumps(values).encode()), file_format="jsonl")
    assert report.updated == 1
    therapist = TherapistProfile.objects.get()
    assert therapist.offices.count() == 0
    assert therapist.offers_in_person is False


def test_a_listing_added_meanwhile_by_another_import_is_reported_not_duplicated():
    def another_import_adds_the_second_row(report: ImportReport) -> None:
        if report.rows == 1:
            make_therapist(external_id="practice-2")

    report = therapists_import(
        source=csv_file(row(), row(external_id="practice-2", email="bo@practice.example")),
        file_format="csv",
        progress=another_import_adds_the_second_row,
    )

    assert (report.created, report.failed) == (1, 1)
    assert problems(report) == [(3, "external_id")]
    assert "Another import added this listing" in messages(report)
    assert TherapistProfile.objects.filter(external_id="practice-2").count() == 1
    assert not User.objects.filter(email="bo@practice.example").exists()


def test_reimporting_an_unchanged_row_rewrites_nothing():
    import_csv(row(office_1_accessibility_features="step-free;elevator"))
    therapist = TherapistProfile.objects.get()
    office_ids = list(Office.objects.values_list("pk", flat=True))
    window_ids = list(WeeklyWindow.objects.values_list("pk", flat=True))

    report = import_csv(row(office_1_accessibility_features="elevator;step-free"))

    assert report.updated == 1
    assert TherapistProfile.objects.get().updated_at == therapist.updated_at
    assert list(Office.objects.values_list("pk", flat=True)) == office_ids
    assert list(WeeklyWindow.objects.values_list("pk", flat=True)) == window_ids


def test_a_json_line_over_the_bound_fails_alone_without_being_read_whole():
    from rapport.directory.importing.reading import MAX_LINE_CHARACTERS

    huge = json.dumps({**_json_row(), "external_id": "j-2", "about": "x" * MAX_LINE_CHARACTERS})
    lines = [json.dumps(_json_row()), huge, ""]
    report = therapists_import(source=io.BytesIO("\n".join(lines).encode()), file_format="jsonl")
    assert (report.created, report.failed) == (1, 1)
    assert problems(report) == [(2, "")]
    assert "longer than 400,000 characters" in messages(report)


def test_a_csv_cell_over_the_bound_is_reported():
    source = csv_file(
        row(), row(external_id="p-2", email="b@practice.example", about="x" * 200_000)
    )
    report = therapists_import(source=source, file_format="csv")
    assert report.created == 1
    assert report.failed == 1
    assert "cannot be read as CSV" in messages(report)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_committed_for_real_a_row_failing_half_way_leaves_no_trace():
    """Rows are committed in groups, each row in its own savepoint: outside the test's own
    transaction, the good rows are in the database and invited, and the row that failed after
    much of it was written (its only licence has expired, so it cannot be verified) left
    nothing."""
    reviewer = make_user(role="staff", mfa=True, permissions=REVIEW)
    report = import_csv(
        row(),
        row(external_id="bad", email="bad@practice.example", licence_1_expires_on="2020-01-31"),
        row(external_id="practice-3", email="cy@practice.example"),
        verified_by=reviewer,
    )

    assert (report.created, report.failed) == (2, 1)
    assert problems(report) == [(3, "licence_1_number")]
    assert set(TherapistProfile.objects.values_list("external_id", flat=True)) == {
        "practice-1",
        "practice-3",
    }
    assert not User.objects.filter(email="bad@practice.example").exists()
    assert WeeklyWindow.objects.count() == 4
    assert Licence.objects.count() == 2
    assert VerificationDecision.objects.count() == 2
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ada.north@practice.example",
        "cy@practice.example",
    ]
