"""Input of the care pages. Each form checks the shape of what was sent; the services decide
whether the change is possible."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

from rapport.care.models import MAX_GOAL_LENGTH, MAX_REASON_LENGTH, SessionStatus, Sharing
from rapport.core.forms import AccessibleForm

RECORDABLE = [
    (value, label) for value, label in SessionStatus.choices if value != SessionStatus.SCHEDULED
]


def _goal_field(number: int) -> forms.CharField:
    return forms.CharField(
        label=f"Goal {number}",
        required=False,
        max_length=MAX_GOAL_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class GoalsForm(AccessibleForm):
    """The client's goals in their own words; blank ones are left out."""

    goal_1 = _goal_field(1)
    goal_2 = _goal_field(2)
    goal_3 = _goal_field(3)

    def texts(self) -> list[str]:
        return [self.cleaned_data[f"goal_{number}"] for number in (1, 2, 3)]


class AgreeForm(AccessibleForm):
    # The words the person read when they agreed: an agreement to a text changed meanwhile is
    # refused by the service.
    text = forms.CharField(widget=forms.HiddenInput, max_length=MAX_GOAL_LENGTH, strip=True)


class ProposalForm(AccessibleForm):
    proposed_text = forms.CharField(
        label="Suggested wording",
        required=False,
        max_length=MAX_GOAL_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Your client sees it beside their own words and may take it. Leave empty to "
        "withdraw a suggestion.",
    )


class SharingForm(AccessibleForm):
    sharing = forms.ChoiceField(
        label="What your therapist sees of your check-ins",
        choices=Sharing.choices,
        widget=forms.RadioSelect,
    )


class ReasonForm(AccessibleForm):
    reason = forms.CharField(
        label="Why are you ending it?",
        max_length=MAX_REASON_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The other person reads this.",
    )


class SessionForm(AccessibleForm):
    """A session that took place, in the therapist's zone."""

    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        label="Start time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In your time zone.",
    )
    status = forms.ChoiceField(label="How did it go?", choices=RECORDABLE, widget=forms.RadioSelect)

    def clean_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["date"]
        # Far-off years cannot be turned into an instant; the service gives the real limits.
        if not 1971 <= value.year <= 8999:
            raise ValidationError("Choose a date within the last three years.")
        return value


class SessionMarkForm(AccessibleForm):
    status = forms.ChoiceField(label="How did it go?", choices=RECORDABLE, widget=forms.RadioSelect)


class InviteForm(AccessibleForm):
    email = forms.EmailField(
        label="Your client's e-mail address",
        max_length=254,
        help_text="The address of their Rapport account. They accept or decline on their "
        "care page.",
    )


class NotRightFitForm(AccessibleForm):
    """The one-click "this isn't the right fit": the words are optional, so the click is enough."""

    reason = forms.CharField(
        label="Anything you want to say about why (optional)",
        max_length=MAX_REASON_LENGTH,
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your therapist reads this. You can leave it empty.",
    )
