"""Session lifetime and the second-factor requirement, enforced on every request.

Both answer in the form the caller understands: an HTML page gets a redirect and a message,
an htmx request an ``HX-Redirect`` (so the login page is not swapped into a fragment), and the
JSON API an ``application/problem+json`` error.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from rapport.accounts.signin import has_second_factor, requires_mfa
from rapport.core.middleware import mark_health_data
from rapport.core.problems import problem_response

# Session keys (epoch seconds). Sessions live in the server's store, so the client cannot
# move these.
SIGNED_IN_AT = "rapport_signed_in_at"
LAST_SEEN_AT = "rapport_last_seen_at"
# Writing the session on every request would cost a database write per page view, so the
# last-seen time is written at most this often. A late write can only end a session early, by
# up to the interval; so the interval is a tenth of the idle timeout (6 s at the 1-minute
# minimum), and never more than a minute.
LAST_SEEN_WRITE_INTERVAL_SECONDS = 60
LAST_SEEN_WRITE_FRACTION = 10


def last_seen_write_interval() -> int:
    """Seconds between writes of the last-seen time, for the configured idle timeout."""
    return max(
        1,
        min(
            LAST_SEEN_WRITE_INTERVAL_SECONDS,
            settings.SESSION_IDLE_TIMEOUT_SECONDS // LAST_SEEN_WRITE_FRACTION,
        ),
    )


API_PREFIX = "/api/"
# Session key: the protected page a person without a second factor was sent away from.
AFTER_SECOND_FACTOR = "rapport_after_second_factor"

_Handler = Callable[[HttpRequest], HttpResponseBase]


def _now() -> int:
    return int(timezone.now().timestamp())


def start_session_clock(session: SessionBase) -> None:
    """Called when someone signs in (rapport.accounts.signals)."""
    now = _now()
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def idle_message() -> str:
    return (
        f"You were signed out after {_duration(settings.SESSION_IDLE_TIMEOUT_SECONDS)} without "
        "activity. Please sign in again."
    )


def lifetime_message() -> str:
    return (
        f"You were signed out because you signed in more than "
        f"{_duration(settings.SESSION_ABSOLUTE_LIFETIME_SECONDS)} ago. Please sign in again."
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _htmx_redirect(url: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url
    return response


class SessionLifetimeMiddleware:
    """Signs a person out after SESSION_IDLE_TIMEOUT_SECONDS without a request, or
    SESSION_ABSOLUTE_LIFETIME_SECONDS after they signed in, whichever comes first.

    Signing out flushes the session, which deletes it from the session store: the old cookie
    is worth nothing afterwards, even to someone who copied it.
    """

    def __init__(self, get_response: _Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            reason = self._check(request.session)
            if reason is not None:
                return self._sign_out(request, reason)
        return self.get_response(request)

    @staticmethod
    def _check(session: SessionBase) -> str | None:
        now = _now()
        signed_in_at = session.get(SIGNED_IN_AT)
        last_seen_at = session.get(LAST_SEEN_AT)
        if not isinstance(signed_in_at, int) or not isinstance(last_seen_at, int):
            # A session signed in some other way (Django's test client, an older release):
            # its clocks start now.
            start_session_clock(session)
            return None
        if now - signed_in_at >= settings.SESSION_ABSOLUTE_LIFETIME_SECONDS:
            return lifetime_message()
        if now - last_seen_at >= settings.SESSION_IDLE_TIMEOUT_SECONDS:
            return idle_message()
        if now - last_seen_at >= last_seen_write_interval():
            session[LAST_SEEN_AT] = now
        return None

    @staticmethod
    def _sign_out(request: HttpRequest, message: str) -> HttpResponseBase:
        logout(request)
        response: HttpResponseBase
        if _is_api(request):
            response = problem_response(status=401, title="Signed out", detail=message)
        else:
            # So the login page can say why the person is there.
            messages.info(request, message)
            if _is_htmx(request):
                response = _htmx_redirect(reverse(settings.LOGIN_URL))
            else:
                response = redirect_to_login(request.get_full_path())
        # The answer to one browser's session: no cache may keep it or hand it to another.
        return mark_health_data(response)


def second_factor_problem() -> HttpResponse:
    """The API's answer to a therapist or staff member without a second factor (the API's
    private endpoints check it in ``rapport.accounts.api.SessionWithSecondFactor``)."""
    return problem_response(
        status=403,
        title="Two-factor authentication required",
        detail=(
            "Therapist and staff accounts must set up two-factor authentication (an "
            f"authenticator app) before using this endpoint. Set it up at "
            f"{reverse('mfa_activate_totp')}."
        ),
    )


def _admin_login_path() -> str | None:
    try:
        return reverse("admin:login")
    except NoReverseMatch:
        return None


class MfaRequiredMiddleware:
    """Keeps therapists and staff without a second factor out of every path under
    MFA_REQUIRED_PATH_PREFIXES (where other people's data lives), and sends them to set one
    up. Everything else (public pages, /accounts/, static files, /healthz) stays reachable.

    Once the authenticator app is set up, sends them on to the page they were going to, with
    a message linking their recovery codes.

    Also sends Django admin's own login page to allauth's: the admin form checks only the
    password, and every sign-in must pass the second-factor step.
    """

    def __init__(self, get_response: _Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # The admin's login page always ends so; checked first, a reverse() per request is not.
        if request.path_info.endswith("/login/") and request.path_info == _admin_login_path():
            return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
        user = request.user
        if (
            user.is_authenticated
            and self._is_protected(request.path_info)
            and requires_mfa(user)
            and not has_second_factor(user)
        ):
            return self._refuse(request)
        response = self.get_response(request)
        if (
            request.method == "POST"
            and request.path_info == reverse("mfa_activate_totp")
            and isinstance(response, HttpResponseRedirect)
            and request.session.get(AFTER_SECOND_FACTOR)
        ):
            return _continue_after_activation(request, response)
        return response

    @staticmethod
    def _is_protected(path: str) -> bool:
        return path.startswith(tuple(settings.MFA_REQUIRED_PATH_PREFIXES))

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponseBase:
        setup_url = reverse("mfa_activate_totp")
        if _is_api(request):
            return second_factor_problem()
        if request.method == "GET" and not _is_htmx(request):
            # The page the person was going to, where the set-up ends (allauth's own set-up
            # ends on the recovery codes page, which knows no "next").
            request.session[AFTER_SECOND_FACTOR] = request.get_full_path()
        messages.warning(
            request,
            "Therapist and staff accounts need two-factor authentication before they can see "
            "anyone's information. Set up an authenticator app to continue.",
        )
        if _is_htmx(request):
            return _htmx_redirect(setup_url)
        return HttpResponseRedirect(setup_url)


def _continue_after_activation(
    request: HttpRequest, response: HttpResponseRedirect
) -> HttpResponseBase:
    """After the authenticator app is set up, go on to the page the person was sent away from
    (a reviewer who signed in to reach /staff/videos/ lands on the queue), not to allauth's
    recovery codes page, which knows no "next". The codes stay one link away: a message on
    the page they land on says where, and the account's two-factor page lists them."""
    target = request.session.pop(AFTER_SECOND_FACTOR)
    # Only paths this site stored; anything else (it cannot happen) keeps allauth's redirect.
    if not isinstance(target, str) or not url_has_allowed_host_and_scheme(
        target, allowed_hosts=None, require_https=False
    ):
        return response
    if response["Location"] == reverse("mfa_view_recovery_codes"):
        messages.info(
            request,
            format_html(
                'Your authenticator app is set up. Save your <a href="{}">recovery codes</a> '
                "now, somewhere other than your phone: each one lets you sign in once if your "
                "phone is lost. They stay on your account's Two-factor authentication page.",
                response["Location"],
            ),
        )
    return HttpResponseRedirect(target)
