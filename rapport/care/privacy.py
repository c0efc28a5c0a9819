"""Care's part of a person's data export (registered in ``CareConfig.ready()``)."""

from __future__ import annotations

from typing import Any

from rapport.care.models import Engagement
from rapport.care.selectors import client_engagements, therapist_engagements
from rapport.core.privacy import iso_or_none
from rapport.directory.models import TherapistProfile


def _engagement(engagement: Engagement, *, as_side: str) -> dict[str, Any]:
    return {
        "id": str(engagement.public_id),
        "as": as_side,
        "therapist": {
            "id": str(engagement.therapist.public_id),
            "name": engagement.therapist.display_name,
        },
        "client": {"email": engagement.client.email, "name": engagement.client.name},
        "status": engagement.status,
        "started_at": iso_or_none(engagement.started_at),
        "ended_at": iso_or_none(engagement.ended_at),
        "ended_by": engagement.ended_by,
        "end_reason": engagement.end_reason,
        "sharing": engagement.sharing,
        "sharing_history": [
            {"sharing": change.sharing, "changed_at": iso_or_none(change.changed_at)}
            for change in engagement.sharing_changes.all()
        ],
        "sessions": [
            {
                "id": str(session.public_id),
                "starts_at": iso_or_none(session.starts_at),
                "status": session.status,
            }
            for session in engagement.sessions.all()
        ],
        "goals": [
            {
                "position": goal.position,
                "text": goal.text,
                "proposed_text": goal.proposed_text,
                "client_agreed_at": iso_or_none(goal.client_agreed_at),
                "therapist_agreed_at": iso_or_none(goal.therapist_agreed_at),
            }
            for goal in engagement.goals.all()
        ],
    }


def care_export(user: Any) -> list[dict[str, Any]]:
    """The person's engagements: as a client, and as a therapist (their clients' engagements
    hold what the therapist wrote too: proposed wording, end reasons)."""
    prefetch = ("sharing_changes", "sessions", "goals")
    rows = [
        _engagement(engagement, as_side="client")
        for engagement in client_engagements(user=user)
        .select_related("client")
        .prefetch_related(*prefetch)
    ]
    therapist = TherapistProfile.objects.filter(user_id=user.pk).first()
    if therapist is not None:
        rows += [
            _engagement(engagement, as_side="therapist")
            for engagement in therapist_engagements(therapist=therapist)
            .select_related("therapist")
            .prefetch_related(*prefetch)
        ]
    return rows
