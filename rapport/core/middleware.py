"""Response headers that Django has no setting for, and the no-store rule for private pages.

Django's ``SecurityMiddleware`` already sends HSTS, ``X-Content-Type-Options``,
``Referrer-Policy`` and ``Cross-Origin-Opener-Policy``; ``XFrameOptionsMiddleware`` sends
``X-Frame-Options`` and django-csp sends ``Content-Security-Policy``. What is left lives here:

- ``Cross-Origin-Resource-Policy``, so no other site can pull our responses into its own page
  (and into its process, where a side channel could read them);
- ``Permissions-Policy``, so an injected or future third-party frame cannot switch on the camera,
  the microphone or location tracking;
- ``Cache-Control: no-store, private`` and ``Pragma: no-cache`` on every response that may hold
  health data. Browsers keep ordinary pages on disk and shared proxies may keep them for other
  people; a therapy seeker on a shared or family computer must not leave their check-ins behind
  in the cache or in the back button's history. The rule is deliberately broad — anything shown
  to a signed-in person — because a per-view list would be forgotten for the next new page.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.deprecation import MiddlewareMixin

# What a view sets (through ``health_data``) on its response to say "never cache this", for the
# pages an anonymous person can see that still carry health data (a check-in opened from a link).
HEALTH_DATA_ATTRIBUTE = "rapport_health_data"

NO_STORE = "no-store, private"

_View = TypeVar("_View", bound=Callable[..., Any])


def mark_health_data(response: HttpResponseBase) -> HttpResponseBase:
    """Flag a response as holding health data, so it is never stored by any cache."""
    setattr(response, HEALTH_DATA_ATTRIBUTE, True)
    return response


def health_data(view: _View) -> _View:
    """View decorator: the page shows health data, so no cache may keep it, whoever asks.

    Works on function views, sync or async; for a class-based view wrap ``as_view()`` or use
    ``method_decorator(health_data, name="dispatch")``.
    """
    if iscoroutinefunction(view):

        @wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
            return mark_health_data(
                await cast(Callable[..., Awaitable[Any]], view)(*args, **kwargs)
            )

        return cast(_View, markcoroutinefunction(async_wrapper))

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
        return mark_health_data(view(*args, **kwargs))

    return cast(_View, wrapper)


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """Render ``{"camera": [], "geolocation": ["self"]}`` as ``camera=(), geolocation=(self)``.

    Origins other than ``self``/``*`` must be quoted in the header's structured-field syntax.
    """
    rendered = []
    for feature, allowlist in policy.items():
        origins = " ".join(
            origin if origin in ("self", "*") else f'"{origin}"' for origin in allowlist
        )
        rendered.append(f"{feature}=({origins})")
    return ", ".join(rendered)


def needs_no_store(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Whether this response may carry someone's private or health data."""
    if getattr(response, HEALTH_DATA_ATTRIBUTE, False):
        return True
    # An API client signs in with a token, not a session, so request.user may say anonymous.
    if "Authorization" in request.headers:
        return True
    # A response that sets a cookie belongs to one browser: the one that signs a person in or out
    # (session cookie), or a form page carrying its CSRF cookie, which a shared cache would
    # otherwise hand to everyone.
    if response.cookies:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware(MiddlewareMixin):
    """Adds the headers Django lacks, and forbids caching of anything that may be private.

    Sits below ``AuthenticationMiddleware`` (it reads ``request.user``) and above the sign-in,
    MFA and lockout middleware, so the responses those produce pass through it too.
    """

    def __init__(self, get_response: Callable[..., Any]) -> None:
        super().__init__(get_response)
        self.resource_policy: str = settings.SECURE_CROSS_ORIGIN_RESOURCE_POLICY
        self.permissions_policy = permissions_policy_header(settings.PERMISSIONS_POLICY)

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response.headers.setdefault("Cross-Origin-Resource-Policy", self.resource_policy)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        if needs_no_store(request, response):
            forbid_storing(response)
        return response


def forbid_storing(response: HttpResponseBase) -> None:
    # Replace, not merge: a view's "public, max-age=…" must not survive for a signed-in person,
    # and no-store alone says all a cache needs to know.
    response.headers["Cache-Control"] = NO_STORE
    # For HTTP/1.0 caches that predate Cache-Control.
    response.headers["Pragma"] = "no-cache"


class CookieNoStoreMiddleware:
    """No-store on every response that sets a cookie, whichever layer set it.

    ``SecurityHeadersMiddleware`` sits below authentication, so it answers before the session
    and CSRF middleware add their cookies on the way out: an anonymous search page whose Save
    buttons carry a CSRF token went out with ``Set-Cookie: csrftoken`` and no Cache-Control, and
    a shared cache could have handed that one token to everyone. This sits above both (just
    below Django's SecurityMiddleware), so it sees the response's final cookies.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.cookies:
            forbid_storing(response)
        return response


def add_static_file_headers(headers: Any, path: str, url: str) -> None:
    """WhiteNoise hook: static files answer before the middleware above runs, so they get their
    cross-origin resource policy here (``WHITENOISE_ADD_HEADERS_FUNCTION``)."""
    headers["Cross-Origin-Resource-Policy"] = settings.SECURE_CROSS_ORIGIN_RESOURCE_POLICY


class _QueryClock:
    """Counts the queries of one request on the default database and the time they took."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class ServerTimingMiddleware:
    """Adds ``Server-Timing: app;dur=<ms>, db;dur=<ms>;desc="<n> queries"``: the time Django
    spent on the request, from the first middleware in to the response out, and the part of it
    spent in the database (the W3C Server-Timing header, shown by browsers' developer tools and
    read by the benches in bench/ to report server-side latency).

    On every page under ``SERVER_TIMING_PATH_PREFIXES`` (the practice and staff pages, held
    to a time budget: only their signed-in owner receives these answers), and on every page
    when ``SERVER_TIMING`` is set: for public pages the figure tells a stranger how long a
    request took, harmless but not worth publishing by default.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.everywhere: bool = settings.SERVER_TIMING
        self.prefixes = tuple(settings.SERVER_TIMING_PATH_PREFIXES)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not (self.everywhere or request.path_info.startswith(self.prefixes)):
            return self.get_response(request)
        queries = _QueryClock()
        started = time.perf_counter()
        with connection.execute_wrapper(queries):
            response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = (
            f"app;dur={elapsed_ms:.2f}, "
            f'db;dur={queries.seconds * 1000:.2f};desc="{queries.count} queries"'
        )
        return response


class ReaderTimeZoneMiddleware:
    """Each request starts and ends in UTC, whatever zone a view chose for its reader.

    Pages that know their reader's zone activate it (the practice pages read in the therapist's
    own zone: ``rapport.directory.access.get_practice_therapist``), so a day written without an
    explicit zone (``|day_label``) is the reader's day, not UTC's: an 8 p.m. session in Toronto
    is Monday's, not Tuesday's. Django keeps the active zone per thread, and a server thread
    serves one request after another, so the zone must not outlive the request that chose it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
