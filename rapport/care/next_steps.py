"""Where a client goes next after ending an engagement as not the right fit.

Care sits below matching, so it may not name matching's pages; matching registers here in its
``ready()`` instead (docs/architecture.md, "Registries"). With nothing registered, care's page
points to the directory's search alone.
"""

from __future__ import annotations

from collections.abc import Callable

from rapport.care.models import EndedFor, Engagement

# Called with an engagement the client ended as not the right fit; returns the address of the
# page that asks what did not fit and suggests someone different, or None when it has nothing
# to offer for this engagement.
NotRightFitStep = Callable[[Engagement], str | None]

_not_right_fit_steps: dict[str, NotRightFitStep] = {}


def register_not_right_fit_step(name: str, step: NotRightFitStep) -> None:
    """Registering the same name again replaces the earlier step."""
    _not_right_fit_steps[name] = step


def not_right_fit_step_url(*, engagement: Engagement) -> str | None:
    """The first registered step's address (by name) for an engagement ended as not the right
    fit; None for any other engagement, or when no step answers."""
    if engagement.ended_for != EndedFor.NOT_THE_RIGHT_FIT:
        return None
    for _name, step in sorted(_not_right_fit_steps.items()):
        url = step(engagement)
        if url:
            return url
    return None
