"""Role × endpoint × someone else's private object: every pair is a 404 (or 401 for an API
call without a session), on HTML pages and the API alike.

Add each new private object and endpoint here as features land (consultations, videos, fit
profiles, engagements, check-ins, messages, alerts).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.directory.models import TherapistProfile, VerificationStatus
from tests.factories import make_therapist, make_therapist_with_account, make_user

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


# --- booking: one therapist's appointments, seen by everyone else ------------------------------


@dataclass(frozen=True)
class AppointmentEndpoint:
    name: str
    method: str
    action: str  # the last part of /practice/appointments/<id>/<action>/
    body: Callable[[Any], dict[str, str]] | None = None


APPOINTMENT_ENDPOINTS = [
    AppointmentEndpoint("confirm a request", "post", "confirm"),
    AppointmentEndpoint("decline a request", "post", "decline",
                        lambda a: {f"decline-{a.public_id.hex}-reason": "Full"}),
    AppointmentEndpoint("cancel an appointment", "post", "cancel",
                        lambda a: {f"cancel-{a.public_id.hex}-reason": "Unwell"}),
    AppointmentEndpoint("reschedule page", "get", "reschedule"),
    AppointmentEndpoint("reschedule", "post", "reschedule",
                        lambda a: {"starts_at": (a.starts_at + dt.timedelta(minutes=30))
                                   .strftime("%Y%m%dT%H%MZ")}),
    AppointmentEndpoint("first session page", "get", "first-session"),
    AppointmentEndpoint("book a first session", "post", "first-session",
                        lambda a: {"date": "2030-01-07", "time": "10:00"}),
]  # fmt: skip

APPOINTMENT_ROLES: dict[str, dict[str, Any] | None] = {
    "anonymous": None,
    "client": {"role": "client"},
    "another-therapist": {"role": "therapist", "mfa": True},
    "staff": {"role": "staff", "mfa": True, "is_superuser": True},
}


@pytest.fixture
def requested_consultation(reference_data):
    """Someone else's private object: a consultation request waiting for its therapist."""
    from rapport.booking import services, slots
    from tests.accounts.factories import make_therapist_user
    from tests.booking.factories import make_bookable_therapist

    owner = make_bookable_therapist(
        user=make_therapist_user(mfa=True), policy={"requires_confirmation": True}
    )
    now = timezone.now()
    free = slots.therapist_free_times(
        therapist=owner, start=now + dt.timedelta(days=1), end=now + dt.timedelta(days=8), now=now
    )
    return services.consultation_book(
        therapist=owner,
        starts_at=free[0].starts_at,
        client_name="Private Client",
        client_email="private@example.org",
        client_time_zone="America/Toronto",
    )


def _appointment_request(client: Client, endpoint: AppointmentEndpoint, appointment: Any):
    url = f"/practice/appointments/{appointment.public_id}/{endpoint.action}/"
    if endpoint.method == "get":
        return client.get(url)
    return client.post(url, endpoint.body(appointment) if endpoint.body else {})


def _unchanged(appointment: Any) -> tuple[Any, ...]:
    return (appointment.status, appointment.starts_at, appointment.sequence)


@pytest.mark.parametrize("role", list(APPOINTMENT_ROLES))
@pytest.mark.parametrize(
    "endpoint", APPOINTMENT_ENDPOINTS, ids=[endpoint.name for endpoint in APPOINTMENT_ENDPOINTS]
)
def test_someone_elses_appointment_is_not_found(role, endpoint, requested_consultation):
    client = Client()
    attributes = APPOINTMENT_ROLES[role]
    if attributes is not None:
        user = make_user(**attributes)
        if role == "another-therapist":
            make_therapist(user=user)  # with a practice of their own
        client.force_login(user)
    before = _unchanged(requested_consultation)

    response = _appointment_request(client, endpoint, requested_consultation)

    assert response.status_code == 404, response.content[:300]
    assert "Private Client" not in response.content.decode()
    requested_consultation.refresh_from_db()
    assert _unchanged(requested_consultation) == before
    assert requested_consultation.follow_ups.count() == 0


