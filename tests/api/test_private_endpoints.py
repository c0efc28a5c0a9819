"""The API's private endpoints (/me, /me/export, /staff/...) document every problem they answer
with, and really answer with those: each failure below is provoked and its status looked up in
the OpenAPI document."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client

from tests.factories import make_therapist, make_user

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
ME = "/api/v1/me"
EXPORT = "/api/v1/me/export"
REVIEW = "/api/v1/staff/verification/{public_id}"
DECIDE = "/api/v1/staff/verification/{public_id}/decisions"


def _documented(path: str, method: str) -> dict[str, set[str]]:
    """Status -> content types, as the OpenAPI document lists them for one operation."""
    document = json.loads(Client().get("/api/v1/openapi.json").content)
    responses = document["paths"][path][method]["responses"]
    return {status: set(response.get("content", {})) for status, response in responses.items()}


def _assert_documented(response, path: str, method: str) -> None:
    documented = _documented(path, method)
    status = str(response.status_code)
    assert status in documented, (path, method, status, sorted(documented))
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM
        assert documented[status] == {PROBLEM}


def test_every_private_operation_documents_its_problem_answers():
    assert set(_documented(ME, "get")) == {"200", "401", "403"}
    assert set(_documented(EXPORT, "get")) == {"200", "401", "403"}
    assert set(_documented(REVIEW, "get")) == {"200", "401", "403", "404"}
    assert set(_documented(DECIDE, "post")) == {"201", "400", "401", "403", "404", "409"}


def test_me_and_export_answers_are_the_documented_ones():
    anonymous = Client()
    _assert_documented(anonymous.get(ME), ME, "get")
    _assert_documented(anonymous.get(EXPORT), EXPORT, "get")

    signed_in = Client()
    signed_in.force_login(make_user())
    _assert_documented(signed_in.get(ME), ME, "get")
    needs_password = signed_in.get(EXPORT)
    assert needs_password.status_code == 403
    _assert_documented(needs_password, EXPORT, "get")

    no_second_factor = Client()
    no_second_factor.force_login(make_user(role="therapist"))
    refused = no_second_factor.get(ME)
    assert refused.status_code == 403
    _assert_documented(refused, ME, "get")


def test_staff_review_answers_are_the_documented_ones(reference_data):
    therapist = make_therapist(verification_status="pending")
    review = REVIEW.replace("{public_id}", str(therapist.public_id))
    decide = DECIDE.replace("{public_id}", str(therapist.public_id))
    reviewer = make_user(role="staff", mfa=True, permissions=("directory.review_licences",))
    staff = Client(enforce_csrf_checks=False)
    staff.force_login(reviewer)

    answers = {
        "not signed in": Client().get(review),
        "no second factor": _signed_in(make_user(role="staff")).get(review),
        "unknown id": staff.get(REVIEW.replace("{public_id}", str(uuid.uuid4()))),
        "found": staff.get(review),
    }
    assert {name: response.status_code for name, response in answers.items()} == {
        "not signed in": 401,
        "no second factor": 403,
        "unknown id": 404,
        "found": 200,
    }
    for response in answers.values():
        _assert_documented(response, REVIEW, "get")

    bad = staff.post(decide, {"status": "nonsense"}, content_type="application/json")
    first = staff.post(
        decide,
        {"status": "verified", "reason": "Register checked", "expected_status": "pending"},
        content_type="application/json",
    )
    stale = staff.post(
        decide,
        {"status": "rejected", "reason": "Second look", "expected_status": "pending"},
        content_type="application/json",
    )
    assert (bad.status_code, first.status_code, stale.status_code) == (400, 201, 409)
    for response in (bad, first, stale):
        _assert_documented(response, DECIDE, "post")


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
