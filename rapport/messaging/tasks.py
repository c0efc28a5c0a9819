"""Background work for messaging, run by `rapport db_worker` (immediately in tests).

The digest says how many messages wait, never who wrote them or what they say.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from rapport.directory.models import TherapistProfile


@task()
def send_message_digest(*, therapist_id: int, count: int) -> None:
    therapist = (
        TherapistProfile.objects.select_related("user")
        .filter(pk=therapist_id, user__isnull=False, user__is_active=True)
        .first()
    )
    if therapist is None or therapist.user is None:
        return
    words = "1 new message" if count == 1 else f"{count} new messages"
    send_mail(
        f"[Rapport] {words}",
        render_to_string(
            "messaging/email/digest.txt",
            {
                "words": words,
                "inbox_url": settings.SITE_URL + reverse("messaging:practice_inbox"),
            },
        ),
        settings.DEFAULT_FROM_EMAIL,
        [therapist.user.email],
    )
