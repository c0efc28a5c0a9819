"""Sharing the fit profile with a therapist at booking, reading it as that therapist, and
withdrawing it.

Booking sits below matching, so it stores only the client's choice
(``Appointment.share_fit_profile``) and asks through its registries
(``rapport.booking.hooks``): the booking form asks ``FitProfileSharing.offer`` whether there is
a profile to share (a signed-in person's profile only: never a copy in the session) and calls
``keep``, which now only forgets a leftover session copy (answers typed while signed out became
the profile at sign-in); the practice page asks ``shared_profile_links`` which rows get a "Fit
profile shared" link.

Deleting the profile withdraws it from every appointment that shared it
(``services.fit_profile_delete``): a profile made later is read by no therapist until the
person shares it again.

Who may share: only a signed-in person. A therapist reads a shared profile through the account
the booking is linked to, so an anonymous person's answers (kept in their browser's session)
could never be read; the form tells them to sign in instead of offering a box that would do
nothing.

What the therapist sees (``shared_profile_in_words``): the person's own words, concerns,
weighted preferences, style, budget, times and ways of meeting, and the city. Never what did
not fit with past therapists (that is the client's own, for their re-matching) and never more
of the place than the city.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import Http404, HttpRequest
from django.urls import reverse

from rapport.accounts.models import User
from rapport.booking import access as booking_access
from rapport.booking import services as booking_services
from rapport.booking.hooks import (
    AppointmentLink,
    FitProfileOffer,
    register_appointment_links,
    register_fit_profile_provider,
)
from rapport.booking.models import ACTIVE_STATUSES, Appointment
from rapport.core.geo import PlaceNotFound, geocode
from rapport.core.money import format_money
from rapport.directory.models import (
    GenderCategory,
)
from rapport.matching.answers import (
    AVAILABILITY_LABELS,
    PREFERENCE_TAXONOMY,
    STYLE_FIELDS,
    Availability,
    FitAnswers,
    PreferenceKey,
    Weight,
)
from rapport.matching.models import FitProfile
from rapport.matching.session import has_session_answers, session_answers_forget
from rapport.matching.words import DELIVERY_LABELS, style_label, term_names

WHAT_IS_SHARED = (
    "what brings you and what you hope will change, in your own words; the concerns you chose; "
    "what matters to you in a therapist and how much; the style you prefer; your budget; when "
    "and how you can meet; and your city. Never what did not fit with past therapists"
)
HOW_TO_SHARE = (
    "Your fit questionnaire answers are kept only in this browser, so a therapist could not read "
    "them. Sign in or create an account to share them with this booking."
)
LINK_LABEL = "Fit profile shared"
AUDIT_REASON = "fit profile shared at booking"

PREFERENCE_LABELS = {
    PreferenceKey.GENDER: "Therapist's gender",
    PreferenceKey.LIVED_EXPERIENCE: "Shared identity or lived experience",
    PreferenceKey.LANGUAGE: "Language",
    PreferenceKey.FAITH: "Faith",
    PreferenceKey.POPULATION: "Experience with",
    PreferenceKey.LGBTQ2S_AFFIRMING: "LGBTQ2S+ affirming",
}


# --- the booking form's offer -----------------------------------------------------------------


def _has_session_answers(request: HttpRequest) -> bool:
    """Whether the questionnaire kept answers in this session (checked only when saved)."""
    return has_session_answers(getattr(request, "session", None))


def _signed_in(user: User | AnonymousUser) -> User | None:
    return user if isinstance(user, User) and user.is_active else None


class FitProfileSharing:
    """Matching's answer to the booking form (``rapport.booking.hooks.FitProfileProvider``)."""

    def offer(self, request: HttpRequest) -> FitProfileOffer | None:
        """A signed-in person is offered the box only when they have a profile: their answers
        live there alone (a copy left in the session could be of a profile they deleted)."""
        user = _signed_in(request.user)
        if user is None:
            if not _has_session_answers(request):
                return None
            return FitProfileOffer(
                can_share=False, what_is_shared=WHAT_IS_SHARED, how_to_share=HOW_TO_SHARE
            )
        if not FitProfile.objects.filter(owner=user).exists():
            return None
        return FitProfileOffer(
            can_share=True,
            what_is_shared=WHAT_IS_SHARED,
            manage_url=reverse("matching:sharing"),
        )

    def keep(self, request: HttpRequest, user: User) -> None:
        """Nothing to save at booking: answers typed while signed out became the profile when
        the person signed in (``signals``), and a signed-in person's answers are saved to it
        at every step. A copy still in the session is never made a profile here (it could be
        of one the person deleted); it is forgotten."""
        session = getattr(request, "session", None)
        if session is not None:
            session_answers_forget(session)


# --- the practice page's link -------------------------------------------------------------------


def _is_readable(appointment: Appointment) -> bool:
    """Booking's part of the rule: shared, linked to an account, and not declined, expired or
    cancelled (a request the therapist turned down gives them no reason to read it)."""
    return (
        appointment.share_fit_profile
        and appointment.client_id is not None
        and appointment.status in ACTIVE_STATUSES
    )


