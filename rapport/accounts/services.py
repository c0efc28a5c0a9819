"""Every change to accounts, consent and privacy state goes through a function here."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils import timezone

from rapport.accounts.models import Consent, ConsentKind, Role, User
from rapport.accounts.signin import requires_mfa
from rapport.accounts.tasks import send_deletion_scheduled_email
from rapport.core.audit import audit_entries_anonymise_actor
from rapport.core.privacy import erasure_steps

logger = logging.getLogger(__name__)


class AddressNotConfirmed(ValueError):
    """An account with the address exists, but has not confirmed it."""


class ConsentError(ValueError):
    """A consent that cannot be recorded as asked (unknown kind or out-of-date version)."""


def consent_record(
    *, user: User, kind: str, version: str, request: HttpRequest | None = None
) -> Consent:
    """Record that ``user`` agreed to ``version`` of document ``kind``.

    Only the current version can be agreed to (a stale form must not record consent to text the
    person never saw). Agreeing again to the same live version returns the existing record.
    ``request`` is accepted so callers pass it uniformly; the audit log notes where from.
    """
    if kind not in ConsentKind.values:
        raise ConsentError(f"Unknown consent kind {kind!r}.")
    current = settings.CONSENT_VERSIONS[kind]
    if version != current:
        raise ConsentError(
            f"That version of the {ConsentKind(kind).label.lower()} is out of date; "
            "please read the current one."
        )
    with transaction.atomic():
        existing = Consent.objects.filter(
            user=user, kind=kind, version=version, withdrawn_at__isnull=True
        ).first()
        if existing is not None:
            return existing
        return Consent.objects.create(
            user=user, kind=kind, version=version, given_at=timezone.now()
        )


def consent_withdraw(*, user: User, kind: str) -> int:
    """Withdraw every live consent of ``kind``; returns how many were withdrawn."""
    if kind not in ConsentKind.values:
        raise ConsentError(f"Unknown consent kind {kind!r}.")
    with transaction.atomic():
        return Consent.objects.filter(user=user, kind=kind, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now()
        )


def account_correct(*, user: User, name: str) -> User:
    """Correct what we call the person. (E-mail addresses change through the verified
    address flow, so a typo cannot lock someone out.)"""
    cleaned = " ".join(name.split())
    if len(cleaned) > 150:
        raise ValueError("A name can be at most 150 characters.")
    with transaction.atomic():
        user.name = cleaned
        user.save(update_fields=["name"])
    return user


def account_become_therapist(*, user: User) -> User:
    """The account signed up as a therapist: from now on it needs a second factor before any
    practice page (``signin.requires_mfa``) and may start a listing. Only a new client-role
    account can make this choice for itself; staff accounts keep their role."""
    if user.role == Role.THERAPIST:
        return user
    if user.role != Role.CLIENT or user.is_staff or user.is_superuser:
        raise ValueError("Only a client account can become a therapist account.")
    with transaction.atomic():
        user.role = Role.THERAPIST
        user.save(update_fields=["role"])
    return user


def client_account_for_proven_address(*, email: str, name: str = "") -> User:
    """The client account for an e-mail address the person has just proved is theirs (by
    following a link sent to it): the existing account with that address, or a new one.

    A new account has no usable password (the person sets one through "forgot password" if they
    want to sign in) and its address counts as verified. An existing account is used only when
    its own address is verified: otherwise whoever signed up with the address may not own it,
    and AddressNotConfirmed is raised. Safe against two requests creating the same account at
    once. Side effects: may create a User and its allauth EmailAddress.
    """
    from allauth.account.models import EmailAddress
    from django.db import IntegrityError

    address = email.strip().lower()
    existing = User.objects.filter(email__iexact=address).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(address, None, role=Role.CLIENT, name=name)
                EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
                return user
        except IntegrityError:
            # Someone created the account between our look-up and insert (a double click on
            # PostgreSQL); use theirs.
            existing = User.objects.get(email__iexact=address)
    verified = EmailAddress.objects.filter(
        user=existing, email__iexact=address, verified=True
    ).exists()
    if not verified:
        raise AddressNotConfirmed(address)
    return existing


def account_deletion_request(*, user: User, now: dt.datetime | None = None) -> User:
    """Schedule the account for deletion after the grace period.

    Side effects: the person stays able to sign in (to cancel) until the deletion runs; an
    e-mail confirms the date, sent after the transaction commits.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.deletion_due_at is None:
            locked.deletion_requested_at = now
            locked.deletion_due_at = now + dt.timedelta(days=settings.ACCOUNT_DELETION_GRACE_DAYS)
            locked.save(update_fields=["deletion_requested_at", "deletion_due_at"])
            # Sent by the task worker: a mail server that is down must not turn a saved
            # request into an error page.
            transaction.on_commit(lambda: send_deletion_scheduled_email.enqueue(user_id=locked.pk))
    user.refresh_from_db(fields=["deletion_requested_at", "deletion_due_at"])
    return user


