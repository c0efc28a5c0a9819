"""What booking adds to a therapist's profile page (a directory profile part, registered in
``BookingConfig.ready()``)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from rapport.directory.models import TherapistProfile


def booking_profile_part(request: HttpRequest, therapist: TherapistProfile) -> dict[str, Any]:
    """The link to book a free consultation, for therapists who offer one."""
    if not therapist.consultation_minutes:
        return {"book_url": ""}
    return {"book_url": consultation_book_url(therapist.public_id)}


def consultation_book_url(public_id: uuid.UUID) -> str:
    """Booking's page for a therapist, for the directory's result cards."""
    return reverse("booking:consultation_book", args=[public_id])