def test_the_owning_therapist_reaches_every_appointment_endpoint(requested_consultation):
    """The control: the same requests, in this order, are answered for the owner with the
    page, the done-redirect, or the refusal of the action itself that each one gets, so the
    404s above are access decisions."""
    client = Client()
    client.force_login(requested_consultation.therapist.user)
    answers = {
        endpoint.name: _appointment_request(client, endpoint, requested_consultation).status_code
        for endpoint in APPOINTMENT_ENDPOINTS
    }
    assert answers == {
        "confirm a request": 302,  # confirmed
        "decline a request": 302,  # refused with a message: it is no longer a request
        "cancel an appointment": 302,  # cancelled
        "reschedule page": 302,  # refused with a message: a cancelled one cannot move
        "reschedule": 302,
        "first session page": 200,
        "book a first session": 400,  # the form's own refusal of that date
    }
    requested_consultation.refresh_from_db()
    assert (requested_consultation.status, requested_consultation.ended_by) == (
        "cancelled",
        "therapist",
    )
    assert requested_consultation.therapist_responded_at is not None


# --- videos: one therapist's unpublished video and open upload, seen by everyone else ---------


@dataclass(frozen=True)
class VideoEndpoint:
    name: str
    method: str
    url: Callable[[Any, Any], str]  # (video, upload) -> URL
    body: dict[str, str] | None = None


VIDEO_ENDPOINTS = [
    VideoEndpoint("play", "get", lambda v, u: f"/videos/{v.public_id}/video.mp4"),
    VideoEndpoint("poster", "get", lambda v, u: f"/videos/{v.public_id}/poster.jpg"),
    VideoEndpoint("captions track", "get", lambda v, u: f"/videos/{v.public_id}/captions.vtt"),
    VideoEndpoint("status", "get", lambda v, u: f"/practice/videos/{v.public_id}/status/"),
    VideoEndpoint("transcript", "post", lambda v, u: f"/practice/videos/{v.public_id}/transcript/",
                  {"transcript": "Changed"}),
    VideoEndpoint("remove captions", "post",
                  lambda v, u: f"/practice/videos/{v.public_id}/captions/remove/", {}),
    VideoEndpoint("delete", "post", lambda v, u: f"/practice/videos/{v.public_id}/delete/", {}),
    VideoEndpoint("review page", "get", lambda v, u: f"/staff/videos/{v.public_id}/"),
    VideoEndpoint("review decision", "post", lambda v, u: f"/staff/videos/{v.public_id}/",
                  {"decision": "approved"}),
    VideoEndpoint("upload state", "get", lambda v, u: f"/practice/videos/uploads/{u.public_id}/"),
    VideoEndpoint("upload complete", "post",
                  lambda v, u: f"/practice/videos/uploads/{u.public_id}/complete/", {}),
    VideoEndpoint("upload chunk", "put", lambda v, u: f"/practice/videos/uploads/{u.public_id}/"),
    VideoEndpoint("upload cancel", "delete",
                  lambda v, u: f"/practice/videos/uploads/{u.public_id}/"),
]  # fmt: skip


@pytest.fixture
def private_video(reference_data, settings, tmp_path):
    """Someone else's private objects: a ready video waiting for review, with captions, and an
    upload in progress."""
    from rapport.videos import services
    from rapport.videos.models import ProcessingState, Prompt, Video

    settings.VIDEO_UPLOAD_DIR = tmp_path / "uploads"
    owner = make_therapist_with_account(mfa=True)
    video = Video.objects.create(
        therapist=owner,
        prompt=Prompt.APPROACH,
        state=ProcessingState.READY,
        media_name="v/00/private.mp4",
        poster_name="v/00/private.jpg",
        captions_vtt="WEBVTT\n\n00:00.000 --> 00:01.000\nPrivate words\n",
        transcript="Private words",
    )
    upload = services.video_upload_start(
        therapist=owner, prompt=Prompt.BEST_WITH, filename="private.mp4", size_bytes=100
    )
    return video, upload


def _video_request(client: Client, endpoint: VideoEndpoint, video: Any, upload: Any):
    url = endpoint.url(video, upload)
    if endpoint.method == "get":
        return client.get(url)
    if endpoint.method == "put":
        return client.put(
            url, data=b"x" * 10, content_type="application/offset+octet-stream",
            headers={"Upload-Offset": "0"},
        )  # fmt: skip
    if endpoint.method == "delete":
        return client.delete(url)
    return client.post(url, endpoint.body or {})


