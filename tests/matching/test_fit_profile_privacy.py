"""A fit profile is health data: encrypted at rest, in the person's export as they answered it,
masked in the audit log, and gone with their account (and only theirs)."""

from __future__ import annotations

import json

import pytest
from auditlog.models import LogEntry
from django.db import connection

from rapport.accounts.selectors import account_export_data
from rapport.accounts.services import account_delete
from rapport.core.crypto import decrypt
from rapport.core.privacy import erasure_steps, export_sections
from rapport.matching.models import FitProfile
from tests.factories import make_user
from tests.matching.factories import fit_profile

pytestmark = pytest.mark.usefixtures("reference_data")

STORY = "My father died in March and I cannot stop replaying the hospital."


@pytest.fixture
def profile() -> FitProfile:
    return fit_profile(
        story=STORY,
        hopes="To talk about him without falling apart.",
        concerns=["grief"],
        preferences={"language": {"weight": 2, "values": ["fr"]}},
        budget_per_session=130,
    )


def _raw_answers(profile: FitProfile) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers FROM matching_fitprofile WHERE id = %s", [profile.pk])
        (raw,) = cursor.fetchone()
    return str(raw)


def test_the_answers_are_encrypted_at_rest(profile):
    raw = _raw_answers(profile)
    assert "hospital" not in raw
    assert "grief" not in raw
    assert json.loads(decrypt(raw))["story"] == STORY


def test_the_audit_log_never_holds_the_answers(profile):
    logged = json.dumps([entry.changes for entry in LogEntry.objects.all()], default=str)
    assert "hospital" not in logged
    assert "grief" not in logged
    assert LogEntry.objects.filter(content_type__model="fitprofile").exists()


def test_the_export_holds_the_whole_answers_document(profile):
    section = account_export_data(user=profile.owner)["fit_profile"]
    assert section["id"] == str(profile.public_id)
    assert section["answers"]["story"] == STORY
    assert section["answers"]["hopes"] == "To talk about him without falling apart."
    assert section["answers"]["concerns"] == ["grief"]
    assert section["answers"]["preferences"] == {"language": {"weight": 2, "values": ["fr"]}}
    assert section["answers"]["budget_per_session"] == 130
    assert section["created_at"] == profile.created_at.isoformat()
    assert section["updated_at"] == profile.updated_at.isoformat()
    # The export is JSON as it stands.
    json.dumps(section)


def test_someone_without_a_profile_exports_none_and_sees_nobody_elses(profile):
    assert account_export_data(user=make_user())["fit_profile"] is None


def test_deleting_the_account_leaves_no_fit_profile_row_and_keeps_others(profile):
    other = fit_profile(story="Someone else's words.")
    owner_id = profile.owner_id
    account_delete(user=profile.owner)
    assert not FitProfile.objects.filter(owner_id=owner_id).exists()
    assert not FitProfile.objects.filter(pk=profile.pk).exists()
    assert FitProfile.objects.filter(pk=other.pk).exists()


def test_the_erasure_step_deletes_the_profile_by_itself(profile):
    # Not only through the account row's cascade: the step runs before the account goes.
    erasure_steps()["fit_profile"](profile.owner)
    assert not FitProfile.objects.filter(pk=profile.pk).exists()
    assert "fit_profile" in export_sections()


def test_answers_kept_in_a_session_are_encrypted_in_the_session_table() -> None:
    from django.contrib.sessions.models import Session
    from django.test import Client
    from django.urls import reverse

    client = Client()
    response = client.post(
        reverse("matching:question", args=["story"]),
        {"story": STORY, "concerns": ["grief"]},
    )
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        rows = [str(row[0]) for row in cursor.fetchall()]
    assert rows
    # Django signs and base64-encodes session data without encrypting it: decoded, the row
    # holds only a token, never the words or the concern.
    decoded = [
        Session.objects.get(session_key=key).get_decoded()
        for key in Session.objects.values_list("session_key", flat=True)
    ]
    kept = [data["matching_answers"] for data in decoded if "matching_answers" in data]
    assert len(kept) == 1
    assert STORY not in json.dumps(decoded)
    assert "grief" not in json.dumps(decoded)
    assert json.loads(decrypt(kept[0]))["story"] == STORY
