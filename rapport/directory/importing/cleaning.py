"""Checking one row's raw values and turning them into what the writer stores.

Nothing here writes. Every problem of a row is collected (not just the first), each with the
field it concerns, so one pass over the report fixes a file. Fees, licence numbers and office
addresses are held to the same rules as the onboarding wizard (``rapport.directory.rules``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

from rapport.core.models import Jurisdiction
from rapport.core.money import Currency
from rapport.core.timezones import is_canonical_zone_name
from rapport.directory import rules
from rapport.directory.importing.columns import GROUPS, LICENCE_KEYS, OFFICE_KEYS
from rapport.directory.importing.parts import UNCHANGED, import_parts
from rapport.directory.importing.reading import Path
from rapport.directory.importing.values import (
    Problems,
    amount,
    date,
    group_items,
    is_empty,
    optional_text,
    required_text,
    slugs,
    whole_number,
    yes_no,
)
from rapport.directory.models import (
    STYLE_DIMENSIONS,
    STYLE_MAX,
    STYLE_MIN,
    AccessibilityFeature,
    BetweenSessionContact,
    Concern,
    Designation,
    Faith,
    GenderCategory,
    Language,
    LivedExperience,
    Modality,
    Population,
    Regulator,
    TherapistProfile,
)

EXTERNAL_ID_MAX_LENGTH = 100
# The many-to-many taxonomies of a profile: the row's field, and the term model.
PROFILE_TERMS: dict[str, type[models.Model]] = {
    "concerns": Concern,
    "modalities": Modality,
    "populations": Population,
    "languages": Language,
    "faiths": Faith,
    "lived_experiences": LivedExperience,
}
# Plain text fields of the profile, read as they are (trimmed), bounded by the model.
PROFILE_TEXT = (
    "pronouns",
    "gender_description",
    "cultural_background",
    "headline",
    "about",
    "approach",
    "first_session",
    "insurance_note",
    "contact_hours",
)
PROFILE_FLAGS = (
    "lgbtq2s_affirming",
    "accepts_insurance",
    "direct_billing",
    "offers_in_person",
    "offers_video",
    "offers_phone",
    "accepting_new_clients",
    "is_listed",
)
_NUMBER_RANGES = {
    "session_minutes": (15, 240),
    "consultation_minutes": (0, 60),
    "reply_within_hours": (1, 336),
}
_CHOICES: dict[str, type[models.TextChoices]] = {
    "gender_category": GenderCategory,
    "between_session_contact": BetweenSessionContact,
}


class RowInvalid(Exception):
    """Problems of one row, each with the path of its field."""

    def __init__(self, problems: list[tuple[Path, str]]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass(slots=True)
class Reference:
    """Reference data looked up by every row, read once per import."""

    terms: dict[str, dict[str, int]]
    accessibility_features: dict[str, int]
    designations: dict[str, Designation]
    regulators: dict[tuple[str, str], Regulator]
    regulator_designations: dict[int, frozenset[int]]
    jurisdictions: frozenset[str]
    # Office addresses already located in this import: a group practice's rows share a few
    # addresses, and locating one reads the place data.
    _located: dict[tuple[str, str, str], rules.OfficeLocation | ValidationError] = field(
        default_factory=dict
    )

    def locate_office(
        self, *, city: str, jurisdiction_code: str, postal_code: str
    ) -> rules.OfficeLocation:
        key = (city, jurisdiction_code, postal_code)
        if key not in self._located:
            try:
                self._located[key] = rules.locate_office(
                    city=city, jurisdiction_code=jurisdiction_code, postal_code=postal_code
                )
            except ValidationError as error:
                self._located[key] = error
        located = self._located[key]
        if isinstance(located, ValidationError):
            raise located
        return located

    @classmethod
    def load(cls) -> Reference:
        regulators = Regulator.objects.prefetch_related("designations")
        return cls(
            terms={
                name: dict(model.objects.values_list("slug", "pk"))  # type: ignore[attr-defined]
                for name, model in PROFILE_TERMS.items()
            },
            accessibility_features=dict(AccessibilityFeature.objects.values_list("slug", "pk")),
            designations={item.code.upper(): item for item in Designation.objects.all()},
            regulators={
                (item.jurisdiction_id, item.abbreviation.upper()): item for item in regulators
            },
            regulator_designations={
                item.pk: frozenset(designation.pk for designation in item.designations.all())
                for item in regulators
            },
            jurisdictions=frozenset(Jurisdiction.objects.values_list("code", flat=True)),
        )


@dataclass(slots=True)
class CleanLicence:
    jurisdiction_id: str
    regulator: Regulator
    designation: Designation
    number: str
    expires_on: dt.date | None

    def key(self) -> tuple[str, int]:
        return (self.jurisdiction_id, self.designation.pk)

    def details(self) -> tuple[str, int, int, str, dt.date | None]:
        return (
            self.jurisdiction_id,
            self.designation.pk,
            self.regulator.pk,
            self.number,
            self.expires_on,
        )


@dataclass(slots=True)
class CleanOffice:
    label: str
    street_address: str
    city: str
    jurisdiction_id: str
    postal_code: str
    latitude: float
    longitude: float
    time_zone: str
    accessibility_features: list[int]
    accessibility_note: str


@dataclass(slots=True)
class CleanRow:
    external_id: str
    email: str
    # TherapistProfile field -> value, for the fields the row gives.
    profile: dict[str, Any]
    # Taxonomy field -> term ids, for the taxonomies the row gives.
    terms: dict[str, list[int]]
    licences: list[CleanLicence]
    # None: the row does not mention offices (an update leaves them as they are).
    offices: list[CleanOffice] | None
    # Part name -> what the part's ``write`` receives (UNCHANGED parts are left out).
    parts: dict[str, Any] = field(default_factory=dict)


def _model_field(name: str) -> Any:
    return TherapistProfile._meta.get_field(name)


def clean_row(values: Mapping[str, Any], reference: Reference) -> CleanRow:
    """The row's values checked and converted; RowInvalid listing every problem."""
    problems = Problems()
    profile: dict[str, Any] = {}
    terms: dict[str, list[int]] = {}

    external_id = required_text(values, "external_id", EXTERNAL_ID_MAX_LENGTH, problems)
    email = required_text(values, "email", 254, problems).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.add(("email",), f"{email} is not an e-mail address.")
    display_name = required_text(values, "display_name", 120, problems)
    if display_name:
        profile["display_name"] = display_name

    designation_code = required_text(values, "designation", 20, problems)
    if designation_code:
        designation = reference.designations.get(designation_code.upper())
        if designation is None:
            problems.add(
                ("designation",),
                f'Unknown designation "{designation_code}" (use a code such as RP, RSW, '
                "C.Psych, LCSW or LMFT).",
            )
        else:
            profile["designation"] = designation

    year = whole_number(values, "practice_start_year", problems, required=True)
    if year is not None:
        this_year = timezone.now().year
        if not 1950 <= year <= this_year:
            problems.add(("practice_start_year",), f"Enter a year between 1950 and {this_year}.")
        else:
            profile["practice_start_year"] = year

    currency = required_text(values, "currency", 3, problems).upper()
    if currency:
        if currency not in Currency.values:
            problems.add(("currency",), f"Use one of {', '.join(Currency.values)}.")
        else:
            profile["currency"] = currency

    fee = amount(values, "fee", problems, required=True)
    sliding = amount(values, "sliding_scale_min", problems, required=False)
    if fee is not None:
        try:
            rules.check_fees(
                fee_minor=fee, sliding_scale_min_minor=sliding if isinstance(sliding, int) else None
            )
        except ValidationError as error:
            problems.add_validation_error(
                error,
                {"fee_minor": ("fee",), "sliding_scale_min_minor": ("sliding_scale_min",)},
            )
        else:
            profile["fee_minor"] = fee
            if sliding is not UNCHANGED:
                profile["sliding_scale_min_minor"] = sliding

    zone = required_text(values, "time_zone", 64, problems)
    if zone:
        if not is_canonical_zone_name(zone):
            problems.add(
                ("time_zone",),
                f'"{zone}" is not a time zone name Rapport accepts (use an IANA name such as '
                "America/Toronto or America/Vancouver).",
            )
        else:
            profile["time_zone"] = zone

    for name, _model in PROFILE_TERMS.items():
        required = name == "languages"
        ids = slugs(values, name, reference.terms[name], problems, required=required)
        if ids is not None:
            terms[name] = ids

    for name in PROFILE_TEXT:
        if name in values:
            text = optional_text(values, name, _model_field(name).max_length, problems)
            if text is not None:
                profile[name] = text

    for name in PROFILE_FLAGS:
        flag = yes_no(values, name, problems)
        if flag is not UNCHANGED:
            profile[name] = _model_field(name).get_default() if flag is None else flag
    if "identifies_as_lgbtq2s" in values:
        flag = yes_no(values, "identifies_as_lgbtq2s", problems)
        if flag is not UNCHANGED:
            profile["identifies_as_lgbtq2s"] = flag

    for name, choices in _CHOICES.items():
        if name in values:
            raw = values[name]
            if is_empty(raw):
                profile[name] = _model_field(name).get_default()
            elif not isinstance(raw, str) or raw.strip().lower() not in choices.values:
                allowed = ", ".join(choices.values)
                problems.add((name,), f"Use one of: {allowed}.")
            else:
                profile[name] = raw.strip().lower()

    for name, (low, high) in _NUMBER_RANGES.items():
        number = whole_number(values, name, problems, required=False)
        if number is not None:
            if not low <= number <= high:
                problems.add((name,), f"Use a whole number from {low} to {high}.")
            else:
                profile[name] = number
        elif name in values and is_empty(values[name]):
            profile[name] = _model_field(name).get_default()

    for name, low_pole, high_pole in STYLE_DIMENSIONS:
        number = whole_number(values, name, problems, required=False)
        if number is not None:
            if not STYLE_MIN <= number <= STYLE_MAX:
                problems.add(
                    (name,),
                    f"Use a whole number from {STYLE_MIN} ({low_pole}) to {STYLE_MAX} "
                    f"({high_pole}); 3 is in between.",
                )
            else:
                profile[name] = number
        elif name in values and is_empty(values[name]):
            profile[name] = _model_field(name).get_default()

    licences = _licences(values, profile.get("designation"), reference, problems)
    offices = _offices(values, reference, problems)
    if offices is not None and "offers_in_person" not in values:
        # An office is a place to meet in person (saying so again would be busywork), and
        # without one there is nowhere to meet in person.
        profile["offers_in_person"] = bool(offices)
    if profile.get("offers_in_person") and offices is not None and not offices:
        problems.add(("offices",), "In-person sessions need at least one office.")
    if "offers_in_person" in values or "offers_video" in values or "offers_phone" in values:
        offers = [
            profile.get(flag, _model_field(flag).get_default())
            for flag in ("offers_in_person", "offers_video", "offers_phone")
        ]
        if not any(offers):
            problems.add(
                ("offers_video",), "Offer at least one way to meet: in person, video or phone."
            )

    parts: dict[str, Any] = {}
    for part in import_parts():
        try:
            cleaned = part.clean(values)
        except ValidationError as error:
            problems.add_validation_error(error, {})
        else:
            if cleaned is not UNCHANGED:
                parts[part.name] = cleaned

    if problems.problems:
        raise RowInvalid(problems.problems)
    return CleanRow(
        external_id=external_id,
        email=email,
        profile=profile,
        terms=terms,
        licences=licences,
        offices=offices,
        parts=parts,
    )


