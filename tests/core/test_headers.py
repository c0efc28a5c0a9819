"""Security headers on every response, no-store for private ones, and same-origin-only pages.

The page crawl walks Django's URL resolver, so a page added later is checked without anyone
remembering to list it: every named pattern that reverses without arguments is fetched (plus a
therapist profile, which needs one), anonymously and as a signed-in staff member, and each
response must carry the exact headers below; each HTML page must point only at this origin and
run no script or style that lacks the response's CSP nonce. The browser test
(tests/browser/test_same_origin.py) proves the same from what Chromium actually requests.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.sync import iscoroutinefunction
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse

from rapport.core.middleware import (
    HEALTH_DATA_ATTRIBUTE,
    SecurityHeadersMiddleware,
    health_data,
    permissions_policy_header,
)
from tests.core import test_env
from tests.factories import load_reference_data, make_therapist, make_user

TEST_HOST = "testserver"

# The policy as directive -> sources; NONCE stands for this response's own 'nonce-…' value.
NONCE = "'nonce-…'"
EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'", NONCE],
    "style-src": ["'self'", NONCE],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "media-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# A response whose template never asked for the nonce (JSON, redirects, the admin's pages)
# gets the same policy without one: only same-origin files may run there.
EXPECTED_CSP_WITHOUT_NONCE = {
    directive: [source for source in sources if source != NONCE]
    for directive, sources in EXPECTED_CSP.items()
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(self), display-capture=(), payment=(), usb=(), "
    "serial=(), hid=(), midi=(), accelerometer=(), gyroscope=(), magnetometer=(), "
    "browsing-topics=()"
)
EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
}

# Pages anyone must be able to open; the crawl below also covers every other simple pattern.
PUBLIC_PAGES = [
    "/",
    "/therapists/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/admin/login/",
    "/healthz",
]
# Patterns that need an argument, and how the crawl makes one (the data comes from the ORM).
ARGUMENTS_FOR: dict[str, Callable[[], dict[str, Any]]] = {
    "directory:therapist_detail": lambda: {"public_id": make_therapist().public_id},
}


# --- helpers -------------------------------------------------------------------------------


def parse_csp(header: str) -> tuple[dict[str, list[str]], str | None]:
    """The policy as directive -> sources (the nonce replaced by NONCE), and the nonce itself."""
    policy: dict[str, list[str]] = {}
    nonce = None
    for directive in header.split(";"):
        name, *sources = directive.split()
        for index, source in enumerate(sources):
            if match := re.fullmatch(r"'nonce-([A-Za-z0-9+/=]+)'", source):
                nonce = match.group(1)
                sources[index] = NONCE
        policy[name] = sources
    return policy, nonce


def is_cross_origin(url: str) -> bool:
    """Whether a URL as written in a page would be fetched from another origin."""
    url = url.strip().lower()
    if url.startswith(("http:", "https:", "//")):
        return urlsplit(url).netloc != TEST_HOST
    return False


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
# Attributes through which a page makes the browser fetch, submit to or navigate to a URL.
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "poster", "data", "ping", "xlink:href"}
# <script type> values that are data, never run (allauth passes settings this way).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class PageAudit(HTMLParser):
    """Collects what in a page would reach another origin or run outside the CSP nonce."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.stylesheets: list[str] = []
        self.nonces_needed: list[tuple[str, str | None]] = []  # (tag, its nonce attribute)
        self.inline_handlers: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        # A link a person chooses to follow, sent without a referrer (a regulator's public
        # register in the licence review), fetches nothing and tells the other site nothing.
        outbound_link = tag == "a" and "noreferrer" in attributes.get("rel", "").lower().split()
        for name, value in attributes.items():
            if name in URL_ATTRIBUTES and not (outbound_link and name == "href"):
                self.urls.append(value)
            elif name in ("srcset", "imagesrcset"):
                self.urls.extend(part.split()[0] for part in value.split(",") if part.strip())
            elif name == "style":
                self.urls.extend(self._css_urls(value))
            elif name.startswith("on"):
                self.inline_handlers.append(f"<{tag} {name}>")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.inline_handlers.append(f"<{tag} {name}=javascript:>")
        if tag == "meta" and attributes.get("http-equiv", "").lower() == "refresh":
            self.urls.extend(re.findall(r"url\s*=\s*['\"]?([^'\";]+)", attributes["content"], re.I))
        if tag == "link" and "stylesheet" in attributes.get("rel", "").lower().split():
            self.stylesheets.append(attributes.get("href", ""))
        is_data = attributes.get("type", "").lower() in DATA_SCRIPT_TYPES
        if tag == "style" or (tag == "script" and "src" not in attributes and not is_data):
            self.nonces_needed.append((tag, attributes.get("nonce")))
            self._open = tag

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open == "style":
            self.urls.extend(self._css_urls(data))

    @staticmethod
    def _css_urls(css: str) -> Iterator[str]:
        for url_value, import_value in CSS_URL.findall(css):
            yield url_value or import_value


