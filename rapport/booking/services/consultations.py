"""An appointment's life: booking a consultation, the therapist's answer (confirm, decline),
expiry of an unanswered request, cancelling and moving, and the first session after a
consultation."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.booking import outbox, slots
from rapport.booking.errors import FreeTime, InvalidTransition, SlotTaken, SlotUnavailable
from rapport.booking.facts import therapist_booking_facts_refresh_on_commit
from rapport.booking.hooks import appointment_change_hooks_run, first_session_hooks_run
from rapport.booking.how import phone_clean
from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    ConsultationMethod,
    Party,
)
from rapport.booking.services._common import _locked, _locked_policy
from rapport.booking.services.availability import booking_policy_for
from rapport.core.validators import validate_time_zone
from rapport.directory.models import TherapistProfile

OVERLAP_GUARD = "appointment_no_overlap"
NEXT_FREE_COUNT = 3
MAX_REASON_LENGTH = 500
# A first session further out than this is almost certainly a typo in the year.
SESSION_MAX_AHEAD = dt.timedelta(days=365)
# Times outside these are refused as typos before any arithmetic on them could overflow.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def _is_overlap(error: IntegrityError) -> bool:
    return OVERLAP_GUARD in str(error)


def _reason(reason: str, *, required: bool) -> str:
    cleaned = (reason or "").strip()
    if required and not cleaned:
        raise ValidationError({"reason": "Give a short reason; the other person will read it."})
    if len(cleaned) > MAX_REASON_LENGTH:
        raise ValidationError({"reason": f"Keep the reason under {MAX_REASON_LENGTH} characters."})
    return cleaned


def _aware(moment: dt.datetime, field: str) -> dt.datetime:
    if timezone.is_naive(moment):
        # A naive time has no meaning across zones; it is a caller's bug, reported per field.
        raise ValidationError({field: "The time must include its time zone."})
    try:
        utc = moment.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        # 0001-01-01T00:00:00+01:00 is before the first representable UTC instant.
        utc = None
    # Far-off years are never bookable, and arithmetic near datetime's limits would overflow.
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValidationError({field: "Choose a time between the years 1970 and 8999."})
    return utc


def _next_free(
    *, therapist: TherapistProfile, after: dt.datetime, now: dt.datetime
) -> list[FreeTime]:
    """The next few free consultation times from ``after`` on, to offer instead of a taken
    one."""
    policy = booking_policy_for(therapist=therapist)
    horizon_end = now + dt.timedelta(days=policy.horizon_days + 1)
    start = max(after, now)
    if start >= horizon_end:
        return []
    return slots.therapist_free_times(therapist=therapist, start=start, end=horizon_end, now=now)[
        :NEXT_FREE_COUNT
    ]


def _therapist_responded(appointment: Appointment, now: dt.datetime) -> None:
    # Only the first answer counts towards "usually replies within …".
    if appointment.therapist_responded_at is None:
        appointment.therapist_responded_at = now


def _not_started(appointment: Appointment, now: dt.datetime, action: str) -> None:
    if appointment.starts_at <= now:
        raise InvalidTransition(f"This appointment has already started, so it cannot be {action}.")


def _end(
    appointment: Appointment, *, status: str, by: Party, reason: str, now: dt.datetime
) -> None:
    appointment.status = status
    appointment.ended_by = by
    appointment.end_reason = reason
    appointment.ended_at = now
    # Calendars replace the event only when SEQUENCE goes up; reminders written for the old
    # sequence are skipped at delivery.
    appointment.sequence += 1
    appointment.save(
        update_fields=[
            "status",
            "ended_by",
            "end_reason",
            "ended_at",
            "sequence",
            "therapist_responded_at",
            "updated_at",
        ]
    )


def _write_to_both(appointment: Appointment, purpose: str) -> None:
    outbox.outbox_write(appointment=appointment, purpose=purpose, recipient=Party.CLIENT)
    outbox.outbox_write(appointment=appointment, purpose=purpose, recipient=Party.THERAPIST)


def _status_label(appointment: Appointment) -> str:
    return appointment.get_status_display().lower()


def _clean_client(
    *, client_name: str, client_email: str, client_time_zone: str
) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    name = " ".join((client_name or "").split())
    if not name:
        errors["client_name"] = ["Tell the therapist what to call you."]
    elif len(name) > 120:
        errors["client_name"] = ["Keep the name under 120 characters."]
    email = (client_email or "").strip()
    try:
        if len(email) > 254:
            raise ValidationError("Too long.")
        EmailValidator()(email)
    except ValidationError:
        errors["client_email"] = ["Enter an e-mail address like name@example.org."]
    else:
        # One spelling per address, as accounts store it, so links to an account match.
        email = User.objects.normalize_email(email).lower()
    zone = (client_time_zone or "").strip()
    try:
        validate_time_zone(zone)
    except ValidationError:
        errors["client_time_zone"] = ["Choose your time zone (for example America/Toronto)."]
    if errors:
        raise ValidationError(errors)
    return name, email, zone


def _zone_of(appointment: Appointment, party: Party) -> str:
    """The zone in which ``party`` reads times about ``appointment``."""
    if party == Party.CLIENT:
        return appointment.client_time_zone
    return appointment.therapist.time_zone


def _free_time_check(
    *,
    therapist: TherapistProfile,
    starts_at: dt.datetime,
    now: dt.datetime,
    offered_in: str,
    ignoring: Appointment | None = None,
) -> FreeTime:
    """``slots.free_time_check``; a SlotTaken from it names the zone of whoever asked, in which
    its next free times are offered (slots cannot know who is asking)."""
    try:
        return slots.free_time_check(
            therapist=therapist, starts_at=starts_at, now=now, ignoring=ignoring
        )
    except SlotTaken as taken:
        taken.time_zone = offered_in
        raise


def consultation_book(
    *,
    therapist: TherapistProfile,
    starts_at: dt.datetime,
    client_name: str,
    client_email: str,
    client_time_zone: str,
    share_fit_profile: bool = False,
    client: User | None = None,
    client_phone: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Book a free consultation. Raises SlotUnavailable, SlotTaken (with next free times) or
    ValidationError (bad name/e-mail/zone, or a missing or bad phone number when the therapist
    consults by phone); writes nothing then.

    The consultation keeps the therapist's method as it is now; a phone number is kept only
    for a phone consultation (anything else would be data we have no use for).

    The consultation is ``requested`` when the therapist's policy requires confirmation, else
    ``confirmed``. Side effects: creates the Appointment; writes ``booked`` (or ``requested``)
    e-mails to the client and the therapist and, when confirmed, the reminders; refreshes the
    booking facts on commit.
    """
    now = now or timezone.now()
    name, email, zone = _clean_client(
        client_name=client_name, client_email=client_email, client_time_zone=client_time_zone
    )
    starts_at = _aware(starts_at, "starts_at")
    if therapist.consultation_minutes <= 0:
        raise SlotUnavailable("This therapist does not offer free consultations.")
    with transaction.atomic():
        policy = _locked_policy(therapist)
        method = policy.consultation_method
        phone = ""
        if method == ConsultationMethod.PHONE:
            try:
                phone = phone_clean(client_phone)
            except ValidationError as error:
                raise ValidationError({"client_phone": error.messages}) from error
        # Gives the person the precise reason (notice, horizon, hours, cap, taken); the
        # database below still settles any race.
        free = _free_time_check(therapist=therapist, starts_at=starts_at, now=now, offered_in=zone)
        status = (
            AppointmentStatus.REQUESTED
            if policy.requires_confirmation
            else AppointmentStatus.CONFIRMED
        )
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    therapist=therapist,
                    kind=AppointmentKind.CONSULTATION,
                    status=status,
                    starts_at=free.starts_at,
                    ends_at=free.ends_at,
                    client=client,
                    client_name=name,
                    client_email=email,
                    client_time_zone=zone,
                    share_fit_profile=bool(share_fit_profile),
                    consultation_method=method,
                    client_phone=phone,
                )
        except IntegrityError as error:
            if not _is_overlap(error):
                raise
            raise SlotTaken(
                "That time was just taken.",
                next_free=_next_free(therapist=therapist, after=starts_at, now=now),
                time_zone=zone,
            ) from error
        if status == AppointmentStatus.CONFIRMED:
            _write_to_both(appointment, outbox.PURPOSE_BOOKED)
            outbox.outbox_reminders_write(appointment=appointment, now=now)
        else:
            _write_to_both(appointment, outbox.PURPOSE_REQUESTED)
        therapist_booking_facts_refresh_on_commit(therapist=therapist)
    return appointment


