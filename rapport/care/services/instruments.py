"""Loading instrument definitions into the database (``InstrumentVersion``).

A definition is checked in full (``rapport.care.instruments``) before anything is stored; a
slug and version already loaded with other content is refused (a changed definition needs a
new version), and the same content loaded again is a no-op.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.care import instruments
from rapport.care.models import InstrumentVersion


def _same_version_differs(instrument: instruments.Instrument) -> instruments.DefinitionError:
    return instruments.DefinitionError(
        [
            (
                "version",
                f"version {instrument.version} of {instrument.slug} is already loaded with "
                "different content: a changed definition needs a new version",
            )
        ]
    )


def instrument_store(
    *,
    instrument: instruments.Instrument,
    loaded_by: User | None = None,
    builtin: bool = False,
    now: dt.datetime | None = None,
) -> tuple[InstrumentVersion, bool]:
    """Store a checked instrument; returns (row, created). Refused with DefinitionError when
    its slug and version are loaded with different content."""
    now = now or timezone.now()
    existing = InstrumentVersion.objects.filter(
        slug=instrument.slug, version=instrument.version
    ).first()
    if existing is not None:
        if existing.content_hash != instrument.content_hash:
            raise _same_version_differs(instrument)
        return existing, False
    try:
        with transaction.atomic():
            row = InstrumentVersion.objects.create(
                slug=instrument.slug,
                version=instrument.version,
                title=instrument.title,
                content_hash=instrument.content_hash,
                definition=instruments.definition_dict(instrument),
                builtin=builtin,
                loaded_at=now,
                loaded_by=loaded_by,
            )
    except IntegrityError:
        # Loaded by someone else a moment ago: the same answer as if it had been there first.
        existing = InstrumentVersion.objects.get(slug=instrument.slug, version=instrument.version)
        if existing.content_hash != instrument.content_hash:
            raise _same_version_differs(instrument) from None
        return existing, False
    return row, True


def instrument_load(
    *, text: str | bytes, loaded_by: User | None = None, now: dt.datetime | None = None
) -> tuple[InstrumentVersion, bool]:
    """Check a definition file's text and store it (see ``instrument_store``). Raises
    DefinitionError naming the path of every problem; nothing is stored then."""
    return instrument_store(
        instrument=instruments.parse_definition(text), loaded_by=loaded_by, now=now
    )


def instrument_builtins_install(*, now: dt.datetime | None = None) -> int:
    """Store every built-in definition not stored yet (run after each migration); returns how
    many were new."""
    return sum(
        instrument_store(instrument=instrument, builtin=True, now=now)[1]
        for instrument in instruments.builtin_instruments()
    )
