"""Browser fixtures: the session app served over HTTP, Debian's Chromium driven by Playwright.

Nothing here downloads a browser: Chromium is the system one at /usr/bin/chromium. Every request
that does not go to the live server (CDNs, OpenStreetMap tiles) is aborted, so no test touches the
internet. The app's CSP forbids inline scripts and eval; Playwright's `page.evaluate` (used to
inject axe-core) runs through the DevTools protocol and is not subject to it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 360, "height": 740}  # a cheap Android phone
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this folder `browser` (this hook sees the whole session's items)."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


class InFlight:
    """WSGI wrapper counting the requests the live server is still handling.

    A browser can leave a request running after a test ends (a late favicon, a poll). The
    per-test cleanup TRUNCATEs every table, and on PostgreSQL that deadlocks with such a
    request; so teardown waits until the server is idle first.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.count = 0
        self.idle = threading.Condition()

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        with self.idle:
            self.count += 1
        try:
            result = self.app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        finally:
            with self.idle:
                self.count -= 1
                self.idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.count == 0, timeout)


@pytest.fixture(scope="session")
def live_server_inflight(app: Flask) -> InFlight:
    return InFlight(app)


@pytest.fixture(autouse=True)
def _live_server_settles(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each browser test (its pages closed), wait for the server before the cleanup."""
    uses_server = "live_server" in request.fixturenames
    inflight = request.getfixturevalue("live_server_inflight") if uses_server else None
    yield
    if inflight is not None:
        assert inflight.wait_idle(), "the live server was still busy 10 s after the test"


_SERVED_APP: list[Flask] = []


@pytest.fixture(scope="session")
def live_server(app: Flask, live_server_inflight: InFlight) -> Iterator[str]:
    """The session app on a free local port, in a daemon thread; yields the base URL."""
    _SERVED_APP[:] = [app]
    server = make_server("127.0.0.1", 0, live_server_inflight, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
            pytest.fail(f"REQUIRE_BROWSER_TESTS=1 but {reason}")
        pytest.skip(reason)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def _page(browser: Browser, live_server: str, *, javascript: bool) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE_VIEWPORT, java_script_enabled=javascript, locale="id-ID"
    )
    prefix = live_server + "/"

    def block(route: Route) -> None:
        route.abort()

    context.route(lambda url: not url.startswith(prefix), block)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh phone-sized context (no cookies) whose requests can only reach the live server."""
    yield from _page(browser, live_server, javascript=True)


@pytest.fixture
def page_without_js(browser: Browser, live_server: str) -> Iterator[Page]:
    """The same with JavaScript off: every flow must still work as plain HTML forms."""
    yield from _page(browser, live_server, javascript=False)


def check_accessible(page: Page) -> None:
    """Fail with axe-core's report when the page as it is now has accessibility violations."""
    results = Axe().run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.fixture
def assert_accessible() -> Callable[[Page], None]:
    return check_accessible


# --- shared by the flow tests ---------------------------------------------------------------------

OpenPage = Callable[..., Page]

# The innermost elements whose right edge is beyond the screen, to say what to fix.
WIDE_ELEMENTS = """width => [...document.querySelectorAll('main *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > width + 0.5))
    .slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.')
        + ' ' + JSON.stringify((e.textContent || '').trim().slice(0, 40)))"""


@pytest.fixture
def open_page(browser: Browser, live_server: str) -> Iterator[OpenPage]:
    """Another phone (its own cookies) for another person, with or without JavaScript."""
    contexts = []
    prefix = live_server + "/"

    def block(route: Route) -> None:
        route.abort()

    def _open(*, javascript: bool = True) -> Page:
        context = browser.new_context(
            viewport=PHONE_VIEWPORT, java_script_enabled=javascript, locale="id-ID"
        )
        context.route(lambda url: not url.startswith(prefix), block)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def url_is(path: str) -> re.Pattern[str]:
    """The page URL ends with this path (a regular expression), no query string."""
    return re.compile(path + r"$")


def current_totp(email: str) -> str:
    """The code an authenticator app shows now for a test staff account (the demo secret).

    A code is accepted once per 30-second step, so the account's last used step is cleared first:
    one browser test may log the same officer in twice within half a minute.
    """
    import pyotp

    from portal.accounts.services import find_user_by_identifier
    from portal.extensions import db

    assert _SERVED_APP, "the live server is running"
    with _SERVED_APP[0].app_context():
        user = find_user_by_identifier(email)
        assert user is not None and user.totp_secret
        user.totp_last_step = None
        db.session.commit()
        return pyotp.TOTP(user.totp_secret).now()


def log_in(page: Page, live_server: str, email: str, password: str | None = None) -> None:
    """Log in through the form, as a person would, and wait for the home page."""
    from tests.factories import DEFAULT_PASSWORD

    page.goto(f"{live_server}/accounts/login")
    page.locator("#identifier").fill(email)
    page.locator("#password").fill(password or DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").click()
    # A successful login is an HX-Redirect (a full page load): home, or the code step for staff.
    page.wait_for_url(re.compile(r"/(accounts/login/mfa\?.*)?$"))
    if "/accounts/login/mfa" in page.url:
        # Staff: the second step, typing the code the authenticator app would show.
        page.locator("#code").fill(current_totp(email))
        page.locator("main form button[type=submit]").first.click()
    # The home page itself (url_is("/") would also match ".../mfa?next=/").
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))
    expect(page.locator("header nav.account-nav a[href$='/accounts/profile']")).to_be_visible()


def assert_fits(page: Page) -> None:
    """Nothing sticks out sideways on the 360 px phone; if it does, say which elements."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE_VIEWPORT["width"]:
        wide = page.evaluate(WIDE_ELEMENTS, PHONE_VIEWPORT["width"])
        pytest.fail(f"{page.url} is {width} px wide; sticking out: {wide}")