def consultation_confirm(
    *, appointment: Appointment, now: dt.datetime | None = None
) -> Appointment:
    """The therapist accepts a requested consultation (or acknowledges a confirmed one).

    Accepting a request: status ``confirmed``, ``confirmed`` e-mail to the client, reminders.
    Acknowledging a consultation that was confirmed at booking only records the reply time
    (the client already has their confirmation), and doing it again changes nothing.
    Raises InvalidTransition for sessions, ended consultations and ones already started.
    Side effects: sets ``therapist_responded_at`` once; refreshes the booking facts on commit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.kind != AppointmentKind.CONSULTATION:
            raise InvalidTransition("Only consultations are confirmed; sessions are booked as is.")
        if locked.status not in ACTIVE_STATUSES:
            raise InvalidTransition(
                f"This consultation is {_status_label(locked)}, so it cannot be confirmed."
            )
        _not_started(locked, now, "confirmed")
        _therapist_responded(locked, now)
        if locked.status == AppointmentStatus.REQUESTED:
            locked.status = AppointmentStatus.CONFIRMED
            locked.save(update_fields=["status", "therapist_responded_at", "updated_at"])
            outbox.outbox_write(
                appointment=locked, purpose=outbox.PURPOSE_CONFIRMED, recipient=Party.CLIENT
            )
            outbox.outbox_reminders_write(appointment=locked, now=now)
        else:
            locked.save(update_fields=["therapist_responded_at", "updated_at"])
        therapist_booking_facts_refresh_on_commit(therapist=locked.therapist)
    appointment.refresh_from_db()
    return appointment


def consultation_decline(
    *, appointment: Appointment, reason: str, now: dt.datetime | None = None
) -> Appointment:
    """The therapist declines a requested consultation, with a reason the client reads.

    A confirmed consultation is cancelled instead (appointment_cancel), which also tells the
    therapist's calendar. Raises ValidationError without a reason, InvalidTransition for
    anything not waiting for an answer. Side effects: status ``declined`` (its time becomes
    free), ``declined`` e-mail to the client, reply time recorded; refreshes the booking facts
    on commit.
    """
    now = now or timezone.now()
    reason = _reason(reason, required=True)
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.kind != AppointmentKind.CONSULTATION:
            raise InvalidTransition("Only consultation requests can be declined.")
        if locked.status == AppointmentStatus.CONFIRMED:
            raise InvalidTransition("This consultation is already confirmed: cancel it instead.")
        if locked.status != AppointmentStatus.REQUESTED:
            raise InvalidTransition(
                f"This consultation is {_status_label(locked)}, so it cannot be declined."
            )
        _therapist_responded(locked, now)
        _end(locked, status=AppointmentStatus.DECLINED, by=Party.THERAPIST, reason=reason, now=now)
        outbox.outbox_write(
            appointment=locked, purpose=outbox.PURPOSE_DECLINED, recipient=Party.CLIENT
        )
        therapist_booking_facts_refresh_on_commit(therapist=locked.therapist)
    appointment.refresh_from_db()
    return appointment


def consultation_expiry_due(*, appointment: Appointment, now: dt.datetime) -> bool:
    """A request is declined for the therapist once it waited the expiry period, or once its
    time has come (an answer after that is no use to the client)."""
    waited = now - appointment.created_at >= dt.timedelta(
        hours=settings.BOOKING_REQUEST_EXPIRY_HOURS
    )
    return waited or appointment.starts_at <= now


def consultation_expire(*, appointment: Appointment, now: dt.datetime | None = None) -> Appointment:
    """Decline a request the therapist left unanswered for ``BOOKING_REQUEST_EXPIRY_HOURS``
    (system), or whose time arrived unanswered.

    Raises InvalidTransition when it is no longer waiting (answered or cancelled meanwhile) or
    not yet due, so a late or repeated task run changes nothing. Side effects: status
    ``expired`` (its time becomes free), ``expired`` e-mail to the client (with similar
    therapists); refreshes the booking facts on commit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status != AppointmentStatus.REQUESTED:
            raise InvalidTransition(
                f"This consultation is {_status_label(locked)}, so it cannot expire."
            )
        if not consultation_expiry_due(appointment=locked, now=now):
            raise InvalidTransition("This request is still waiting for the therapist's answer.")
        hours = settings.BOOKING_REQUEST_EXPIRY_HOURS
        _end(
            locked,
            status=AppointmentStatus.EXPIRED,
            by=Party.SYSTEM,
            reason=f"The therapist did not answer within {hours} hours.",
            now=now,
        )
        outbox.outbox_write(
            appointment=locked, purpose=outbox.PURPOSE_EXPIRED, recipient=Party.CLIENT
        )
        therapist_booking_facts_refresh_on_commit(therapist=locked.therapist)
    appointment.refresh_from_db()
    return appointment


