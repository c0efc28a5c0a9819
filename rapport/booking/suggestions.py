"""Other therapists to offer a client whose consultation did not happen (cancelled by either
side, declined or not answered), on the consultation's own page.

What counts as "similar" is the directory's (``therapists_similar_to``: listed, verified and
accepting therapists sharing a concern or an approach, never the same one). The next free time
is the one the directory already keeps on each profile (``next_consultation_at``), so offering
it costs no availability computation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse

from rapport.booking.models import Appointment, AppointmentKind
from rapport.core.timezones import moment_label
from rapport.directory.selectors import therapists_similar_to

# Enough to offer a choice on a phone's screen without turning the page into a search.
SIMILAR_ON_PAGE = 3


@dataclass(frozen=True)
class SimilarTherapistCard:
    name: str
    profile_url: str
    book_url: str
    next_free: str  # in the client's zone; "" when no free time is known


def offers_other_therapists(appointment: Appointment) -> bool:
    """A consultation that will not happen: the person may want someone else. (A session that
    ended belongs to an ongoing relationship: no suggestions there.)"""
    return appointment.kind == AppointmentKind.CONSULTATION and not appointment.is_active


def similar_therapist_cards(
    *, appointment: Appointment, now: dt.datetime, limit: int = SIMILAR_ON_PAGE
) -> list[SimilarTherapistCard]:
    candidates = therapists_similar_to(therapist=appointment.therapist, now=now, limit=limit)
    cards = []
    for candidate in candidates:
        next_at = candidate.next_consultation_at
        cards.append(
            SimilarTherapistCard(
                name=candidate.display_name,
                profile_url=reverse("directory:therapist_detail", args=[candidate.public_id]),
                book_url=reverse("booking:consultation_book", args=[candidate.public_id])
                if candidate.consultation_minutes
                else "",
                next_free=moment_label(next_at, appointment.client_time_zone)
                if next_at is not None and next_at > now
                else "",
            )
        )
    return cards
