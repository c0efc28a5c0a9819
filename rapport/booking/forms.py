"""Forms of the booking pages, for clients and for therapists.

Forms only check what a person typed; whether a time is free, or a change is allowed, is the
services' call (they raise, and the views put the message beside the field it is about).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from rapport.accounts.forms import normalise_display_name, normalise_email_address
from rapport.booking.hooks import FitProfileOffer
from rapport.booking.how import meeting_link_clean, phone_clean
from rapport.booking.models import (
    MEETING_LINK_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    ConsultationMethod,
    ExceptionKind,
    Weekday,
)
from rapport.core.forms import AccessibleForm
from rapport.core.timezones import ZONE_NAME_MAX_LENGTH, is_canonical_zone_name

REASON_MAX_LENGTH = 500
# The years a typed session date may fall in (anything else is a typo, and near 1 or 9999
# converting it to an instant would fail).
SESSION_DATE_YEARS = (1971, 8999)

TIME_ZONE_MAX_LENGTH = ZONE_NAME_MAX_LENGTH


def time_zone_problem(raw: str) -> str | None:
    """Why ``raw`` is not a zone the pages can show times in (by the one rule of
    rapport.core.timezones), or None when it is one."""
    if len(raw) > TIME_ZONE_MAX_LENGTH:
        return "That time zone name is too long to be real."
    if not is_canonical_zone_name(raw):
        # Pages offer a menu of zones in words, so the message names no IANA example.
        return f"“{raw}” is not a time zone we know."
    return None


# --- clients -----------------------------------------------------------------------------


class ConsultationBookForm(AccessibleForm):
    client_name = forms.CharField(
        label="Your name",
        max_length=120,
        help_text="The name the therapist will use. A first name is enough.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    client_email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        help_text="We send the confirmation, a calendar invitation and your link to change "
        "or cancel here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # The zone the times were shown in; the confirmation e-mail uses it too.
    time_zone = forms.CharField(max_length=TIME_ZONE_MAX_LENGTH, widget=forms.HiddenInput)

    def clean_client_name(self) -> str:
        return normalise_display_name(self.cleaned_data["client_name"])

    def clean_client_email(self) -> str:
        return normalise_email_address(self.cleaned_data["client_email"])

    def clean_time_zone(self) -> str:
        value: str = self.cleaned_data["time_zone"]
        problem = time_zone_problem(value)
        if problem:
            raise ValidationError(problem, code="invalid_time_zone")
        return value


class ConsultationBookSharingForm(ConsultationBookForm):
    """The booking form with the fit-profile box, for a person whose profile the therapist
    could read (signed in, with one: ``hooks.fit_profile_offer``). Its own class, not a field
    added to the instance: a bound AccessibleForm is cleaned as it is built."""

    # Unticked unless the person ticks it: nothing is shared by default.
    share_fit_profile = forms.BooleanField(label="Share my fit profile", required=False)

    def __init__(
        self, *args: Any, fit_profile: FitProfileOffer, therapist_name: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["share_fit_profile"]
        field.label = f"Share my fit profile with {therapist_name}"
        field.help_text = (
            f"{therapist_name} sees it with this request, so you need not tell your story "
            f"again: {fit_profile.what_is_shared}. Left unticked, they see none of it. You can "
            "stop sharing at any time, before or after the consultation."
        )
        # AccessibleForm made the bound field (which copies label and help) before they were set.
        bound = self["share_fit_profile"]
        bound.label, bound.help_text = field.label, field.help_text
        self.describe_fields()


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label="Your phone number",
        max_length=PHONE_MAX_LENGTH,
        help_text="The therapist calls you on this number at the time of the consultation. "
        "Only they see it.",
        error_messages={"required": "Enter the phone number the therapist should call."},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )


def _phone_value(form: forms.Form) -> str:
    try:
        return phone_clean(form.cleaned_data["client_phone"])
    except ValidationError as error:
        raise ValidationError(error.messages[0], code="invalid_phone") from error


class ConsultationBookPhoneForm(ConsultationBookForm):
    """The booking form for a therapist who consults by phone: it asks for the number."""

    client_phone = _phone_field()
    field_order = ("client_name", "client_email", "client_phone")

    def clean_client_phone(self) -> str:
        return _phone_value(self)


class ConsultationBookSharingPhoneForm(ConsultationBookSharingForm):
    client_phone = _phone_field()
    field_order = ("client_name", "client_email", "client_phone")

    def clean_client_phone(self) -> str:
        return _phone_value(self)


def consultation_book_form(
    data: Any = None,
    *,
    initial: dict[str, Any] | None = None,
    fit_profile: FitProfileOffer | None,
    therapist_name: str,
    method: str = "",
) -> ConsultationBookForm:
    """The booking form, with the fit-profile box when the person can share one, and a phone
    number only when the therapist consults by phone (nothing is asked that is not needed)."""
    phone = method == ConsultationMethod.PHONE
    if fit_profile is not None and fit_profile.can_share:
        sharing_class = ConsultationBookSharingPhoneForm if phone else ConsultationBookSharingForm
        return sharing_class(
            data, initial=initial, fit_profile=fit_profile, therapist_name=therapist_name
        )
    form_class = ConsultationBookPhoneForm if phone else ConsultationBookForm
    return form_class(data, initial=initial)


class ReasonForm(AccessibleForm):
    """Cancelling or declining: the other person reads the reason, so it is required."""

    reason = forms.CharField(
        label="Reason",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The other person sees this reason. Keep health details out of it.",
    )

    def __init__(self, *args: Any, label: str = "Reason", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        # AccessibleForm made the bound field (which copies the label) before it was set.
        self["reason"].label = label


class RescheduleForm(AccessibleForm):
    """A new time from the offered ones (its value is a slot key, see views.slot_key)."""

    starts_at = forms.CharField(
        label="New time",
        max_length=20,
        error_messages={"required": "Choose one of the free times."},
    )
    reason = forms.CharField(
        label="Note for the other person (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="They see it with the new time. Keep health details out of it.",
    )


class FirstSessionForm(AccessibleForm):
    """A session time the therapist chooses freely, in their own zone."""

    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        label="Start time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In your time zone.",
    )

    def clean_date(self) -> dt.date:
        # Sessions are booked within a year; dates near the calendar's ends cannot even be
        # turned into an instant, so they are refused here with the same advice.
        value: dt.date = self.cleaned_data["date"]
        if not SESSION_DATE_YEARS[0] <= value.year <= SESSION_DATE_YEARS[1]:
            raise ValidationError("Choose a date within the next year.", code="out_of_range")
        return value


# --- therapists: availability ----------------------------------------------------------------


class BookingPolicyForm(AccessibleForm):
    buffer_minutes = forms.IntegerField(
        label="Buffer around each appointment (minutes)",
        min_value=0,
        max_value=120,
        help_text="Free time kept before and after every appointment.",
    )
    minimum_notice_hours = forms.IntegerField(
        label="Minimum notice (hours)",
        min_value=0,
        max_value=336,
        help_text="The earliest a client can book is this many hours from now.",
    )
    horizon_days = forms.IntegerField(
        label="How far ahead clients can book (days)", min_value=1, max_value=90
    )
    max_consultations_per_day = forms.IntegerField(
        label="Most consultations in one day",
        min_value=1,
        max_value=24,
        help_text="Counted in your time zone.",
    )
    requires_confirmation = forms.BooleanField(
        label="I confirm each request myself",
        required=False,
        help_text="Requests wait for your answer; any left unanswered for 48 hours are "
        "declined for you, and the client is told.",
    )


class ConsultationMethodForm(AccessibleForm):
    """How the therapist's free consultations happen (the link or office the method needs)."""

    method = forms.ChoiceField(
        label="How your free consultations happen",
        choices=ConsultationMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how your free consultations happen."},
    )
    meeting_link = forms.CharField(
        label="Your meeting link (for video)",
        required=False,
        max_length=MEETING_LINK_MAX_LENGTH,
        help_text="Starts with https://. Only your booked clients see it, never your public "
        "profile.",
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
    )
    office = forms.TypedChoiceField(
        label="Office (for in person)",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Its address and access notes go to the client.",
    )

    def __init__(self, *args: Any, offices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str | int, str]] = [("", "Choose an office"), *offices]
        field = self.fields["office"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = choices
        # AccessibleForm cleaned a bound form as it was built, before the office choices were
        # known: clean again now that they are.
        if self.is_bound:
            self._errors = None
            self.full_clean()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        method = cleaned.get("method")
        if method == ConsultationMethod.VIDEO and "meeting_link" not in self.errors:
            try:
                cleaned["meeting_link"] = meeting_link_clean(cleaned.get("meeting_link", ""))
            except ValidationError as error:
                self.add_error("meeting_link", error.messages[0])
        if (
            method == ConsultationMethod.IN_PERSON
            and cleaned.get("office") is None
            and "office" not in self.errors
        ):
            self.add_error("office", "Choose the office where you meet clients.")
        return cleaned


WEEKDAY_CHOICES: list[tuple[str | int, str]] = [("", "Choose a day"), *Weekday.choices]


class WeeklyWindowForm(AccessibleForm):
    weekday = forms.TypedChoiceField(
        label="Day", choices=WEEKDAY_CHOICES, coerce=int, empty_value=None
    )
    starts_at = forms.TimeField(
        label="From", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends_at = forms.TimeField(
        label="Until", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error(
                "ends_at",
                "The end must be after the start. For time past midnight, add a second row "
                "on the next day.",
            )
        return cleaned


class BaseWeeklyWindowFormSet(forms.BaseFormSet[WeeklyWindowForm]):
    def add_fields(self, form: WeeklyWindowForm, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove these hours"

    def windows(self) -> list[tuple[int, dt.time, dt.time]]:
        """The kept rows as (weekday, start, end); call after is_valid()."""
        rows = []
        for form in self.forms:
            if not form.has_changed() or form.cleaned_data.get("DELETE"):
                continue
            data = form.cleaned_data
            rows.append((data["weekday"], data["starts_at"], data["ends_at"]))
        return sorted(rows)

    def add_service_errors(self, messages: list[str]) -> None:
        """Show the service's refusal (overlapping rows) above the rows."""
        # non_form_errors() hands back the formset's own cached list, so this sticks.
        self.non_form_errors().extend(messages)


WeeklyWindowFormSet = forms.formset_factory(
    WeeklyWindowForm,
    formset=BaseWeeklyWindowFormSet,
    extra=3,
    can_delete=True,
    max_num=50,
    validate_max=True,
)


class DateExceptionForm(AccessibleForm):
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(
        label="Change", choices=ExceptionKind.choices, widget=forms.RadioSelect
    )
    starts_at = forms.TimeField(
        label="From (optional for time off)",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    ends_at = forms.TimeField(
        label="Until (optional for time off)",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Time off without times blocks the whole day.",
    )
    note = forms.CharField(label="Note for yourself (optional)", required=False, max_length=120)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if cleaned.get("kind") == ExceptionKind.EXTRA_HOURS:
            if starts_at is None and "starts_at" not in self.errors:
                self.add_error("starts_at", "Extra hours need a start time.")
            if ends_at is None and "ends_at" not in self.errors:
                self.add_error("ends_at", "Extra hours need an end time.")
        elif (starts_at is None) != (ends_at is None):
            missing = "ends_at" if ends_at is None else "starts_at"
            self.add_error(missing, "Give both times, or neither to take the whole day off.")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The end must be after the start.")
        return cleaned


class AcceptingForm(AccessibleForm):
    accepting = forms.TypedChoiceField(
        label="Are you accepting new clients?",
        choices=[("yes", "Yes, I am accepting new clients"), ("no", "No, not right now")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
