"""The only way views and API handlers fetch directory objects that are not public.

A profile under review (pending, rejected, suspended) is private: only licence reviewers may
open it. Anyone else gets the same 404 as for an id that never existed, so the existence of a
hidden listing does not leak.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.core.timezones import zone_or_none
from rapport.directory.models import Office, TherapistProfile
from rapport.directory.selectors import is_listed
from rapport.directory.services import REVIEW_PERMISSION


def get_practice_therapist(user: User | AnonymousUser) -> TherapistProfile:
    """The signed-in therapist's own profile (for the practice pages of every app); Http404 for
    anyone without one."""
    therapist = own_therapist_profile(user)
    if therapist is None:
        raise Http404("No practice here.")
    # Every practice page reads in the therapist's own zone: a day or time written without an
    # explicit zone is theirs (core's ReaderTimeZoneMiddleware ends it with the request).
    zone = zone_or_none(therapist.time_zone)
    if zone is not None:
        timezone.activate(zone)
    return therapist


def own_therapist_profile(user: User | AnonymousUser) -> TherapistProfile | None:
    """The signed-in person's own therapist profile, or None (signed out, inactive, or no
    profile yet): for pages that offer something else to someone without one."""
    if not user.is_authenticated or not user.is_active:
        return None
    return TherapistProfile.objects.filter(user_id=user.pk).first()


def can_review_licences(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(REVIEW_PERMISSION))


def get_therapist_for_review(user: User | AnonymousUser, public_id: uuid.UUID) -> TherapistProfile:
    if not can_review_licences(user):
        raise Http404("No such therapist.")
    try:
        return TherapistProfile.objects.select_related("designation", "user").get(
            public_id=public_id
        )
    except TherapistProfile.DoesNotExist:
        raise Http404("No such therapist.") from None


def can_start_practice(user: User | AnonymousUser) -> bool:
    """A therapist account (chosen at sign-up) may start a listing of its own."""
    return bool(
        user.is_authenticated and user.is_active and getattr(user, "role", "") == Role.THERAPIST
    )


def get_practice_office(user: User | AnonymousUser, office_id: int) -> Office:
    """One of the signed-in therapist's own offices; another therapist's is the same 404 as
    an office that never existed."""
    therapist = get_practice_therapist(user)
    office = Office.objects.filter(pk=office_id, therapist=therapist).first()
    if office is None:
        raise Http404("No such office.")
    return office


def get_therapist_photo_for_user(
    user: User | AnonymousUser, public_id: uuid.UUID, *, now: dt.datetime
) -> TherapistProfile:
    """A profile whose photo this person may see: anyone for a listed therapist; the therapist
    themself and licence reviewers for any other (a draft, one under review or refused). No
    photo, or no right to it, is the same 404."""
    therapist = TherapistProfile.objects.filter(public_id=public_id).exclude(photo="").first()
    if therapist is None:
        raise Http404("No such photo.")
    owner = user.is_authenticated and user.is_active and therapist.user_id == user.pk
    if owner or can_review_licences(user) or is_listed(therapist, now=now):
        return therapist
    raise Http404("No such photo.")
