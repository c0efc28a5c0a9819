"""The client answering a check-in (signed in, or through the e-mail's link) and seeing their
check-ins over time."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse


def check_in(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    raise Http404("Not built yet.")


def check_in_link(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404("Not built yet.")


def client_progress(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    raise Http404("Not built yet.")
