"""What other apps do when booking does something they build on.

Booking sits below care and matching, so it may not import them; they register here in their
``ready()`` instead (see docs/architecture.md, "Registries").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.http import HttpRequest

    from rapport.accounts.models import User
    from rapport.booking.models import Appointment
    from rapport.directory.models import TherapistProfile

# Called with (consultation, session) inside the transaction that books the first session: a
# hook that raises undoes the booking, so hooks refuse nothing a booking may do.
FirstSessionHook = Callable[["Appointment", "Appointment"], object]

_first_session_hooks: dict[str, FirstSessionHook] = {}


def register_first_session_hook(name: str, hook: FirstSessionHook) -> None:
    """Registering the same name again replaces the earlier hook."""
    _first_session_hooks[name] = hook


def first_session_hooks_run(*, consultation: Appointment, session: Appointment) -> None:
    for _name, hook in sorted(_first_session_hooks.items()):
        hook(consultation, session)


# Further minutes a therapist took to answer, from apps above booking (messaging: replies to
# clients' messages), counted in the median reply figure with the consultation requests'
# (rapport.booking.facts). Called with (therapist, since, now); returns minutes, one per answer.
ReplyMinutesSource = Callable[["TherapistProfile", dt.datetime, dt.datetime], Sequence[float]]

_reply_minutes_sources: dict[str, ReplyMinutesSource] = {}


def register_reply_minutes_source(name: str, source: ReplyMinutesSource) -> None:
    """Registering the same name again replaces the earlier source."""
    _reply_minutes_sources[name] = source


def reply_minutes_from_sources(
    *, therapist: TherapistProfile, since: dt.datetime, now: dt.datetime
) -> list[float]:
    minutes: list[float] = []
    for _name, source in sorted(_reply_minutes_sources.items()):
        minutes.extend(source(therapist, since, now))
    return minutes


# What an app adds to the practice home's "Needs your attention" region: called with the
# request and the signed-in therapist, it returns its rendered HTML, or "" when nothing needs
# the therapist (the region then says so). A part records its own audited reads.
DashboardPart = Callable[["HttpRequest", "TherapistProfile"], str]

# Called with the appointment inside the transaction that moved or cancelled it (after its new
# time or status is saved): apps that keep their own record of the time follow it.
AppointmentChangeHook = Callable[["Appointment"], object]

_appointment_change_hooks: dict[str, AppointmentChangeHook] = {}


def register_appointment_change_hook(name: str, hook: AppointmentChangeHook) -> None:
    """Registering the same name again replaces the earlier hook."""
    _appointment_change_hooks[name] = hook


def appointment_change_hooks_run(*, appointment: Appointment) -> None:
    for _name, hook in sorted(_appointment_change_hooks.items()):
        hook(appointment)


_dashboard_parts: dict[str, DashboardPart] = {}


def register_dashboard_part(name: str, part: DashboardPart) -> None:
    """Registering the same name again replaces the earlier part."""
    _dashboard_parts[name] = part


def dashboard_parts_render(
    *, request: HttpRequest, therapist: TherapistProfile
) -> list[SafeString]:
    """Each registered part's HTML, by name, leaving out the empty ones. A part's plain string
    (not marked safe) is escaped: only a rendered template goes into the page as markup."""
    rendered = []
    for _name, part in sorted(_dashboard_parts.items()):
        html = part(request, therapist)
        if html:
            rendered.append(SafeString(conditional_escape(html)))
    return rendered


# --- the client's fit profile (matching registers here) ---------------------------------------
#
# Booking stores only the client's choice (``Appointment.share_fit_profile``); what a fit
# profile is, where it lives and who may read it are matching's. So the booking form asks a
# registered provider whether this request has a profile to offer, and the practice page asks
# registered "appointment links" what to add to each row.


@dataclass(frozen=True)
class FitProfileOffer:
    """A provider's answer for one booking request.

    ``can_share``: the person is signed in with a profile (saved, or answers in the session that
    ``keep`` saves to the account at booking), so the form shows the checkbox. Otherwise the
    form only says how sharing becomes possible (``how_to_share``): a therapist can read a
    profile only through the client's account.
    ``what_is_shared``: what the therapist would see, in words, as a clause that can follow
    "they see it:" (no full stop at the end).
    ``manage_url``: the page where the person sees and withdraws what they share."""

    can_share: bool
    what_is_shared: str
    manage_url: str = ""
    how_to_share: str = ""


class FitProfileProvider(Protocol):
    def offer(self, request: HttpRequest) -> FitProfileOffer | None:
        """The offer for this request, or None when the person has no fit profile at all."""

    def keep(self, request: HttpRequest, user: User) -> None:
        """Called inside the booking's transaction for a booking linked to ``user``'s account:
        save answers kept only in the session to the account (a raise undoes the booking)."""


_fit_profile_providers: dict[str, FitProfileProvider] = {}


def register_fit_profile_provider(name: str, provider: FitProfileProvider) -> None:
    """Registering the same name again replaces the earlier provider."""
    _fit_profile_providers[name] = provider


def fit_profile_offer(*, request: HttpRequest) -> FitProfileOffer | None:
    """The first offer of the providers, by name; None when no provider has a profile."""
    for _name, provider in sorted(_fit_profile_providers.items()):
        offer = provider.offer(request)
        if offer is not None:
            return offer
    return None


def fit_profile_keep(*, request: HttpRequest, user: User) -> None:
    for _name, provider in sorted(_fit_profile_providers.items()):
        provider.keep(request, user)


@dataclass(frozen=True)
class AppointmentLink:
    """A link an app above booking adds to an appointment's row on the practice page."""

    url: str
    label: str