def _licences(
    values: Mapping[str, Any],
    profile_designation: Designation | None,
    reference: Reference,
    problems: Problems,
) -> list[CleanLicence]:
    items = group_items(values, "licences", LICENCE_KEYS, problems)
    if not items:
        problems.add(
            ("licences",),
            "Every therapist needs at least one licence (jurisdiction, regulator and number).",
        )
        return []
    licences: list[CleanLicence] = []
    seen: dict[tuple[str, int], int] = {}
    for index, item in enumerate(items):
        path = ("licences", index)
        jurisdiction = str(item.get("jurisdiction") or "").strip().upper()
        abbreviation = str(item.get("regulator") or "").strip()
        designation_code = str(item.get("designation") or "").strip()
        number = item.get("number")
        if not jurisdiction:
            problems.add((*path, "jurisdiction"), "This field is required (for example CA-ON).")
            continue
        if jurisdiction not in reference.jurisdictions:
            problems.add(
                (*path, "jurisdiction"),
                f'"{jurisdiction:.20}" is not a province, territory or state code (for example '
                "CA-ON or US-NY).",
            )
            continue
        if not abbreviation:
            problems.add((*path, "regulator"), "This field is required (for example CRPO).")
            continue
        regulator = reference.regulators.get((jurisdiction, abbreviation.upper()))
        if regulator is None:
            problems.add(
                (*path, "regulator"),
                f'No regulator "{abbreviation:.40}" licenses in {jurisdiction}.',
            )
            continue
        if designation_code:
            designation = reference.designations.get(designation_code.upper())
            if designation is None:
                problems.add(
                    (*path, "designation"), f'Unknown designation "{designation_code:.20}".'
                )
                continue
        elif profile_designation is not None:
            designation = profile_designation
        else:
            continue  # the profile's designation is already reported
        if designation.pk not in reference.regulator_designations[regulator.pk]:
            problems.add(
                (*path, "designation"),
                f"{regulator.abbreviation} does not grant the designation {designation.code}.",
            )
            continue
        if not isinstance(number, (str, int)) or isinstance(number, bool):
            problems.add((*path, "number"), "Enter the licence or registration number.")
            continue
        try:
            normalised = rules.check_licence_number(regulator=regulator, number=str(number))
        except ValidationError as error:
            problems.add_validation_error(error, {"*": (*path, "number")})
            continue
        expires_on = date(item.get("expires_on"), (*path, "expires_on"), problems)
        licence = CleanLicence(
            jurisdiction_id=jurisdiction,
            regulator=regulator,
            designation=designation,
            number=normalised,
            expires_on=expires_on,
        )
        if licence.key() in seen:
            problems.add(
                (*path, "jurisdiction"),
                f"A second {designation.code} licence in {jurisdiction} (one per title and "
                "jurisdiction).",
            )
            continue
        seen[licence.key()] = index
        licences.append(licence)
    return licences


