"""Background work for accounts, run by `rapport db_worker` (immediately in tests)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

from rapport.accounts.models import User


@task()
def send_deletion_scheduled_email(*, user_id: int) -> None:
    """Confirm a scheduled deletion and its date. Nothing to do if the account is already gone
    or the person has cancelled meanwhile."""
    user = User.objects.filter(pk=user_id, deletion_due_at__isnull=False).first()
    if user is None:
        return
    body = render_to_string(
        "accounts/email/deletion_scheduled.txt",
        {"user": user, "grace_days": settings.ACCOUNT_DELETION_GRACE_DAYS},
    )
    send_mail(
        "[Rapport] Your account is scheduled for deletion",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
