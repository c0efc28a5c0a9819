"""Role × endpoint × someone else's private object: every pair is a 404 (or 401 for an API
call without a session), on HTML pages and the API alike.

Add each new private object and endpoint here as features land (consultations, videos, fit
profiles, engagements, check-ins, messages, alerts).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from rapport.directory.models import TherapistProfile, VerificationStatus
from tests.factories import make_therapist, make_user

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable[[TherapistProfile], str]
    is_api: bool
    body: dict[str, str] | None = None


ENDPOINTS = [
    Endpoint("public profile of an unlisted therapist", "get",
             lambda t: f"/therapists/{t.public_id}/", is_api=False),
    Endpoint("licence review queue", "get",
             lambda t: "/staff/verification/?status=pending", is_api=False),
    Endpoint("licence review page", "get",
             lambda t: f"/staff/verification/{t.public_id}/", is_api=False),
    Endpoint("licence review decision", "post",
             lambda t: f"/staff/verification/{t.public_id}/", is_api=False,
             body={"status": "verified", "reason": ""}),
    Endpoint("API licence review", "get",
             lambda t: f"/api/v1/staff/verification/{t.public_id}", is_api=True),
    Endpoint("API licence decision", "post",
             lambda t: f"/api/v1/staff/verification/{t.public_id}/decisions", is_api=True,
             body={"status": "verified", "reason": ""}),
]  # fmt: skip

ROLES: dict[str, dict[str, Any] | None] = {
    "anonymous": None,
    "client": {"role": "client"},
    "client-with-mfa": {"role": "client", "mfa": True},
    "therapist": {"role": "therapist", "mfa": True},
    "staff-without-review-permission": {"role": "staff", "mfa": True},
}


@pytest.fixture
def pending_therapist(reference_data):
    """Someone else's private object: a listing under review, owned by another therapist."""
    owner = make_user(role="therapist", mfa=True)
    return make_therapist(
        verification_status=VerificationStatus.PENDING, verification_decided_at=None, user=owner
    )


def _request(client: Client, endpoint: Endpoint, therapist: TherapistProfile):
    url = endpoint.url(therapist)
    if endpoint.method == "get":
        return client.get(url)
    if endpoint.is_api:
        return client.post(url, data=json.dumps(endpoint.body), content_type="application/json")
    return client.post(url, endpoint.body)


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.name for endpoint in ENDPOINTS])
def test_someone_elses_private_object_is_not_found(role, endpoint, pending_therapist):
    client = Client()
    attributes = ROLES[role]
    if attributes is not None:
        client.force_login(make_user(**attributes))

    response = _request(client, endpoint, pending_therapist)

    expected = 401 if (endpoint.is_api and role == "anonymous") else 404
    assert response.status_code == expected, response.content[:300]
    if endpoint.is_api:
        assert response["Content-Type"] == "application/problem+json"
        assert str(pending_therapist.public_id) not in response.content.decode()
    pending_therapist.refresh_from_db()
    assert pending_therapist.verification_status == VerificationStatus.PENDING


def test_the_owner_of_a_listing_under_review_cannot_review_it(pending_therapist):
    client = Client()
    client.force_login(pending_therapist.user)
    for endpoint in ENDPOINTS:
        assert _request(client, endpoint, pending_therapist).status_code == 404, endpoint.name
    pending_therapist.refresh_from_db()
    assert pending_therapist.verification_status == VerificationStatus.PENDING


def test_a_licence_reviewer_reaches_every_endpoint(pending_therapist):
    """The control: the same requests succeed for the one role allowed, so the 404s above are
    access decisions and not broken URLs."""
    client = Client()
    client.force_login(
        make_user(role="staff", mfa=True, permissions=("directory.review_licences",))
    )
    assert client.get(f"/staff/verification/{pending_therapist.public_id}/").status_code == 200
    assert (
        client.get(f"/api/v1/staff/verification/{pending_therapist.public_id}").status_code == 200
    )
