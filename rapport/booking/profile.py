"""What booking adds to a therapist's profile page (a directory profile part, registered in
``BookingConfig.ready()``)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from rapport.booking.how import consultation_policy, public_how
from rapport.directory.models import TherapistProfile


def booking_profile_part(request: HttpRequest, therapist: TherapistProfile) -> dict[str, Any]:
    """For therapists who offer a free consultation: the link to book one, and how it happens
    (``how_sentence``: never the meeting link or a number, see ``how.public_how``)."""
    if not therapist.consultation_minutes:
        return {"book_url": "", "how_sentence": ""}
    return {
        "book_url": consultation_book_url(therapist.public_id),
        "how_sentence": public_how(
            name=therapist.display_name,
            policy=consultation_policy(therapist_id=therapist.pk),
        ),
    }


def consultation_book_url(public_id: uuid.UUID) -> str:
    """Booking's page for a therapist, for the directory's result cards."""
    return reverse("booking:consultation_book", args=[public_id])
