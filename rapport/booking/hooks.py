"""What other apps do when booking does something they build on.

Booking sits below care, so it may not import it; care registers here in its ``ready()``
instead (see docs/architecture.md, "Registries").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.http import HttpRequest

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
