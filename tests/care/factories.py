"""Care data for tests: engagements between a client account and a therapist with a practice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from rapport.care import services
from rapport.care.models import Engagement, EngagementStatus
from tests.accounts.factories import make_therapist_user, make_user
from tests.directory.factories import make_therapist


def make_engagement(
    *,
    client: Any = None,
    therapist: Any = None,
    status: str = EngagementStatus.FIT_CHECK,
    goals: list[str] | None = None,
    **fields: Any,
) -> Engagement:
    """An engagement between a new client (with an account) and a new therapist whose account
    has its second factor (practice pages need it), written through ``engagement_start``; a
    closed ``status`` gets its ``ended_at``."""
    client = client or make_user(role="client")
    therapist = therapist or make_therapist(user=make_therapist_user(mfa=True))
    engagement = services.engagement_start(therapist=therapist, client=client)
    changes: dict[str, Any] = {"status": status, **fields}
    if status in (EngagementStatus.ENDED, EngagementStatus.GRADUATED):
        changes.setdefault("ended_at", timezone.now() - dt.timedelta(days=1))
    Engagement.objects.filter(pk=engagement.pk).update(**changes)
    engagement.refresh_from_db()
    if goals:
        services.goals_set(engagement=engagement, texts=goals)
    return engagement
