"""Messaging data for tests: threads on an engagement or a consultation, written through the
services, and the therapist's messaging settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from rapport.care.models import EngagementStatus
from rapport.messaging import services
from rapport.messaging.models import MessagingSettings, Thread
from tests.accounts.factories import make_therapist_user, make_user
from tests.booking.factories import make_appointment
from tests.care.factories import make_engagement
from tests.directory.factories import make_therapist


def make_engagement_thread(
    *, client: Any = None, therapist: Any = None, status: str = EngagementStatus.ONGOING
) -> Thread:
    """A thread on an open engagement between a new client and a new therapist (with the
    second factor), opened through ``thread_open``."""
    engagement = make_engagement(client=client, therapist=therapist, status=status)
    return services.thread_open(client=engagement.client, engagement=engagement, now=timezone.now())


def make_consultation_thread(
    *,
    client: Any = None,
    therapist: Any = None,
    starts_at: dt.datetime | None = None,
    client_time_zone: str = "America/Toronto",
) -> Thread:
    """A thread about a confirmed consultation booked by ``client`` (in ``client_time_zone``)."""
    client = client or make_user(role="client")
    therapist = therapist or make_therapist(user=make_therapist_user(mfa=True))
    consultation = make_appointment(
        therapist,
        starts_at,
        client=client,
        client_email=client.email,
        client_time_zone=client_time_zone,
    )
    return services.thread_open(client=client, consultation=consultation, now=timezone.now())


def set_hours(
    therapist: Any,
    *,
    days: tuple[int, ...] = (0, 1, 2, 3, 4),
    starts: dt.time = dt.time(9),
    ends: dt.time = dt.time(17),
    daily_cap: int = 3,
) -> MessagingSettings:
    return services.messaging_settings_set(
        therapist=therapist,
        contact_days=sum(1 << day for day in days),
        contact_starts_at=starts,
        contact_ends_at=ends,
        daily_cap=daily_cap,
    )


def signed_in(user: Any) -> Client:
    """A test browser signed in as ``user``."""
    browser = Client()
    browser.force_login(user)
    return browser