def audit_page(html: str, nonce: str | None) -> list[str]:
    """Every problem in one HTML page, as readable lines (an empty list means clean)."""
    audit = PageAudit()
    audit.feed(html)
    problems = [f"points at another origin: {url}" for url in audit.urls if is_cross_origin(url)]
    problems += [f"inline handler never runs under the CSP: {h}" for h in audit.inline_handlers]
    problems += [
        f"inline <{tag}> without this response's nonce (has {found!r})"
        for tag, found in audit.nonces_needed
        if nonce is None or found != nonce
    ]
    for href in audit.stylesheets:
        problems += [f"{href} {problem}" for problem in audit_stylesheet(href)]
    return problems


def audit_stylesheet(href: str, seen: set[str] | None = None) -> list[str]:
    """Cross-origin url()/@import in one of our stylesheets (and the ones it imports)."""
    if is_cross_origin(href):
        return ["is on another origin"]
    static_url = "/static/"
    if not href.startswith(static_url):
        return [f"is not a static file (expected under {static_url})"]
    found = finders.find(href.removeprefix(static_url).split("?")[0])
    if not isinstance(found, str):
        return ["is missing from the static files"]
    seen = seen if seen is not None else set()
    seen.add(href)
    problems = []
    for url_value, import_value in CSS_URL.findall(Path(found).read_text(encoding="utf-8")):
        url = url_value or import_value
        if is_cross_origin(url):
            problems.append(f"uses another origin: {url}")
        elif import_value or url.endswith(".css"):
            imported = href.rsplit("/", 1)[0] + "/" + url
            if imported not in seen:
                problems += audit_stylesheet(imported, seen)
    return problems


def named_patterns() -> list[str]:
    """Every named URL pattern, namespaced, from the project's resolver."""

    def walk(patterns: list[Any], namespace: str | None) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, inner)
            elif pattern.name:
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    return sorted(set(walk(get_resolver().url_patterns, None)))


def crawlable_paths() -> list[str]:
    """A path for every named pattern that reverses without arguments or has a maker above."""
    paths = []
    for name in named_patterns():
        make_arguments = ARGUMENTS_FOR.get(name)
        try:
            paths.append(reverse(name, kwargs=make_arguments() if make_arguments else None))
        except NoReverseMatch:
            continue  # needs an argument nobody here knows how to make (a key, a token)
    return paths


def response_problems(response: HttpResponse, *, expect_no_store: bool) -> list[str]:
    """Every way one response breaks the header rules or the same-origin rule."""
    problems = []
    if response.status_code >= 500:
        problems.append(f"status {response.status_code}")
    for header, value in EXPECTED_HEADERS.items():
        if response.get(header) != value:
            problems.append(f"{header} is {response.get(header)!r}, expected {value!r}")
    policy, nonce = parse_csp(response.get("Content-Security-Policy", ""))
    if policy not in (EXPECTED_CSP, EXPECTED_CSP_WITHOUT_NONCE):
        problems.append(f"Content-Security-Policy is {response.get('Content-Security-Policy')!r}")
    cache_control = (response.get("Cache-Control"), response.get("Pragma"))
    if expect_no_store and cache_control != ("no-store, private", "no-cache"):
        problems.append(f"Cache-Control, Pragma are {cache_control}, expected no-store")
    if is_cross_origin(response.get("Location", "")):
        problems.append(f"redirects to another origin: {response['Location']}")
    if response.get("Content-Type", "").startswith("text/html"):
        problems += audit_page(response.content.decode(), nonce)
    return problems


@pytest.fixture
def staff_client(db: None) -> Client:
    # With a second factor: staff without one are sent to set it up instead of the admin.
    client = Client()
    client.force_login(make_user(role="staff", mfa=True, is_superuser=True))
    return client


# --- the checkers check ---------------------------------------------------------------------


def test_parse_csp_lifts_out_the_nonce():
    header = "default-src 'self'; script-src 'self' 'nonce-AbC+/9=='; object-src 'none'"
    assert parse_csp(header) == (
        {"default-src": ["'self'"], "script-src": ["'self'", NONCE], "object-src": ["'none'"]},
        "AbC+/9==",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://fonts.googleapis.com/css2?family=Inter",
        "http://tracker.example/pixel.gif",
        "//cdn.example.net/htmx.js",
        " HTTPS://CDN.EXAMPLE.NET/x.js",
        "https://testserver.evil.example/x.js",
    ],
)
def test_urls_on_another_origin_are_caught(url):
    assert is_cross_origin(url) is True


