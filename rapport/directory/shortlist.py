"""A visitor's shortlist: up to ``SHORTLIST_LIMIT`` therapists.

Without an account it is kept in the session; a signed-in person's is kept with the account
(``models.ShortlistEntry``), so it survives signing out and in on any device. On sign-in the
session's list is merged into the account's (``shortlist_merge_on_sign_in``), within the limit.

The session holds only public ids (strings). They are re-validated on every read, because a
session outlives a listing: a therapist who stops accepting or lets their confirmation go stale
drops out of the shortlist the next time it is shown, exactly as they drop out of search.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from rapport.core.privacy import iso_or_none
from rapport.directory.cards import ResultCard, result_cards_by_public_id
from rapport.directory.models import Language, Modality, ShortlistEntry, TherapistProfile
from rapport.directory.selectors import therapist_cards, therapist_listing

SESSION_KEY = "directory_shortlist"
SHORTLIST_LIMIT = 20
COMPARE_MIN, COMPARE_MAX = 2, 4


def parse_public_id(raw: object) -> uuid.UUID | None:
    """A public id from a form or the session, or None for anything that is not a UUID."""
    if not isinstance(raw, str):
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        return None


def _account(user: Any) -> Any | None:
    """The signed-in person whose rows hold the shortlist, or None for a visitor."""
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    return None


def _session_ids(session: SessionBase) -> list[uuid.UUID]:
    stored = session.get(SESSION_KEY, [])
    ids: list[uuid.UUID] = []
    for raw in stored if isinstance(stored, list) else []:
        public_id = parse_public_id(raw)
        if public_id is not None and public_id not in ids:
            ids.append(public_id)
    return ids[:SHORTLIST_LIMIT]


def _account_ids(user: Any) -> list[uuid.UUID]:
    return list(
        ShortlistEntry.objects.filter(user=user)
        .order_by("saved_at", "id")
        .values_list("therapist__public_id", flat=True)[:SHORTLIST_LIMIT]
    )


def shortlist_ids(session: SessionBase, user: Any = None) -> list[uuid.UUID]:
    """The saved ids, oldest first: the account's for a signed-in ``user``, else the session's
    (cleaned: only UUIDs, no repeats, at most the limit)."""
    account = _account(user)
    return _account_ids(account) if account is not None else _session_ids(session)


def _store(session: SessionBase, ids: Iterable[uuid.UUID]) -> None:
    session[SESSION_KEY] = [str(public_id) for public_id in ids]


class AddOutcome(enum.Enum):
    ADDED = "added"
    ALREADY_THERE = "already_there"
    FULL = "full"
    NOT_LISTED = "not_listed"


def shortlist_add(
    *, session: SessionBase, public_id: uuid.UUID, now: dt.datetime, user: Any = None
) -> AddOutcome:
    """Add a listed therapist. Side effect: writes the session, or a row for a signed-in
    ``user`` (only when the list changes)."""
    therapist_id = (
        therapist_listing(now=now).filter(public_id=public_id).values_list("id", flat=True).first()
    )
    if therapist_id is None:
        return AddOutcome.NOT_LISTED
    account = _account(user)
    if account is None:
        ids = _session_ids(session)
        if public_id in ids:
            return AddOutcome.ALREADY_THERE
        if len(ids) >= SHORTLIST_LIMIT:
            return AddOutcome.FULL
        _store(session, [*ids, public_id])
        return AddOutcome.ADDED
    with transaction.atomic():
        # The user's row is locked (on PostgreSQL) so two saves at once cannot both pass the
        # limit; the unique constraint settles a double click.
        get_user_model().objects.select_for_update().filter(pk=account.pk).exists()
        entries = ShortlistEntry.objects.filter(user=account)
        if entries.filter(therapist_id=therapist_id).exists():
            return AddOutcome.ALREADY_THERE
        if entries.count() >= SHORTLIST_LIMIT:
            return AddOutcome.FULL
        ShortlistEntry.objects.create(user=account, therapist_id=therapist_id, saved_at=now)
    return AddOutcome.ADDED


def shortlist_remove(*, session: SessionBase, public_id: uuid.UUID, user: Any = None) -> bool:
    """Remove an id (listed or not, so a hidden therapist can still be cleared out). Returns
    whether it was there. Side effect: writes the session, or deletes the signed-in ``user``'s
    row, when it was."""
    account = _account(user)
    if account is not None:
        deleted, _ = ShortlistEntry.objects.filter(
            user=account, therapist__public_id=public_id
        ).delete()
        return deleted > 0
    ids = _session_ids(session)
    if public_id not in ids:
        return False
    _store(session, [kept for kept in ids if kept != public_id])
    return True


def shortlist_merge_on_sign_in(*, session: SessionBase, user: Any) -> int:
    """Move the session's shortlist into ``user``'s account: ids already there are skipped, the
    rest are appended in the session's order while the account has room. Returns how many were
    added. Side effects: writes rows, then empties the session's list (the account is now the
    one list, so removing a therapist later cannot leave a stale copy in the session)."""
    pending = _session_ids(session)
    if not pending or _account(user) is None:
        return 0
    added = 0
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
        have = set(ShortlistEntry.objects.filter(user=user).values_list("therapist_id", flat=True))
        room = SHORTLIST_LIMIT - len(have)
        by_public_id = dict(
            TherapistProfile.objects.filter(public_id__in=pending).values_list("public_id", "id")
        )
        now = timezone.now()
        for public_id in pending:
            therapist_id = by_public_id.get(public_id)
            if room <= 0:
                break
            if therapist_id is None or therapist_id in have:
                continue
            # Later saves get later times, keeping the session's order after the account's.
            ShortlistEntry.objects.create(
                user=user,
                therapist_id=therapist_id,
                saved_at=now + dt.timedelta(microseconds=added),
            )
            have.add(therapist_id)
            added += 1
            room -= 1
    session.pop(SESSION_KEY, None)
    return added


def shortlist_erase(*, user: Any) -> int:
    """The account-deletion step: remove every saved therapist of ``user``. Returns how many."""
    deleted, _ = ShortlistEntry.objects.filter(user=user).delete()
    return deleted


def shortlist_export(user: Any) -> list[dict[str, Any]]:
    """The data export's section: whom the person saved, and when."""
    return [
        {
            "therapist": str(public_id),
            "display_name": name,
            "saved_at": iso_or_none(saved_at),
        }
        for public_id, name, saved_at in ShortlistEntry.objects.filter(user=user)
        .order_by("saved_at", "id")
        .values_list("therapist__public_id", "therapist__display_name", "saved_at")
    ]