VIDEO_ROLES: dict[str, dict[str, Any] | None] = {
    "anonymous": None,
    "client": {"role": "client", "mfa": True},
    "another-therapist": {"role": "therapist", "mfa": True},
    # Staff without the moderation permission (a superuser has every permission).
    "staff": {"role": "staff", "mfa": True, "is_staff": True},
}


@pytest.mark.parametrize("role", list(VIDEO_ROLES))
@pytest.mark.parametrize(
    "endpoint", VIDEO_ENDPOINTS, ids=[endpoint.name for endpoint in VIDEO_ENDPOINTS]
)
def test_someone_elses_video_is_not_found(role, endpoint, private_video):
    from rapport.videos.models import Video, VideoUpload

    video, upload = private_video
    client = Client()
    attributes = VIDEO_ROLES[role]
    if attributes is not None:
        user = make_user(**attributes)
        if role == "another-therapist":
            make_therapist(user=user)
        client.force_login(user)

    response = _video_request(client, endpoint, video, upload)

    # Anonymous visitors to signed-in pages are sent to sign in; nobody sees the object.
    assert response.status_code in ((302, 404) if role == "anonymous" else (404,)), (
        response.status_code
    )
    assert b"Private words" not in response.content
    assert Video.objects.get(pk=video.pk).transcript == "Private words"
    assert not Video.objects.get(pk=video.pk).is_published
    assert VideoUpload.objects.get(pk=upload.pk).received_bytes == 0


def test_the_owner_and_a_moderator_reach_the_video_endpoints(private_video):
    """The control: the owner reaches the practice endpoints, a moderator the review pages."""
    video, upload = private_video
    owner = Client()
    owner.force_login(video.therapist.user)
    for endpoint in VIDEO_ENDPOINTS:
        if endpoint.url(video, upload).startswith("/practice/") and endpoint.method == "get":
            assert _video_request(owner, endpoint, video, upload).status_code == 200
    assert owner.get(f"/videos/{video.public_id}/captions.vtt").status_code == 200
    moderator = Client()
    moderator.force_login(
        make_user(role="staff", mfa=True, permissions=("videos.moderate_videos",))
    )
    assert moderator.get(f"/staff/videos/{video.public_id}/").status_code == 200


# --- care: one client's engagement with one therapist, seen by everyone else ----------------


@dataclass(frozen=True)
class EngagementEndpoint:
    name: str
    method: str
    url: Callable[[Any], str]  # engagement -> URL
    is_api: bool = False
    body: dict[str, Any] | None = None