@pytest.mark.parametrize(
    "url", ["/static/core/rapport.css", "#main", "tel:988", "https://testserver/therapists/", ""]
)
def test_same_origin_and_non_fetching_urls_pass(url):
    assert is_cross_origin(url) is False


def test_page_audit_reports_every_kind_of_third_party_use_and_unnonced_code():
    html = """
      <link rel="preconnect" href="https://fonts.gstatic.com">
      <img src="/x.png" srcset="/x.png 1x, https://img.example/x@2x.png 2x">
      <div style="background: url('https://track.example/p.gif')"></div>
      <style nonce="abc">@import "https://fonts.example/f.css";</style>
      <form action="https://collect.example/"></form>
      <a href="https://out.example/" ping="https://ping.example/"></a>
      <button onclick="go()">Go</button>
      <script>alert(1)</script>
      <script nonce="abc">ok()</script>
      <script type="application/json">{"data": true}</script>
      <meta http-equiv="refresh" content="0; url=https://away.example/">
    """
    assert audit_page(html, nonce="abc") == [
        "points at another origin: https://fonts.gstatic.com",
        "points at another origin: https://img.example/x@2x.png",
        "points at another origin: https://track.example/p.gif",
        "points at another origin: https://fonts.example/f.css",
        "points at another origin: https://collect.example/",
        "points at another origin: https://out.example/",
        "points at another origin: https://ping.example/",
        "points at another origin: https://away.example/",
        "inline handler never runs under the CSP: <button onclick>",
        "inline <script> without this response's nonce (has None)",
    ]


def test_only_a_link_without_referrer_may_lead_to_another_site():
    # The licence review links each regulator's public register this way; a link that would
    # send the page's address along, or that pings a third party, is still reported.
    html = """
      <a href="https://register.example/" target="_blank" rel="noopener noreferrer">register</a>
      <a href="https://register.example/" rel="noopener">register</a>
      <a href="https://register.example/" rel="noreferrer" ping="https://ping.example/">x</a>
      <link rel="noreferrer stylesheet" href="https://cdn.example/x.css">
    """
    assert audit_page(html, nonce=None) == [
        "points at another origin: https://register.example/",
        "points at another origin: https://ping.example/",
        "points at another origin: https://cdn.example/x.css",
        "https://cdn.example/x.css is on another origin",
    ]


def test_page_audit_reads_same_origin_stylesheets_for_imports_and_fonts():
    # Django's admin stylesheet imports widgets.css; both are read, and both are clean.
    html = '<link rel="stylesheet" href="/static/admin/css/forms.css">'
    assert audit_page(html, nonce=None) == []


# --- headers and the same-origin rule on every page ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_opens_anonymously(client, path):
    # Following redirects: the admin's sign-in may hand over to the site's own.
    response = client.get(path, follow=True)

    assert response.status_code == 200
    assert not any(is_cross_origin(url) for url, _status in response.redirect_chain)


@pytest.mark.django_db
def test_public_pages_written_from_our_templates_carry_a_nonce_for_their_scripts(client):
    response = client.get("/therapists/")
    policy, nonce = parse_csp(response["Content-Security-Policy"])
    assert policy == EXPECTED_CSP
    assert nonce is not None
    assert f'nonce="{nonce}"' in response.content.decode()


@pytest.mark.django_db
def test_every_page_anyone_can_reach_has_the_headers_and_only_same_origin_resources(client):
    load_reference_data()
    paths = crawlable_paths()
    # The crawl reaches the pages a person starts from, so the resolver walk is not vacuous.
    assert set(PUBLIC_PAGES) <= set(paths)
    assert any(path.startswith("/therapists/") and len(path) > 20 for path in paths)
    problems = {
        path: found
        for path in paths
        if (found := response_problems(client.get(path), expect_no_store=False))
    }
    assert problems == {}


@pytest.mark.django_db
def test_every_page_a_signed_in_person_sees_is_no_store_with_the_same_rules(staff_client):
    load_reference_data()
    therapist = make_therapist()
    paths = crawlable_paths()
    # The admin's change pages need an object: one of each kind that exists.
    for model, model_admin in admin.site._registry.items():
        if (instance := model._default_manager.first()) is not None:
            info = (model_admin.opts.app_label, model_admin.opts.model_name)
            paths.append(reverse("admin:{}_{}_change".format(*info), args=[instance.pk]))
    therapist_change = f"/admin/directory/therapistprofile/{therapist.pk}/change/"
    assert therapist_change in paths
    responses = {path: staff_client.get(path) for path in paths}
    problems = {
        path: found
        for path, response in responses.items()
        if (found := response_problems(response, expect_no_store=True))
    }
    assert problems == {}
    # The admin itself answered (not a set-up page), so the clean result covers its pages.
    assert (responses["/admin/"].status_code, responses[therapist_change].status_code) == (200, 200)


