"""Private helpers that more than one booking service module needs: the row locks that order
concurrent changes, and the refresh of the therapist's booking facts after a commit."""

from __future__ import annotations

from rapport.booking.models import Appointment, BookingPolicy
from rapport.directory.models import TherapistProfile


def _locked(appointment: Appointment) -> Appointment:
    """The appointment's row, locked until the transaction ends, so two people acting on one
    appointment at once (cancel and confirm, two reschedules) are applied one after the other,
    each seeing the other's result."""
    return (
        Appointment.objects.select_for_update().select_related("therapist").get(pk=appointment.pk)
    )


def _locked_policy(therapist: TherapistProfile) -> BookingPolicy:
    """The therapist's policy row (created with defaults on first use, as
    ``booking_policy_for`` does), locked.

    Every consultation booking or move takes this lock before the daily cap is counted: without
    it two requests for the same day could each count "3 of 4" and both insert, ending at 5. The
    overlap guard cannot catch that (the times do not overlap). On SQLite writers are already
    serialised by BEGIN IMMEDIATE and the lock is a no-op.
    """
    BookingPolicy.objects.get_or_create(therapist=therapist)
    return BookingPolicy.objects.select_for_update().get(therapist=therapist)
