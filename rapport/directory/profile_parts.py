"""What the apps above the directory add to a therapist's profile page.

The profile page belongs to the directory, which may not import the apps that build on it
(booking, videos). So each of those apps registers a *profile part* in ``AppConfig.ready()``:
a function of the request and the therapist that returns a small dict for the page. The page
reads them under the app's name — ``parts.booking.book_url``, ``parts.videos.section`` — and
shows nothing where an app is not installed or has nothing to add.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from rapport.directory.models import TherapistProfile

ProfilePart = Callable[[HttpRequest, TherapistProfile], dict[str, Any]]

_parts: dict[str, ProfilePart] = {}


def register_profile_part(name: str, part: ProfilePart) -> None:
    """Registering a name again replaces its part."""
    _parts[name] = part


def profile_parts(
    *, request: HttpRequest, therapist: TherapistProfile
) -> dict[str, dict[str, Any]]:
    return {name: part(request, therapist) for name, part in sorted(_parts.items())}
