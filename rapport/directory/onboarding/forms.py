"""The onboarding pages' forms: parsing and per-field messages only; rules that span fields
are the services' (and ``rapport.directory.rules``), whose errors land back on these fields
through ``add_service_errors``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from rapport.core.forms import AccessibleForm
from rapport.core.jurisdictions import JURISDICTIONS
from rapport.core.money import Currency
from rapport.core.timezones import time_zone_choices
from rapport.directory.completeness import ABOUT_MIN_CHARS
from rapport.directory.display import style_words
from rapport.directory.models import (
    STYLE_DIMENSIONS,
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
)
from rapport.directory.onboarding.photos import PHOTO_MAX_BYTES, prepare_photo

JURISDICTION_CHOICES = [("", "Choose…")] + [
    (jurisdiction.code, jurisdiction.name) for jurisdiction in JURISDICTIONS
]


def add_service_errors(
    form: forms.Form, error: ValidationError, renamed: dict[str, str] | None = None
) -> None:
    """A service's ValidationError shown at the form's fields (renamed where the form's field
    has another name, e.g. ``fee_minor`` -> ``fee``); anything else at the top of the form."""
    renamed = renamed or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        field = renamed.get(name, name)
        form.add_error(field if field in form.fields else None, messages)


class StepForm(AccessibleForm):
    """AccessibleForm whose subclasses may adjust their fields (``prepare_fields``) before the
    form is first validated: AccessibleForm's own __init__ reads a bound form's errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        forms.Form.__init__(self, *args, **kwargs)
        self.prepare_fields()
        self.describe_fields()

    def prepare_fields(self) -> None:
        """Called once the fields exist, before any validation."""


def _required(message: str) -> dict[str, str]:
    return {"required": message}


def _title_field(*, label: str, required: str) -> forms.ModelChoiceField[Designation]:
    """A professional title (designation) from the reference data."""
    return forms.ModelChoiceField(
        queryset=Designation.objects.order_by("country_code", "code"),
        label=label,
        empty_label="Choose…",
        error_messages={"required": required, "invalid_choice": "Choose a title from the list."},
    )


