"""Licence review: only reviewers decide, every decision is recorded, and it takes effect now."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.directory.models import VerificationDecision, VerificationStatus
from rapport.directory.search.engine.current import read_version_next_time
from rapport.directory.selectors import therapist_listing
from rapport.directory.services import StaleDecision, therapist_verification_decide
from tests.factories import make_therapist, make_user

pytestmark = pytest.mark.django_db

REVIEW = ("directory.review_licences",)


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every test here needs the credentials."""


@pytest.fixture
def reviewer():
    return make_user(role="staff", mfa=True, permissions=REVIEW)


@pytest.fixture
def pending():
    therapist_account = make_user(role="therapist", mfa=True, email="new.therapist@example.org")
    return make_therapist(
        display_name="Pending Person",
        verification_status=VerificationStatus.PENDING,
        verification_decided_at=None,
        user=therapist_account,
    )


def _listed_names():
    return list(therapist_listing(now=timezone.now()).values_list("display_name", flat=True))


def test_verifying_lists_the_therapist_and_records_the_licence_as_reviewed(
    reviewer, pending, django_capture_on_commit_callbacks
):
    assert "Pending Person" not in _listed_names()

    with django_capture_on_commit_callbacks(execute=True):
        decision = therapist_verification_decide(
            therapist=pending, reviewer=reviewer, status="verified", reason=""
        )

    assert "Pending Person" in _listed_names()
    pending.refresh_from_db()
    assert pending.verification_status == "verified"
    assert pending.verification_decided_by == reviewer
    assert pending.verification_decided_at == decision.decided_at
    assert (decision.previous_status, decision.status) == ("pending", "verified")
    licence = pending.licences.get()
    assert decision.licences_reviewed == [
        {
            "jurisdiction": "CA-ON",
            "designation": "RP",
            "regulator": "College of Registered Psychotherapists of Ontario",
            "number": licence.number,
            "expires_on": None,
        }
    ]
    assert [message.to for message in mail.outbox] == [["new.therapist@example.org"]]
    assert mail.outbox[0].subject == "[Rapport] Your licence is verified: your listing is live"


def test_suspending_hides_the_listing_and_profile_at_once(reviewer, client):
    therapist = make_therapist(display_name="Listed Person")
    profile_url = reverse("directory:therapist_detail", args=[therapist.public_id])
    assert client.get(profile_url).status_code == 200

    therapist_verification_decide(
        therapist=therapist,
        reviewer=reviewer,
        status="suspended",
        reason="Licence lapsed on the regulator's register.",
    )

    assert "Listed Person" not in _listed_names()
    assert client.get(profile_url).status_code == 404
    therapist.refresh_from_db()
    assert therapist.verification_reason == "Licence lapsed on the regulator's register."


def test_a_refusal_needs_a_reason_and_nothing_is_written_without_one(reviewer, pending):
    with pytest.raises(ValidationError) as error:
        therapist_verification_decide(
            therapist=pending, reviewer=reviewer, status="rejected", reason="  no  "
        )
    assert error.value.message_dict == {
        "reason": ["Give the therapist a reason they can act on (at least 10 characters)."]
    }
    assert VerificationDecision.objects.count() == 0
    pending.refresh_from_db()
    assert pending.verification_status == "pending"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("pending", "Choose verify, reject or suspend."),
        ("suspended", "Only a verified therapist can be suspended."),
    ],
)
def test_decisions_that_make_no_sense_are_refused(reviewer, pending, status, message):
    with pytest.raises(ValidationError) as error:
        therapist_verification_decide(
            therapist=pending, reviewer=reviewer, status=status, reason="A reason long enough."
        )
    assert error.value.message_dict == {"status": [message]}
    assert VerificationDecision.objects.count() == 0


def test_deciding_the_current_status_again_is_refused(reviewer):
    therapist = make_therapist()
    with pytest.raises(ValidationError) as error:
        therapist_verification_decide(
            therapist=therapist, reviewer=reviewer, status="verified", reason=""
        )
    assert error.value.message_dict == {"status": ["This therapist is already verified."]}


@pytest.mark.parametrize(
    "who",
    [
        {"role": "client"},
        {"role": "therapist", "mfa": True},
        {"role": "staff", "mfa": True},  # staff, but not a licence reviewer
        {"role": "staff", "mfa": True, "permissions": REVIEW, "is_active": False},
    ],
    ids=["client", "therapist", "staff-without-permission", "inactive-reviewer"],
)
def test_only_active_licence_reviewers_can_decide(pending, who):
    person = make_user(**who)
    with pytest.raises(PermissionDenied):
        therapist_verification_decide(
            therapist=pending, reviewer=person, status="verified", reason=""
        )
    pending.refresh_from_db()
    assert pending.verification_status == "pending"
    assert VerificationDecision.objects.count() == 0


