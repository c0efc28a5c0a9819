"""Every change a therapist makes to their own profile, one function per onboarding step.

Each runs in one transaction and bumps the search index version with the change (a listed
profile's change is live on the next search); checks that span fields use the shared rules
(``rapport.directory.rules``), so the import and the admin hold data to the same standard. A
refused change raises ValidationError keyed by field and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.core.geo import PlaceNotFound, geocode
from rapport.core.jurisdictions import JURISDICTIONS_BY_CODE
from rapport.core.models import Jurisdiction
from rapport.core.money import Currency
from rapport.directory import rules
from rapport.directory.completeness import is_draft, profile_completeness
from rapport.directory.models import (
    STYLE_DIMENSIONS,
    STYLE_MAX,
    STYLE_MIN,
    AccessibilityFeature,
    Concern,
    Designation,
    Faith,
    GenderCategory,
    Language,
    Licence,
    LivedExperience,
    Modality,
    Office,
    Population,
    Regulator,
    TherapistProfile,
    VerificationStatus,
)
from rapport.directory.selectors import therapist_main_licence
from rapport.directory.services import search_index_version_bump, therapist_review_reopen

DEFAULT_TIME_ZONE = "America/Toronto"


def _mark_saved(therapist: TherapistProfile, step: str) -> None:
    if step not in therapist.onboarding_steps_saved:
        therapist.onboarding_steps_saved = [*therapist.onboarding_steps_saved, step]


def _save(therapist: TherapistProfile, fields: Iterable[str], *, step: str) -> None:
    _mark_saved(therapist, step)
    therapist.full_clean(exclude=["languages", "user", "verification_decided_by"])
    therapist.save(update_fields=[*fields, "onboarding_steps_saved", "updated_at"])
    search_index_version_bump()


# --- starting a profile -------------------------------------------------------------------------


def therapist_draft_create(
    *, user: User, display_name: str, designation: Designation, jurisdiction_code: str
) -> TherapistProfile:
    """A draft profile for a therapist account: unlisted until the steps are done, the
    profile is sent for review and the licence is verified (it is pending review from the
    start, and ``submitted_for_review_at`` is empty, which is what a draft is).

    Fields the steps ask for later get values that say "not yet": a fee of 0 (the fees step
    refuses 0), this year as the start of practice, the province's main time zone and currency.
    Returns the existing profile if the account already has one.
    """
    if user.role != Role.THERAPIST:
        raise ValidationError({"display_name": "Only therapist accounts can create a listing."})
    if jurisdiction_code not in JURISDICTIONS_BY_CODE:
        raise ValidationError({"jurisdiction": "Choose the province or state you practise in."})
    if designation.country_code != jurisdiction_code[:2]:
        raise ValidationError(
            {"designation": "This title is not used in the country of the place you chose."}
        )
    try:
        time_zone = geocode(jurisdiction_code).time_zone
    except PlaceNotFound:
        time_zone = DEFAULT_TIME_ZONE
    with transaction.atomic():
        existing = TherapistProfile.objects.select_for_update().filter(user=user).first()
        if existing is not None:
            return existing
        therapist = TherapistProfile(
            user=user,
            display_name=display_name.strip(),
            designation=designation,
            practice_start_year=timezone.now().year,
            fee_minor=0,
            currency=Currency.CAD if jurisdiction_code.startswith("CA") else Currency.USD,
            time_zone=time_zone,
            verification_status=VerificationStatus.PENDING,
            accepting_new_clients=True,
            accepting_confirmed_at=None,
        )
        therapist.full_clean(exclude=["languages", "user", "verification_decided_by"])
        therapist.save()
        search_index_version_bump()
    return therapist


# --- about you ----------------------------------------------------------------------------------


def therapist_about_update(
    *,
    therapist: TherapistProfile,
    display_name: str,
    pronouns: str,
    headline: str,
    about: str,
    approach: str,
    first_session: str,
    photo: ContentFile[bytes] | None = None,
    remove_photo: bool = False,
) -> TherapistProfile:
    """Name, pronouns, headline, the bio and "what a first session looks like"; a new photo
    (already made safe by ``photos.prepare_photo``) replaces the old one, whose file is removed
    once the change is committed. A file written for a change that fails is removed too."""
    therapist.display_name = display_name.strip()
    therapist.pronouns = pronouns.strip()
    therapist.headline = headline.strip()
    therapist.about = about.strip()
    therapist.approach = approach.strip()
    therapist.first_session = first_session.strip()
    old_name: str = (therapist.photo.name or "") if therapist.photo else ""
    fields = ["display_name", "pronouns", "headline", "about", "approach", "first_session"]
    written = ""
    try:
        with transaction.atomic():
            if photo is not None:
                # A random name (models.photo_upload_to); the storage writes the file now.
                therapist.photo.save("photo.jpg", photo, save=False)
                written = therapist.photo.name or ""
                fields.append("photo")
            elif remove_photo and old_name:
                therapist.photo = ""
                fields.append("photo")
            _save(therapist, fields, step="about")
    except Exception:
        if written:
            therapist.photo.storage.delete(written)
        therapist.photo.name = old_name
        raise
    if old_name and "photo" in fields:
        storage = therapist.photo.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return therapist


# --- licence --------------------------------------------------------------------------------


def therapist_licence_set(
    *,
    therapist: TherapistProfile,
    jurisdiction_code: str,
    regulator: Regulator,
    designation: Designation,
    number: str,
    practice_start_year: int,
    now: dt.datetime | None = None,
) -> Licence:
    """The therapist's main licence (the first one; staff or an import may add others), and
    the year they began practising. The licence's title becomes the one shown by the name.

    Changing the licence details of a verified (or refused) listing sends it back to review:
    pending, so unlisted until a reviewer decides, with a decision row saying why.
    """
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if regulator.jurisdiction_id != jurisdiction_code:
        errors["regulator"] = ["This regulator does not license in the province or state chosen."]
    elif not regulator.designations.filter(pk=designation.pk).exists():
        errors["designation"] = [f"{regulator.abbreviation} does not grant this title."]
    normalised = ""
    try:
        normalised = rules.check_licence_number(regulator=regulator, number=number)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not 1950 <= practice_start_year <= now.year:
        errors["practice_start_year"] = [f"Enter a year between 1950 and {now.year}."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        profile = TherapistProfile.objects.select_for_update().get(pk=therapist.pk)
        licence = therapist_main_licence(therapist=profile)
        before = (
            None
            if licence is None
            else (
                licence.jurisdiction_id,
                licence.regulator_id,
                licence.designation_id,
                licence.number,
            )
        )
        after = (jurisdiction_code, regulator.pk, designation.pk, normalised)
        if licence is None:
            licence = Licence(therapist=profile)
        licence.jurisdiction = Jurisdiction.objects.get(pk=jurisdiction_code)
        licence.regulator = regulator
        licence.designation = designation
        licence.number = normalised
        # A second licence (added by staff or an import) may hold this title and place already:
        # one licence per pair.
        duplicate = (
            profile.licences.exclude(pk=licence.pk)
            .filter(jurisdiction_id=jurisdiction_code, designation=designation)
            .exists()
        )
        if duplicate:
            raise ValidationError(
                {"designation": "You already have a licence with this title in this place."}
            )
        licence.full_clean(exclude=["therapist"])
        licence.save()
        profile.designation = designation
        profile.practice_start_year = practice_start_year
        fields = ["designation", "practice_start_year"]
        changed = before != after
        if changed and profile.verification_status != VerificationStatus.PENDING:
            therapist_review_reopen(
                therapist=profile, reason="The therapist changed their licence details.", now=now
            )
        _save(profile, fields, step="licence")
    therapist.refresh_from_db()
    return licence


# --- what you work with ---------------------------------------------------------------------------


def _at_least_one(values: list[Model], field: str, what: str, errors: dict[str, list[str]]) -> None:
    if not values:
        errors[field] = [f"Choose at least one {what}: clients search by it."]


def therapist_topics_update(
    *,
    therapist: TherapistProfile,
    concerns: list[Concern],
    modalities: list[Modality],
    populations: list[Population],
    languages: list[Language],
    lived_experiences: list[LivedExperience],
    faiths: list[Faith],
    lgbtq2s_affirming: bool,
    gender_category: str = GenderCategory.UNDISCLOSED,
    gender_description: str = "",
    identifies_as_lgbtq2s: bool | None = None,
    cultural_background: str = "",
) -> TherapistProfile:
    """The taxonomies search filters on (the first four need at least one term each), and what
    the therapist chooses to say about themselves (all optional)."""
    errors: dict[str, list[str]] = {}
    _at_least_one(list(concerns), "concerns", "concern", errors)
    _at_least_one(list(modalities), "modalities", "approach", errors)
    _at_least_one(list(populations), "populations", "group", errors)
    _at_least_one(list(languages), "languages", "language", errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        therapist.concerns.set(concerns)
        therapist.modalities.set(modalities)
        therapist.populations.set(populations)
        therapist.languages.set(languages)
        therapist.lived_experiences.set(lived_experiences)
        therapist.faiths.set(faiths)
        therapist.lgbtq2s_affirming = lgbtq2s_affirming
        therapist.gender_category = gender_category
        therapist.gender_description = gender_description.strip()
        therapist.identifies_as_lgbtq2s = identifies_as_lgbtq2s
        therapist.cultural_background = cultural_background.strip()
        _save(
            therapist,
            [
                "lgbtq2s_affirming",
                "gender_category",
                "gender_description",
                "identifies_as_lgbtq2s",
                "cultural_background",
            ],
            step="topics",
        )
    return therapist


# --- how you work -----------------------------------------------------------------------------


def therapist_style_update(*, therapist: TherapistProfile, placements: dict[str, int]) -> None:
    """The therapist's own place on each style dimension (``models.STYLE_DIMENSIONS``)."""
    names = [name for name, _low, _high in STYLE_DIMENSIONS]
    errors = {
        name: ["Choose where you are on this scale."]
        for name in names
        if not STYLE_MIN <= placements.get(name, 0) <= STYLE_MAX
    }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for name in names:
            setattr(therapist, name, placements[name])
        _save(therapist, names, step="style")