class StartForm(StepForm):
    display_name = forms.CharField(
        max_length=120,
        label="Your name, as clients will see it",
        error_messages=_required("Enter your name."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    designation = _title_field(
        label="Your professional title", required="Choose your professional title."
    )
    jurisdiction = forms.ChoiceField(
        choices=JURISDICTION_CHOICES,
        label="Province or state where you practise",
        error_messages={
            "required": "Choose the province or state you practise in.",
            "invalid_choice": "Choose a province or state from the list.",
        },
    )

    def prepare_fields(self) -> None:
        self.fields["designation"].label_from_instance = (  # type: ignore[attr-defined]
            lambda designation: f"{designation.code} — {designation.name}"
        )


class AboutForm(AccessibleForm):
    display_name = forms.CharField(
        max_length=120, label="Your name", error_messages=_required("Enter your name.")
    )
    pronouns = forms.CharField(
        max_length=40, required=False, label="Pronouns (optional)", help_text="e.g. she/her."
    )
    headline = forms.CharField(
        max_length=160,
        label="Headline",
        help_text="One line clients read in search results, e.g. “Helping adults through grief "
        "and big life changes”.",
        error_messages=_required("Write a one-line headline: it is what clients see first."),
    )
    about = forms.CharField(
        label="About you",
        min_length=ABOUT_MIN_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=(
            "Write the way you would talk to a new client: who you see, what you help with, "
            "what it is like to work with you. Plain words, first person; skip the jargon and "
            f"the list of credentials (those are shown elsewhere). At least {ABOUT_MIN_CHARS} "
            "characters."
        ),
        error_messages={
            "required": "Tell clients about yourself in a few sentences.",
            "min_length": (
                f"Write at least {ABOUT_MIN_CHARS} characters (this has %(show_value)d): a "
                "few sentences in your own words."
            ),
        },
    )
    approach = forms.CharField(
        required=False,
        label="Your approach (optional)",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="How you work with clients, in words a client would use.",
    )
    first_session = forms.CharField(
        label="What a first session with me looks like",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What happens, how long it takes, what to bring or think about beforehand.",
        error_messages=_required(
            "Describe a first session: not knowing what to expect keeps people from booking."
        ),
    )
    photo = forms.FileField(
        required=False,
        label="Photo (optional)",
        help_text=(
            f"A JPEG, PNG or WebP of up to {PHOTO_MAX_BYTES // 2**20} MB. We crop it square and "
            "remove its location and camera data."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photo = forms.BooleanField(required=False, label="Remove my current photo")

    def clean_photo(self) -> Any:
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        return prepare_photo(upload)


class LicenceForm(StepForm):
    jurisdiction = forms.ChoiceField(
        choices=JURISDICTION_CHOICES,
        label="Province or state of the licence",
        error_messages={
            "required": "Choose the province or state of your licence.",
            "invalid_choice": "Choose a province or state from the list.",
        },
    )
    regulator = forms.ModelChoiceField(
        queryset=Regulator.objects.select_related("jurisdiction").order_by(
            "jurisdiction__name", "name"
        ),
        label="Regulator (college or board)",
        empty_label="Choose…",
        error_messages={
            "required": "Choose the college or board that licenses you.",
            "invalid_choice": "Choose a regulator from the list; we only list therapists "
            "licensed by a regulator we know.",
        },
    )
    designation = _title_field(
        label="Title the licence gives you", required="Choose the title your licence gives you."
    )
    number = forms.CharField(
        max_length=60,
        label="Licence or registration number",
        help_text="As it appears on your regulator's public register; we check it there.",
        error_messages=_required("Enter your licence or registration number."),
    )
    practice_start_year = forms.IntegerField(
        label="Year you began practising",
        min_value=1950,
        max_value=2100,
        error_messages={
            "required": "Enter the year you began practising.",
            "invalid": "Enter a year, like 2012.",
            "min_value": "Enter a year from 1950.",
            "max_value": "Enter a year up to this one.",
        },
    )

    def prepare_fields(self) -> None:
        # 175 regulators: grouped by province or state, so the list can be read (and typed
        # through) without a script. Validation still goes by the queryset.
        regulator = self.fields["regulator"]
        assert isinstance(regulator, forms.ModelChoiceField)
        groups: dict[str, list[tuple[int, str]]] = {}
        for row in regulator.queryset or Regulator.objects.none():
            groups.setdefault(row.jurisdiction.name, []).append(
                (row.pk, f"{row.name} ({row.abbreviation})")
            )
        regulator.choices = [("", "Choose…"), *groups.items()]
        self.fields["designation"].label_from_instance = (  # type: ignore[attr-defined]
            lambda designation: f"{designation.code} — {designation.name}"
        )


def _terms(model: Any, label: str, *, required: bool, help_text: str = "") -> Any:
    return forms.ModelMultipleChoiceField(
        queryset=model.objects.order_by("sort_order", "name"),
        required=required,
        label=label,
        help_text=help_text,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one: clients search by it.",
            "invalid_choice": "Choose from the list.",
            "invalid_pk_value": "Choose from the list.",
        },
    )


class TopicsForm(AccessibleForm):
    concerns = _terms(Concern, "What you help with", required=True)
    modalities = _terms(Modality, "Approaches you use", required=True)
    populations = _terms(Population, "Who you work with", required=True)
    languages = _terms(Language, "Languages you hold sessions in", required=True)
    lived_experiences = _terms(
        LivedExperience,
        "Lived experience you choose to share (optional)",
        required=False,
        help_text="Only if you want clients to know; it is shown on your profile.",
    )
    faiths = _terms(
        Faith,
        "Faith or spirituality you choose to share (optional)",
        required=False,
        help_text="Only if you want clients to know; it is shown on your profile.",
    )
    lgbtq2s_affirming = forms.BooleanField(
        required=False, label="My practice is LGBTQ2S+ affirming"
    )
    # Self-disclosure, all optional: shown on the profile only when answered, and the gender
    # category is what the search's "therapist's gender" filter reads.
    gender_category = forms.ChoiceField(
        choices=GenderCategory.choices,
        label="Your gender, for clients who look for it (optional)",
        help_text="“Prefers not to say” keeps it off your profile and out of that filter.",
    )
    gender_description = forms.CharField(
        max_length=100,
        required=False,
        label="Your gender in your own words (optional)",
        help_text="Shown on your profile instead of the category above.",
    )
    identifies_as_lgbtq2s = forms.TypedChoiceField(
        choices=[("", "I prefer not to say"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        label="Do you identify as 2SLGBTQ+? (optional)",
    )
    cultural_background = forms.CharField(
        max_length=200,
        required=False,
        label="Your cultural background (optional)",
        help_text="In your own words, if you want clients to know.",
    )


class StyleForm(StepForm):
    """Each style dimension as a choice in words ("Closer to structured"), never a number."""

    def prepare_fields(self) -> None:
        for name, low, high in STYLE_DIMENSIONS:
            self.fields[name] = forms.TypedChoiceField(
                label=f"{low} or {high.lower()}?",
                coerce=int,
                widget=forms.RadioSelect,
                choices=[
                    (str(value), style_words({"low": low, "high": high, "value": value}))
                    for value in range(1, 6)
                ],
                error_messages={
                    "required": "Choose where you are between the two.",
                    "invalid_choice": "Choose one of the answers.",
                },
            )


def _minor(amount: Decimal | None) -> int | None:
    return None if amount is None else int((amount * 100).to_integral_value())


SESSION_LENGTHS = [(minutes, f"{minutes} minutes") for minutes in (30, 45, 50, 60, 75, 90, 120)]
CONSULTATION_LENGTHS = [(0, "I do not offer a free consultation")] + [
    (minutes, f"{minutes} minutes") for minutes in (10, 15, 20, 30)
]


class FeesForm(AccessibleForm):
    currency = forms.ChoiceField(choices=Currency.choices, label="Currency")
    fee = forms.DecimalField(
        label="Fee per session",
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text="In dollars and cents, e.g. 120.00.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "required": "Enter your fee for one session, e.g. 120.00.",
            "invalid": "Enter an amount like 120 or 120.00.",
            "max_decimal_places": "Enter at most two digits after the point (cents).",
            "min_value": "A fee cannot be negative.",
        },
    )
    sliding_scale_min = forms.DecimalField(
        required=False,
        label="Lowest fee on a sliding scale (optional)",
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text="Leave empty if you do not offer a sliding scale.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "invalid": "Enter an amount like 80 or 80.00.",
            "max_decimal_places": "Enter at most two digits after the point (cents).",
            "min_value": "A fee cannot be negative.",
        },
    )
    accepts_insurance = forms.BooleanField(
        required=False, label="My sessions can be claimed on insurance"
    )
    direct_billing = forms.BooleanField(
        required=False, label="I bill insurers directly (clients pay only the difference)"
    )
    insurance_note = forms.CharField(
        max_length=300,
        required=False,
        label="Insurance note (optional)",
        help_text="e.g. which plans you bill, or that receipts name your designation.",
    )
    session_minutes = forms.TypedChoiceField(
        choices=SESSION_LENGTHS, coerce=int, label="Length of a session"
    )
    consultation_minutes = forms.TypedChoiceField(
        choices=CONSULTATION_LENGTHS, coerce=int, label="Free consultation"
    )

    @property
    def fee_minor(self) -> int:
        return _minor(self.cleaned_data["fee"]) or 0

    @property
    def sliding_scale_min_minor(self) -> int | None:
        return _minor(self.cleaned_data.get("sliding_scale_min"))

    FIELD_NAMES = {"fee_minor": "fee", "sliding_scale_min_minor": "sliding_scale_min"}


class WhereForm(StepForm):
    offers_in_person = forms.BooleanField(required=False, label="In person, at an office")
    offers_video = forms.BooleanField(required=False, label="Video")
    offers_phone = forms.BooleanField(required=False, label="Phone")
    time_zone = forms.ChoiceField(
        label="Time zone you work in",
        help_text="Your availability is set in it; clients see times in their own.",
    )

    def __init__(self, *args: Any, current_zone: str, **kwargs: Any) -> None:
        self.current_zone = current_zone
        super().__init__(*args, **kwargs)

    def prepare_fields(self) -> None:
        current_zone = self.current_zone
        zone_field = self.fields["time_zone"]
        assert isinstance(zone_field, forms.ChoiceField)
        zone_field.choices = time_zone_choices(current_zone)


class OfficeForm(AccessibleForm):
    label = forms.CharField(
        max_length=100,
        required=False,
        label="Name of the office (optional)",
        help_text="e.g. “Annex office”, if you have more than one.",
    )
    street_address = forms.CharField(
        max_length=200,
        label="Street address",
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        error_messages=_required("Enter the street address."),
    )
    city = forms.CharField(
        max_length=100,
        label="City or town",
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
        error_messages=_required("Enter the city or town."),
    )
    jurisdiction = forms.ChoiceField(
        choices=JURISDICTION_CHOICES,
        label="Province or state",
        error_messages={
            "required": "Choose the province or state.",
            "invalid_choice": "Choose a province or state from the list.",
        },
    )
    postal_code = forms.CharField(
        max_length=12,
        label="Postal or ZIP code",
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
        error_messages=_required("Enter the postal or ZIP code."),
    )
    accessibility_features = forms.ModelMultipleChoiceField(
        queryset=AccessibilityFeature.objects.order_by("sort_order", "name"),
        required=False,
        label="Accessibility",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose from the list."},
    )
    accessibility_note = forms.CharField(
        max_length=300,
        required=False,
        label="Anything else about getting in (optional)",
        help_text="e.g. “Elevator to the 3rd floor; the nearest stop is Bathurst station.”",
    )


REPLY_WINDOWS = [
    (24, "Within a day"),
    (48, "Within two days"),
    (72, "Within three days"),
    (168, "Within a week"),
]


class ContactForm(StepForm):
    between_session_contact = forms.ChoiceField(
        choices=BetweenSessionContact.choices,
        widget=forms.RadioSelect,
        label="Between sessions, clients can contact me for",
        error_messages=_required("Choose what clients can contact you about between sessions."),
    )
    reply_within_hours = forms.TypedChoiceField(
        choices=REPLY_WINDOWS,
        coerce=int,
        label="I usually reply to messages and requests",
    )
    contact_hours = forms.CharField(
        max_length=200,
        required=False,
        label="Hours I answer (optional)",
        help_text="e.g. “Weekdays 9:00–17:00”.",
    )

    def prepare_fields(self) -> None:
        current = self.initial.get("reply_within_hours")
        if current and current not in dict(REPLY_WINDOWS):
            # A window set by staff or an import stays choosable as it is.
            field = self.fields["reply_within_hours"]
            assert isinstance(field, forms.TypedChoiceField)
            field.choices = [(current, f"Within {current} hours"), *REPLY_WINDOWS]


class ConfirmForm(AccessibleForm):
    """A step whose only input is the button (done with availability, videos, preview)."""


class VisibilityForm(AccessibleForm):
    listed = forms.BooleanField(required=False, widget=forms.HiddenInput)
