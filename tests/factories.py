"""Small builders for test data: real rows through the ORM, with overridable defaults."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.core.management import call_command
from django.utils import timezone

from rapport.directory.models import (
    Designation,
    Licence,
    Office,
    Regulator,
    TherapistProfile,
    VerificationStatus,
)

_counter = itertools.count(1)


def load_reference_data() -> None:
    """Taxonomies and credentials, as `rapport seed` loads them."""
    call_command("loaddata", "taxonomies", "credentials", verbosity=0)


def make_therapist(**overrides: Any) -> TherapistProfile:
    """A verified, listed, accepting therapist in Toronto unless told otherwise.

    Needs the credentials fixture (call ``load_reference_data`` first).
    """
    number = next(_counter)
    now = timezone.now()
    fields: dict[str, Any] = {
        "display_name": f"Test Therapist {number:04d}",
        "practice_start_year": 2012,
        "designation": Designation.objects.get(code="RP"),
        "verification_status": VerificationStatus.VERIFIED,
        "verification_decided_at": now - dt.timedelta(days=90),
        "fee_minor": 15000,
        "currency": "CAD",
        "time_zone": "America/Toronto",
        "offers_video": True,
        "accepting_new_clients": True,
        "accepting_confirmed_at": now - dt.timedelta(days=2),
        "is_listed": True,
    }
    fields.update(overrides)
    therapist = TherapistProfile.objects.create(**fields)
    Licence.objects.create(
        therapist=therapist,
        jurisdiction_id="CA-ON",
        designation=therapist.designation,
        regulator=Regulator.objects.get(jurisdiction_id="CA-ON", abbreviation="CRPO"),
        number=f"{10000 + number}",
    )
    return therapist


def make_office(therapist: TherapistProfile, **overrides: Any) -> Office:
    fields: dict[str, Any] = {
        "therapist": therapist,
        "street_address": "100 Queen St W",
        "city": "Toronto",
        "jurisdiction_id": "CA-ON",
        "postal_code": "M5H 2N2",
        "latitude": 43.6534,
        "longitude": -79.3841,
        "time_zone": "America/Toronto",
    }
    fields.update(overrides)
    return Office.objects.create(**fields)
