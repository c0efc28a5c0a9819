"""Check-ins: asked on a schedule, answered once by the client, scored, and acted on.

The schedule (docs/care.md says it in words):

- at the start of an engagement: the fit check and the first progress check (the baseline);
- after attended sessions 1, 2 and 3, and then every 4th (4, 8, 12 …): the alliance check-in,
  with a rating of progress on each of the client's goals;
- after every 2nd attended session: the progress check.

What falls due at one moment is asked in one request, and an engagement never has more than
one open request: a new one takes over what the open one still asked (the database holds the
rule). A request closes unanswered after ``settings.CARE_CHECK_IN_DAYS`` days, and when the
engagement pauses or ends. A session recorded long after it took place asks nothing.

Answers and scores are stored encrypted. A critical item at or above its threshold creates a
crisis alert for the therapist, whatever the client shares, and an e-mail that says nothing
of what was answered. While the client shares at least scores, the scores may also raise
alerts with repair suggestions (``rapport.care.alert_rules``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.care import alert_rules, history, hooks, instruments, selectors, trends
from rapport.care.errors import CheckInAlreadyAnswered, CheckInAnswersInvalid, CheckInClosed
from rapport.care.models import (
    MAX_REASON_LENGTH,
    Alert,
    AlertKind,
    CheckIn,
    CheckInPart,
    CheckInStatus,
    Engagement,
    EngagementStatus,
    Goal,
    InstrumentVersion,
    Purpose,
    Session,
    SessionStatus,
    Sharing,
)
from rapport.care.services.instruments import instrument_builtins_install

# Purposes in the order a request asks them.
PURPOSE_ORDER = (Purpose.FIT, Purpose.ALLIANCE, Purpose.PROGRESS)
# A goal is rated from 0 (no progress at all) to 10 (reached).
GOAL_RATING_MIN = 0
GOAL_RATING_MAX = 10


def purposes_due_at_start() -> tuple[Purpose, ...]:
    return (Purpose.FIT, Purpose.PROGRESS)


def purposes_due_after(*, attended: int) -> tuple[Purpose, ...]:
    """What the ``attended``-th attended session asks (nothing for 0 or less)."""
    if attended < 1:
        return ()
    due = []
    if attended <= 3 or attended % 4 == 0:
        due.append(Purpose.ALLIANCE)
    if attended % 2 == 0:
        due.append(Purpose.PROGRESS)
    return tuple(due)


def _check_in_days() -> dt.timedelta:
    return dt.timedelta(days=settings.CARE_CHECK_IN_DAYS)


def instrument_for_purpose(purpose: str) -> InstrumentVersion:
    """The newest loaded version of the instrument the settings name for ``purpose``."""
    slug = settings.CARE_INSTRUMENTS[purpose]
    row = selectors.instrument_current(slug=slug)
    if row is None:
        # A database migrated before the built-ins existed, or flushed by a test.
        instrument_builtins_install()
        row = selectors.instrument_current(slug=slug)
    if row is None:
        raise ImproperlyConfigured(
            f"No instrument '{slug}' is loaded for the {purpose} check-in: load it with "
            "`rapport load_instrument`, or change the CARE_*_INSTRUMENT setting."
        )
    return row


def _goal_snapshot(engagement: Engagement) -> str:
    """The goals asked about, as the client worded them when the request was made."""
    goals = [
        {"position": goal.position, "text": goal.text}
        for goal in Goal.objects.filter(engagement=engagement).order_by("position")
    ]
    if not goals:
        return ""
    return json.dumps({"goals": goals, "ratings": {}})


def _request(
    *, engagement: Engagement, purposes: tuple[Purpose, ...], after_session: int, now: dt.datetime
) -> CheckIn | None:
    """Make the engagement's open request: ``purposes`` plus whatever an unexpired open
    request still asked, which it replaces. Runs inside the caller's transaction, with the
    engagement row locked."""
    wanted = set(purposes)
    current = (
        CheckIn.objects.select_for_update()
        .filter(engagement=engagement, status=CheckInStatus.OPEN)
        .first()
    )
    if current is not None:
        if current.expires_at > now:
            wanted |= {Purpose(part.purpose) for part in current.parts.all()}
            current.status = CheckInStatus.REPLACED
        else:
            current.status = CheckInStatus.EXPIRED
        current.closed_at = now
        current.save(update_fields=["status", "closed_at"])
    if not wanted:
        return None
    ordered = [purpose for purpose in PURPOSE_ORDER if purpose in wanted]
    check_in = CheckIn.objects.create(
        engagement=engagement,
        after_session=after_session,
        requested_at=now,
        expires_at=now + _check_in_days(),
        goal_ratings=_goal_snapshot(engagement) if Purpose.ALLIANCE in wanted else "",
    )
    CheckInPart.objects.bulk_create(
        CheckInPart(
            check_in=check_in,
            position=position,
            purpose=purpose,
            instrument=instrument_for_purpose(purpose),
        )
        for position, purpose in enumerate(ordered, start=1)
    )
    _on_commit_email("send_check_in_request_email", check_in_id=check_in.pk)
    return check_in


def _on_commit_email(task_name: str, **arguments: Any) -> None:
    # Imported here: tasks import services (a task takes ids, loads, calls a service).
    from rapport.care import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.enqueue(**arguments))


def check_in_request_at_start(*, engagement: Engagement, now: dt.datetime) -> CheckIn | None:
    """The first request of a new engagement (called by ``engagement_start``): the fit check
    and the progress baseline. Side effects: the engagement moves to "checking the fit"."""
    with transaction.atomic():
        locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
        check_in = _request(
            engagement=locked, purposes=purposes_due_at_start(), after_session=0, now=now
        )
        if locked.status == EngagementStatus.CONSULTATION_HELD:
            locked.status = EngagementStatus.FIT_CHECK
            locked.save(update_fields=["status", "updated_at"])
            engagement.status = locked.status
    return check_in


def check_in_request_after_session(
    *, engagement: Engagement, session: Session, now: dt.datetime
) -> CheckIn | None:
    """What an attended session makes due (called by the session services, in their
    transaction, with the engagement locked). Nothing for a session that took place longer
    ago than a request stays open, or while the engagement is paused."""
    if session.status != SessionStatus.ATTENDED or engagement.status != EngagementStatus.ONGOING:
        return None
    if session.starts_at < now - _check_in_days():
        return None
    attended = Session.objects.filter(engagement=engagement, status=SessionStatus.ATTENDED).count()
    purposes = purposes_due_after(attended=attended)
    if not purposes:
        return None
    return _request(engagement=engagement, purposes=purposes, after_session=attended, now=now)


def check_in_request_final(*, engagement: Engagement, now: dt.datetime) -> CheckIn | None:
    """The last progress check, asked when graduating is proposed (called by
    ``graduation_propose`` in its transaction, with the engagement locked). It takes over an
    open request like any new one, whatever the engagement's status (a paused engagement may
    graduate too)."""
    attended = Session.objects.filter(engagement=engagement, status=SessionStatus.ATTENDED).count()
    return _request(
        engagement=engagement, purposes=(Purpose.PROGRESS,), after_session=attended, now=now
    )


def check_ins_withdraw(
    *, engagement: Engagement, now: dt.datetime, keep_final: bool = False
) -> int:
    """The engagement paused or ended: its open request closes unanswered (called inside the
    lifecycle services' transactions). ``keep_final`` keeps a request made since graduating
    was proposed: a pause must not lose the last progress check."""
    open_requests = CheckIn.objects.filter(engagement=engagement, status=CheckInStatus.OPEN)
    if keep_final and engagement.graduation_proposed_at is not None:
        open_requests = open_requests.exclude(requested_at__gte=engagement.graduation_proposed_at)
    return open_requests.update(status=CheckInStatus.WITHDRAWN, closed_at=now)


def check_ins_expire(*, now: dt.datetime) -> int:
    """Housekeeping: close every open request older than its expiry; returns how many."""
    return CheckIn.objects.filter(status=CheckInStatus.OPEN, expires_at__lte=now).update(
        status=CheckInStatus.EXPIRED, closed_at=now
    )


# --- answering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PartResult:
    purpose: str
    instrument: instruments.Instrument
    scores: instruments.Scores


@dataclass(frozen=True)
class CheckInResult:
    check_in: CheckIn
    parts: tuple[PartResult, ...]
    crisis: bool


def scores_dict(scores: instruments.Scores) -> dict[str, Any]:
    """What is stored (encrypted) of a part's scores, and what the export and API show."""

    def scale(result: instruments.ScaleScore) -> dict[str, Any]:
        return {
            "id": result.id,
            "label": result.label,
            "value": result.value,
            "band": result.band,
            "prorated": result.prorated,
            "missing": list(result.missing),
        }

    return {
        "slug": scores.slug,
        "version": scores.version,
        "content_hash": scores.content_hash,
        "total": scale(scores.total),
        "subscales": [scale(result) for result in scores.subscales],
        "critical": [
            {"item_id": flag.item_id, "threshold": flag.threshold, "status": str(flag.status)}
            for flag in scores.critical
        ],
    }


def _check_part(
    part: CheckInPart, given: Any, problems: list[tuple[str, str]]
) -> PartResult | None:
    instrument = selectors.instrument_of(part.instrument)
    if given is None:
        given = {}
    try:
        result = instruments.score(instrument, given)
    except instruments.AnswerError as error:
        problems.extend(
            (f"{part.purpose}/{path}" if path else part.purpose, message)
            for path, message in error.problems
        )
        return None
    if not result.total.enough_answers:
        answerable = len([item for item in instrument.items if item.scored])
        needed = answerable - instrument.total.max_missing
        problems.append(
            (
                part.purpose,
                f"answer at least {needed} of the {answerable} questions of "
                f"“{instrument.title}” so it can be scored",
            )
        )
        return None
    return PartResult(purpose=part.purpose, instrument=instrument, scores=result)


def _checked_goal_ratings(snapshot: str, given: Any, problems: list[tuple[str, str]]) -> str:
    if not snapshot:
        if given:
            problems.append(("goals", "this check-in does not ask about goals"))
        return ""
    stored = json.loads(snapshot)
    positions = {str(goal["position"]) for goal in stored["goals"]}
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        problems.append(("goals", "goal ratings must map goal numbers to a rating"))
        return snapshot
    ratings: dict[str, int] = {}
    for key, value in given.items():
        if str(key) not in positions:
            problems.append((f"goals/{key}", "is not one of the goals asked about"))
        elif value is None:
            continue
        elif type(value) is not int or not GOAL_RATING_MIN <= value <= GOAL_RATING_MAX:
            problems.append(
                (
                    f"goals/{key}",
                    f"a rating is a whole number from {GOAL_RATING_MIN} to {GOAL_RATING_MAX}",
                )
            )
        else:
            ratings[str(key)] = value
    stored["ratings"] = ratings
    return json.dumps(stored)


def check_in_answer(
    *,
    check_in: CheckIn,
    answers: Mapping[str, Any],
    goal_ratings: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> CheckInResult:
    """The client answers an open check-in, once.

    ``answers`` maps each part's purpose ("fit", "alliance", "progress") to its item answers;
    ``goal_ratings`` maps goal positions to 0–10. Every part must be answered enough to be
    scored. Refused, writing nothing: CheckInAlreadyAnswered, CheckInClosed (expired,
    replaced, withdrawn), CheckInAnswersInvalid (every problem, each with its path).
    Side effects: answers and scores stored encrypted; a flagged critical item creates a
    crisis alert and e-mails the therapist (no content) on commit; on commit, the
    check-in-answered hooks run (``care.hooks``: matching learns from early answers).
    """
    now = now or timezone.now()
    if not isinstance(answers, Mapping):
        raise CheckInAnswersInvalid([("answers", "answers must map each part to its answers")])
    with transaction.atomic():
        locked = CheckIn.objects.select_for_update().get(pk=check_in.pk)
        if locked.status == CheckInStatus.COMPLETED:
            raise CheckInAlreadyAnswered("You have already answered this check-in. Thank you.")
        if locked.status != CheckInStatus.OPEN or locked.expires_at <= now:
            raise CheckInClosed(
                "This check-in has closed. A new one comes after your next session."
            )
        parts = list(locked.parts.select_related("instrument").order_by("position"))
        problems: list[tuple[str, str]] = []
        known = {part.purpose for part in parts}
        problems.extend(
            (str(key), "this check-in does not ask this questionnaire")
            for key in answers
            if key not in known
        )
        results = []
        for part in parts:
            result = _check_part(part, answers.get(part.purpose), problems)
            if result is not None:
                results.append((part, result))
        ratings = _checked_goal_ratings(locked.goal_ratings, goal_ratings, problems)
        if problems:
            raise CheckInAnswersInvalid(problems)
        for part, result in results:
            given = answers.get(part.purpose) or {}
            part.answers = json.dumps(
                {item_id: given.get(item_id) for item_id in result.instrument.items_by_id}
            )
            part.scores = json.dumps(scores_dict(result.scores))
            part.save(update_fields=["answers", "scores"])
        locked.status = CheckInStatus.COMPLETED
        locked.completed_at = now
        locked.closed_at = now
        locked.goal_ratings = ratings
        locked.save(update_fields=["status", "completed_at", "closed_at", "goal_ratings"])
        crisis = any(result.scores.any_critical for _, result in results)
        if crisis:
            _crisis_alert(check_in=locked, now=now)
        _score_alerts(check_in=locked, now=now)
        _trend_summary_refresh(engagement_id=locked.engagement_id)
        # After commit, so a failing hook (matching's learning) never loses the answer.
        transaction.on_commit(lambda: hooks.check_in_answered_hooks_run(check_in=locked, now=now))
    return CheckInResult(
        check_in=locked,
        parts=tuple(result for _, result in results),
        crisis=crisis,
    )


def _crisis_alert(*, check_in: CheckIn, now: dt.datetime) -> Alert:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                engagement_id=check_in.engagement_id,
                check_in=check_in,
                kind=AlertKind.CRISIS,
                created_at=now,
            )
    except IntegrityError:
        return Alert.objects.get(check_in=check_in, kind=AlertKind.CRISIS)
    _on_commit_email("send_alert_email", alert_id=alert.pk)
    return alert


def _trend_summary_refresh(*, engagement_id: int) -> None:
    # The totals the therapist's client list shows, kept with the engagement (see
    # Engagement.trend_summary); saved through the model so the field encrypts it.
    engagement = Engagement.objects.only("pk").get(pk=engagement_id)
    engagement.trend_summary = trends.summary_of(engagement_id=engagement_id)
    engagement.save(update_fields=["trend_summary"])


def _score_alerts(*, check_in: CheckIn, now: dt.datetime) -> list[Alert]:
    """The alerts the scores raise (``alert_rules``), only while the client shares at least
    scores: an alert must never tell the therapist what the client chose to keep. An alert of
    a kind (for a goal: of that goal) still open is not raised again."""
    engagement = Engagement.objects.get(pk=check_in.engagement_id)
    # Nothing to repair once the work is over (a last progress check may be answered after
    # graduating); the crisis path does not depend on this.
    if engagement.sharing == Sharing.NOTHING or not engagement.is_open:
        return []
    records = history.for_client(engagement=engagement)
    open_alerts = {
        (kind, position)
        for kind, position in Alert.objects.filter(
            engagement=engagement, acknowledged_at__isnull=True
        ).values_list("kind", "goal_position")
    }
    raised = []
    for finding in alert_rules.findings_after(records):
        if (finding.kind, finding.goal_position) in open_alerts:
            continue
        raised.append(
            Alert.objects.create(
                engagement=engagement,
                check_in=check_in,
                kind=finding.kind,
                subscale=finding.subscale,
                goal_position=finding.goal_position,
                created_at=now,
            )
        )
        open_alerts.add((finding.kind, finding.goal_position))
    return raised


def alert_acknowledge(
    *, alert: Alert, by: User, note: str, now: dt.datetime | None = None
) -> Alert:
    """The therapist says what they did about an alert (required: an alert is never silently
    dismissed). Refused when already acknowledged or the note is empty or too long."""
    now = now or timezone.now()
    cleaned = (note or "").strip()
    if not cleaned:
        raise ValidationError({"note": "Say briefly what you did."})
    if len(cleaned) > MAX_REASON_LENGTH:
        raise ValidationError({"note": f"Keep it under {MAX_REASON_LENGTH} characters."})
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            raise ValidationError("This alert was already acknowledged.")
        locked.acknowledged_at = now
        locked.acknowledged_by = by
        locked.acknowledgement = cleaned
        locked.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement"])
    return locked
