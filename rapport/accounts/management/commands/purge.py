"""`rapport purge`: apply the retention rules. Run it daily (cron or a scheduler)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from rapport.accounts.services import retention_purge


class Command(BaseCommand):
    help = (
        "Delete accounts whose deletion grace period has ended, sign-ups never confirmed, "
        "expired sessions and old login-attempt records."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = retention_purge()
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Deleted {report.deleted_accounts} account(s) at the end of their grace period, "
                f"{report.unverified_accounts} never-confirmed sign-up(s), "
                f"{report.expired_sessions} expired session(s) and "
                f"{report.login_attempt_records} old login-attempt record(s)."
            )
