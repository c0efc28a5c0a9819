"""The periodic work no request triggers, gathered from every app (`rapport housekeeping`).

Core runs the rounds but may not import the apps above it, so each app registers its steps in
``AppConfig.ready()``. Steps run in registration order — the apps' order in INSTALLED_APPS,
then the order each app registers them in — and each returns how many things it did. Every step
must be idempotent and safe to run from several machines at once (claim rows, use conditional
updates), because the command may run from cron on more than one server.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

HousekeepingStep = Callable[[dt.datetime], int]  # called with "now"; returns a count

_steps: dict[str, HousekeepingStep] = {}


def register_housekeeping_step(label: str, step: HousekeepingStep) -> None:
    """``label`` is what the command prints after the count ("12 e-mails sent"). Registering a
    label again replaces its step and keeps its place."""
    _steps[label] = step


def housekeeping_steps() -> list[tuple[str, HousekeepingStep]]:
    return list(_steps.items())


def housekeeping_run(*, now: dt.datetime) -> tuple[dict[str, int], list[str]]:
    """Run every step once. A failing step is logged and does not stop the others (a broken
    mail server must not stop requests from expiring). Returns counts and failed steps."""
    counts: dict[str, int] = {}
    failed: list[str] = []
    for label, step in housekeeping_steps():
        try:
            counts[label] = step(now)
        except Exception:
            logger.exception("Housekeeping step failed: %s", label)
            failed.append(label)
    return counts, failed
