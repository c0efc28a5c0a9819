"""Background work for care, run by `rapport db_worker` (immediately in tests).

E-mails about care never carry what anyone answered or wrote: only that something is waiting,
and a link to it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from rapport.care.models import Alert, CheckIn, CheckInStatus
from rapport.care.tokens import check_in_token_make


@task()
def send_check_in_request_email(*, check_in_id: int) -> None:
    """Ask the client for a check-in, unless it closed (or was replaced) before this ran."""
    check_in = (
        CheckIn.objects.select_related("engagement__client", "engagement__therapist")
        .filter(pk=check_in_id, status=CheckInStatus.OPEN)
        .first()
    )
    if check_in is None or not check_in.engagement.client.is_active:
        return
    client = check_in.engagement.client
    link = settings.SITE_URL + reverse(
        "care:check_in_link", kwargs={"token": check_in_token_make(check_in=check_in)}
    )
    send_mail(
        "[Rapport] A short check-in about your sessions",
        render_to_string(
            "care/email/check_in_request.txt",
            {
                "client": client,
                "link": link,
                "care_url": settings.SITE_URL + reverse("care:client_home"),
                "days": settings.CARE_CHECK_IN_DAYS,
            },
        ),
        settings.DEFAULT_FROM_EMAIL,
        [client.email],
    )


@task()
def send_alert_email(*, alert_id: int) -> None:
    """Tell the therapist a check-in needs their attention: no name, no answer, no score."""
    alert = (
        Alert.objects.select_related("engagement__therapist__user")
        .filter(pk=alert_id, acknowledged_at__isnull=True)
        .first()
    )
    if alert is None or alert.engagement.therapist.user is None:
        return
    send_mail(
        "[Rapport] A check-in needs your attention today",
        render_to_string(
            "care/email/alert.txt",
            {
                "link": settings.SITE_URL
                + reverse("care:practice_client", kwargs={"public_id": alert.engagement.public_id}),
            },
        ),
        settings.DEFAULT_FROM_EMAIL,
        [alert.engagement.therapist.user.email],
    )
