"""In a real browser, every page fetches only from our own origin and breaks no CSP rule.

The fast test (tests/core/test_headers.py) reads the HTML; this one watches what Chromium does
with it: every request the tab makes (scripts adding scripts, stylesheets pulling fonts, htmx
calls), every Content-Security-Policy violation (from the browser's own violation events and
from the console), and any console complaint about our Permissions-Policy. A cross-origin
request fails inside the browser (see CHROMIUM_ARGS) rather than leave the machine, and is
recorded so the test fails.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError
from pytest_django.live_server_helper import LiveServer

from rapport.accounts.models import User
from rapport.directory.models import TherapistProfile
from tests.browser.conftest import Tab, origin_of
from tests.factories import TEST_PASSWORD, load_reference_data, make_therapist, make_user

# Live-server tests commit their data, so they flush the database afterwards; serialized
# rollback puts back what the migrations loaded (jurisdictions) for whichever test runs next.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PUBLIC_PAGES = [
    "/",
    "/therapists/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/admin/login/",
    "/healthz",
]


def page_problems(
    tab: Tab, path: str, *, until: Literal["load", "networkidle"] = "networkidle"
) -> list[str]:
    """Open one page; list every cross-origin request, CSP violation and policy warning."""
    tab.traffic.requests.clear()
    tab.traffic.console_policy.clear()
    violations = tab.visit(path, until=until)
    origin = tab.traffic.origin
    # data: URLs never reach a network (the TOTP QR code is one, and img-src allows it).
    foreign = [
        url
        for url in tab.traffic.requests
        if origin_of(url) != origin and not url.startswith("data:")
    ]
    return (
        [f"request to another origin: {url}" for url in foreign]
        + [f"CSP violation: {violation}" for violation in violations]
        + [f"console: {message}" for message in tab.traffic.console_policy]
    )


def sign_in(tab: Tab, live_server: LiveServer, user: User, *, reauthenticate: bool = False) -> None:
    """Give the tab a real session for ``user`` (made by Django's test client)."""
    client = Client()
    client.force_login(user)
    if reauthenticate:
        # Setting up an authenticator app asks for the password again first.
        response = client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
        assert response.status_code == 302, response
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    tab.page.context.add_cookies(
        [{"name": session_cookie.key, "value": session_cookie.value, "url": live_server.url}]
    )


def staff_member() -> User:
    # Staff must have a second factor before the admin opens (rapport.accounts.middleware).
    return make_user(role="staff", mfa=True, is_superuser=True)


def admin_page_problems(tab: Tab, path: str) -> list[str]:
    """Like page_problems, and the admin page itself must open (not a sign-in or set-up page,
    which would make a clean result say nothing about the admin)."""
    # The admin fetches nothing after "load" until someone types into an autocomplete box.
    problems = page_problems(tab, path, until="load")
    if urlsplit(tab.page.url).path != path:
        problems.append(f"ended at {tab.page.url}")
    return problems


@pytest.fixture
def therapist() -> TherapistProfile:
    load_reference_data()
    return make_therapist()


def test_public_pages_fetch_only_same_origin_resources_and_break_no_csp_rule(tab, therapist):
    pages = [*PUBLIC_PAGES, f"/therapists/{therapist.public_id}/"]

    problems = {path: found for path in pages if (found := page_problems(tab, path))}

    assert problems == {}
    assert tab.traffic.failed == []
    assert tab.traffic.page_errors == []


def test_our_own_stylesheet_and_htmx_load_under_the_policy(tab, therapist):
    # Proves the nonce and 'self' let our own files through: a policy that blocked them would
    # also pass the "no violations" test above if the page simply never asked.
    assert page_problems(tab, f"/therapists/{therapist.public_id}/") == []

    assert tab.page.evaluate("window.htmx.version") == "2.0.10"
    # htmx read its configuration from the meta tag (no eval, no page copies in storage).
    assert tab.page.evaluate(
        "[htmx.config.allowEval, htmx.config.historyCacheSize, htmx.config.allowScriptTags]"
    ) == [False, 0, False]
    # rapport.css positions the skip link; without the sheet it would be "static".
    assert (
        tab.page.evaluate("getComputedStyle(document.querySelector('.skip-link')).position")
        == "absolute"
    )


def test_the_policy_blocks_injected_inline_script_and_third_party_image(tab):
    # The same recorder as above must see a violation when there is one, or its silence
    # proves nothing.
    assert page_problems(tab, "/therapists/") == []

    tab.page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.body.append(script);
          const image = document.createElement("img");
          image.src = "https://tracker.example/pixel.gif";
          document.body.append(image);
        }"""
    )
    tab.page.wait_for_function("window.__cspViolations.length >= 2")

    assert tab.page.evaluate("window.injected === undefined") is True
    page_url = f"{tab.traffic.origin}/therapists/"
    # Each entry ends in ":<line>"; where the evaluated snippet's line lands is Chromium's call.
    assert sorted(violation.rsplit(":", 1)[0] for violation in tab.csp_violations()) == [
        f"img-src blocked https://tracker.example/pixel.gif in {page_url}",
        f"script-src-elem blocked inline in {page_url}",
    ]
    # The CSP stopped the image inside Chromium, before the network (and the proxy) saw it.
    assert tab.traffic.failed == [("https://tracker.example/pixel.gif", "csp")]


def test_the_browser_cannot_reach_any_other_host(tab):
    # The tests' own guarantee of no network calls: were a page to slip past the CSP, its
    # third-party request would fail here rather than leave the machine.
    assert page_problems(tab, "/healthz") == []
    with pytest.raises(PlaywrightError) as raised:
        tab.page.goto("http://example.org/")

    assert "net::ERR_PROXY_CONNECTION_FAILED" in raised.value.message


def test_admin_works_under_the_policy_without_exceptions(tab, live_server, therapist):
    staff = staff_member()
    sign_in(tab, live_server, staff)
    pages = ["/admin/", "/admin/password_change/"]
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    # The richest forms: inlines, autocomplete, two-box selectors, date and time pickers.
    pages += [
        reverse("admin:directory_therapistprofile_add"),
        reverse("admin:directory_therapistprofile_change", args=[therapist.pk]),
        reverse("admin:accounts_user_change", args=[staff.pk]),
        reverse("admin:directory_regulator_change", args=[therapist.licences.get().regulator_id]),
    ]

    problems = {path: found for path in pages if (found := admin_page_problems(tab, path))}

    assert problems == {}
    assert tab.traffic.page_errors == []


def test_admin_widgets_run_their_scripts_without_violations(tab, live_server):
    staff = staff_member()
    sign_in(tab, live_server, staff)
    assert admin_page_problems(tab, reverse("admin:accounts_user_change", args=[staff.pk])) == []
    page = tab.page

    # The two-box permission selector is built by SelectFilter2.js at load.
    assert page.locator("#id_user_permissions_from").count() == 1
    # The date picker: its calendar is built and shown by DateTimeShortcuts.js.
    page.locator(".datetimeshortcuts a", has_text="Today").first.click()
    page.locator("#calendarlink0").click()
    assert page.locator("#calendarbox0").is_visible()
    page.keyboard.press("Escape")

    assert tab.csp_violations() == []
    assert tab.traffic.console_policy == []
    assert tab.traffic.page_errors == []


def test_totp_set_up_shows_its_qr_code_from_a_data_uri(tab, live_server):
    client_user = make_user(role="client")  # with a verified address, which MFA needs
    sign_in(tab, live_server, client_user, reauthenticate=True)

    assert page_problems(tab, reverse("mfa_activate_totp")) == []
    assert urlsplit(tab.page.url).path == reverse("mfa_activate_totp")

    qr_code = tab.page.locator("img[src^='data:image/svg+xml']")
    assert qr_code.count() == 1
    # Decoded and laid out, so img-src really let it through.
    assert qr_code.evaluate("image => image.complete && image.naturalWidth > 0") is True
