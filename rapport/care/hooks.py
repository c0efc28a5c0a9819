"""What other apps do when care does something they build on, and what they offer on care's
pages.

Care sits below matching, so it may not import it; matching registers here in its ``ready()``
instead (see docs/architecture.md, "Registries").
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rapport.care.models import CheckIn, Engagement

logger = logging.getLogger(__name__)

# Called with (check-in, when it was answered) after the transaction that stored the client's
# answers has committed (``check_in_answer``). The answers are kept whatever a hook does.
CheckInAnsweredHook = Callable[["CheckIn", dt.datetime], object]

_check_in_answered_hooks: dict[str, CheckInAnsweredHook] = {}


def register_check_in_answered_hook(name: str, hook: CheckInAnsweredHook) -> None:
    """Registering the same name again replaces the earlier hook."""
    _check_in_answered_hooks[name] = hook


def check_in_answered_hooks_run(*, check_in: CheckIn, now: dt.datetime) -> None:
    """Run every hook, by name. A hook that fails is logged (its name and the error's type
    only: an error's message may quote what the client answered) and the others still run."""
    for name, hook in sorted(_check_in_answered_hooks.items()):
        try:
            hook(check_in, now)
        except Exception as error:  # one app's failure must not stop the others
            logger.error(
                "check-in answered hook %s failed (%s) for check-in %s",
                name,
                type(error).__name__,
                check_in.pk,
            )


# Called with an engagement the client ended as not the right fit; returns the address of the
# page that asks what did not fit and suggests someone different (matching's re-match page), or
# None when it has nothing to offer for this engagement. Care may not name that page itself.
NotRightFitStep = Callable[["Engagement"], str | None]

_not_right_fit_steps: dict[str, NotRightFitStep] = {}


def register_not_right_fit_step(name: str, step: NotRightFitStep) -> None:
    """Registering the same name again replaces the earlier step."""
    _not_right_fit_steps[name] = step


def not_right_fit_step_url(*, engagement: Engagement) -> str | None:
    """The first registered step's address (by name) for an engagement ended as not the right
    fit; None for any other engagement, or when no step answers (care's page then points to the
    directory's search alone)."""
    from rapport.care.models import EndedFor  # at call time, as the types above

    if engagement.ended_for != EndedFor.NOT_THE_RIGHT_FIT:
        return None
    for _name, step in sorted(_not_right_fit_steps.items()):
        url = step(engagement)
        if url:
            return url
    return None