# --- the staff pages -----------------------------------------------------------------------


def test_reviewer_sees_the_queue_and_decides_on_the_page(reviewer, pending, client):
    client.force_login(reviewer)
    queue = client.get(reverse("directory:verification_queue"))
    assert queue.status_code == 200
    assert "Pending Person" in queue.content.decode()

    detail_url = reverse("directory:verification_detail", args=[pending.public_id])
    page = client.get(detail_url)
    assert pending.licences.get().number in page.content.decode()

    response = client.post(detail_url, {"status": "verified", "reason": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:verification_queue")
    pending.refresh_from_db()
    assert pending.verification_status == "verified"


def test_the_decision_page_shows_what_is_wrong_and_writes_nothing(reviewer, pending, client):
    client.force_login(reviewer)
    detail_url = reverse("directory:verification_detail", args=[pending.public_id])
    response = client.post(detail_url, {"status": "rejected", "reason": ""})
    assert response.status_code == 400
    assert "Give the therapist a reason they can act on" in response.content.decode()
    assert VerificationDecision.objects.count() == 0


# --- the API -------------------------------------------------------------------------------


def test_api_decision_records_and_returns_it(reviewer, pending):
    client = Client()
    client.force_login(reviewer)
    url = f"/api/v1/staff/verification/{pending.public_id}/decisions"
    response = client.post(
        url,
        data=json.dumps({"status": "rejected", "reason": "Number not on the CRPO register."}),
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["previous_status"], body["status"]) == ("pending", "rejected")
    assert body["reviewer_email"] == reviewer.email
    review = client.get(f"/api/v1/staff/verification/{pending.public_id}").json()
    assert review["verification_status"] == "rejected"
    assert [decision["reason"] for decision in review["decisions"]] == [
        "Number not on the CRPO register."
    ]


def test_api_bad_decision_is_a_problem_document_and_writes_nothing(reviewer, pending):
    client = Client()
    client.force_login(reviewer)
    url = f"/api/v1/staff/verification/{pending.public_id}/decisions"

    short = client.post(
        url, data=json.dumps({"status": "rejected"}), content_type="application/json"
    )
    malformed = client.post(url, data="{not json", content_type="application/json")
    wrong_type = client.post(url, data=json.dumps({"status": 5}), content_type="application/json")

    for response in (short, malformed, wrong_type):
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["title"] == "Invalid request"
    assert short.json()["errors"] == [
        {
            "field": "reason",
            "message": "Give the therapist a reason they can act on (at least 10 characters).",
        }
    ]
    assert VerificationDecision.objects.count() == 0


def test_api_post_without_csrf_token_is_refused(reviewer, pending):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    response = client.post(
        f"/api/v1/staff/verification/{pending.public_id}/decisions",
        data=json.dumps({"status": "verified"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert VerificationDecision.objects.count() == 0


def test_api_requires_sign_in_with_a_problem_document(pending):
    response = Client().get(f"/api/v1/staff/verification/{pending.public_id}")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not signed in",
        "status": 401,
        "detail": "Sign in to use this endpoint.",
    }


# --- review findings: permission without MFA, licences, stale decisions, mail, API errors ---


def test_a_client_role_account_given_the_review_permission_must_set_up_mfa(pending):
    holder = make_user(role="client", permissions=REVIEW)  # no authenticator
    client = Client()
    client.force_login(holder)

    page = client.get(reverse("directory:verification_queue"))
    api = client.get(f"/api/v1/staff/verification/{pending.public_id}")

    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/2fa/totp/activate/")
    assert api.status_code == 403
    assert api.json()["title"] == "Two-factor authentication required"


@pytest.mark.parametrize("expired", [True, False], ids=["expired-licence", "no-licence"])
def test_verifying_needs_a_current_licence(reviewer, pending, expired):
    licence = pending.licences.get()
    if expired:
        licence.expires_on = timezone.now().date().replace(year=2020)
        licence.save()
    else:
        licence.delete()
    with pytest.raises(ValidationError) as error:
        therapist_verification_decide(
            therapist=pending, reviewer=reviewer, status="verified", reason=""
        )
    assert error.value.message_dict == {
        "status": ["There is no current licence to verify: add or renew one first."]
    }
    assert "Pending Person" not in _listed_names()


def test_a_decision_on_a_status_someone_else_changed_meanwhile_is_refused(reviewer, pending):
    other = make_user(role="staff", mfa=True, permissions=REVIEW)
    therapist_verification_decide(
        therapist=pending, reviewer=other, status="rejected", reason="Not on the register."
    )
    with pytest.raises(StaleDecision) as conflict:
        therapist_verification_decide(
            therapist=pending,
            reviewer=reviewer,
            status="verified",
            reason="",
            expected_status="pending",
        )
    assert "it is now rejected" in str(conflict.value)
    pending.refresh_from_db()
    assert pending.verification_status == "rejected"

    client = Client()
    client.force_login(reviewer)
    api = client.post(
        f"/api/v1/staff/verification/{pending.public_id}/decisions",
        data=json.dumps({"status": "verified", "expected_status": "pending"}),
        content_type="application/json",
    )
    assert api.status_code == 409
    assert api["Content-Type"] == "application/problem+json"
    page = client.post(
        reverse("directory:verification_detail", args=[pending.public_id]),
        {"status": "verified", "reason": "", "expected_status": "pending"},
    )
    assert page.status_code == 409
    assert "Another reviewer decided on this therapist" in page.content.decode()


def test_a_mail_server_that_is_down_does_not_break_a_recorded_decision(
    reviewer, pending, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.directory.failing_mail.FailingBackend"
    client = Client()
    client.force_login(reviewer)

    # The e-mail is queued after commit and sent by the task worker (run at once in tests):
    # its failure is the task's, not the request's.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("directory:verification_detail", args=[pending.public_id]),
            {"status": "verified", "reason": "", "expected_status": "pending"},
        )

    # The e-mail's, beside the search's re-read of its version (read_version_next_time).
    assert len([queued for queued in callbacks if queued is not read_version_next_time]) == 1
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.verification_status == "verified"
    assert mail.outbox == []


def test_api_errors_outside_handlers_are_problem_documents(reviewer, pending):
    client = Client()
    client.force_login(reviewer)
    oversized = client.post(
        f"/api/v1/staff/verification/{pending.public_id}/decisions",
        data=json.dumps({"status": "rejected", "reason": "x" * 3_000_000}),
        content_type="application/json",
    )
    unknown = client.get("/api/v1/no-such-endpoint")
    wrong_method = client.put("/api/v1/me")

    assert (oversized.status_code, oversized.json()["title"]) == (400, "Invalid request")
    assert (unknown.status_code, unknown.json()["title"]) == (404, "Not found")
    assert (wrong_method.status_code, wrong_method.json()["title"]) == (405, "Method not allowed")
    for response in (oversized, unknown, wrong_method):
        assert response["Content-Type"] == "application/problem+json"
    assert VerificationDecision.objects.count() == 0


def test_a_draft_stays_out_of_the_queue_and_cannot_be_decided(reviewer, pending, client):
    draft = make_therapist(
        display_name="Draft Person",
        verification_status=VerificationStatus.PENDING,
        verification_decided_at=None,
        submitted_for_review_at=None,
    )
    client.force_login(reviewer)

    queue = client.get(reverse("directory:verification_queue")).content.decode()
    detail_url = reverse("directory:verification_detail", args=[draft.public_id])
    page = client.get(detail_url).content.decode()
    refused = client.post(detail_url, {"status": "verified", "reason": ""})

    assert "Pending Person" in queue  # sent for review
    assert "Draft Person" not in queue  # still being filled in
    assert "Not sent for review yet" in page
    assert 'name="reason"' not in page  # no decision form for a draft
    assert refused.status_code == 409
    assert "has not been sent for review yet" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.verification_status == VerificationStatus.PENDING
    assert not VerificationDecision.objects.filter(therapist=draft).exists()


def test_the_service_refuses_to_decide_on_a_draft_whoever_calls_it(reviewer):
    draft = make_therapist(
        verification_status=VerificationStatus.PENDING,
        verification_decided_at=None,
        submitted_for_review_at=None,
    )

    with pytest.raises(ValidationError, match="not been sent for review"):
        therapist_verification_decide(
            therapist=draft, reviewer=reviewer, status=VerificationStatus.VERIFIED, reason=""
        )

    draft.refresh_from_db()
    assert draft.verification_status == VerificationStatus.PENDING
    assert not VerificationDecision.objects.filter(therapist=draft).exists()