def _offices(
    values: Mapping[str, Any], reference: Reference, problems: Problems
) -> list[CleanOffice] | None:
    items = group_items(values, "offices", OFFICE_KEYS, problems)
    if items is None:
        return None
    offices: list[CleanOffice] = []
    for index, item in enumerate(items):
        path = ("offices", index)
        local = Problems()
        street = required_text(item, "street_address", 200, local)
        label = optional_text(item, "label", 100, local) or ""
        note = optional_text(item, "accessibility_note", 300, local) or ""
        city = item.get("city") if isinstance(item.get("city"), str) else ""
        jurisdiction = str(item.get("jurisdiction") or "").strip().upper()
        postal_code = item.get("postal_code") if isinstance(item.get("postal_code"), str) else ""
        features = slugs(
            item,
            "accessibility_features",
            reference.accessibility_features,
            local,
            required=False,
        )
        location = None
        if not jurisdiction:
            local.add(("jurisdiction",), "This field is required (for example CA-ON).")
        else:
            try:
                location = reference.locate_office(
                    city=city or "", jurisdiction_code=jurisdiction, postal_code=postal_code or ""
                )
            except ValidationError as error:
                local.add_validation_error(error, {})
        for sub_path, message in local.problems:
            problems.add((*path, *sub_path), message)
        if local.problems or location is None:
            continue
        offices.append(
            CleanOffice(
                label=label,
                street_address=street,
                city=location.city,
                jurisdiction_id=jurisdiction,
                postal_code=location.postal_code,
                latitude=location.latitude,
                longitude=location.longitude,
                time_zone=location.time_zone,
                accessibility_features=features or [],
                accessibility_note=note,
            )
        )
    return offices


__all__ = [
    "GROUPS",
    "CleanLicence",
    "CleanOffice",
    "CleanRow",
    "Reference",
    "RowInvalid",
    "clean_row",
]