# --- fees ---------------------------------------------------------------------------------------


def therapist_fees_update(
    *,
    therapist: TherapistProfile,
    fee_minor: int,
    currency: str,
    sliding_scale_min_minor: int | None,
    accepts_insurance: bool,
    direct_billing: bool,
    insurance_note: str,
    session_minutes: int,
    consultation_minutes: int,
) -> TherapistProfile:
    rules.check_fees(fee_minor=fee_minor, sliding_scale_min_minor=sliding_scale_min_minor)
    if currency not in Currency.values:
        raise ValidationError({"currency": "Choose Canadian or US dollars."})
    if direct_billing and not accepts_insurance:
        raise ValidationError(
            {"direct_billing": "Direct billing needs insurance: tick both, or neither."}
        )
    with transaction.atomic():
        therapist.fee_minor = fee_minor
        therapist.currency = currency
        therapist.sliding_scale_min_minor = sliding_scale_min_minor
        therapist.accepts_insurance = accepts_insurance
        therapist.direct_billing = direct_billing
        therapist.insurance_note = insurance_note.strip()
        therapist.session_minutes = session_minutes
        therapist.consultation_minutes = consultation_minutes
        _save(
            therapist,
            [
                "fee_minor",
                "currency",
                "sliding_scale_min_minor",
                "accepts_insurance",
                "direct_billing",
                "insurance_note",
                "session_minutes",
                "consultation_minutes",
            ],
            step="fees",
        )
    return therapist


