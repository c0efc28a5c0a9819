"""Therapist profiles for tests: real rows through the ORM with overridable defaults, their
licences, offices and taxonomy terms, and a sign-in account when a test needs one.

Every builder that writes indexed directory data bumps the search index's version, as the
services do, so a search sees the rows a test has just written without resetting the index.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any

from django.core.management import call_command
from django.utils import timezone

from rapport.directory.models import (
    Concern,
    Designation,
    Language,
    Licence,
    Modality,
    Office,
    Population,
    Regulator,
    TherapistProfile,
    VerificationStatus,
)
from rapport.directory.services import search_index_version_bump
from tests.accounts.factories import make_therapist_user

_counter = itertools.count(1)


def load_reference_data() -> None:
    """Taxonomies and credentials, as `rapport seed` loads them."""
    call_command("loaddata", "taxonomies", "credentials", verbosity=0)


def make_therapist(
    *,
    concerns: Iterable[str] = (),
    modalities: Iterable[str] = (),
    populations: Iterable[str] = (),
    languages: Iterable[str] = (),
    bump_search_index: bool = True,
    **overrides: Any,
) -> TherapistProfile:
    """A verified, listed, accepting therapist in Toronto with one CRPO licence unless told
    otherwise; ``concerns`` and the other terms are slugs. ``bump_search_index=False`` leaves
    the index's version alone, for a test of what an unannounced change does.

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
        # Sent for review (a draft has none): pass submitted_for_review_at=None for a draft.
        "submitted_for_review_at": now - dt.timedelta(days=91),
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
    # One bump below, once every row is written.
    make_licence(therapist, number=f"{10000 + number}", bump_search_index=False)
    for related, model, slugs in (
        (therapist.concerns, Concern, concerns),
        (therapist.modalities, Modality, modalities),
        (therapist.populations, Population, populations),
        (therapist.languages, Language, languages),
    ):
        wanted = list(slugs)
        if wanted:
            terms = list(model.objects.filter(slug__in=wanted))
            assert len(terms) == len(set(wanted)), f"unknown {model.__name__} among {wanted}"
            related.set(terms)
    if bump_search_index:
        search_index_version_bump()
    return therapist


def make_therapist_with_account(
    *, email: str | None = None, mfa: bool = False, **overrides: Any
) -> TherapistProfile:
    """``make_therapist`` with a therapist's sign-in account (``therapist.user``); practice
    pages need ``mfa=True``."""
    return make_therapist(user=make_therapist_user(email=email, mfa=mfa), **overrides)


def make_licence(
    therapist: TherapistProfile,
    *,
    jurisdiction_id: str = "CA-ON",
    designation_code: str | None = None,
    regulator: str = "CRPO",
    number: str = "12345",
    bump_search_index: bool = True,
) -> Licence:
    """A licence with ``regulator`` (its abbreviation) in ``jurisdiction_id``, for the
    therapist's own designation unless ``designation_code`` names another."""
    licence = Licence.objects.create(
        therapist=therapist,
        jurisdiction_id=jurisdiction_id,
        designation=(
            therapist.designation
            if designation_code is None
            else Designation.objects.get(code=designation_code)
        ),
        regulator=Regulator.objects.get(jurisdiction_id=jurisdiction_id, abbreviation=regulator),
        number=number,
    )
    if bump_search_index:
        search_index_version_bump()
    return licence


def make_office(therapist: TherapistProfile, **overrides: Any) -> Office:
    """An office on Queen Street West, Toronto, unless told otherwise."""
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
    office = Office.objects.create(**fields)
    search_index_version_bump()
    return office
