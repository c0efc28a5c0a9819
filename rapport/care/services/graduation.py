"""A planned graduation: one side proposes ending, both review the goals, the other confirms.

The flow:

1. ``graduation_propose``: the client or the therapist proposes graduating an ongoing or paused
   engagement. Who and when are recorded, and a last progress check is asked (it takes over an
   open request, as every new request does).
2. ``goal_review_set`` / ``goal_reviews_set``: each side says of every goal the client wrote
   (agreed or not) whether it was met, partly met or not yet.
3. ``graduation_confirm``: the side that did NOT propose confirms, so both have agreed. It is
   refused until every goal has both reviews. The engagement becomes graduated, ended by the
   proposer. Open requests are withdrawn except the last progress check: it stays answerable
   until it expires, so a client who confirms before answering it still gets their last score
   onto the closing summary.
4. ``graduation_withdraw``: either side withdraws (or declines) the proposal before it is
   confirmed; the reviews given so far are cleared with it, since they were given for an ending
   that is no longer planned. The last progress check stays open: it is an ordinary progress
   check by then.

A goal the client rewrites while graduating is proposed starts without reviews again
(``goals_set`` writes it anew), so each side reviews the words that are finally there.

``services.engagement_graduate`` (graduate at once) stays for older callers; pages and the API
use this flow. Each function runs in one transaction with the engagement row locked; a refusal
is a ValidationError (``GraduationConflict`` when the engagement's state is what refuses, which
the API reads as 409) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rapport.care.models import (
    CLOSED_STATUSES,
    CheckIn,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    Goal,
    GoalReview,
    Purpose,
    Side,
)
from rapport.care.services.checkins import check_in_request_final

# Only these can graduate: the work has begun and has not ended.
GRADUATABLE = (EngagementStatus.ONGOING, EngagementStatus.PAUSED)


class GraduationConflict(ValidationError):
    """The engagement's state refuses the step (ended, no proposal, the proposer confirming,
    goals not reviewed): nothing in the request itself was malformed."""


def _other(side: str) -> str:
    return Side.THERAPIST if side == Side.CLIENT else Side.CLIENT


def _side_name(side: str) -> str:
    return "the client" if side == Side.CLIENT else "the therapist"


def _check_side(by: str) -> None:
    if by not in Side.values:
        raise ValidationError("Only the client or the therapist can take part in a graduation.")


def _locked(engagement: Engagement) -> Engagement:
    # Row lock (on PostgreSQL) so two steps cannot both see the old state.
    return Engagement.objects.select_for_update().get(pk=engagement.pk)


def _require_proposal(locked: Engagement) -> None:
    if locked.status in CLOSED_STATUSES:
        raise GraduationConflict("This engagement has ended; nothing more can change in it.")
    if not locked.graduation_proposed_by:
        raise GraduationConflict("Nobody has proposed graduating yet.")


def graduation_propose(
    *, engagement: Engagement, by: str, now: dt.datetime | None = None
) -> Engagement:
    """``by`` proposes graduating. Refused for an engagement that is not ongoing or paused, or
    that already has a proposal. Side effects: records who and when; asks a last progress check
    (the request e-mail is sent on commit)."""
    now = now or timezone.now()
    _check_side(by)
    with transaction.atomic():
        locked = _locked(engagement)
        if locked.status in CLOSED_STATUSES:
            raise GraduationConflict("This engagement has ended; nothing more can change in it.")
        if locked.status not in GRADUATABLE:
            raise GraduationConflict(
                "Graduating comes after the work has begun: record an attended session first."
            )
        if locked.graduation_proposed_by:
            raise GraduationConflict(
                f"Graduating was already proposed by {_side_name(locked.graduation_proposed_by)}."
            )
        locked.graduation_proposed_by = by
        locked.graduation_proposed_at = now
        locked.save(
            update_fields=["graduation_proposed_by", "graduation_proposed_at", "updated_at"]
        )
        check_in_request_final(engagement=locked, now=now)
    return locked


def graduation_withdraw(*, engagement: Engagement, by: str) -> Engagement:
    """Either side withdraws (the proposer) or declines (the other side) the proposal. Side
    effects: the proposal and every goal review given so far are cleared."""
    _check_side(by)
    with transaction.atomic():
        locked = _locked(engagement)
        _require_proposal(locked)
        locked.graduation_proposed_by = ""
        locked.graduation_proposed_at = None
        locked.save(
            update_fields=["graduation_proposed_by", "graduation_proposed_at", "updated_at"]
        )
        Goal.objects.filter(engagement=locked).update(client_review="", therapist_review="")
    return locked


def _clean_review(review: str, *, field: str) -> str:
    if review not in GoalReview.values:
        raise ValidationError({field: "Choose met, partly met or not yet."})
    return review


def _write_review(goal: Goal, *, by: str, review: str) -> None:
    if by == Side.CLIENT:
        goal.client_review = review
    else:
        goal.therapist_review = review
    goal.save(update_fields=["client_review", "therapist_review", "updated_at"])


def goal_review_set(*, goal: Goal, by: str, review: str) -> Goal:
    """``by`` says how far ``goal`` came (met, partly, not_yet); a later review replaces their
    earlier one. Refused without a graduation proposal."""
    _check_side(by)
    _clean_review(review, field="review")
    with transaction.atomic():
        _require_proposal(_locked(goal.engagement))
        locked = Goal.objects.select_for_update().filter(pk=goal.pk).first()
        if locked is None:
            raise GraduationConflict("This goal was just changed; look at the goals again.")
        _write_review(locked, by=by, review=review)
    return locked


def goal_reviews_set(*, engagement: Engagement, by: str, reviews: Mapping[str, str]) -> list[Goal]:
    """``by`` reviews several goals at once, ``reviews`` mapping each goal's number ("1") to
    met, partly or not_yet: all are written or, when one is refused, none. Every refusal is
    named by its goal number (``reviews.2``)."""
    _check_side(by)
    if not reviews:
        raise ValidationError({"reviews": "Review at least one goal."})
    with transaction.atomic():
        locked = _locked(engagement)
        _require_proposal(locked)
        goals = {str(goal.position): goal for goal in locked.goals.select_for_update()}
        problems: dict[str, str] = {}
        for key, review in reviews.items():
            field = f"reviews.{key}"
            if str(key) not in goals:
                problems[field] = "There is no goal with this number."
            elif review not in GoalReview.values:
                problems[field] = "Choose met, partly met or not yet."
        if problems:
            raise ValidationError(problems)
        for key, review in reviews.items():
            _write_review(goals[str(key)], by=by, review=review)
    return sorted(goals.values(), key=lambda goal: goal.position)


def _missing_reviews(locked: Engagement) -> list[str]:
    missing = []
    for goal in locked.goals.order_by("position"):
        sides = [
            name
            for name, given in (
                ("the client", goal.client_review),
                ("the therapist", goal.therapist_review),
            )
            if not given
        ]
        if sides:
            missing.append(f"goal {goal.position} ({' and '.join(sides)})")
    return missing


def _final_check_in(locked: Engagement) -> CheckIn | None:
    """The open request that asks the last progress check: made at or after the proposal (a
    later request takes over what it asked, so it still asks progress)."""
    proposed_at = locked.graduation_proposed_at
    if proposed_at is None:
        return None
    return (
        CheckIn.objects.filter(
            engagement=locked,
            status=CheckInStatus.OPEN,
            requested_at__gte=proposed_at,
            parts__purpose=Purpose.PROGRESS,
        )
        .order_by("-requested_at")
        .first()
    )


def graduation_confirm(
    *, engagement: Engagement, by: str, now: dt.datetime | None = None
) -> Engagement:
    """The side that did not propose confirms, once every goal the client wrote has both sides'
    reviews. Side effects: the engagement graduates (ended now, by the proposer); open requests
    are withdrawn except the last progress check, which stays open until it expires."""
    now = now or timezone.now()
    _check_side(by)
    with transaction.atomic():
        locked = _locked(engagement)
        _require_proposal(locked)
        proposer = locked.graduation_proposed_by
        if by == proposer:
            raise GraduationConflict(
                f"You proposed graduating: {_side_name(_other(proposer))} confirms it, so you "
                "both agree."
            )
        missing = _missing_reviews(locked)
        if missing:
            raise GraduationConflict(
                "Every goal needs a review from both of you before graduating. Still to "
                f"review: {'; '.join(missing)}."
            )
        locked.status = EngagementStatus.GRADUATED
        locked.ended_at = now
        locked.ended_by = proposer
        locked.save(update_fields=["status", "ended_at", "ended_by", "updated_at"])
        final = _final_check_in(locked)
        still_open = CheckIn.objects.filter(engagement=locked, status=CheckInStatus.OPEN)
        if final is not None:
            still_open = still_open.exclude(pk=final.pk)
        still_open.update(status=CheckInStatus.WITHDRAWN, closed_at=now)
    return locked
