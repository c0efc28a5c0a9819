"""The site header's links for signed-in people: "Your practice" for whoever owns a therapist
profile, "Staff" for staff; and, for everyone, the way into matching's questionnaire.

A context processor, so every page's header knows without each view asking. It must stay
cheap, since it runs for every page: a therapist-role account's own fields (loaded with the
request) answer without a query; any other account (a client-role account may be linked to a
profile or given a staff permission in the admin) is looked up once and the answer kept in the
session for a few minutes. The links only point the way:
every page still checks access itself, on every request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import Role
from rapport.directory.figures import can_see_platform_figures
from rapport.directory.models import TherapistProfile
from rapport.messaging.selectors import client_can_message

SESSION_KEY = "rapport_header_links"
MESSAGES_SESSION_KEY = "rapport_header_messages"
# How long a looked-up answer is reused: a profile linked in the admin shows its link within
# this many seconds.
RECHECK_SECONDS = 300


@dataclass(frozen=True)
class _Answer:
    practice: bool
    staff: bool


class HeaderLinks:
    """Which of the two links the header shows, worked out on first use (a page whose template
    never asks costs nothing)."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @cached_property
    def _answer(self) -> _Answer:
        # Error pages can be drawn for a request the authentication middleware never saw.
        user = getattr(self._request, "user", None)
        if user is None or not (user.is_authenticated and user.is_active):
            return _Answer(practice=False, staff=False)
        staff_by_flags = bool(
            user.is_staff or user.is_superuser or getattr(user, "role", None) == Role.STAFF
        )
        if getattr(user, "role", None) == Role.THERAPIST:
            # Most signed-in pages are therapists': no query. (A therapist-role account that
            # was also given a staff permission reaches the staff pages by their address.)
            return _Answer(practice=True, staff=staff_by_flags)
        looked_up = self._looked_up()
        return _Answer(practice=looked_up.practice, staff=staff_by_flags or looked_up.staff)

    def _looked_up(self) -> _Answer:
        session = getattr(self._request, "session", None)
        user = self._request.user
        now = int(time.time())
        kept = session.get(SESSION_KEY) if session is not None else None
        if (
            isinstance(kept, list)
            and len(kept) == 4
            and kept[0] == user.pk
            and isinstance(kept[3], int)
            and 0 <= now - kept[3] < RECHECK_SECONDS
        ):
            return _Answer(practice=bool(kept[1]), staff=bool(kept[2]))
        answer = _Answer(
            practice=TherapistProfile.objects.filter(user_id=user.pk or 0).exists(),
            staff=can_see_platform_figures(user),
        )
        if session is not None:
            session[SESSION_KEY] = [user.pk, answer.practice, answer.staff, now]
        return answer

    @property
    def practice(self) -> bool:
        return self._answer.practice

    @property
    def staff(self) -> bool:
        return self._answer.staff

    @cached_property
    def messages(self) -> bool:
        """The "Messages" link, for a client with somewhere to write (a thread, an open
        engagement, a booked consultation): looked up on first use only, and the answer kept
        in the session like the one above. Therapists find messages in their practice."""
        user = getattr(self._request, "user", None)
        if user is None or not (user.is_authenticated and user.is_active) or self.practice:
            return False
        session = getattr(self._request, "session", None)
        now = int(time.time())
        kept = session.get(MESSAGES_SESSION_KEY) if session is not None else None
        if (
            isinstance(kept, list)
            and len(kept) == 3
            and kept[0] == user.pk
            and isinstance(kept[2], int)
            and 0 <= now - kept[2] < RECHECK_SECONDS
        ):
            return bool(kept[1])
        answer = client_can_message(user=user, now=timezone.now())
        if session is not None:
            session[MESSAGES_SESSION_KEY] = [user.pk, answer, now]
        return answer

    @property
    def find_match(self) -> str:
        """The "Find my match" link, for pages of apps below matching (the home page is the
        directory's), whose templates may not name matching's URLs themselves."""
        return reverse("matching:start")


def header_links(request: HttpRequest) -> dict[str, Any]:
    return {"header_links": HeaderLinks(request)}
