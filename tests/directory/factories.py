"""Therapist profiles for tests: real rows through the ORM with overridable defaults, their
licences, offices and taxonomy terms, and a sign-in account when a test needs one.

Every builder that writes indexed directory data bumps the search index's version, as the
services do, so a search sees the rows a test has just written without resetting the index.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import models
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


REFERENCE_FIXTURES = ("taxonomies", "credentials")


@cache
def _reference_fixture_objects() -> tuple[dict[str, Any], ...]:
    """The fixtures' objects as ``loaddata`` reads them, parsed once per process."""
    folder = Path(apps.get_app_config("directory").path) / "fixtures"
    return tuple(
        entry
        for name in REFERENCE_FIXTURES
        for entry in json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    )


def load_reference_data() -> None:
    """Taxonomies and credentials: the rows `rapport seed` loads with ``loaddata``.

    Written here with one statement per table. ``loaddata`` saves its 310 objects one by one
    (about 1,300 queries, half a second), and every transactional and browser test loads
    them again after the test before it emptied the tables. Rows already present are left as
    they are (``loaddata`` would update them): tests/directory/test_fixtures.py checks that
    into empty tables this writes exactly what ``loaddata`` writes.
    """
    instances: dict[type[models.Model], list[models.Model]] = {}
    # (many-to-many field, the row's natural key, the related rows' natural keys)
    links: list[tuple[models.ManyToManyField, tuple[Any, ...], list[list[Any]]]] = []
    for entry in _reference_fixture_objects():
        model = apps.get_model(entry["model"])
        values: dict[str, Any] = {}
        related: list[tuple[models.ManyToManyField, list[list[Any]]]] = []
        for name, value in entry["fields"].items():
            field = model._meta.get_field(name)
            if isinstance(field, models.ManyToManyField):
                related.append((field, value))
            else:
                # A foreign key is written as the related row's primary key in these files.
                values[field.attname] = value
        instance = model(**values)
        instances.setdefault(model, []).append(instance)
        links.extend((field, _natural_key(instance), keys) for field, keys in related)
    for model, rows in instances.items():
        model._default_manager.bulk_create(rows, ignore_conflicts=True)

    primary_keys: dict[type[models.Model], dict[tuple[Any, ...], Any]] = {}

    def primary_key(model: type[models.Model], natural_key: tuple[Any, ...]) -> Any:
        if model not in primary_keys:
            primary_keys[model] = {
                _natural_key(row): row.pk for row in model._default_manager.all()
            }
        return primary_keys[model][natural_key]

    through_rows: dict[type[models.Model], list[models.Model]] = {}
    for field, natural_key, related_keys in links:
        through = field.remote_field.through
        target = field.related_model
        assert isinstance(through, type)
        assert isinstance(target, type)
        through_rows.setdefault(through, []).extend(
            through(
                **{
                    f"{field.m2m_field_name()}_id": primary_key(field.model, natural_key),
                    f"{field.m2m_reverse_field_name()}_id": primary_key(target, tuple(key)),
                }
            )
            for key in related_keys
        )
    for through, rows in through_rows.items():
        through._default_manager.bulk_create(rows, ignore_conflicts=True)


def _natural_key(row: models.Model) -> tuple[Any, ...]:
    return tuple(row.natural_key())  # type: ignore[attr-defined]


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
