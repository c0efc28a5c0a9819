"""Writing one checked row: the profile, its account, taxonomies, licences, offices, the parts
other apps registered, and — when staff vouch for the rows — the verification decision.

The caller runs this inside the row's own transaction: any refusal here (an address already
taken, a rule the database enforces, a part's write) leaves nothing of the row behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from rapport.accounts.models import User
from rapport.accounts.services import AddressTaken, invited_therapist_account_create
from rapport.directory.importing.cleaning import CleanOffice, CleanRow, RowInvalid
from rapport.directory.importing.parts import import_parts
from rapport.directory.importing.reading import Path
from rapport.directory.importing.tasks import send_import_invitation_email
from rapport.directory.models import (
    Licence,
    Office,
    TherapistProfile,
    VerificationStatus,
)
from rapport.directory.services import therapist_review_reopen, therapist_verification_decide

# Model fields whose errors belong to a differently named field of the row.
_ROW_FIELD = {
    "fee_minor": "fee",
    "sliding_scale_min_minor": "sliding_scale_min",
    "verification_decided_at": "",
    "status": "licences",
}


@dataclass(frozen=True, slots=True)
class WriteResult:
    therapist: TherapistProfile
    created: bool
    invited: bool
    parts_written: tuple[str, ...]


def _paths(error: ValidationError) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []
    for key, messages in error.message_dict.items():
        name = _ROW_FIELD.get(key, key if key != "__all__" else "")
        for message in messages:
            problems.append(((name,) if name else (), message))
    return problems


def row_write(
    *,
    row: CleanRow,
    existing_id: int | None,
    verified_by: User | None,
    reason: str,
    now: dt.datetime,
) -> WriteResult:
    """Create or update the listing the row describes. Call inside a transaction.

    Raises RowInvalid for what only writing can find out (an address that already has an
    account, a rule a part enforces, a verification that is not possible).
    """
    created = existing_id is None
    invited = False
    if existing_id is None:
        therapist = TherapistProfile(external_id=row.external_id)
    else:
        therapist = (
            # Only the profile row is locked: PostgreSQL refuses FOR UPDATE on the nullable side
            # of the outer join to the account.
            TherapistProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=existing_id)
        )
    licences_before = (
        set()
        if created
        else {
            (
                item.jurisdiction_id,
                item.designation_id,
                item.regulator_id,
                item.number,
                item.expires_on,
            )
            for item in therapist.licences.all()
        }
    )

    if therapist.user_id is None:
        try:
            therapist.user = invited_therapist_account_create(
                email=row.email, name=row.profile.get("display_name", "")
            )
        except AddressTaken:
            raise RowInvalid(
                [
                    (
                        ("email",),
                        f"An account with {row.email} already exists. Imports never attach an "
                        "existing account to a listing: use another address, or let the person "
                        "sign up as a therapist themselves.",
                    )
                ]
            ) from None
        invited = True
    elif therapist.user is not None and therapist.user.email.lower() != row.email:
        raise RowInvalid(
            [
                (
                    ("email",),
                    f"This listing's account uses another address ({therapist.user.email}); "
                    "the therapist changes it in their account settings.",
                )
            ]
        )

    # A re-import of unchanged rows writes nothing (and the free-text index is left alone).
    changed = created or invited
    for name, value in row.profile.items():
        if name == "designation":
            changed = changed or therapist.designation_id != value.pk
        else:
            changed = changed or getattr(therapist, name) != value
        setattr(therapist, name, value)
    if verified_by is not None and therapist.accepting_new_clients:
        # Staff vouch for the rows: the listing goes live now, with "accepting new clients"
        # fresh from today (the therapist re-confirms monthly from here on).
        therapist.accepting_confirmed_at = now
        changed = True
    if changed:
        try:
            therapist.clean()
        except ValidationError as error:
            raise RowInvalid(_paths(error)) from None
        therapist.save()

    for name, ids in row.terms.items():
        _links_replace(therapist=therapist, name=name, ids=ids, created=created)

    licences_after = {licence.details() for licence in row.licences}
    if licences_after != licences_before:
        _licences_replace(therapist=therapist, row=row, created=created)
    if row.offices is not None:
        _offices_replace(therapist=therapist, row=row, created=created)

    parts_written: list[str] = []
    for part in import_parts():
        if part.name in row.parts:
            parts_written.append(part.name)
            try:
                part.write(therapist, row.parts[part.name], created)
            except ValidationError as error:
                raise RowInvalid(_paths(error)) from None

    if verified_by is not None:
        if therapist.verification_status != VerificationStatus.VERIFIED:
            if therapist.submitted_for_review_at is None:
                # Staff who mark the rows verified review them as they import: sent for review.
                therapist.submitted_for_review_at = now
                therapist.save(update_fields=["submitted_for_review_at", "updated_at"])
            try:
                therapist_verification_decide(
                    therapist=therapist,
                    reviewer=verified_by,
                    status=VerificationStatus.VERIFIED,
                    reason=reason,
                    now=now,
                    bump_search_index=False,
                    # A new account's invitation already says the listing is verified.
                    notify_therapist=not invited,
                )
            except ValidationError as error:
                raise RowInvalid(_paths(error)) from None
    elif (
        not created
        and licences_after != licences_before
        and therapist.verification_status == VerificationStatus.VERIFIED
    ):
        # New licence details have not been checked by anyone: back to the licence queue, as
        # when the therapist edits them in onboarding (a decision without a reviewer records
        # why, and the time of submission puts it in the queue).
        therapist_review_reopen(
            therapist=therapist, reason="The licence details changed in an import.", now=now
        )

    if invited:
        assert therapist.user is not None
        user_id: int = therapist.user.pk
        therapist_id = therapist.pk
        transaction.on_commit(
            lambda: send_import_invitation_email.enqueue(user_id=user_id, therapist_id=therapist_id)
        )
    return WriteResult(
        therapist=therapist, created=created, invited=invited, parts_written=tuple(parts_written)
    )


def _links_replace(
    *, therapist: TherapistProfile, name: str, ids: list[int], created: bool
) -> None:
    """The therapist's terms of one taxonomy become ``ids``, straight through the link table:
    a new profile has no links to compare with, and an unchanged one (the usual re-import)
    costs one plain read. ``related.set()`` would do the same with several times the work of
    building its queries, which at 10,000 rows is most of an import."""
    relation = getattr(TherapistProfile, name)
    links = relation.through.objects
    source = relation.field.m2m_field_name()
    target = relation.field.m2m_reverse_field_name()
    current: set[int] = (
        set()
        if created
        else set(
            links.filter(**{f"{source}_id": therapist.pk})
            .order_by()
            .values_list(f"{target}_id", flat=True)
        )
    )
    wanted = set(ids)
    if current == wanted:
        return
    if current - wanted:
        links.filter(
            **{f"{source}_id": therapist.pk, f"{target}_id__in": current - wanted}
        ).delete()
    _links_insert(
        relation.through, source, target, [(therapist.pk, i) for i in ids if i not in current]
    )


def _links_insert(through: Any, source: str, target: str, pairs: list[tuple[int, int]]) -> None:
    """Rows of a link table in one plain, portable INSERT run for every pair: the ORM's
    bulk_create builds a model instance and compiles a statement per call, the largest single
    cost of writing a new listing."""
    if not pairs:
        return
    meta = through._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in (source, target))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s)",  # noqa: S608
            pairs,
        )


def _licences_replace(*, therapist: TherapistProfile, row: CleanRow, created: bool) -> None:
    """The row's licences become the therapist's: matched by title and jurisdiction, so a
    renewed number updates its licence rather than adding another."""
    wanted = {licence.key(): licence for licence in row.licences}
    for licence in [] if created else list(therapist.licences.all()):
        key = (licence.jurisdiction_id, licence.designation_id)
        if key not in wanted:
            licence.delete()
            continue
        clean = wanted.pop(key)
        licence.regulator = clean.regulator
        licence.number = clean.number
        licence.expires_on = clean.expires_on
        licence.save()
    Licence.objects.bulk_create(
        Licence(
            therapist=therapist,
            jurisdiction_id=clean.jurisdiction_id,
            designation=clean.designation,
            regulator=clean.regulator,
            number=clean.number,
            expires_on=clean.expires_on,
        )
        for clean in wanted.values()
    )


def _office_details(office: Office | CleanOffice, features: list[int]) -> tuple[Any, ...]:
    return (
        office.label,
        office.street_address,
        office.city,
        office.jurisdiction_id,
        office.postal_code,
        office.latitude,
        office.longitude,
        office.time_zone,
        office.accessibility_note,
        tuple(sorted(features)),
    )


def _offices_replace(*, therapist: TherapistProfile, row: CleanRow, created: bool) -> None:
    assert row.offices is not None
    if not created:
        offices = list(therapist.offices.order_by("id"))
        features: dict[int, list[int]] = {office.pk: [] for office in offices}
        for office_id, feature_id in Office.accessibility_features.through.objects.filter(
            office__therapist=therapist
        ).values_list("office_id", "accessibilityfeature_id"):
            features[office_id].append(feature_id)
        current = [_office_details(office, features[office.pk]) for office in offices]
        wanted = [_office_details(clean, clean.accessibility_features) for clean in row.offices]
        if current == wanted:
            return
        therapist.offices.all().delete()
    for clean in row.offices:
        office = Office.objects.create(
            therapist=therapist,
            label=clean.label,
            street_address=clean.street_address,
            city=clean.city,
            jurisdiction_id=clean.jurisdiction_id,
            postal_code=clean.postal_code,
            latitude=clean.latitude,
            longitude=clean.longitude,
            time_zone=clean.time_zone,
            accessibility_note=clean.accessibility_note,
        )
        _links_insert(
            Office.accessibility_features.through,
            "office",
            "accessibilityfeature",
            [(office.pk, feature) for feature in clean.accessibility_features],
        )


__all__: list[Any] = ["WriteResult", "row_write"]
