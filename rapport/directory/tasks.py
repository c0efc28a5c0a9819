"""Background work for the directory, run by `rapport db_worker` (immediately in tests)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

from rapport.directory.models import VerificationDecision, VerificationStatus

_SUBJECTS = {
    VerificationStatus.VERIFIED: "Your licence is verified: your listing is live",
    VerificationStatus.REJECTED: "We could not verify your licence",
    VerificationStatus.SUSPENDED: "Your listing is suspended",
}


@task()
def send_verification_email(*, decision_id: str) -> None:
    """Tell the therapist about a licence decision (if their listing has an account)."""
    decision = (
        VerificationDecision.objects.select_related("therapist__user")
        .filter(pk=uuid.UUID(decision_id))
        .first()
    )
    if decision is None or decision.therapist.user is None:
        return
    send_mail(
        f"[Rapport] {_SUBJECTS[VerificationStatus(decision.status)]}",
        render_to_string(
            "directory/email/verification_decided.txt",
            {"decision": decision, "therapist": decision.therapist},
        ),
        settings.DEFAULT_FROM_EMAIL,
        [decision.therapist.user.email],
    )
