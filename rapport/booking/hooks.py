"""What other apps do when booking does something they build on.

Booking sits below care, so it may not import it; care registers here in its ``ready()``
instead (see docs/architecture.md, "Registries").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rapport.booking.models import Appointment

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
