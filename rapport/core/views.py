"""Site-wide endpoints that belong to no single domain."""

from __future__ import annotations

import logging

from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

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