# --- where ----------------------------------------------------------------------------------------


def therapist_delivery_update(
    *,
    therapist: TherapistProfile,
    offers_in_person: bool,
    offers_video: bool,
    offers_phone: bool,
    time_zone: str,
) -> TherapistProfile:
    """The ways of meeting, and the zone the therapist works in (availability is set in it).
    In person needs an office first; at least one way of meeting is required."""
    if not (offers_in_person or offers_video or offers_phone):
        raise ValidationError(
            {"offers_video": "Choose at least one way to meet: in person, video or phone."}
        )
    if offers_in_person and not therapist.offices.exists():
        raise ValidationError(
            {"offers_in_person": "Add the office where you see clients first (below)."}
        )
    with transaction.atomic():
        therapist.offers_in_person = offers_in_person
        therapist.offers_video = offers_video
        therapist.offers_phone = offers_phone
        therapist.time_zone = time_zone
        _save(
            therapist,
            ["offers_in_person", "offers_video", "offers_phone", "time_zone"],
            step="where",
        )
    return therapist


def _office_fill(
    office: Office,
    *,
    label: str,
    street_address: str,
    city: str,
    jurisdiction_code: str,
    postal_code: str,
    accessibility_note: str,
) -> None:
    errors: dict[str, list[str]] = {}
    if not street_address.strip():
        errors["street_address"] = ["Enter the street address."]
    try:
        location = rules.locate_office(
            city=city, jurisdiction_code=jurisdiction_code, postal_code=postal_code
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    office.label = label.strip()
    office.street_address = " ".join(street_address.split())
    office.city = location.city
    office.jurisdiction_id = jurisdiction_code
    office.postal_code = location.postal_code
    office.latitude = location.latitude
    office.longitude = location.longitude
    office.time_zone = location.time_zone
    office.accessibility_note = accessibility_note.strip()


def office_add(
    *,
    therapist: TherapistProfile,
    label: str,
    street_address: str,
    city: str,
    jurisdiction_code: str,
    postal_code: str,
    accessibility_features: list[AccessibilityFeature],
    accessibility_note: str,
) -> Office:
    """An office, located offline from its city and postal code (coordinates, time zone). The
    first office also turns on "in person" and sets the therapist's time zone from it."""
    office = Office(therapist=therapist)
    _office_fill(
        office,
        label=label,
        street_address=street_address,
        city=city,
        jurisdiction_code=jurisdiction_code,
        postal_code=postal_code,
        accessibility_note=accessibility_note,
    )
    with transaction.atomic():
        first = not therapist.offices.exists()
        office.full_clean(exclude=["therapist"])
        office.save()
        office.accessibility_features.set(accessibility_features)
        if first:
            therapist.offers_in_person = True
            therapist.time_zone = office.time_zone
            therapist.save(update_fields=["offers_in_person", "time_zone", "updated_at"])
        search_index_version_bump()
    return office


def office_update(
    *,
    office: Office,
    label: str,
    street_address: str,
    city: str,
    jurisdiction_code: str,
    postal_code: str,
    accessibility_features: list[AccessibilityFeature],
    accessibility_note: str,
) -> Office:
    _office_fill(
        office,
        label=label,
        street_address=street_address,
        city=city,
        jurisdiction_code=jurisdiction_code,
        postal_code=postal_code,
        accessibility_note=accessibility_note,
    )
    with transaction.atomic():
        office.full_clean(exclude=["therapist"])
        office.save()
        office.accessibility_features.set(accessibility_features)
        search_index_version_bump()
    return office


def office_remove(*, office: Office) -> None:
    """Removing the last office also turns "in person" off, unless that would leave no way of
    meeting at all (then the therapist must choose video or phone first)."""
    with transaction.atomic():
        therapist = TherapistProfile.objects.select_for_update().get(pk=office.therapist_id)
        last = not therapist.offices.exclude(pk=office.pk).exists()
        if last and therapist.offers_in_person:
            if not (therapist.offers_video or therapist.offers_phone):
                raise ValidationError(
                    "This is your only office and you meet clients only in person: choose "
                    "video or phone first, or add another office."
                )
            therapist.offers_in_person = False
            therapist.save(update_fields=["offers_in_person", "updated_at"])
        office.delete()
        search_index_version_bump()


# --- contact policy ---------------------------------------------------------------------------


def therapist_contact_policy_update(
    *,
    therapist: TherapistProfile,
    between_session_contact: str,
    reply_within_hours: int,
    contact_hours: str,
) -> TherapistProfile:
    with transaction.atomic():
        therapist.between_session_contact = between_session_contact
        therapist.reply_within_hours = reply_within_hours
        therapist.contact_hours = contact_hours.strip()
        _save(
            therapist,
            ["between_session_contact", "reply_within_hours", "contact_hours"],
            step="contact",
        )
    return therapist


# --- steps that live on other pages, visibility, submission -----------------------------------


def therapist_step_mark_saved(*, therapist: TherapistProfile, step: str) -> None:
    """For the steps whose work happens elsewhere (availability, videos) and the preview: the
    therapist said they are done with it."""
    with transaction.atomic():
        _mark_saved(therapist, step)
        therapist.save(update_fields=["onboarding_steps_saved", "updated_at"])


def therapist_listing_visibility_set(*, therapist: TherapistProfile, listed: bool) -> None:
    """The therapist's own switch to show or hide a listing (verified or not)."""
    with transaction.atomic():
        therapist.is_listed = listed
        therapist.save(update_fields=["is_listed", "updated_at"])
        search_index_version_bump()


def therapist_submit_for_review(
    *, therapist: TherapistProfile, now: dt.datetime | None = None
) -> TherapistProfile:
    """Send a finished draft to the licence reviewers. Refused while the profile misses any
    item of the minimum (``completeness``), naming each. Submitting also confirms the
    therapist is accepting new clients, as of now: they are starting out."""
    if not is_draft(therapist):
        raise ValidationError("This profile was already sent for review.")
    completeness = profile_completeness(therapist=therapist)
    if not completeness.meets_minimum:
        missing = "; ".join(item.label for item in completeness.missing_required)
        raise ValidationError(f"Your profile still needs: {missing}.")
    now = now or timezone.now()
    with transaction.atomic():
        therapist.submitted_for_review_at = now
        therapist.accepting_new_clients = True
        therapist.accepting_confirmed_at = now
        _save(
            therapist,
            ["submitted_for_review_at", "accepting_new_clients", "accepting_confirmed_at"],
            step="submit",
        )
    return therapist