ENGAGEMENT_ENDPOINTS = [
    EngagementEndpoint("client page", "get", lambda e: f"/care/{e.public_id}/"),
    EngagementEndpoint("client goals", "post", lambda e: f"/care/{e.public_id}/goals/",
                       body={"goal_1": "Taken over"}),
    EngagementEndpoint("client agree", "post", lambda e: f"/care/{e.public_id}/goals/1/agree/",
                       body={"text": "Private goal"}),
    EngagementEndpoint("client take wording", "post",
                       lambda e: f"/care/{e.public_id}/goals/1/take/"),
    EngagementEndpoint("client sharing", "post", lambda e: f"/care/{e.public_id}/sharing/",
                       body={"sharing": "item_answers"}),
    EngagementEndpoint("client end", "post", lambda e: f"/care/{e.public_id}/end/",
                       body={"reason": "Taken over"}),
    EngagementEndpoint("practice page", "get", lambda e: f"/practice/clients/{e.public_id}/"),
    EngagementEndpoint("practice session", "post",
                       lambda e: f"/practice/clients/{e.public_id}/sessions/",
                       body={"date": "2026-01-05", "time": "10:00", "status": "attended"}),
    EngagementEndpoint("practice propose", "post",
                       lambda e: f"/practice/clients/{e.public_id}/goals/1/propose/",
                       body={"goal-1-proposed_text": "Taken over"}),
    EngagementEndpoint("practice agree", "post",
                       lambda e: f"/practice/clients/{e.public_id}/goals/1/agree/",
                       body={"text": "Private goal"}),
    EngagementEndpoint("practice pause", "post",
                       lambda e: f"/practice/clients/{e.public_id}/pause/"),
    EngagementEndpoint("practice end", "post", lambda e: f"/practice/clients/{e.public_id}/end/",
                       body={"reason": "Taken over"}),
    EngagementEndpoint("client graduation", "get", lambda e: f"/care/{e.public_id}/graduation/"),
    EngagementEndpoint("client graduation propose", "post",
                       lambda e: f"/care/{e.public_id}/graduation/", body={"action": "propose"}),
    EngagementEndpoint("client summary", "get", lambda e: f"/care/{e.public_id}/summary/"),
    EngagementEndpoint("practice graduation", "get",
                       lambda e: f"/practice/clients/{e.public_id}/graduation/"),
    EngagementEndpoint("practice graduation propose", "post",
                       lambda e: f"/practice/clients/{e.public_id}/graduation/",
                       body={"action": "propose"}),
    EngagementEndpoint("practice summary", "get",
                       lambda e: f"/practice/clients/{e.public_id}/summary/"),
    EngagementEndpoint("API engagement", "get", lambda e: f"/api/v1/engagements/{e.public_id}",
                       is_api=True),
    EngagementEndpoint("API session", "post",
                       lambda e: f"/api/v1/engagements/{e.public_id}/sessions", is_api=True,
                       body={"starts_at": "2026-01-05T10:00:00Z", "status": "attended"}),
    EngagementEndpoint("API goals", "put", lambda e: f"/api/v1/engagements/{e.public_id}/goals",
                       is_api=True, body={"goals": [{"text": "Taken over"}]}),
    EngagementEndpoint("API graduate", "post",
                       lambda e: f"/api/v1/engagements/{e.public_id}/graduate", is_api=True,
                       body={"action": "propose"}),
    EngagementEndpoint("API sharing", "put",
                       lambda e: f"/api/v1/engagements/{e.public_id}/sharing", is_api=True,
                       body={"sharing": "item_answers"}),
    EngagementEndpoint("API check-in", "get",
                       lambda e: f"/api/v1/check-ins/{_open_check_in(e).public_id}", is_api=True),
    EngagementEndpoint("API check-in answers", "post",
                       lambda e: f"/api/v1/check-ins/{_open_check_in(e).public_id}/answers",
                       is_api=True, body={"answers": {
                           "fit": {"understood": 1, "open": 1, "focus": 1, "continue": 1},
                           "progress": {"energy": 0, "getting-things-done": 0, "enjoyment": 0,
                                        "connection": 0, "looking-after-myself": 0}}}),
    EngagementEndpoint("client not the right fit", "post",
                       lambda e: f"/care/{e.public_id}/not-the-right-fit/",
                       body={"reason": "Taken over"}),
    EngagementEndpoint("API end", "post", lambda e: f"/api/v1/engagements/{e.public_id}/end",
                       is_api=True, body={"reason": "Taken over", "ended_for": "not_right_fit"}),
    EngagementEndpoint("API alert acknowledge", "post",
                       lambda e: f"/api/v1/alerts/{e.alerts.get().public_id}/acknowledge",
                       is_api=True, body={"note": "Taken over"}),
    EngagementEndpoint("practice check-ins", "get",
                       lambda e: f"/practice/clients/{e.public_id}/check-ins/"),
    EngagementEndpoint("client check-in", "get",
                       lambda e: f"/care/check-ins/{_open_check_in(e).public_id}/"),
    EngagementEndpoint("client progress", "get", lambda e: f"/care/{e.public_id}/progress/"),
    EngagementEndpoint("practice alert page", "get",
                       lambda e: f"/practice/alerts/{e.alerts.get().public_id}/acknowledge/"),
    EngagementEndpoint("practice alert acknowledge", "post",
                       lambda e: f"/practice/alerts/{e.alerts.get().public_id}/acknowledge/",
                       body={"note": "Taken over"}),
]  # fmt: skip


def _open_check_in(engagement: Any) -> Any:
    return engagement.check_ins.get(status="open")