def account_deletion_cancel(*, user: User) -> User:
    """Keep the account after all."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(deletion_requested_at=None, deletion_due_at=None)
    user.refresh_from_db(fields=["deletion_requested_at", "deletion_due_at"])
    return user


def account_delete(*, user: User) -> None:
    """Delete the account and everything that identifies the person, now.

    Side effects: their sessions end; every app's registered erasure step runs first (booking
    cancels their upcoming consultations and anonymises the rest); consents, e-mail addresses
    and authenticators go with the account; a linked therapist profile is kept but unlinked
    (the listing is the practice's, and staff decide about it). Audit entries stay: the record
    of who accessed health data must outlive the accounts involved. A client's own entries lose
    their e-mail and address copies (they are the data subject); a therapist's or staff
    member's keep them, because those entries say who read other people's health data, and
    deleting an account must not erase that trail.
    """
    with transaction.atomic():
        _end_sessions(user_id=user.pk)
        # Before the account row goes: the steps find the person's records through it (and
        # through its verified e-mail addresses).
        for step in erasure_steps().values():
            step(user)
        if not requires_mfa(user):
            audit_entries_anonymise_actor(actor=user)
        User.objects.filter(pk=user.pk).delete()


@dataclass(frozen=True)
class PurgeReport:
    deleted_accounts: int
    unverified_accounts: int
    expired_sessions: int
    login_attempt_records: int


def retention_purge(*, now: dt.datetime | None = None) -> PurgeReport:
    """Apply the retention rules (run daily by `rapport purge`).

    Deletes accounts whose deletion grace period has ended, sign-ups never confirmed within
    UNVERIFIED_ACCOUNT_RETENTION_DAYS, expired sessions, and login-attempt records older than
    LOGIN_ATTEMPT_RETENTION_DAYS. Each rule runs in its own transaction.
    """
    from allauth.account.models import EmailAddress
    from allauth.usersessions.models import UserSession
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    now = now or timezone.now()
    deleted_accounts = 0
    for user_id in User.objects.filter(deletion_due_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            # Re-read under a lock: a "keep my account" that landed after the list was read
            # must win.
            user = (
                User.objects.select_for_update()
                .filter(pk=user_id, deletion_due_at__lte=now)
                .first()
            )
            if user is not None:
                account_delete(user=user)
                deleted_accounts += 1

    cutoff = now - dt.timedelta(days=settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS)
    verified_ids = EmailAddress.objects.filter(verified=True).values("user_id")
    # Only self-service client sign-ups: therapist and staff accounts are made by staff, who
    # may not have set up an e-mail record for them.
    never_confirmed = User.objects.filter(
        role=Role.CLIENT,
        date_joined__lt=cutoff,
        last_login__isnull=True,
        is_staff=False,
        is_superuser=False,
    ).exclude(pk__in=verified_ids)
    unverified_accounts = 0
    for user_id in never_confirmed.values_list("pk", flat=True):
        with transaction.atomic():
            user = never_confirmed.select_for_update().filter(pk=user_id).first()
            if user is not None:
                account_delete(user=user)
                unverified_accounts += 1

    with transaction.atomic():
        sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
        # allauth's list of signed-in devices (IP address, browser) must not outlive the
        # sessions it describes.
        UserSession.objects.exclude(session_key__in=Session.objects.values("session_key")).delete()

    attempts_cutoff = now - dt.timedelta(days=settings.LOGIN_ATTEMPT_RETENTION_DAYS)
    with transaction.atomic():
        attempt_rows = 0
        for model, field in (
            (AccessAttempt, "attempt_time"),
            (AccessLog, "attempt_time"),
            (AccessFailureLog, "attempt_time"),
        ):
            deleted, _ = model.objects.filter(**{f"{field}__lt": attempts_cutoff}).delete()
            attempt_rows += deleted
    return PurgeReport(
        deleted_accounts=deleted_accounts,
        unverified_accounts=unverified_accounts,
        expired_sessions=sessions,
        login_attempt_records=attempt_rows,
    )


def _end_sessions(*, user_id: int) -> int:
    """End every session of a user on the server, found through allauth's per-user session
    list (recorded at each sign-in)."""
    from allauth.usersessions.models import UserSession

    sessions = list(UserSession.objects.filter(user_id=user_id))
    for session in sessions:
        session.end()
    return len(sessions)


def staff_account_create(
    *,
    email: str,
    password: str,
    permissions: tuple[str, ...] = (),
    superuser: bool = False,
) -> User:
    """Create a staff account whose e-mail address counts as confirmed (the operator vouches for
    it), with the given ``app_label.codename`` permissions. The person is asked to set up
    two-factor authentication the first time they open a staff page.

    Raises ValueError for a taken address, an unknown permission, or a password the validators
    refuse; nothing is written then.
    """
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import Permission
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError as DjangoValidationError

    address = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=address).exists():
        raise ValueError(f"An account with {address} already exists.")
    try:
        validate_password(password, User(email=address))
    except DjangoValidationError as error:
        raise ValueError(" ".join(error.messages)) from error
    granted = []
    for label in permissions:
        app_label, _, codename = label.partition(".")
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is None:
            raise ValueError(f"Unknown permission {label!r} (expected app_label.codename).")
        granted.append(permission)
    with transaction.atomic():
        user = User.objects.create_user(
            address, password, role="staff", is_staff=True, is_superuser=superuser
        )
        user.user_permissions.add(*granted)
        EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
    return user


class AddressTaken(ValueError):
    """An account with the address already exists."""


def invited_therapist_account_create(*, email: str, name: str = "") -> User:
    """An account for a therapist whose listing staff imported (rapport.directory.importing),
    to be claimed through the invitation e-mail: role therapist, no usable password (the person
    sets one through the invitation's one-time link, then the second factor before any practice
    page), and the address counted as confirmed — the link is sent to it, so following it
    proves the address, and asking again by a second e-mail would prove nothing more.

    Raises AddressTaken when any account already uses the address (in any letter case): an
    existing account is never attached to a listing on a file's say-so. Side effects: creates
    the User and its allauth EmailAddress.
    """
    from allauth.account.models import EmailAddress

    address = User.objects.normalize_email(email).strip().lower()
    # LOWER(email) = …, which the case-insensitive unique index answers; ``email__iexact`` is a
    # LIKE that SQLite answers by reading every account (an import of 10,000 rows would read
    # 50 million).
    if User.objects.alias(address=Lower("email")).filter(address=address).exists():
        raise AddressTaken(address)
    with transaction.atomic():
        user = User.objects.create_user(address, None, role=Role.THERAPIST, name=name[:150])
        EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
    return user
