"""The therapist's contact hours on the pages below messaging, in the visitor's own zone.

The public profile (a directory profile part) and the booking form (a booking book-form part)
show the contact policy before anyone books; neither app may import messaging, so messaging
registers both parts in ``MessagingConfig.ready()``. The words and the windows come from
``rapport.messaging.policy``, as above the message box: one formatter for all three pages.

Which zone is the visitor's own, in this order:

1. a zone the visitor chose on this page (the picker's ``?tz=``, which the booking form carries
   on; the profile's own menu sends the same parameter), read by booking's one viewer-zone rule;
2. a signed-in client's saved zone: the site keeps no zone on the account, but a client picks
   one for each conversation (``Thread.client_time_zone``, set when they book and from the
   thread's menu): the one of their thread with this therapist, else of their latest thread;
3. the zone the page shows times in otherwise, the therapist's own.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from rapport.accounts.models import User
from rapport.booking.views.common import zone_from_query
from rapport.core.forms import AccessibleForm
from rapport.core.timezones import is_canonical_zone_name, time_zone_choices, time_zone_label
from rapport.directory.models import TherapistProfile
from rapport.messaging import policy
from rapport.messaging.models import Thread


def saved_zone(request: HttpRequest, therapist: TherapistProfile) -> str | None:
    """The signed-in client's zone from their conversations (see the module's docstring), or
    None for a visitor who is not signed in or has none."""
    user = request.user
    if not isinstance(user, User):
        return None
    found = (
        Thread.objects.filter(client=user)
        .annotate(
            with_therapist=ExpressionWrapper(
                Q(therapist_id=therapist.pk), output_field=BooleanField()
            )
        )
        .order_by(
            "-with_therapist",
            F("last_message_at").desc(nulls_last=True),
            "-created_at",
            "-id",
        )
        .values_list("client_time_zone", flat=True)
        .first()
    )
    # Saved through the thread's menu, which checks it; a name the tz database has since
    # dropped falls back like an unknown ?tz= does.
    return found if found and is_canonical_zone_name(found) else None


def visitor_zone(
    request: HttpRequest, therapist: TherapistProfile, *, page_zone: str, zone_given: bool
) -> str:
    """The visitor's own zone: one they chose on the page, else their saved one, else the
    page's (``page_zone``, the therapist's when nobody chose)."""
    if zone_given:
        return page_zone
    return saved_zone(request, therapist) or page_zone


def hours_context(
    therapist: TherapistProfile, *, zone_name: str, now: dt.datetime
) -> dict[str, Any]:
    """What ``messaging/_policy.html`` needs, for a reader in ``zone_name``: the hours in the
    therapist's terms, and the coming week's windows converted (real dates, so a clock change
    in either zone moves them) only when the reader's zone is another."""
    rules = policy.policy_for(therapist)
    same_zone = zone_name == therapist.time_zone
    return {
        "policy": rules,
        "therapist_hours": policy.therapist_hours_label(rules),
        "windows": []
        if same_zone
        else policy.upcoming_window_labels(rules, now, zoneinfo.ZoneInfo(zone_name)),
        "client_zone_label": time_zone_label(zone_name),
        "therapist_zone_label": time_zone_label(therapist.time_zone),
        "same_zone": same_zone,
    }


class HoursZoneForm(AccessibleForm):
    """The profile's menu for the zone the contact hours are shown in (sent as ``?tz=``, the
    picker's parameter, so the choice reads the same everywhere)."""

    tz = forms.CharField(label="Show these hours in", widget=forms.Select)

    def __init__(self, *args: Any, current: str, problem: str | None = None, **kwargs: Any):
        # Set first: AccessibleForm validates a bound form as it starts.
        self._problem = problem
        kwargs.setdefault("auto_id", "contact-hours-%s")
        super().__init__(*args, **kwargs)
        self.fields["tz"].widget.choices = time_zone_choices(current)
        self.fields["tz"].initial = current

    def clean_tz(self) -> str:
        # The page already fell back to another zone; the menu says why at the field.
        if self._problem:
            raise forms.ValidationError(self._problem)
        return str(self.cleaned_data["tz"])


def profile_hours_part(request: HttpRequest, therapist: TherapistProfile) -> dict[str, Any]:
    """For the profile's contact-policy panel (which already has the policy in words): the
    structured hours in the therapist's zone and the visitor's, and the zone menu. Nothing when
    the therapist set no hours."""
    page_zone, problem, zone_given = zone_from_query(request, therapist.time_zone)
    zone_name = visitor_zone(request, therapist, page_zone=page_zone, zone_given=zone_given)
    context = hours_context(therapist, zone_name=zone_name, now=timezone.now())
    if not context["therapist_hours"]:
        return {"section": ""}
    if problem:
        # Bound to the zone shown instead, so the menu shows it with the error beside it.
        form = HoursZoneForm({"tz": zone_name}, current=zone_name, problem=problem)
    else:
        form = HoursZoneForm(current=zone_name)
    context["zone_form"] = form
    return {"section": SafeString(render_to_string("messaging/_profile_hours.html", context))}


def book_form_policy_part(
    request: HttpRequest, therapist: TherapistProfile, zone_name: str, zone_given: bool
) -> str:
    """For the booking form: the whole policy, as above the message box, in the visitor's zone."""
    zone = visitor_zone(request, therapist, page_zone=zone_name, zone_given=zone_given)
    context = hours_context(therapist, zone_name=zone, now=timezone.now())
    return render_to_string("messaging/_policy.html", context)
