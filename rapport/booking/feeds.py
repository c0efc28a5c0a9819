"""The therapist's private calendar feed: a secret URL that calendar apps poll.

Calendar apps cannot sign in, so the URL itself is the credential (``BookingPolicy.feed_token``,
256 random bits). A wrong or rotated token is the same 404 as a URL that never existed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from rapport.booking.access import get_therapist_for_feed
from rapport.booking.calendar import therapist_feed
from rapport.core.middleware import mark_health_data


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    therapist = get_therapist_for_feed(token)
    response = HttpResponse(
        therapist_feed(therapist=therapist, now=timezone.now()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'inline; filename="rapport.ics"'
    # The URL is a secret: search engines must not index it if it ever leaks into a page.
    response["X-Robots-Tag"] = "noindex, nofollow"
    # Names and times of a person's therapy appointments: no cache may keep a copy (the
    # security middleware turns this mark into Cache-Control: no-store).
    mark_health_data(response)
    return response