def appointment_cancel(
    *, appointment: Appointment, by: Party, reason: str, now: dt.datetime | None = None
) -> Appointment:
    """Either party (or the system) cancels an appointment that has not started.

    Raises ValidationError without a reason, InvalidTransition when it already ended or
    started. Side effects: status ``cancelled`` (its time becomes free), SEQUENCE raised,
    ``cancelled`` e-mails (with a calendar CANCEL) to both sides — the other side is told, the
    one who cancelled gets the calendar update; a therapist's cancellation counts as their
    reply; refreshes the booking facts on commit.
    """
    now = now or timezone.now()
    reason = _reason(reason, required=True)
    by = Party(by)
    with transaction.atomic():
        locked = _locked(appointment)
        if locked.status not in ACTIVE_STATUSES:
            raise InvalidTransition(
                f"This appointment is {_status_label(locked)}, so it cannot be cancelled."
            )
        _not_started(locked, now, "cancelled")
        if by == Party.THERAPIST:
            _therapist_responded(locked, now)
        _end(locked, status=AppointmentStatus.CANCELLED, by=by, reason=reason, now=now)
        appointment_change_hooks_run(appointment=locked)
        _write_to_both(locked, outbox.PURPOSE_CANCELLED)
        therapist_booking_facts_refresh_on_commit(therapist=locked.therapist)
    appointment.refresh_from_db()
    return appointment


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: dt.datetime,
    by: Party,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Move to another free time (same row: the calendar UID stays, SEQUENCE goes up).

    A consultation moves only to a free consultation time (availability, notice, horizon,
    daily cap — its own current time counts as free); a session moves to any future time that
    overlaps nothing, keeping its length; only the therapist moves a session (a client is
    refused with InvalidTransition: sessions are arranged with the therapist). A therapist
    moving a request accepts it (they chose the time). ``reason`` (optional, at most 500
    characters) is kept as the appointment's change note, for the other side to read.
    Raises ValidationError, SlotUnavailable, SlotTaken (with next free times) or
    InvalidTransition; writes nothing then. Side effects: new times, SEQUENCE raised,
    ``rescheduled`` e-mails to both sides, new reminders when confirmed; refreshes the booking
    facts on commit.
    """
    now = now or timezone.now()
    note = _reason(reason, required=False)
    by = Party(by)
    starts_at = _aware(starts_at, "starts_at")
    with transaction.atomic():
        locked = _locked(appointment)
        therapist = locked.therapist
        if locked.status not in ACTIVE_STATUSES:
            raise InvalidTransition(
                f"This appointment is {_status_label(locked)}, so it cannot be moved."
            )
        if by == Party.CLIENT and locked.kind != AppointmentKind.CONSULTATION:
            raise InvalidTransition(
                "Only your therapist can move a session: ask them to move it (you can cancel it)."
            )
        _not_started(locked, now, "moved")
        if starts_at == locked.starts_at:
            raise ValidationError({"starts_at": "That is already the appointment's time."})
        if locked.kind == AppointmentKind.CONSULTATION:
            _locked_policy(therapist)  # before the daily cap is counted; see _locked_policy
            free = _free_time_check(
                therapist=therapist,
                starts_at=starts_at,
                now=now,
                ignoring=locked,
                offered_in=_zone_of(locked, by),
            )
            new_start, new_end = free.starts_at, free.ends_at
        else:
            if starts_at <= now:
                raise SlotUnavailable("Choose a time in the future.")
            if starts_at > now + SESSION_MAX_AHEAD:
                raise SlotUnavailable("Choose a time within the next year.")
            new_start, new_end = starts_at, starts_at + (locked.ends_at - locked.starts_at)
        locked.starts_at, locked.ends_at = new_start, new_end
        locked.change_reason, locked.changed_by = note, by
        locked.sequence += 1
        if by == Party.THERAPIST:
            _therapist_responded(locked, now)
            if locked.status == AppointmentStatus.REQUESTED:
                locked.status = AppointmentStatus.CONFIRMED
        try:
            with transaction.atomic():
                locked.save(
                    update_fields=[
                        "starts_at",
                        "ends_at",
                        "sequence",
                        "status",
                        "change_reason",
                        "changed_by",
                        "therapist_responded_at",
                        "updated_at",
                    ]
                )
        except IntegrityError as error:
            if not _is_overlap(error):
                raise
            next_free = (
                _next_free(therapist=therapist, after=starts_at, now=now)
                if locked.kind == AppointmentKind.CONSULTATION
                else []
            )
            raise SlotTaken(
                "That time was just taken.",
                next_free=next_free,
                time_zone=_zone_of(locked, by),
            ) from error
        appointment_change_hooks_run(appointment=locked)
        _write_to_both(locked, outbox.PURPOSE_RESCHEDULED)
        if locked.status == AppointmentStatus.CONFIRMED:
            outbox.outbox_reminders_write(appointment=locked, now=now)
        therapist_booking_facts_refresh_on_commit(therapist=therapist)
    appointment.refresh_from_db()
    return appointment


def first_session_book(
    *, consultation: Appointment, starts_at: dt.datetime, now: dt.datetime | None = None
) -> Appointment:
    """The therapist books the first session after a consultation (blocks time, counts toward
    the consultation-to-first-session rate).

    The consultation must be confirmed and over, with no active session already following it.
    The session lasts ``therapist.session_minutes``; it may be at any future time within a year
    that overlaps none of the therapist's appointments (the consultation-only rules —
    availability windows, notice, daily cap — do not bind the therapist's own scheduling).
    Raises ValidationError, SlotUnavailable, SlotTaken or InvalidTransition; writes nothing
    then. Side effects: creates a confirmed session; runs the first-session hooks (care starts
    the engagement); ``booked`` e-mails to both sides and reminders; refreshes the booking
    facts on commit.
    """
    now = now or timezone.now()
    starts_at = _aware(starts_at, "starts_at")
    with transaction.atomic():
        locked = _locked(consultation)
        therapist = locked.therapist
        if locked.kind != AppointmentKind.CONSULTATION:
            raise InvalidTransition("A first session follows a consultation, not a session.")
        if locked.status != AppointmentStatus.CONFIRMED or locked.ends_at > now:
            raise InvalidTransition(
                "A first session can be booked once the consultation has taken place."
            )
        if locked.follow_ups.filter(
            kind=AppointmentKind.SESSION, status__in=ACTIVE_STATUSES
        ).exists():
            raise InvalidTransition("A first session is already booked after this consultation.")
        if starts_at <= now:
            raise SlotUnavailable("Choose a time in the future.")
        if starts_at > now + SESSION_MAX_AHEAD:
            raise SlotUnavailable("Choose a time within the next year.")
        try:
            with transaction.atomic():
                session = Appointment.objects.create(
                    therapist=therapist,
                    kind=AppointmentKind.SESSION,
                    status=AppointmentStatus.CONFIRMED,
                    starts_at=starts_at,
                    ends_at=starts_at + dt.timedelta(minutes=therapist.session_minutes),
                    client=locked.client,
                    client_name=locked.client_name,
                    client_email=locked.client_email,
                    client_time_zone=locked.client_time_zone,
                    client_email_confirmed_at=locked.client_email_confirmed_at,
                    share_fit_profile=locked.share_fit_profile,
                    follows=locked,
                )
        except IntegrityError as error:
            if not _is_overlap(error):
                raise
            raise SlotTaken("That time overlaps another of your appointments.") from error
        first_session_hooks_run(consultation=locked, session=session)
        _write_to_both(session, outbox.PURPOSE_BOOKED)
        outbox.outbox_reminders_write(appointment=session, now=now)
        therapist_booking_facts_refresh_on_commit(therapist=therapist)
    return session
