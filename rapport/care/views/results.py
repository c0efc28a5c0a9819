"""The therapist seeing a client's check-ins as the client shares them, and acting on alerts."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse


def practice_check_ins(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    raise Http404("Not built yet.")


def practice_alert_acknowledge(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    raise Http404("Not built yet.")
