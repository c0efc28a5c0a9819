"""The only way views and API handlers fetch fit profiles. Another person's profile is the
same 404 as one that does not exist."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from rapport.accounts.models import User
from rapport.matching.models import FitProfile


def get_fit_profile_for_owner(user: User | AnonymousUser, public_id: uuid.UUID) -> FitProfile:
    if not user.is_authenticated or not isinstance(user, User) or not user.is_active:
        raise Http404("No such fit profile.")
    profile = FitProfile.objects.filter(owner=user, public_id=public_id).first()
    if profile is None:
        raise Http404("No such fit profile.")
    return profile


def own_fit_profile(user: User | AnonymousUser) -> FitProfile | None:
    """The signed-in person's fit profile, if they have one."""
    if not user.is_authenticated or not isinstance(user, User):
        return None
    return FitProfile.objects.filter(owner=user).first()
