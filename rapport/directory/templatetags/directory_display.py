"""Template filters over ``rapport.directory.display``: the wording lives there, tested once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from rapport.directory import display
from rapport.directory.models import TherapistProfile

register = template.Library()


@register.filter
def initials(therapist: TherapistProfile) -> str:
    return display.initials(therapist.display_name)


@register.filter
def licence_summary(therapist: TherapistProfile) -> str:
    return display.licence_summary(therapist)


@register.filter
def licensed_in(therapist: TherapistProfile) -> str:
    return display.licensed_in_phrase(display.licensed_jurisdictions(therapist))


@register.filter
def delivery_modes_label(therapist: TherapistProfile) -> str:
    return display.delivery_modes_label(therapist)


@register.filter
def contact_policy(therapist: TherapistProfile) -> str:
    return display.contact_policy(therapist)


@register.filter
def location_label(therapist: TherapistProfile) -> str:
    return display.location_label(therapist)


@register.filter
def years_in_practice_label(therapist: TherapistProfile) -> str:
    return display.years_in_practice_label(therapist)


@register.filter
def style_words(placement: dict[str, Any]) -> str:
    return display.style_words(placement)


@register.filter
def identity_items(therapist: TherapistProfile) -> list[tuple[str, str]]:
    return display.identity_items(therapist)


@register.filter
def confirmed_ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    return display.confirmed_ago(moment, now=now)


@register.filter
def join_words(items: list[Any]) -> str:
    return display.join_words(str(item) for item in items)


@register.filter
def next_consultation_label(therapist: TherapistProfile, now: dt.datetime) -> str:
    return display.next_consultation_label(therapist, now=now)


@register.filter
def measured_reply_sentence(therapist: TherapistProfile) -> str:
    return display.measured_reply_sentence(therapist)
