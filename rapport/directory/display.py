"""Plain-words renderings of profile facts, shared by the directory's pages.

Kept out of templates so the wording is tested once and reads the same on every page; kept out
of the models because they are sentences for people, not facts about the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from rapport.core.timezones import moment_label
from rapport.directory.models import (
    BetweenSessionContact,
    GenderCategory,
    Licence,
    TherapistProfile,
)


def join_words(items: Iterable[str]) -> str:
    """``["a", "b", "c"]`` → ``"a, b and c"``."""
    words = [item for item in items if item]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def initials(name: str) -> str:
    """Up to two letters for an avatar: first and last name, skipping titles such as "Dr."."""
    words = [word for word in name.split() if not word.endswith(".") and word[:1].isalpha()]
    if not words:
        return name[:1].upper()
    if len(words) == 1:
        return words[0][0].upper()
    return (words[0][0] + words[-1][0]).upper()


def _licences(therapist: TherapistProfile) -> list[Licence]:
    # .all() reads the prefetched rows; the selectors always prefetch licences for pages.
    return list(therapist.licences.all())


def licensed_jurisdictions(therapist: TherapistProfile) -> list[str]:
    names: list[str] = []
    for licence in _licences(therapist):
        if licence.jurisdiction.name not in names:
            names.append(licence.jurisdiction.name)
    return names


def licensed_in_phrase(jurisdiction_names: Iterable[str]) -> str:
    """``"Licensed in Ontario and Quebec"`` (each place once), or "" for none."""
    names = list(dict.fromkeys(jurisdiction_names))
    return f"Licensed in {join_words(names)}" if names else ""


def licence_summary(therapist: TherapistProfile) -> str:
    """``"Verified — licensed in Ontario (CRPO #12345)"``; more licences are joined with "and"."""
    licences = _licences(therapist)
    if not licences:
        return "Verified"
    parts = []
    for licence in licences:
        # A second title (say RSW beside a main RP) is named so the number reads correctly.
        same_title = licence.designation_id == therapist.designation_id
        title = "" if same_title else f"{licence.designation.code}, "
        regulator = licence.regulator.abbreviation
        parts.append(f"{licence.jurisdiction.name} ({title}{regulator} #{licence.number})")
    return f"Verified — licensed in {join_words(parts)}"


def duration_phrase(hours: int) -> str:
    """``48`` → ``"2 days"``, ``36`` → ``"36 hours"``, ``1`` → ``"an hour"``."""
    if hours % 24 == 0:
        days = hours // 24
        return "a day" if days == 1 else f"{days} days"
    return "an hour" if hours == 1 else f"{hours} hours"


_BETWEEN_SESSIONS = {
    BetweenSessionContact.NONE: "No contact between sessions.",
    BetweenSessionContact.SCHEDULING: "Scheduling questions only between sessions.",
    BetweenSessionContact.BRIEF_CHECK_INS: "Brief check-ins are welcome between sessions.",
}


def measured_reply_phrase(minutes: int) -> str:
    """A measured median reply time, rounded up to words a person reads: ``25`` → ``"an
    hour"``, ``200`` → ``"4 hours"``, ``2000`` → ``"2 days"``."""
    hours = max(1, -(-minutes // 60))
    if hours <= 36:
        return duration_phrase(hours)
    return duration_phrase(24 * -(-hours // 24))


def measured_reply_sentence(therapist: TherapistProfile) -> str:
    """What Rapport measured (the booking app fills it in once there are enough requests), as
    distinct from what the therapist promises; empty until then."""
    if therapist.median_reply_minutes is None:
        return ""
    return (
        f"Usually replies within {measured_reply_phrase(therapist.median_reply_minutes)} "
        "(measured on Rapport)."
    )


def contact_policy_sentences(therapist: TherapistProfile) -> list[str]:
    """The therapist's published contact policy, one short sentence per rule."""
    sentences = [
        f"Aims to reply within {duration_phrase(therapist.reply_within_hours)}.",
        _BETWEEN_SESSIONS[BetweenSessionContact(therapist.between_session_contact)],
    ]
    if therapist.contact_hours:
        sentences.append(f"Contact hours: {therapist.contact_hours.rstrip('.')}.")
    return sentences


def contact_policy(therapist: TherapistProfile) -> str:
    return " ".join(contact_policy_sentences(therapist))


def delivery_modes_label(therapist: TherapistProfile) -> str:
    """``"In person, video and phone"``: the ways to meet, as one phrase."""
    return delivery_phrase(therapist.delivery_modes)


def delivery_phrase(modes: Iterable[str]) -> str:
    """Labels such as ``["In person", "Video"]`` as one phrase: ``"In person and video"``."""
    phrase = join_words(mode.lower() for mode in modes)
    return phrase[:1].upper() + phrase[1:]


def location_label(therapist: TherapistProfile) -> str:
    """The first office's city, "Virtual only", or "" when in-person sessions have no office yet."""
    offices = list(therapist.offices.all()) if therapist.offers_in_person else []
    return location_phrase(
        offers_in_person=therapist.offers_in_person,
        first_city=offices[0].city if offices else None,
    )


def location_phrase(*, offers_in_person: bool, first_city: str | None) -> str:
    if not offers_in_person:
        return "Virtual only"
    return first_city or ""


def years_in_practice_label(therapist: TherapistProfile) -> str:
    return years_phrase(therapist.years_in_practice)


def years_phrase(years: int) -> str:
    if years == 0:
        return "Less than a year in practice"
    return "1 year in practice" if years == 1 else f"{years} years in practice"


def style_words(placement: dict[str, Any]) -> str:
    """Where a therapist placed themselves between two poles, as words rather than a number."""
    low, high, value = placement["low"], placement["high"], placement["value"]
    if value <= 1:
        return f"{low}"
    if value == 2:
        return f"Closer to {low.lower()}"
    if value == 3:
        return f"Between {low.lower()} and {high.lower()}"
    if value == 4:
        return f"Closer to {high.lower()}"
    return f"{high}"


def confirmed_ago(moment: dt.datetime | None, *, now: dt.datetime) -> str:
    """``"today"``, ``"yesterday"`` or ``"5 days ago"``, for when a listing was last confirmed."""
    if moment is None:
        return ""
    days = max(0, (now - moment).days)
    if days == 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def identity_items(therapist: TherapistProfile) -> list[tuple[str, str]]:
    """Only what the therapist chose to say about themselves, as (label, words) pairs.

    Nothing is inferred and nothing is shown for a question left unanswered: "has not said" is
    not a fact for a client to weigh.
    """
    return identity_items_with(
        therapist,
        faiths=[faith.name for faith in therapist.faiths.all()],
        lived_experiences=[experience.name for experience in therapist.lived_experiences.all()],
    )


def identity_items_with(
    therapist: TherapistProfile, *, faiths: list[str], lived_experiences: list[str]
) -> list[tuple[str, str]]:
    """``identity_items`` with the names of the therapist's faiths and lived experiences given
    (in display order), for a caller that has read them already."""
    items: list[tuple[str, str]] = []
    if therapist.gender_description:
        items.append(("Gender", therapist.gender_description))
    elif therapist.gender_category != GenderCategory.UNDISCLOSED:
        items.append(("Gender", therapist.get_gender_category_display()))
    if therapist.identifies_as_lgbtq2s:
        items.append(("2SLGBTQ+", "Identifies as 2SLGBTQ+"))
    if therapist.cultural_background:
        items.append(("Cultural background", therapist.cultural_background))
    if faiths:
        items.append(("Faith or spirituality", join_words(faiths)))
    if lived_experiences:
        items.append(("Lived experience", join_words(lived_experiences)))
    return items


def next_consultation_label(therapist: TherapistProfile, *, now: dt.datetime) -> str:
    """``"Tuesday, December 3, 2026 at 10:30 a.m. Eastern Time (Toronto)"``: the earliest free
    consultation in the therapist's own zone (a card does not know the reader's), or "" when
    none is known or the stored time has already passed (the booking app refreshes it within
    minutes)."""
    return consultation_phrase(therapist.next_consultation_at, therapist.time_zone, now=now)


def consultation_phrase(moment: dt.datetime | None, zone_name: str, *, now: dt.datetime) -> str:
    """``next_consultation_label`` from the stored moment and the therapist's zone."""
    if moment is None or moment < now:
        return ""
    return moment_label(moment, ZoneInfo(zone_name))