# --- no-store: what is private is never cached ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/therapists/"])
def test_public_page_stays_cacheable_for_anonymous_visitors(client, path):
    response = client.get(path)

    assert response.get("Cache-Control") is None
    assert response.get("Pragma") is None


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/therapists/"])
def test_any_page_shown_to_a_signed_in_person_is_no_store(staff_client, path):
    response = staff_client.get(path)

    assert (response["Cache-Control"], response["Pragma"]) == ("no-store, private", "no-cache")


@pytest.mark.django_db
def test_a_public_page_that_sets_the_csrf_cookie_is_no_store(client):
    load_reference_data()
    make_therapist()  # a listed card carries a Save form, and with it the CSRF cookie

    response = client.get("/therapists/")

    # The CSRF middleware adds its cookie after the security headers are written: the
    # outermost rule must still see it, or a shared cache could hand one token to everyone.
    assert "csrftoken" in response.cookies
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store, private", "no-cache")


def _through_middleware(view: Callable[..., Any], request: HttpRequest) -> HttpResponse:
    response = SecurityHeadersMiddleware(view)(request)
    assert isinstance(response, HttpResponse)
    return response


def _anonymous_get(**headers: str) -> HttpRequest:
    request = RequestFactory().get("/check-in/", headers=headers)
    request.user = AnonymousUser()
    return request


def test_view_marked_health_data_is_no_store_even_for_an_anonymous_visitor():
    @health_data
    def check_in(request):
        return HttpResponse("your answers")

    response = _through_middleware(check_in, _anonymous_get())

    assert getattr(response, HEALTH_DATA_ATTRIBUTE) is True
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store, private", "no-cache")


def test_async_view_marked_health_data_stays_async_and_is_marked():
    @health_data
    async def check_in(request):
        return HttpResponse("your answers")

    # Django picks the async path only for a view that still looks like a coroutine function.
    assert iscoroutinefunction(check_in)
    response = asyncio.run(check_in(_anonymous_get()))

    assert getattr(response, HEALTH_DATA_ATTRIBUTE) is True


def test_no_store_replaces_a_view_asking_to_be_cached_publicly():
    @health_data
    def check_in(request):
        response = HttpResponse("your answers")
        response["Cache-Control"] = "public, max-age=3600"
        return response

    response = _through_middleware(check_in, _anonymous_get())

    assert response["Cache-Control"] == "no-store, private"


def test_response_to_an_api_token_is_no_store():
    response = _through_middleware(
        lambda request: HttpResponse("{}"), _anonymous_get(Authorization="Bearer abc")
    )

    assert (response["Cache-Control"], response["Pragma"]) == ("no-store, private", "no-cache")


def test_response_setting_a_cookie_is_no_store():
    def signs_in(request):
        response = HttpResponse("welcome")
        response.set_cookie("sessionid", "abc")
        return response

    response = _through_middleware(signs_in, _anonymous_get())

    assert (response["Cache-Control"], response["Pragma"]) == ("no-store, private", "no-cache")


def test_unmarked_anonymous_response_is_left_cacheable():
    def directory(request):
        response = HttpResponse("therapists")
        response["Cache-Control"] = "public, max-age=60"
        return response

    response = _through_middleware(directory, _anonymous_get())

    assert response["Cache-Control"] == "public, max-age=60"
    assert response.get("Pragma") is None


def test_permissions_policy_quotes_origins_other_than_self():
    policy = {"camera": [], "geolocation": ["self", "https://maps.example"]}
    assert permissions_policy_header(policy) == (
        'camera=(), geolocation=(self "https://maps.example")'
    )


# --- production ----------------------------------------------------------------------------

# A real deployment's variables and clean-process start-up, shared with the start-up tests so a
# newly required variable is added in one place.
production_variables = test_env.production_variables

PRODUCTION_HEADERS = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz", secure=True, headers={"host": "rapport.example.org"})
print(json.dumps(dict(response.headers)))
"""


def test_production_adds_hsts_and_upgrade_insecure_requests(tmp_path, production_variables):
    result = test_env._start(
        tmp_path, production_variables, [sys.executable, "-c", PRODUCTION_HEADERS]
    )
    assert result.returncode == 0, result.stderr
    headers = json.loads(result.stdout.strip().splitlines()[-1])

    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    policy, _nonce = parse_csp(headers["Content-Security-Policy"])
    assert policy == {**EXPECTED_CSP_WITHOUT_NONCE, "upgrade-insecure-requests": []}
    assert {name: headers[name] for name in EXPECTED_HEADERS} == EXPECTED_HEADERS


@pytest.mark.django_db
def test_development_and_tests_do_not_upgrade_requests_to_https(client):
    assert "upgrade-insecure-requests" not in client.get("/healthz")["Content-Security-Policy"]