# Called with the appointments one practice page shows (all the signed-in therapist's), it
# returns the links to add, by appointment pk. One call per page: a part makes at most a fixed
# number of queries whatever the number of rows (the page's query count is held by a test).
AppointmentLinks = Callable[[Sequence["Appointment"]], Mapping[int, Sequence[AppointmentLink]]]

_appointment_links: dict[str, AppointmentLinks] = {}


def register_appointment_links(name: str, part: AppointmentLinks) -> None:
    """Registering the same name again replaces the earlier part."""
    _appointment_links[name] = part


def appointment_links(*, appointments: Sequence[Appointment]) -> dict[int, list[AppointmentLink]]:
    """Every registered part's links, by appointment pk (parts in name order)."""
    links: dict[int, list[AppointmentLink]] = {}
    if not appointments:
        return links
    for _name, part in sorted(_appointment_links.items()):
        for pk, added in part(appointments).items():
            links.setdefault(pk, []).extend(added)
    return links


# --- the booking form page (messaging registers here) -----------------------------------------
#
# What an app above booking shows on the booking form, before anything is booked (messaging:
# the therapist's contact policy and hours in the visitor's zone). Called with the request, the
# therapist, the zone the page shows times in (an IANA name) and whether the visitor chose it
# (a ``tz`` or ``time_zone`` they sent, rather than the therapist's own zone by default); it
# returns its rendered HTML, or "" when it has nothing to add.
BookFormPart = Callable[["HttpRequest", "TherapistProfile", str, bool], str]

_book_form_parts: dict[str, BookFormPart] = {}


def register_book_form_part(name: str, part: BookFormPart) -> None:
    """Registering the same name again replaces the earlier part."""
    _book_form_parts[name] = part


def book_form_parts_render(
    *, request: HttpRequest, therapist: TherapistProfile, zone_name: str, zone_given: bool
) -> list[SafeString]:
    """Each registered part's HTML, by name, leaving out the empty ones; a plain string (not
    marked safe) is escaped, as for the dashboard's parts."""
    rendered = []
    for _name, part in sorted(_book_form_parts.items()):
        html = part(request, therapist, zone_name, zone_given)
        if html:
            rendered.append(SafeString(conditional_escape(html)))
    return rendered