def _in_requested_order(
    therapists: QuerySet[TherapistProfile], public_ids: list[uuid.UUID]
) -> list[TherapistProfile]:
    by_id = {therapist.public_id: therapist for therapist in therapists}
    return [by_id[public_id] for public_id in public_ids if public_id in by_id]


def shortlisted_cards(*, public_ids: list[uuid.UUID], now: dt.datetime) -> list[ResultCard]:
    """The listed therapists among ``public_ids``, with what a card shows, in the given order."""
    return result_cards_by_public_id(public_ids=public_ids, now=now)


def comparison_profiles(*, public_ids: list[uuid.UUID], now: dt.datetime) -> list[TherapistProfile]:
    """The listed therapists among ``public_ids`` with everything the comparison table reads,
    in a fixed number of queries, in the given order."""
    therapists = (
        therapist_cards(now=now)
        .filter(public_id__in=public_ids)
        .prefetch_related(
            Prefetch("modalities", queryset=Modality.objects.order_by("sort_order", "name")),
            Prefetch("languages", queryset=Language.objects.order_by("sort_order", "name")),
        )
    )
    # Concerns come ordered from therapist_cards already.
    return _in_requested_order(therapists, public_ids)


def merge_on_sign_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """Django's ``user_logged_in`` receiver (connected in ``apps.py``): hands the session's list
    to ``shortlist_merge_on_sign_in``."""
    session = getattr(request, "session", None)
    if session is not None and user is not None:
        shortlist_merge_on_sign_in(session=session, user=user)