ENGAGEMENT_ROLES: dict[str, dict[str, Any] | None] = {
    "anonymous": None,
    "another-client": {"role": "client"},
    "another-therapist": {"role": "therapist", "mfa": True},
    "staff": {"role": "staff", "mfa": True, "is_superuser": True},
}


@pytest.fixture
def private_engagement(reference_data):
    """Someone else's private object: an ongoing engagement with a goal."""
    from rapport.care import services
    from rapport.care.models import EngagementStatus
    from tests.care.factories import make_engagement

    engagement = make_engagement(status=EngagementStatus.ONGOING, goals=["Private goal"])
    services.goal_propose(goal=engagement.goals.get(), text="Private wording")
    engagement.alerts.create(kind="crisis", created_at=timezone.now())  # an open alert
    return engagement


def _engagement_request(client: Client, endpoint: EngagementEndpoint, engagement: Any):
    url = endpoint.url(engagement)
    if endpoint.method == "get":
        return client.get(url)
    if endpoint.is_api:
        return client.generic(
            endpoint.method.upper(), url, json.dumps(endpoint.body or {}),
            content_type="application/json",
        )  # fmt: skip
    return client.post(url, endpoint.body or {})


def _engagement_state(engagement: Any) -> tuple[Any, ...]:
    from rapport.care.models import Engagement

    stored = Engagement.objects.get(pk=engagement.pk)
    goals = [(g.text, g.proposed_text, g.client_agreed_at, g.therapist_agreed_at,
              g.client_review, g.therapist_review) for g in stored.goals.all()]  # fmt: skip
    check_ins = [(c.status, c.completed_at) for c in stored.check_ins.all()]
    alerts = [(a.acknowledged_at, a.acknowledgement) for a in stored.alerts.all()]
    return (stored.status, stored.sharing, stored.end_reason, stored.sessions.count(), goals,
            check_ins, stored.ended_for, alerts, stored.graduation_proposed_by)  # fmt: skip


@pytest.mark.parametrize("role", list(ENGAGEMENT_ROLES))
@pytest.mark.parametrize(
    "endpoint", ENGAGEMENT_ENDPOINTS, ids=[endpoint.name for endpoint in ENGAGEMENT_ENDPOINTS]
)
def test_someone_elses_engagement_is_not_found(role, endpoint, private_engagement):
    client = Client()
    attributes = ENGAGEMENT_ROLES[role]
    if attributes is not None:
        user = make_user(**attributes)
        if role == "another-therapist":
            make_therapist(user=user)
        client.force_login(user)
    before = _engagement_state(private_engagement)

    response = _engagement_request(client, endpoint, private_engagement)

    if role == "anonymous":
        expected: tuple[int, ...] = (401,) if endpoint.is_api else (302, 404)
    else:
        expected = (404,)
    assert response.status_code in expected, (response.status_code, response.content[:300])
    assert b"Private goal" not in response.content
    assert b"Private wording" not in response.content
    if endpoint.is_api:
        assert response["Content-Type"] == "application/problem+json"
    assert _engagement_state(private_engagement) == before


def test_the_two_people_of_an_engagement_reach_their_pages(private_engagement):
    """The control: the client reaches the client pages and API, the therapist the practice
    pages and API, so the 404s above are access decisions."""
    client_side = Client()
    client_side.force_login(private_engagement.client)
    therapist_side = Client()
    therapist_side.force_login(private_engagement.therapist.user)
    for endpoint in ENGAGEMENT_ENDPOINTS:
        if endpoint.method != "get":
            continue
        side = (
            therapist_side
            if endpoint.url(private_engagement).startswith("/practice/")
            else (client_side)
        )
        assert _engagement_request(side, endpoint, private_engagement).status_code == 200
    api = f"/api/v1/engagements/{private_engagement.public_id}"
    assert therapist_side.get(api).status_code == 200


# --- messaging: one client's thread with their therapist, seen by everyone else --------------


@dataclass(frozen=True)
class ThreadEndpoint:
    name: str
    method: str
    url: Callable[[Any], str]  # thread -> URL
    is_api: bool = False
    body: dict[str, Any] | None = None


