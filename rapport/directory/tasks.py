"""Background work for the directory, run by `rapport db_worker` (immediately in tests)."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

from rapport.core.timezones import moment_label
from rapport.directory.models import TherapistProfile, VerificationDecision, VerificationStatus

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


LISTING_NOTICE_WARNING = "warning"
LISTING_NOTICE_PAUSED = "paused"


@task()
def send_listing_freshness_email(*, therapist_id: int, notice: str) -> None:
    """Warn a therapist that their listing pauses soon, or tell them it has paused, unless they
    re-confirmed meanwhile (re-confirming clears the record of the notice)."""
    therapist = TherapistProfile.objects.select_related("user").filter(pk=therapist_id).first()
    if therapist is None or therapist.user is None or therapist.accepting_confirmed_at is None:
        return
    if notice == LISTING_NOTICE_WARNING:
        if therapist.accepting_warning_sent_at is None:
            return
        subject = "Your listing pauses soon: are you still accepting new clients?"
    elif notice == LISTING_NOTICE_PAUSED:
        if therapist.listing_paused_notice_sent_at is None:
            return
        subject = "Your listing is paused until you confirm you are accepting new clients"
    else:
        raise ValueError(f"Unknown listing notice {notice!r}")
    pauses_at = therapist.accepting_confirmed_at + dt.timedelta(
        days=settings.LISTING_FRESHNESS_DAYS
    )
    send_mail(
        f"[Rapport] {subject}",
        render_to_string(
            f"directory/email/listing_{notice}.txt",
            {
                "therapist": therapist,
                "pauses_on": moment_label(pauses_at, ZoneInfo(therapist.time_zone)),
                "freshness_days": settings.LISTING_FRESHNESS_DAYS,
                # The practice pages (booking app) hold the "accepting new clients" answer.
                "confirm_url": f"{settings.SITE_URL}/practice/",
            },
        ),
        settings.DEFAULT_FROM_EMAIL,
        [therapist.user.email],
    )
