"""Errors as RFC 9457 problem details (``application/problem+json``), for every API failure.

A client gets the same shape whatever went wrong: ``type``, ``title``, ``status``, ``detail``,
and for invalid input an ``errors`` list naming each bad field. Nothing internal (tracebacks,
SQL, object ids that do not belong to the caller) ever appears in one.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from rapport.accounts.api import SecondFactorRequired
from rapport.accounts.middleware import second_factor_problem
from rapport.core.problems import PROBLEM_CONTENT_TYPE, problem_handlers, problem_response

logger = logging.getLogger(__name__)


def _field_errors_from_ninja(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    found = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        found.append({"field": ".".join(location), "message": str(error.get("msg", "Invalid."))})
    return found


def install_problem_handlers(api: NinjaAPI) -> None:
    def invalid_input(request: HttpRequest, error: ValidationError) -> HttpResponse:
        return problem_response(
            status=400,
            title="Invalid request",
            detail="Some of what was sent is not valid.",
            errors=_field_errors_from_ninja(list(error.errors)),
        )

    def invalid_by_rule(request: HttpRequest, error: DjangoValidationError) -> HttpResponse:
        if hasattr(error, "error_dict"):
            errors = [
                {"field": field, "message": " ".join(messages)}
                for field, messages in error.message_dict.items()
            ]
        else:
            errors = [{"field": "", "message": message} for message in error.messages]
        return problem_response(
            status=400, title="Invalid request", detail=errors[0]["message"], errors=errors
        )

    def not_found(request: HttpRequest, error: Exception) -> HttpResponse:
        return problem_response(status=404, title="Not found")

    def forbidden(request: HttpRequest, error: Exception) -> HttpResponse:
        return problem_response(status=403, title="Forbidden", detail=str(error))

    def unauthenticated(request: HttpRequest, error: Exception) -> HttpResponse:
        return problem_response(
            status=401, title="Not signed in", detail="Sign in to use this endpoint."
        )

    def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
        titles = {
            400: "Invalid request",
            405: "Method not allowed",
            409: "Conflict",
            429: "Too many requests",
        }
        return problem_response(
            status=error.status_code,
            title=titles.get(error.status_code, "Error"),
            detail=str(error),
        )

    def suspicious(request: HttpRequest, error: Exception) -> HttpResponse:
        # An oversized body, too many fields, a bad Host: the client's fault, not a crash.
        return problem_response(
            status=400,
            title="Invalid request",
            detail="The request is too large or malformed.",
        )

    def second_factor_required(request: HttpRequest, error: Exception) -> HttpResponse:
        return second_factor_problem()

    def unexpected(request: HttpRequest, error: Exception) -> HttpResponse:
        logger.exception("Unexpected API error on %s %s", request.method, request.path)
        return problem_response(status=500, title="Something went wrong on our side")

    handlers: list[tuple[type[Exception], Any]] = [
        (ValidationError, invalid_input),
        (DjangoValidationError, invalid_by_rule),
        (Http404, not_found),
        (SecondFactorRequired, second_factor_required),
        (PermissionDenied, forbidden),
        (AuthenticationError, unauthenticated),
        (SuspiciousOperation, suspicious),
        (Throttled, http_error),
        (HttpError, http_error),
        (Exception, unexpected),
    ]
    # Each app's own errors (rapport.core.problems.register_problem_handler); ninja picks the
    # handler of the most specific class, so these win over the generic ones above.
    handlers += list(problem_handlers().items())
    for exception_class, handler in handlers:
        api.add_exception_handler(exception_class, handler)


class ApiProblemMiddleware:
    """Makes the errors Django and ninja answer before any handler runs (an unknown path under
    /api/, a method the endpoint does not take) problem documents too, so an API client never
    has to parse an HTML error page."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        if not request.path_info.startswith("/api/") or response.get("Content-Type", "").startswith(
            PROBLEM_CONTENT_TYPE
        ):
            return response
        if response.status_code == 404:
            return problem_response(status=404, title="Not found")
        if response.status_code == 405:
            replacement = problem_response(
                status=405,
                title="Method not allowed",
                detail=f"{request.method} is not allowed here.",
            )
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response
