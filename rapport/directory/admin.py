from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from rapport.core.admin import ReadOnlyAdmin
from rapport.directory import rules
from rapport.directory.models import (
    AccessibilityFeature,
    Concern,
    Designation,
    Faith,
    Language,
    Licence,
    LivedExperience,
    Modality,
    Office,
    Population,
    Regulator,
    TherapistProfile,
    VerificationDecision,
)
from rapport.directory.onboarding.photos import prepare_photo
from rapport.directory.services import search_index_version_bump


class SearchIndexedAdminMixin:
    """Admin saves and deletes of anything the directory search indexes bump the search index
    version in the admin's own transaction, so every process's index rebuilds.

    ``save_related`` runs after the inlines (licences, offices) and the many-to-many fields
    are saved, so the bump there covers every part of a change form; list-editable changes go
    through ``save_model`` and ``save_related`` too, and bulk deletes through
    ``delete_queryset``.
    """

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        search_index_version_bump()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)  # type: ignore[misc]
        search_index_version_bump()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        search_index_version_bump()


# --- taxonomies ----------------------------------------------------------------------------


class TermAdmin(SearchIndexedAdminMixin, admin.ModelAdmin[models.Model]):
    """Taxonomies are data that staff reorder and retire from the list itself."""

    list_display = ("name", "slug", "sort_order", "is_active")
    list_display_links = ("name",)
    list_editable = ("sort_order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("sort_order", "name")


for term_model in (
    Concern,
    Modality,
    Population,
    Language,
    Faith,
    LivedExperience,
    AccessibilityFeature,
):
    admin.site.register(term_model, TermAdmin)


# --- credentials ---------------------------------------------------------------------------


@admin.register(Designation)
class DesignationAdmin(admin.ModelAdmin[Designation]):
    list_display = ("code", "name", "country_code")
    list_filter = ("country_code",)
    search_fields = ("code", "name")


@admin.register(Regulator)
class RegulatorAdmin(admin.ModelAdmin[Regulator]):
    list_display = ("name", "abbreviation", "jurisdiction")
    list_filter = ("jurisdiction",)
    list_select_related = ("jurisdiction",)
    # Also what the licence inline's autocomplete searches.
    search_fields = ("name", "abbreviation", "jurisdiction__name", "jurisdiction__code")
    filter_horizontal = ("designations",)
    # A register address typed without a scheme is an https:// one (Django 6's default too).
    # A plain input, not the admin's URL widget, which adds a "Currently:" link: the staff
    # pages link a register only from the licence review, without a referrer.
    formfield_overrides = {models.URLField: {"assume_scheme": "https", "widget": forms.URLInput}}


# --- therapist profiles --------------------------------------------------------------------
# The admin holds profiles to the rules the onboarding pages and the import use
# (rapport.directory.rules): fee cap and sliding-scale floor, licence number forms, and offices
# located from their city and postal code instead of coordinates typed by hand.


def _add_rule_errors(form: ModelForm[Any], error: ValidationError) -> None:
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class _ShownPhoto:
    """The current photo as the file widget shows it: through the photo view, since the
    private storage has no public address."""

    def __init__(self, therapist: TherapistProfile) -> None:
        self.url = therapist.photo_url
        self.name = therapist.photo.name or ""

    def __str__(self) -> str:
        return self.name


class PhotoInput(forms.ClearableFileInput):
    def is_initial(self, value: Any) -> bool:
        return bool(value and getattr(value, "name", None))

    def format_value(self, value: Any) -> Any:
        if self.is_initial(value) and getattr(value, "instance", None) is not None:
            return _ShownPhoto(value.instance)
        return None


class TherapistProfileAdminForm(ModelForm[TherapistProfile]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "photo" in self.fields:
            self.fields["photo"].widget = PhotoInput()

    def clean_photo(self) -> Any:
        """A new upload is made safe as on the therapist's own page (re-encoded, no EXIF)."""
        photo = self.cleaned_data.get("photo")
        if isinstance(photo, UploadedFile):
            return prepare_photo(photo)
        return photo

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        fee = cleaned.get("fee_minor")
        if fee is not None and "fee_minor" in self.fields:
            try:
                rules.check_fees(
                    fee_minor=fee, sliding_scale_min_minor=cleaned.get("sliding_scale_min_minor")
                )
            except ValidationError as error:
                _add_rule_errors(self, error)
        return cleaned


class LicenceAdminForm(ModelForm[Licence]):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        regulator, number = cleaned.get("regulator"), cleaned.get("number")
        if regulator is not None and number:
            try:
                cleaned["number"] = rules.check_licence_number(regulator=regulator, number=number)
            except ValidationError as error:
                _add_rule_errors(self, error)
            else:
                self.instance.number = cleaned["number"]
        return cleaned


class OfficeAdminForm(ModelForm[Office]):
    """Coordinates and time zone may be left empty: they are then found from the city, the
    province or state and the postal code, which are checked against each other."""

    LOCATED = ("latitude", "longitude", "time_zone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.LOCATED:
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = "Leave empty to find it from the address."

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        jurisdiction, city = cleaned.get("jurisdiction"), cleaned.get("city")
        if jurisdiction is None or not city:
            return cleaned
        try:
            location = rules.locate_office(
                city=city,
                jurisdiction_code=jurisdiction.pk,
                postal_code=cleaned.get("postal_code") or "",
            )
        except ValidationError as error:
            # Hand-typed coordinates stand for a town too small for the place data; a
            # postal code from elsewhere is refused either way.
            typed = all(cleaned.get(name) not in (None, "") for name in self.LOCATED)
            for field, messages in error.message_dict.items():
                if field == "postal_code" or not typed:
                    self.add_error(field if field in self.fields else None, messages)
            return cleaned
        cleaned["postal_code"] = location.postal_code
        for name in self.LOCATED:
            if cleaned.get(name) in (None, ""):
                cleaned[name] = getattr(location, name)
                setattr(self.instance, name, cleaned[name])
        return cleaned


class LicenceInline(admin.TabularInline[Licence, TherapistProfile]):
    model = Licence
    form = LicenceAdminForm
    extra = 0
    fields = ("jurisdiction", "designation", "regulator", "number", "expires_on")
    # 175 regulators make a plain select unusable; jurisdictions and designations stay short.
    autocomplete_fields = ("regulator",)


class OfficeInline(admin.StackedInline[Office, TherapistProfile]):
    model = Office
    form = OfficeAdminForm
    extra = 0
    fields = (
        "label",
        ("street_address", "city"),
        ("jurisdiction", "postal_code"),
        ("latitude", "longitude"),
        "time_zone",
        "accessibility_features",
        "accessibility_note",
    )
    # A handful of features: ticking boxes is quicker than a two-pane chooser.
    formfield_overrides = {
        models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple},
    }


@admin.register(VerificationDecision)
class VerificationDecisionAdmin(ReadOnlyAdmin):
    """History of licence decisions: readable by staff, never edited."""

    list_display = ("therapist", "previous_status", "status", "reviewer", "decided_at")
    list_filter = ("status", "decided_at")
    search_fields = ("therapist__display_name", "reviewer__email", "reason")
    list_select_related = ("therapist", "reviewer")


@admin.register(TherapistProfile)
class TherapistProfileAdmin(SearchIndexedAdminMixin, admin.ModelAdmin[TherapistProfile]):
    form = TherapistProfileAdminForm
    list_display = (
        "display_name",
        "designation",
        "verification_status",
        "is_listed",
        "accepting_new_clients",
        "accepting_confirmed_at",
        "currency",
        "fee",
    )
    list_select_related = ("designation",)
    list_filter = (
        "verification_status",
        "is_listed",
        "accepting_new_clients",
        "currency",
        "gender_category",
        "offers_in_person",
        "offers_video",
        "offers_phone",
        "between_session_contact",
        "concerns",
        "modalities",
    )
    search_fields = ("display_name", "licences__number", "user__email")
    date_hierarchy = "created_at"
    # Accounts grow without bound, so users are picked by search, never from a full list.
    autocomplete_fields = ("user",)
    filter_horizontal = (
        "languages",
        "faiths",
        "lived_experiences",
        "concerns",
        "modalities",
        "populations",
    )
    # Verification changes only through the review page, which records who decided, why, and
    # on which licence details; editing the status here would bypass that record.
    readonly_fields = (
        "public_id",
        "seed_key",
        "created_at",
        "updated_at",
        "verification_status",
        "verification_decided_by",
        "verification_decided_at",
        "verification_reason",
        "review_link",
    )
    inlines = (LicenceInline, OfficeInline)

    @admin.display(description="Licence review")
    def review_link(self, therapist: TherapistProfile) -> str:
        if not therapist.pk:
            return "Save the profile first."
        url = reverse("directory:verification_detail", args=[therapist.public_id])
        return format_html('<a href="{}">Review the licence and decide</a>', url)

    fieldsets = (
        (
            "Listing",
            {
                "fields": (
                    "display_name",
                    "pronouns",
                    "user",
                    "public_id",
                    ("is_listed", "accepting_new_clients", "accepting_confirmed_at"),
                )
            },
        ),
        (
            "Verification",
            {
                "fields": (
                    "designation",
                    "practice_start_year",
                    "verification_status",
                    ("verification_decided_by", "verification_decided_at"),
                    "verification_reason",
                    "review_link",
                )
            },
        ),
        (
            "What a client reads",
            {"fields": ("photo", "headline", "about", "approach", "first_session")},
        ),
        (
            "Focus",
            {
                "fields": (
                    "concerns",
                    "modalities",
                    "populations",
                    "languages",
                    "lgbtq2s_affirming",
                )
            },
        ),
        (
            "Style",
            {
                "fields": (
                    "style_structure",
                    "style_direction",
                    "style_challenge",
                    "style_time_focus",
                    "style_humour",
                )
            },
        ),
        (
            "Fees and sessions",
            {
                "fields": (
                    ("fee_minor", "currency", "sliding_scale_min_minor"),
                    ("accepts_insurance", "direct_billing"),
                    "insurance_note",
                    ("session_minutes", "consultation_minutes"),
                    ("offers_in_person", "offers_video", "offers_phone"),
                    "time_zone",
                )
            },
        ),
        (
            "Contact policy",
            {"fields": ("between_session_contact", "reply_within_hours", "contact_hours")},
        ),
        (
            "Self-disclosed identity",
            {
                "description": "Optional. Shown on the profile only when the therapist gave it.",
                "fields": (
                    ("gender_category", "gender_description"),
                    "identifies_as_lgbtq2s",
                    "cultural_background",
                    "faiths",
                    "lived_experiences",
                ),
            },
        ),
        ("Record", {"fields": ("seed_key", "created_at", "updated_at")}),
    )

    @admin.display(description="Fee", ordering="fee_minor")
    def fee(self, therapist: TherapistProfile) -> str:
        return therapist.fee_display
