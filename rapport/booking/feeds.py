"""The therapist's private calendar feed: a secret URL that calendar apps poll.

Calendar apps cannot sign in, so the URL itself is the credential (``BookingPolicy.feed_token``,
256 random bits). A wrong or rotated token is the same 404 as a URL that never existed.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from rapport.booking.calendar import therapist_feed
from rapport.booking.models import BookingPolicy
from rapport.core.middleware import mark_health_data

# Longer than any token we issue (see models.new_feed_token): refuse without a query.
_MAX_TOKEN_LENGTH = 64


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise Http404
    policy = BookingPolicy.objects.select_related("therapist").filter(feed_token=token).first()
    if policy is None:
        raise Http404
    response = HttpResponse(
        therapist_feed(therapist=policy.therapist, now=timezone.now()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'inline; filename="rapport.ics"'
    # The URL is a secret: search engines must not index it if it ever leaks into a page.
    response["X-Robots-Tag"] = "noindex, nofollow"
    # Names and times of a person's therapy appointments: no cache may keep a copy (the
    # security middleware turns this mark into Cache-Control: no-store).
    mark_health_data(response)
    return response
