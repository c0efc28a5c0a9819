"""Care's part of a person's data export (registered in ``CareConfig.ready()``).

The client's rows hold everything they answered (raw answers, scores, goal ratings, and each
questionnaire as a FHIR QuestionnaireResponse); the therapist's rows hold what the therapist
wrote and did (proposed wording, end reasons, alert notes) and never the client's answers.
"""

from __future__ import annotations

import json
from typing import Any

from rapport.care import history
from rapport.care.models import CheckIn, CheckInStatus, Engagement
from rapport.care.selectors import (
    client_engagements,
    engagement_alerts_for_therapist,
    therapist_engagements,
)
from rapport.core.privacy import iso_or_none
from rapport.directory.models import TherapistProfile


def fhir_subject_reference(engagement: Engagement) -> str:
    """The ``subject`` of the engagement's FHIR QuestionnaireResponses (export and API alike).

    Names no one: the client of this engagement, by the engagement's id that the export and
    the API already give, so a response never carries an e-mail address or a name, and the
    same check-in has the same subject wherever it is read."""
    return f"Patient/client-of-{engagement.public_id}"


def _check_in(check_in: CheckIn) -> dict[str, Any]:
    parts = sorted(check_in.parts.all(), key=lambda part: part.position)
    ratings = history.goal_ratings_of(check_in.goal_ratings)
    return {
        "id": str(check_in.public_id),
        "requested_at": iso_or_none(check_in.requested_at),
        "completed_at": iso_or_none(check_in.completed_at),
        "after_session": check_in.after_session,
        "parts": [
            {
                "purpose": part.purpose,
                "instrument": {"slug": part.instrument.slug, "version": part.instrument.version},
                "answers": json.loads(part.answers) if part.answers else None,
                "scores": json.loads(part.scores) if part.scores else None,
            }
            for part in parts
        ],
        "goal_ratings": [
            {"position": goal.position, "text": goal.text, "rating": goal.rating}
            for goal in ratings
        ],
    }


def _client_check_ins(engagement: Engagement) -> dict[str, Any]:
    answered = sorted(
        (row for row in engagement.check_ins.all() if row.status == CheckInStatus.COMPLETED),
        key=lambda row: (row.completed_at, row.pk),
    )
    records = history.records_of(answered, with_answers=True)
    return {
        "check_ins": [_check_in(check_in) for check_in in answered],
        "fhir_questionnaire_responses": history.fhir_responses(
            records, subject_reference=fhir_subject_reference(engagement)
        ),
    }


def _alerts(engagement: Engagement, alerts: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": str(alert.public_id),
            "kind": alert.kind,
            "created_at": iso_or_none(alert.created_at),
            "acknowledged_at": iso_or_none(alert.acknowledged_at),
            "acknowledgement": alert.acknowledgement,
        }
        for alert in alerts
    ]


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
        "graduation_proposed_by": engagement.graduation_proposed_by,
        "graduation_proposed_at": iso_or_none(engagement.graduation_proposed_at),
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
                "client_review": goal.client_review,
                "therapist_review": goal.therapist_review,
            }
            for goal in engagement.goals.all()
        ],
    }


def care_export(user: Any) -> list[dict[str, Any]]:
    """The person's engagements: as a client, and as a therapist (their clients' engagements
    hold what the therapist wrote too: proposed wording, end reasons)."""
    prefetch = ("sharing_changes", "sessions", "goals", "alerts")
    rows = [
        {
            **_engagement(engagement, as_side="client"),
            **_client_check_ins(engagement),
            # Everything about the client, the therapist's notes included: they are about them.
            "alerts": _alerts(engagement, engagement.alerts.all()),
        }
        for engagement in client_engagements(user=user)
        .select_related("client")
        .prefetch_related(*prefetch, "check_ins__parts__instrument")
    ]
    therapist = TherapistProfile.objects.filter(user_id=user.pk).first()
    if therapist is not None:
        # No check-ins here: the answers are the client's, whatever they share.
        rows += [
            {
                **_engagement(engagement, as_side="therapist"),
                # Only what the client lets the therapist see (no score alerts while they
                # share nothing).
                "alerts": _alerts(
                    engagement,
                    engagement_alerts_for_therapist(engagement=engagement),
                ),
            }
            for engagement in therapist_engagements(therapist=therapist)
            .select_related("therapist")
            .prefetch_related(*prefetch)
        ]
    return rows
