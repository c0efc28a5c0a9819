"""Site-wide endpoints that belong to no single domain."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from rapport.core.guides import GUIDES, guide_for, related_guides

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a round trip to the default database, for load balancers and monitors.

    The body never carries the exception: the endpoint is public, and a connection error can
    name hosts, users and paths. The details go to the log instead.
    """
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        # Any failure here, not only DatabaseError, means the app cannot serve pages.
        logger.exception("Health check: the default database did not answer")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_safe
def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "core/terms.html", {"version": settings.CONSENT_VERSIONS["terms"]})


@require_safe
def privacy_notice(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/privacy_notice.html",
        {
            "version": settings.CONSENT_VERSIONS["privacy"],
            "grace_days": settings.ACCOUNT_DELETION_GRACE_DAYS,
            "unverified_days": settings.UNVERIFIED_ACCOUNT_RETENTION_DAYS,
            "login_attempt_days": settings.LOGIN_ATTEMPT_RETENTION_DAYS,
        },
    )


@require_safe
def guides(request: HttpRequest) -> HttpResponse:
    return render(request, "core/guides/index.html", {"guides": GUIDES})


@require_safe
def guide(request: HttpRequest, slug: str) -> HttpResponse:
    found = guide_for(slug)
    if found is None:
        raise Http404("No such guide.")
    return render(request, found.template_name, {"guide": found, "related": related_guides(found)})