def shared_profile_links(
    appointments: Sequence[Appointment],
) -> Mapping[int, Sequence[AppointmentLink]]:
    """A "Fit profile shared" link on each row whose client shares a profile that still
    exists: one query for the page, none when no row shares."""
    candidates = [appointment for appointment in appointments if _is_readable(appointment)]
    if not candidates:
        return {}
    with_profile = set(
        FitProfile.objects.filter(
            owner_id__in={appointment.client_id for appointment in candidates}
        ).values_list("owner_id", flat=True)
    )
    stand_in = uuid.UUID(int=0)
    pattern = reverse("matching:shared_profile", args=[stand_in])
    return {
        appointment.pk: [
            AppointmentLink(
                url=pattern.replace(str(stand_in), str(appointment.public_id)), label=LINK_LABEL
            )
        ]
        for appointment in candidates
        if appointment.client_id in with_profile
    }


# --- access -------------------------------------------------------------------------------------


def get_shared_fit_profile_for_therapist(
    user: User | AnonymousUser, public_id: uuid.UUID
) -> tuple[Appointment, FitProfile]:
    """The appointment (by its public id) and the fit profile its client shares with the
    signed-in therapist. Http404 when the appointment is not this therapist's, is not shared
    (never, or withdrawn), was declined, expired or cancelled, or the client has no profile
    (deleted, or the account is gone): the same answer whatever the reason."""
    appointment = booking_access.get_appointment_for_therapist(user, public_id)
    if not _is_readable(appointment):
        raise Http404("Nothing is shared here.")
    profile = FitProfile.objects.filter(owner_id=appointment.client_id).first()
    if profile is None:
        raise Http404("Nothing is shared here.")
    return appointment, profile


# --- the profile in words -----------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One heading of the shared profile: the person's own words (``text``, kept as written)
    and/or a list of answers in words."""

    heading: str
    text: str = ""
    items: list[str] = field(default_factory=list)


def _city(place: str) -> str:
    """The city (or province or state) the person named, as the geocoder knows it: never a
    street or anything else typed before it, and for a postal code only its town."""
    if not place:
        return ""
    try:
        return geocode(place).town_label
    except PlaceNotFound:
        return ""


def shared_profile_in_words(answers: FitAnswers, *, currency: str) -> list[Part]:
    """What the therapist reads, as headed parts; parts the person left empty are left out.
    ``did_not_fit`` and the search radius are never part of it."""
    parts: list[Part] = []
    concerns = term_names("concern", answers.concerns)
    if answers.story or concerns:
        parts.append(
            Part(
                heading="What brings them",
                text=answers.story,
                items=[f"Concerns: {', '.join(concerns)}"] if concerns else [],
            )
        )
    if answers.hopes:
        parts.append(Part(heading="What they hope will change", text=answers.hopes))
    preferences = []
    for key in PreferenceKey:
        preference = answers.preference(key)
        if preference.weight == Weight.NOT_IMPORTANT:
            continue
        label = PREFERENCE_LABELS[key]
        if key == PreferenceKey.GENDER:
            values = [GenderCategory(value).label for value in preference.values]
        elif key == PreferenceKey.LGBTQ2S_AFFIRMING:
            values = []
        else:
            values = term_names(PREFERENCE_TAXONOMY[key], preference.values)
        line = f"{label}: {', '.join(values)}" if values else label
        line += f" ({preference.weight.label.lower()})"
        if key == PreferenceKey.LANGUAGE and answers.language_required:
            line += ", required"
        preferences.append(line)
    if preferences:
        parts.append(Part(heading="What matters to them in a therapist", items=preferences))
    style = [
        style_label(name, answers.style[name]) for name in STYLE_FIELDS if name in answers.style
    ]
    if style:
        style.append(f"How much style matters: {answers.style_weight.label.lower()}")
        parts.append(Part(heading="The style they prefer", items=style))
    budget = []
    if answers.budget_per_session is not None:
        amount = format_money(answers.budget_per_session * 100, currency)
        budget.append(f"Up to {amount} a session")
    if answers.sessions_affordable is not None:
        count = answers.sessions_affordable
        budget.append(f"About {count} session{'s' if count != 1 else ''}")
    if budget:
        parts.append(Part(heading="Budget", items=budget))
    meeting = [AVAILABILITY_LABELS[Availability(value)] for value in answers.availability]
    meeting += [DELIVERY_LABELS[value] for value in answers.delivery]
    city = _city(answers.place)
    if city:
        meeting.append(f"Near {city}")
    if meeting:
        parts.append(Part(heading="When and how they can meet", items=meeting))
    return parts


# --- withdrawing and sharing again ----------------------------------------------------------------


class NothingToShare(ValueError):
    """Sharing asked for by someone without a fit profile."""


def fit_profile_sharing_set(*, appointment: Appointment, client: User, shared: bool) -> Appointment:
    """The client shares their fit profile with the appointment's therapist, or withdraws it,
    through booking's service (booking owns the appointment; see its docstring for the rules
    and side effects). Sharing again needs a profile: NothingToShare otherwise. Writes nothing
    when it raises."""
    with transaction.atomic():
        if shared and not FitProfile.objects.filter(owner=client).exists():
            raise NothingToShare("You have no fit profile to share.")
        return booking_services.appointment_fit_profile_sharing_set(
            appointment=appointment, client=client, shared=shared
        )


def register() -> None:
    """Matching's answers to booking's registries: the booking form's fit-profile offer and
    the practice page's "Fit profile shared" link."""
    register_fit_profile_provider("matching", FitProfileSharing())
    register_appointment_links("matching_fit_profile", shared_profile_links)
