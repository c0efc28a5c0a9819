"""Input of the messaging pages. Each form checks the shape of what was sent; the services
decide whether the message may be sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from rapport.core.forms import AccessibleForm
from rapport.core.timezones import time_zone_choices
from rapport.messaging import attachments
from rapport.messaging.models import DEFAULT_DAILY_CAP, MAX_BODY_LENGTH, MAX_DAILY_CAP
from rapport.messaging.policy import DAY_NAMES


class _FilesInput(forms.FileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Any number of files, handed as they came to the service, which checks them (count,
    kind by their bytes, size) and names each problem."""

    widget = _FilesInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        return list(data) if isinstance(data, list | tuple) else [data]


class MessageForm(AccessibleForm):
    # No max_length here: the service's refusal says how long the message was and what to do.
    body = forms.CharField(
        label="Your message",
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=f"Up to {MAX_BODY_LENGTH:,} characters. No attachments.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The file input exists only where the deployer allows attachments.
        if attachments.enabled():
            self.fields["body"].help_text = f"Up to {MAX_BODY_LENGTH:,} characters."
            self.fields["attachments"] = FilesField(
                label="Attach files (optional)",
                required=False,
                help_text=attachments.help_text(),
            )
            self.fields["attachments"].widget.attrs["accept"] = attachments.accept_hint()
            self.describe_fields()

    @property
    def takes_files(self) -> bool:
        return "attachments" in self.fields


class ClientMessageForm(MessageForm):
    about_scheduling = forms.BooleanField(
        label="This is about scheduling (a time, moving or cancelling a session)",
        required=False,
    )


class SettingsForm(AccessibleForm):
    days = forms.TypedMultipleChoiceField(
        label="Days you read messages",
        choices=list(enumerate(DAY_NAMES)),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for no set hours (clients then see your reply window only).",
    )
    starts = forms.TimeField(
        label="Your hours start at",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In your own time zone; clients see it in theirs.",
    )
    ends = forms.TimeField(
        label="Your hours end at",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    daily_cap = forms.IntegerField(
        label="Messages one client may send you in a day",
        min_value=1,
        max_value=MAX_DAILY_CAP,
        initial=DEFAULT_DAILY_CAP,
    )

    def contact_days(self) -> int:
        return sum(1 << day for day in self.cleaned_data["days"])

    def hours(self) -> tuple[dt.time | None, dt.time | None]:
        return self.cleaned_data["starts"], self.cleaned_data["ends"]


class ZoneForm(AccessibleForm):
    # Any zone Rapport accepts (the service checks it); the menu offers the common ones and
    # the current one.
    time_zone = forms.CharField(label="Show times in", widget=forms.Select)

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget.choices = time_zone_choices(current)
        self.fields["time_zone"].initial = current
