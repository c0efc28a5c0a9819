"""RFC 9457 problem documents (``application/problem+json``): the one shape of every API error.

Lives in core so that any app's API module (and middleware such as accounts') can answer with
one; ``rapport.api.problems`` installs the handlers that use it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(*, status: int, title: str, detail: str = "", **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response


def problem_openapi_response(
    description: str, *, extra_properties: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An OpenAPI response object for a problem document (for a route's ``openapi_extra``);
    ``extra_properties`` documents members a route adds, such as booking's ``next_free``."""
    properties: dict[str, Any] = {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
        **(extra_properties or {}),
    }
    schema = {"type": "object", "properties": properties, "required": ["type", "title", "status"]}
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": schema}}}


# The failures every endpoint behind a sign-in can answer with, for ``problem_openapi_responses``.
SIGNED_IN_FAILURES = {
    401: "Not signed in, or the session ended (signed out after inactivity)",
    403: "Two-factor authentication is required for therapist and staff accounts first",
}


def problem_openapi_responses(descriptions: dict[int, str]) -> dict[str, Any]:
    """``openapi_extra`` for a route's documented problem answers, by status:
    ``openapi_extra=problem_openapi_responses({**SIGNED_IN_FAILURES, 404: "No such thing"})``."""
    return {
        "responses": {
            str(status): problem_openapi_response(description)
            for status, description in sorted(descriptions.items())
        }
    }


# --- domain errors ---------------------------------------------------------------------------
# Each app says once how its own errors read as problems ("that time was just taken" is a 409
# with the next free times); the API installs every registered handler (rapport.api.problems),
# so no endpoint needs its own try/except for them. Registered in AppConfig.ready().

ProblemHandler = Callable[[HttpRequest, Any], HttpResponse]

_problem_handlers: dict[type[Exception], ProblemHandler] = {}


def register_problem_handler(error_class: type[Exception], handler: ProblemHandler) -> None:
    """``handler(request, error)`` answers ``error_class`` (and its subclasses, unless they have
    a handler of their own) on every API endpoint."""
    _problem_handlers[error_class] = handler


def problem_handlers() -> dict[type[Exception], ProblemHandler]:
    return dict(_problem_handlers)
