"""The client's side of their appointments: proving the address a consultation was booked
with (which links it to an account), sharing their fit profile with the therapist or
withdrawing it, and what happens to appointments when the client deletes their account."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.accounts.services import AddressNotConfirmed, client_account_for_proven_address
from rapport.booking import selectors
from rapport.booking.errors import InvalidTransition
from rapport.booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    OutboxEmail,
    OutboxStatus,
    Party,
)
from rapport.booking.services._common import _locked
from rapport.booking.services.consultations import appointment_cancel


def client_email_confirm(*, appointment: Appointment, now: dt.datetime | None = None) -> User:
    """The client proved the address (link in the confirmation e-mail): link the appointment to
    the account with that address, creating a client account if there is none.

    The new account has no usable password (the person sets one through "forgot password" if
    they want to sign in) and its address counts as verified: the link was delivered to it.
    An existing account is linked only when its own address is verified; otherwise whoever
    signed up with the address may not own it, and linking would show them this consultation,
    so InvalidTransition asks the person to confirm the account's address first.
    An account linked at booking whose address is not the booked one (someone signed in typed
    another person's address) is not kept: the link follows the proven address instead, so
    the page never shows the signed-in account's address to whoever holds this link.
    Idempotent: a second click returns the same account. Side effects: may create a User and
    its allauth EmailAddress; sets ``client`` and ``client_email_confirmed_at`` once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(appointment)
        linked = locked.client
        if linked is not None and linked.email.strip().lower() != (
            locked.client_email.strip().lower()
        ):
            linked = None
        user = linked if linked is not None else _client_account_for(locked)
        locked.client = user
        if locked.client_email_confirmed_at is None:
            locked.client_email_confirmed_at = now
        locked.save(update_fields=["client", "client_email_confirmed_at", "updated_at"])
    appointment.refresh_from_db()
    return user


def _client_account_for(appointment: Appointment) -> User:
    try:
        return client_account_for_proven_address(
            email=appointment.client_email, name=appointment.client_name
        )
    except AddressNotConfirmed:
        raise InvalidTransition(
            "There is already an account with this address that has not confirmed it yet. "
            "Sign in and confirm the address first; your consultation is still booked."
        ) from None


def appointment_fit_profile_sharing_set(
    *, appointment: Appointment, client: User, shared: bool
) -> Appointment:
    """The client shares their fit profile with the appointment's therapist, or withdraws it.

    Applies to the appointment and to the sessions that follow it (a first session copies the
    consultation's choice when it is booked), so withdrawing from a consultation leaves the
    therapist no other way to the profile through it. Withdrawing is always allowed on the
    client's own appointments (linked to the account or booked with an address they proved);
    sharing again needs the appointment linked to this account (the therapist reads the
    profile through that link) and not declined, expired or cancelled. Raises
    InvalidTransition otherwise; writes nothing then. Setting what is already set changes
    nothing. No e-mail: the therapist's page simply stops (or starts) showing the profile.
    Side effects: ``share_fit_profile`` on those rows, each change audited (Appointment is a
    health model).
    """
    with transaction.atomic():
        locked = _locked(appointment)
        if not selectors.client_appointments(user=client).filter(pk=locked.pk).exists():
            raise InvalidTransition("This appointment is not yours.")
        if shared:
            if locked.client_id != client.pk:
                raise InvalidTransition(
                    "Only a consultation booked while signed in to this account can share its "
                    "fit profile."
                )
            if locked.status not in ACTIVE_STATUSES:
                raise InvalidTransition(
                    f"This {locked.get_kind_display().lower()} is "
                    f"{locked.get_status_display().lower()}, so there is nobody to share with."
                )
        rows = [locked, *Appointment.objects.select_for_update().filter(follows=locked)]
        for row in rows:
            if row.share_fit_profile != shared:
                row.share_fit_profile = shared
                # save(), not update(): the change goes through the audit log.
                row.save(update_fields=["share_fit_profile", "updated_at"])
    appointment.refresh_from_db()
    return appointment


# Said to the therapist (in the cancellation e-mail and on the practice page) when upcoming
# appointments end because the client deleted their account.
ACCOUNT_CLOSED_REASON = "The client closed their Rapport account."


def client_appointments_erase(*, user: User, now: dt.datetime | None = None) -> int:
    """Remove what identifies ``user`` from their appointments; returns how many were touched.

    Runs inside the account deletion (registered as booking's erasure step). Upcoming
    appointments are cancelled first, so the therapist is told and the time is freed. Then, on
    every appointment of the person (linked to the account, or booked with an address they
    proved is theirs): the name, e-mail address, account link and both free-text reasons are
    emptied, and e-mails to the client still waiting in the outbox are dropped (their address
    is gone). What stays is what the therapist's records and the published reply-time figures
    need: when, how long, what kind, its status and who ended it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        appointments = list(selectors.client_appointments(user=user))
        cancelled_now = []
        for appointment in appointments:
            if appointment.is_active and appointment.starts_at > now:
                appointment_cancel(
                    appointment=appointment, by=Party.CLIENT, reason=ACCOUNT_CLOSED_REASON, now=now
                )
                cancelled_now.append(appointment.pk)
        ids = [appointment.pk for appointment in appointments]
        OutboxEmail.objects.filter(
            appointment_id__in=ids, recipient=Party.CLIENT, status=OutboxStatus.PENDING
        ).delete()
        Appointment.objects.filter(pk__in=ids).update(
            client=None,
            client_name="",
            client_email="",
            client_email_confirmed_at=None,
            client_phone="",
            share_fit_profile=False,
            change_reason="",
            end_reason="",
            updated_at=now,
        )
        # Rapport's own words, not the person's: the therapist's cancellation e-mail (sent
        # after this) and practice page say why the time was freed.
        Appointment.objects.filter(pk__in=cancelled_now).update(end_reason=ACCOUNT_CLOSED_REASON)
    return len(ids)
