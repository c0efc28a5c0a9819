"""Every change to engagements, sessions, goals and sharing: one function each.

Starting, attended sessions, pausing and ending also open or close check-in requests
(``checkins``).

Each runs in one transaction and refuses what is not possible with a ValidationError whose
message the person can act on; a refused change writes nothing. Who may call which is decided
before (``access.py`` finds the engagement; ``by`` says which side acts).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.booking.models import ACTIVE_STATUSES, Appointment
from rapport.care.models import (
    CLOSED_STATUSES,
    MAX_GOAL_LENGTH,
    MAX_GOALS,
    MAX_REASON_LENGTH,
    STARTING_STATUSES,
    Alert,
    CheckIn,
    CheckInPart,
    EndedFor,
    Engagement,
    EngagementStatus,
    Goal,
    Invitation,
    InvitationStatus,
    Session,
    SessionStatus,
    Sharing,
    SharingChange,
    Side,
)
from rapport.care.services.checkins import (
    check_in_request_after_session,
    check_in_request_at_start,
    check_ins_withdraw,
)
from rapport.directory.models import TherapistProfile

ALREADY_OPEN = "You already have an open engagement with this person."
# The ValidationError code of "this engagement has ended", so callers can answer it as a
# conflict (409 in the API) rather than as bad input.
ALREADY_ENDED = "already_ended"
# Sessions recorded by hand: no further back than this, no further ahead than a day.
SESSION_PAST_LIMIT = dt.timedelta(days=3 * 365)
SESSION_AHEAD_LIMIT = dt.timedelta(days=1)


def _locked(engagement: Engagement) -> Engagement:
    # Row lock (on PostgreSQL) so two changes cannot both see the old status.
    return Engagement.objects.select_for_update().get(pk=engagement.pk)


def _require_open(engagement: Engagement) -> None:
    if engagement.status in CLOSED_STATUSES:
        raise ValidationError(
            "This engagement has ended; nothing more can change in it.", code=ALREADY_ENDED
        )


def _open_exists(*, client: User, therapist: TherapistProfile) -> bool:
    return (
        Engagement.objects.filter(client=client, therapist=therapist)
        .exclude(status__in=CLOSED_STATUSES)
        .exists()
    )


def _clean_text(value: str, *, field: str, limit: int, required: bool, what: str) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise ValidationError({field: f"Write {what}."})
    if len(cleaned) > limit:
        raise ValidationError({field: f"Keep it under {limit} characters."})
    return cleaned


# --- starting -----------------------------------------------------------------------------


def engagement_start(
    *,
    therapist: TherapistProfile,
    client: User,
    consultation: Appointment | None = None,
    status: str = EngagementStatus.CONSULTATION_HELD,
    now: dt.datetime | None = None,
) -> Engagement:
    """Start an engagement between ``therapist`` and ``client``.

    Refused when they already have an open one, or the account cannot be a client of this
    therapist (inactive, or the therapist's own). Side effects: creates the engagement with
    the default sharing (scores only).
    """
    now = now or timezone.now()
    if not client.is_active:
        raise ValidationError("This account is closed.")
    if therapist.user_id == client.pk:
        raise ValidationError("A therapist cannot be their own client.")
    if status not in STARTING_STATUSES:
        raise ValidationError(
            {"status": "An engagement starts with the consultation or fit check."}
        )
    try:
        with transaction.atomic():
            if _open_exists(client=client, therapist=therapist):
                raise ValidationError(ALREADY_OPEN)
            engagement = Engagement.objects.create(
                client=client,
                therapist=therapist,
                consultation=consultation,
                status=status,
                started_at=now,
            )
            check_in_request_at_start(engagement=engagement, now=now)
            return engagement
    except IntegrityError as error:
        # The other request of a simultaneous pair: the database's one-open rule caught it.
        if "care_one_open_engagement_per_pair" in str(error) or "UNIQUE" in str(error).upper():
            raise ValidationError(ALREADY_OPEN) from error
        raise


def engagement_for_first_session(
    *, consultation: Appointment, session: Appointment, now: dt.datetime | None = None
) -> Engagement | None:
    """Booking's first-session hook: the engagement for the client, and the session's row.

    A client without an account (booked by e-mail only) gets nothing stored: the therapist's
    page asks them to create one with their consultation address first, and returns None.
    An open engagement with the pair is reused. Side effects: may create the engagement; creates
    the session (booked, not yet attended).
    """
    client = session.client or consultation.client
    if client is None or not client.is_active or consultation.therapist.user_id == client.pk:
        return None
    with transaction.atomic():
        engagement = (
            Engagement.objects.filter(client=client, therapist=consultation.therapist)
            .exclude(status__in=CLOSED_STATUSES)
            .first()
        )
        if engagement is None:
            engagement = engagement_start(
                therapist=consultation.therapist,
                client=client,
                consultation=consultation,
                now=now,
            )
        Session.objects.create(
            engagement=engagement,
            starts_at=session.starts_at,
            status=SessionStatus.SCHEDULED,
            appointment=session,
        )
    return engagement


def engagement_start_after_first_session(
    *, session: Appointment, now: dt.datetime | None = None
) -> Engagement:
    """The therapist starts the engagement that waited for the client's account, once the
    booked first session's client has one. Refused while there is still no account."""
    if session.follows is None or session.client is None:
        raise ValidationError(
            "The client has no account yet: ask them to create one with the e-mail address "
            "they booked the consultation with."
        )
    taken = ValidationError("This session already belongs to an engagement.")
    try:
        with transaction.atomic():
            # Locked, so a second click waits here and then finds the session taken.
            Appointment.objects.select_for_update().get(pk=session.pk)
            if Session.objects.filter(appointment=session).exists():
                raise taken
            engagement = engagement_for_first_session(
                consultation=session.follows, session=session, now=now
            )
    except IntegrityError as error:
        # SQLite has no row locks: the one-to-one link to the appointment catches the pair.
        raise taken from error
    if engagement is None:
        raise ValidationError("This account cannot start an engagement with you.")
    return engagement


def engagement_invite(
    *, therapist: TherapistProfile, email: str, now: dt.datetime | None = None
) -> Invitation:
    """Invite the client with the account at ``email``. Refused when no active client account
    has that address, when one is already waiting, or when they already work together.
    Side effects: creates the invitation, which the client sees on their care page."""
    now = now or timezone.now()
    address = (email or "").strip()
    if not address:
        raise ValidationError({"email": "Give the client's e-mail address."})
    client = User.objects.filter(email__iexact=address, is_active=True, role=Role.CLIENT).first()
    if client is None:
        raise ValidationError(
            {
                "email": "No client account uses this address. Ask the client to create one "
                "with it first."
            }
        )
    if therapist.user_id == client.pk:
        raise ValidationError({"email": "A therapist cannot be their own client."})
    with transaction.atomic():
        if _open_exists(client=client, therapist=therapist):
            raise ValidationError({"email": ALREADY_OPEN})
        if Invitation.objects.filter(
            client=client, therapist=therapist, status=InvitationStatus.PENDING
        ).exists():
            raise ValidationError({"email": "An invitation to this client is already waiting."})
        try:
            with transaction.atomic():
                return Invitation.objects.create(client=client, therapist=therapist, created_at=now)
        except IntegrityError as error:
            raise ValidationError(
                {"email": "An invitation to this client is already waiting."}
            ) from error


def _answer(invitation: Invitation, status: str, now: dt.datetime) -> Invitation:
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.status != InvitationStatus.PENDING:
        raise ValidationError("This invitation has already been answered.")
    locked.status = status
    locked.answered_at = now
    locked.save(update_fields=["status", "answered_at"])
    return locked


def engagement_invitation_accept(
    *, invitation: Invitation, now: dt.datetime | None = None
) -> Engagement:
    """The client accepts: the engagement starts at the fit check (no consultation was held
    through Rapport). Refused when already answered or when an engagement is already open."""
    now = now or timezone.now()
    with transaction.atomic():
        answered = _answer(invitation, InvitationStatus.ACCEPTED, now)
        return engagement_start(
            therapist=answered.therapist,
            client=answered.client,
            status=EngagementStatus.FIT_CHECK,
            now=now,
        )


def engagement_invitation_decline(
    *, invitation: Invitation, now: dt.datetime | None = None
) -> Invitation:
    """The client declines; nothing else is stored."""
    now = now or timezone.now()
    with transaction.atomic():
        return _answer(invitation, InvitationStatus.DECLINED, now)


# --- sessions -----------------------------------------------------------------------------


def session_record(
    *,
    engagement: Engagement,
    starts_at: dt.datetime,
    status: str,
    recorded_by: User | None,
    now: dt.datetime | None = None,
) -> Session:
    """The therapist records a session that took place (or was cancelled, or missed).

    Refused for an ended or paused engagement, a time more than a day ahead or three years
    back, or a status other than attended, cancelled or no-show. Side effects: the first
    attended session makes a starting engagement ongoing.
    """
    now = now or timezone.now()
    if status not in (SessionStatus.ATTENDED, SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        raise ValidationError({"status": "Choose attended, cancelled or did not attend."})
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": "The time must include its time zone."})
    if starts_at > now + SESSION_AHEAD_LIMIT:
        raise ValidationError({"starts_at": "Record sessions that have taken place."})
    if starts_at < now - SESSION_PAST_LIMIT:
        raise ValidationError({"starts_at": "Choose a date within the last three years."})
    with transaction.atomic():
        locked = _locked(engagement)
        _require_open(locked)
        if locked.status == EngagementStatus.PAUSED:
            raise ValidationError("The engagement is paused: resume it to record sessions.")
        session = Session.objects.create(
            engagement=locked, starts_at=starts_at, status=status, recorded_by=recorded_by
        )
        if status == SessionStatus.ATTENDED and locked.status in STARTING_STATUSES:
            locked.status = EngagementStatus.ONGOING
            locked.save(update_fields=["status", "updated_at"])
        check_in_request_after_session(engagement=locked, session=session, now=now)
    return session


def session_mark(
    *, session: Session, status: str, recorded_by: User | None, now: dt.datetime | None = None
) -> Session:
    """The therapist says how a booked session went. Refused once it has been marked, before
    it starts, or for an ended engagement. Side effects as ``session_record``."""
    now = now or timezone.now()
    if status not in (SessionStatus.ATTENDED, SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        raise ValidationError({"status": "Choose attended, cancelled or did not attend."})
    with transaction.atomic():
        engagement = _locked(session.engagement)
        _require_open(engagement)
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.status != SessionStatus.SCHEDULED:
            raise ValidationError("This session has already been recorded.")
        if status == SessionStatus.ATTENDED and locked.starts_at > now:
            raise ValidationError("This session has not started yet.")
        locked.status = status
        locked.recorded_by = recorded_by
        locked.save(update_fields=["status", "recorded_by", "updated_at"])
        if status == SessionStatus.ATTENDED and engagement.status in STARTING_STATUSES:
            engagement.status = EngagementStatus.ONGOING
            engagement.save(update_fields=["status", "updated_at"])
        check_in_request_after_session(engagement=engagement, session=locked, now=now)
    return locked


def session_follow_appointment(*, appointment: Appointment) -> Session | None:
    """Booking's appointment-change hook: a booked session that was moved or cancelled before
    it was marked takes the new time, or becomes cancelled. One already marked keeps what the
    therapist recorded. Returns the session changed, if any."""
    session = (
        Session.objects.select_for_update()
        .filter(appointment=appointment, status=SessionStatus.SCHEDULED)
        .first()
    )
    if session is None:
        return None
    if appointment.status not in ACTIVE_STATUSES:
        session.status = SessionStatus.CANCELLED
    session.starts_at = appointment.starts_at
    session.save(update_fields=["status", "starts_at", "updated_at"])
    return session


# --- goals --------------------------------------------------------------------------------


def goals_set(
    *, engagement: Engagement, texts: list[str], now: dt.datetime | None = None
) -> list[Goal]:
    """The client writes their goals in their own words: up to three, blank ones removed.

    A goal whose text is unchanged keeps its agreements, proposed wording and graduation
    reviews (even when it moves up a place); a new or edited text starts unagreed and
    unreviewed. Side effects: replaces the goals.
    """
    cleaned = [(text or "").strip() for text in texts]
    cleaned = [text for text in cleaned if text]
    if len(cleaned) > MAX_GOALS:
        raise ValidationError({"goals": f"Write at most {MAX_GOALS} goals."})
    for index, text in enumerate(cleaned):
        if len(text) > MAX_GOAL_LENGTH:
            raise ValidationError(
                {f"goals.{index}": f"Keep each goal under {MAX_GOAL_LENGTH} characters."}
            )
    if len(set(cleaned)) != len(cleaned):
        raise ValidationError({"goals": "Two of the goals are the same; write each once."})
    with transaction.atomic():
        locked = _locked(engagement)
        _require_open(locked)
        kept = {goal.text: goal for goal in locked.goals.all()}
        locked.goals.all().delete()
        goals = []
        for position, text in enumerate(cleaned, start=1):
            before = kept.get(text)
            goals.append(
                Goal.objects.create(
                    engagement=locked,
                    position=position,
                    text=text,
                    proposed_text=before.proposed_text if before else "",
                    client_agreed_at=before.client_agreed_at if before else None,
                    therapist_agreed_at=before.therapist_agreed_at if before else None,
                    client_review=before.client_review if before else "",
                    therapist_review=before.therapist_review if before else "",
                )
            )
    return goals


def _locked_goal(goal: Goal) -> Goal:
    engagement = _locked(goal.engagement)
    _require_open(engagement)
    try:
        return Goal.objects.select_for_update().get(pk=goal.pk)
    except Goal.DoesNotExist:
        raise ValidationError("This goal was just changed; look at the goals again.") from None


def goal_propose(*, goal: Goal, text: str) -> Goal:
    """The therapist suggests a wording (blank withdraws the suggestion). The client's own
    text and the agreements stay as they are."""
    proposal = _clean_text(
        text, field="proposed_text", limit=MAX_GOAL_LENGTH, required=False, what="a wording"
    )
    with transaction.atomic():
        locked = _locked_goal(goal)
        locked.proposed_text = proposal
        locked.save(update_fields=["proposed_text", "updated_at"])
    return locked


def goal_proposal_take(*, goal: Goal, now: dt.datetime | None = None) -> Goal:
    """The client takes the therapist's wording as the goal: the therapist suggested exactly
    this text and the client chose it, so both sides have agreed to it."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_goal(goal)
        if not locked.proposed_text:
            raise ValidationError("There is no suggested wording for this goal.")
        others = {
            other.text
            for other in Goal.objects.filter(engagement_id=locked.engagement_id).exclude(
                pk=locked.pk
            )
        }
        if locked.proposed_text in others:
            raise ValidationError("Another goal already has this wording.")
        locked.text = locked.proposed_text
        locked.proposed_text = ""
        locked.client_agreed_at = now
        locked.therapist_agreed_at = now
        locked.save()
    return locked


def goal_agree(
    *, goal: Goal, by: str, expected_text: str | None = None, now: dt.datetime | None = None
) -> Goal:
    """One side marks the goal's current text agreed. ``expected_text`` is the text the person
    saw: if the client changed it meanwhile, the agreement is refused rather than given to words
    the person never read."""
    now = now or timezone.now()
    if by not in Side.values:
        raise ValidationError("Only the client or the therapist can agree to a goal.")
    with transaction.atomic():
        locked = _locked_goal(goal)
        if expected_text is not None and expected_text.strip() != locked.text:
            raise ValidationError("This goal was changed since you read it; read it again.")
        if by == Side.CLIENT:
            locked.client_agreed_at = locked.client_agreed_at or now
        else:
            locked.therapist_agreed_at = locked.therapist_agreed_at or now
        locked.save(update_fields=["client_agreed_at", "therapist_agreed_at", "updated_at"])
    return locked


# --- the engagement's life ----------------------------------------------------------------


def engagement_pause(*, engagement: Engagement, by: str) -> Engagement:
    """Either side pauses an ongoing engagement."""
    with transaction.atomic():
        locked = _locked(engagement)
        _require_open(locked)
        if locked.status != EngagementStatus.ONGOING:
            raise ValidationError("Only an ongoing engagement can be paused.")
        locked.status = EngagementStatus.PAUSED
        locked.save(update_fields=["status", "updated_at"])
        check_ins_withdraw(engagement=locked, now=timezone.now(), keep_final=True)
    return locked


def engagement_resume(*, engagement: Engagement, by: str) -> Engagement:
    """Either side resumes a paused engagement."""
    with transaction.atomic():
        locked = _locked(engagement)
        if locked.status != EngagementStatus.PAUSED:
            raise ValidationError("Only a paused engagement can be resumed.")
        locked.status = EngagementStatus.ONGOING
        locked.save(update_fields=["status", "updated_at"])
    return locked


def engagement_end(
    *,
    engagement: Engagement,
    by: str,
    reason: str,
    ended_for: str = EndedFor.OTHER,
    now: dt.datetime | None = None,
) -> Engagement:
    """Either side ends the engagement, saying why in their own words (the other reads it) and
    as a choice (``ended_for``: not the right fit, or another reason), which re-matching will
    use. Refused when already ended (code ``ALREADY_ENDED``). Side effects: open check-ins are
    withdrawn; another engagement between the two may start afterwards."""
    cleaned = _clean_text(
        reason, field="reason", limit=MAX_REASON_LENGTH, required=True, what="a short reason"
    )
    return _end(engagement=engagement, by=by, reason=cleaned, ended_for=ended_for, now=now)


def engagement_end_not_right_fit(
    *, engagement: Engagement, by: str, reason: str = "", now: dt.datetime | None = None
) -> Engagement:
    """The one-click "this isn't the right fit": ends the engagement as ``engagement_end``
    does, with ``ended_for`` = not the right fit.

    The reason is optional here, unlike ``engagement_end``: the point of the one click is that
    saying it is not working must not need an explanation. A blank reason stores the choice's
    own label ("It isn't the right fit"), so the other side still reads why it ended and the
    stored words are never empty for an ended engagement."""
    cleaned = _clean_text(
        reason, field="reason", limit=MAX_REASON_LENGTH, required=False, what="a short reason"
    )
    return _end(
        engagement=engagement,
        by=by,
        reason=cleaned or str(EndedFor.NOT_THE_RIGHT_FIT.label),
        ended_for=EndedFor.NOT_THE_RIGHT_FIT,
        now=now,
    )


def _end(
    *, engagement: Engagement, by: str, reason: str, ended_for: str, now: dt.datetime | None
) -> Engagement:
    now = now or timezone.now()
    if by not in Side.values:
        raise ValidationError("Only the client or the therapist can end an engagement.")
    if ended_for not in EndedFor.values:
        raise ValidationError({"ended_for": "Choose not_right_fit or other."})
    with transaction.atomic():
        locked = _locked(engagement)
        _require_open(locked)
        locked.status = EngagementStatus.ENDED
        locked.ended_at = now
        locked.ended_by = by
        locked.end_reason = reason
        locked.ended_for = ended_for
        fields = ["status", "ended_at", "ended_by", "end_reason", "ended_for", "updated_at"]
        locked.save(update_fields=fields)
        check_ins_withdraw(engagement=locked, now=now)
    return locked


def engagement_graduate(
    *, engagement: Engagement, by: str, now: dt.datetime | None = None
) -> Engagement:
    """The work is done: an ongoing or paused engagement graduates (the review comes later)."""
    now = now or timezone.now()
    if by not in Side.values:
        raise ValidationError("Only the client or the therapist can close an engagement.")
    with transaction.atomic():
        locked = _locked(engagement)
        _require_open(locked)
        if locked.status not in (EngagementStatus.ONGOING, EngagementStatus.PAUSED):
            raise ValidationError("Only an ongoing or paused engagement can graduate.")
        locked.status = EngagementStatus.GRADUATED
        locked.ended_at = now
        locked.ended_by = by
        locked.save(update_fields=["status", "ended_at", "ended_by", "updated_at"])
        check_ins_withdraw(engagement=locked, now=now)
    return locked


def sharing_set(
    *, engagement: Engagement, sharing: str, now: dt.datetime | None = None
) -> Engagement:
    """The client chooses what the therapist sees of their check-ins; allowed at any time, even
    after the engagement ended. Side effects: the change is audited (a health model) and kept
    in the sharing history."""
    now = now or timezone.now()
    if sharing not in Sharing.values:
        raise ValidationError({"sharing": "Choose item_answers, scores_only or nothing."})
    with transaction.atomic():
        locked = _locked(engagement)
        if locked.sharing == sharing:
            return locked
        locked.sharing = sharing
        locked.sharing_changed_at = now
        locked.save(update_fields=["sharing", "sharing_changed_at", "updated_at"])
        SharingChange.objects.create(engagement=locked, sharing=sharing, changed_at=now)
    return locked


# --- erasure ------------------------------------------------------------------------------


def client_engagements_erase(*, user: User) -> int:
    """Account deletion: the person's engagements as a client go, with their sessions, goals and
    sharing history (everything in them is about the person), and so do invitations to them.
    Returns how many engagements were removed. The audit log keeps only masked entries."""
    with transaction.atomic():
        Invitation.objects.filter(client=user).delete()
        engagements = Engagement.objects.filter(client=user)
        count = engagements.count()
        # Blank the free texts first, so no copy survives in a row a failed delete would leave.
        Goal.objects.filter(engagement__client=user).update(text="", proposed_text="")
        CheckInPart.objects.filter(check_in__engagement__client=user).update(answers="", scores="")
        CheckIn.objects.filter(engagement__client=user).update(goal_ratings="")
        Alert.objects.filter(engagement__client=user).update(acknowledgement="")
        engagements.update(end_reason="", trend_summary="")
        engagements.delete()
    return count