THREAD_ENDPOINTS = [
    ThreadEndpoint("client thread", "get", lambda t: f"/messages/{t.public_id}/"),
    ThreadEndpoint("client send", "post", lambda t: f"/messages/{t.public_id}/",
                   body={"body": "Taken over", "about_scheduling": "on"}),
    ThreadEndpoint("client zone", "post", lambda t: f"/messages/{t.public_id}/zone/",
                   body={"time_zone": "UTC"}),
    ThreadEndpoint("client open", "post", lambda t: "/messages/open/",
                   body={"reason": "engagement:{engagement}"}),
    ThreadEndpoint("practice thread", "get", lambda t: f"/practice/messages/{t.public_id}/"),
    ThreadEndpoint("practice reply", "post", lambda t: f"/practice/messages/{t.public_id}/",
                   body={"body": "Taken over"}),
    ThreadEndpoint("API thread", "get", lambda t: f"/api/v1/threads/{t.public_id}", is_api=True),
    ThreadEndpoint("API send", "post", lambda t: f"/api/v1/threads/{t.public_id}/messages",
                   is_api=True, body={"body": "Taken over"}),
    ThreadEndpoint("API open", "post", lambda t: "/api/v1/threads", is_api=True,
                   body={"engagement_id": "{engagement}"}),
]  # fmt: skip


@pytest.fixture
def private_thread(reference_data):
    """Someone else's private object: a thread with one message from the client."""
    from rapport.messaging import services
    from tests.messaging.factories import make_engagement_thread

    thread = make_engagement_thread()
    services.message_send(
        thread=thread, sender="client", body="Private message", about_scheduling=True,
        now=timezone.now(),
    )  # fmt: skip
    return thread


def _thread_request(client: Client, endpoint: ThreadEndpoint, thread: Any):
    url = endpoint.url(thread)
    body = {
        key: value.format(engagement=thread.engagement.public_id)
        for key, value in (endpoint.body or {}).items()
    }
    if endpoint.method == "get":
        return client.get(url)
    if endpoint.is_api:
        return client.generic(
            endpoint.method.upper(), url, json.dumps(body), content_type="application/json"
        )
    return client.post(url, body)


def _thread_state(thread: Any) -> tuple[Any, ...]:
    from rapport.messaging.models import Message, Thread

    return (
        Thread.objects.count(),
        Thread.objects.get(pk=thread.pk).client_time_zone,
        [(m.body, m.read_at) for m in Message.objects.filter(thread=thread)],
    )


@pytest.mark.parametrize("role", list(ENGAGEMENT_ROLES))
@pytest.mark.parametrize(
    "endpoint", THREAD_ENDPOINTS, ids=[endpoint.name for endpoint in THREAD_ENDPOINTS]
)
def test_someone_elses_thread_is_not_found(role, endpoint, private_thread):
    client = Client()
    attributes = ENGAGEMENT_ROLES[role]
    if attributes is not None:
        user = make_user(**attributes)
        if role == "another-therapist":
            make_therapist(user=user)
        client.force_login(user)
    before = _thread_state(private_thread)

    response = _thread_request(client, endpoint, private_thread)

    if role == "anonymous":
        expected: tuple[int, ...] = (401,) if endpoint.is_api else (302, 404)
    else:
        expected = (404,)
    assert response.status_code in expected, (response.status_code, response.content[:300])
    assert b"Private message" not in response.content
    if endpoint.is_api:
        assert response["Content-Type"] == "application/problem+json"
    assert _thread_state(private_thread) == before


def test_the_two_people_of_a_thread_reach_their_pages(private_thread):
    """The control: the same addresses answer the thread's own client and therapist."""
    client_side = Client()
    client_side.force_login(private_thread.client)
    therapist_side = Client()
    therapist_side.force_login(private_thread.therapist.user)
    for endpoint in THREAD_ENDPOINTS:
        if endpoint.method != "get":
            continue
        url = endpoint.url(private_thread)
        sides = [therapist_side] if url.startswith("/practice/") else [client_side]
        if endpoint.is_api:
            sides = [client_side, therapist_side]
        for side in sides:
            response = _thread_request(side, endpoint, private_thread)
            assert response.status_code == 200, endpoint.name
            assert b"Private message" in response.content
