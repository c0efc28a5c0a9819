"""A visitor's shortlist: up to ``SHORTLIST_LIMIT`` therapists kept in the session, no account.

The session holds only public ids (strings). They are re-validated on every read, because a
session outlives a listing: a therapist who stops accepting or lets their confirmation go stale
drops out of the shortlist the next time it is shown, exactly as they drop out of search.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable

from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Prefetch, QuerySet

from rapport.directory.cards import ResultCard, result_cards_by_public_id
from rapport.directory.models import Language, Modality, TherapistProfile
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


def shortlist_ids(session: SessionBase) -> list[uuid.UUID]:
    """The ids stored in the session, cleaned: only UUIDs, no repeats, at most the limit."""
    stored = session.get(SESSION_KEY, [])
    ids: list[uuid.UUID] = []
    for raw in stored if isinstance(stored, list) else []:
        public_id = parse_public_id(raw)
        if public_id is not None and public_id not in ids:
            ids.append(public_id)
    return ids[:SHORTLIST_LIMIT]


def _store(session: SessionBase, ids: Iterable[uuid.UUID]) -> None:
    session[SESSION_KEY] = [str(public_id) for public_id in ids]


class AddOutcome(enum.Enum):
    ADDED = "added"
    ALREADY_THERE = "already_there"
    FULL = "full"
    NOT_LISTED = "not_listed"


def shortlist_add(*, session: SessionBase, public_id: uuid.UUID, now: dt.datetime) -> AddOutcome:
    """Add a listed therapist. Side effect: writes the session (only when the list changes)."""
    if not therapist_listing(now=now).filter(public_id=public_id).exists():
        return AddOutcome.NOT_LISTED
    ids = shortlist_ids(session)
    if public_id in ids:
        return AddOutcome.ALREADY_THERE
    if len(ids) >= SHORTLIST_LIMIT:
        return AddOutcome.FULL
    _store(session, [*ids, public_id])
    return AddOutcome.ADDED


def shortlist_remove(*, session: SessionBase, public_id: uuid.UUID) -> bool:
    """Remove an id (listed or not, so a hidden therapist can still be cleared out). Returns
    whether it was there. Side effect: writes the session when it was."""
    ids = shortlist_ids(session)
    if public_id not in ids:
        return False
    _store(session, [kept for kept in ids if kept != public_id])
    return True


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
