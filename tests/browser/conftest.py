"""Real-browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

The browser is always the machine's ``/usr/bin/chromium`` (``apt-get install chromium``); the
suite never downloads one. Every test in this folder is marked ``browser``: ``make test`` leaves
them out and ``make test-browser`` runs only them. Without Chromium they are skipped with the
reason, unless ``RAPPORT_REQUIRE_BROWSER=1`` (set by ``make test-browser``, so CI cannot pass by
skipping them), which turns a missing browser into an error.

Playwright lives on a thread of its own. Its sync API keeps an asyncio loop running on the
thread that uses it, and Django, seeing that loop, would both refuse the test's ORM calls as
"async-unsafe" and hand the test a different database connection from the one the test
database was set up on (losing the serialized rollback, and leaving a PostgreSQL connection
open at tear-down). Setting DJANGO_ALLOW_ASYNC_UNSAFE would hide only the first of those. So
the test thread stays plain synchronous Django, and every Playwright call is carried over to
the browser thread by ``OnBrowserThread``; tests still write ``page.goto(...)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and quiet: the browser itself must not phone home (updates, sync, field trials), so
# the only traffic is what the page under test asks for.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Nothing leaves the machine: every host but this one (loopback is never proxied) goes
    # through a proxy that does not exist, so a third-party request fails instead of reaching a
    # tracker, and the test still sees it. (Playwright's request routing would do the same at
    # twice the cost per page: it turns off the browser's cache.)
    "--proxy-server=http://127.0.0.1:9",
]
REQUIRE_BROWSER = "RAPPORT_REQUIRE_BROWSER"
HERE = Path(__file__).parent

# Runs in every document before the page's own scripts: the browser's own record of each CSP
# violation, which is exact where console wording may change between Chromium versions.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}` +
    ` in ${event.sourceFile || event.documentURI}:${event.lineNumber}`
  );
});
"""

POLICY_CONSOLE_WORDS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy")

_T = TypeVar("_T")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything in this folder ``browser``, and skip it when there is no Chromium.

    ``tryfirst`` puts the mark on before pytest's own ``-m`` filtering looks for it.
    """
    chromium_missing = not CHROMIUM.is_file()
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if not chromium_missing:
            continue
        if os.environ.get(REQUIRE_BROWSER) == "1":
            raise pytest.UsageError(
                f"{REQUIRE_BROWSER}=1 but {CHROMIUM} is missing: install Debian's Chromium "
                "(apt-get install -y chromium); the browser tests must run, not skip."
            )
        item.add_marker(
            pytest.mark.skip(
                reason=f"{CHROMIUM} not found: install Debian's Chromium "
                "(apt-get install -y chromium) to run the browser tests"
            )
        )


class BrowserThread:
    """The one thread every Playwright object is created on and used from."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")

    def call(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        return self._executor.submit(function, *args, **kwargs).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


class OnBrowserThread:
    """Stands in for a Playwright object: each attribute read and call runs on its thread.

    Playwright objects that come back (a Locator, a Response) are wrapped the same way; plain
    values (strings, lists, numbers) come back as they are.
    """

    __slots__ = ("_target", "_thread")

    def __init__(self, thread: BrowserThread, target: object) -> None:
        object.__setattr__(self, "_thread", thread)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        value = self._thread.call(getattr, self._target, name)
        if callable(value):
            return lambda *args, **kwargs: self._wrap(self._thread.call(value, *args, **kwargs))
        return self._wrap(value)

    def _wrap(self, value: object) -> Any:
        if type(value).__module__.startswith("playwright."):
            return OnBrowserThread(self._thread, value)
        return value

    def __repr__(self) -> str:
        return f"OnBrowserThread({self._target!r})"


@dataclass
class Chromium:
    thread: BrowserThread
    browser: Browser


@pytest.fixture(scope="package")
def chromium() -> Iterator[Chromium]:
    """One headless Chromium for the folder's tests, on its own thread."""
    thread = BrowserThread()
    playwright = thread.call(lambda: sync_playwright().start())
    try:
        browser = thread.call(
            playwright.chromium.launch,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield Chromium(thread=thread, browser=browser)
        thread.call(browser.close)
    finally:
        thread.call(playwright.stop)
        thread.shutdown()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# An element that is not there yet counts as "not yet", not as an error: a form submitted before
# the page's script has loaded navigates, and the next document is polled while it is still
# being parsed. (A predicate that throws ends Playwright's wait at once.)
ELEMENT_TEXT = """([id, text, exact]) => {
  const content = document.getElementById(id)?.textContent ?? "";
  return exact ? content === text : content.includes(text);
}"""


def wait_for_text(
    page: Any, element_id: str, text: str, *, exact: bool = False, timeout: float | None = None
) -> None:
    """Wait until the element with ``element_id`` says ``text`` (contains it, or is it exactly)."""
    page.wait_for_function(ELEMENT_TEXT, arg=[element_id, text, exact], timeout=timeout)


def wait_until_busy(page: Any, element_id: str) -> None:
    """Wait until the region with ``element_id`` is marked aria-busy (a request on its way)."""
    page.wait_for_function(
        "(id) => document.getElementById(id)?.ariaBusy === 'true'", arg=element_id
    )


@dataclass
class PageTraffic:
    """What one browser tab asked for and complained about (filled in on the browser thread)."""

    origin: str
    requests: list[str] = field(default_factory=list)
    failed: list[tuple[str, str | None]] = field(default_factory=list)  # (url, why)
    # What Chromium says about our policies: CSP violations, and Permissions-Policy entries it
    # cannot parse (a misspelt feature is silently not denied).
    console_policy: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if any(word in message.text for word in POLICY_CONSOLE_WORDS):
            self.console_policy.append(message.text)

    def on_request_failed(self, request: Request) -> None:
        self.failed.append((request.url, request.failure))


@dataclass
class Tab:
    page: Page
    traffic: PageTraffic

    def visit(
        self, path: str, *, until: Literal["load", "networkidle"] = "networkidle"
    ) -> list[str]:
        """Open a page, wait (by default until its network is quiet), return its CSP violations.

        "networkidle" also catches what scripts fetch after the page has loaded (htmx's
        hx-trigger="load", say), at the price of half a second of silence per page.
        """
        response = self.page.goto(self.traffic.origin + path, wait_until=until)
        assert response is not None
        assert response.status < 500, (path, response.status)
        return self.csp_violations()

    def csp_violations(self) -> list[str]:
        return cast(list[str], self.page.evaluate("window.__cspViolations"))


@pytest.fixture
def tab(chromium: Chromium, live_server: LiveServer) -> Iterator[Tab]:
    """A fresh browser context on the live server that records every request and complaint."""
    traffic = PageTraffic(origin=origin_of(live_server.url))

    def open_tab() -> Page:
        context = chromium.browser.new_context()
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        page = context.new_page()
        page.on("request", lambda request: traffic.requests.append(request.url))
        page.on("requestfailed", traffic.on_request_failed)
        page.on("console", traffic.on_console)
        page.on("pageerror", lambda error: traffic.page_errors.append(str(error)))
        return page

    page = chromium.thread.call(open_tab)
    yield Tab(page=cast(Page, OnBrowserThread(chromium.thread, page)), traffic=traffic)
    chromium.thread.call(page.context.close)
