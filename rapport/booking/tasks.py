"""Background work for booking, run by `rapport db_worker` (immediately in tests)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from rapport.booking import outbox


@task()
def deliver_outbox_email(*, email_id: int) -> None:
    """Deliver one outbox e-mail that became due (enqueued when its change committed)."""
    outbox.outbox_deliver(email_id=email_id, now=timezone.now())


@task()
def deliver_due_outbox_emails() -> None:
    """Deliver every due outbox e-mail (reminders, retries, rows whose task was lost)."""
    outbox.outbox_deliver_due(now=timezone.now())
