"""The header walk: every page each persona may open carries the browser-side protections.

For every GET the access matrix allows a persona (so the page really renders), plain and as an
htmx navigation: a Content-Security-Policy whose scripts allow neither inline code nor eval,
nosniff, a Referrer-Policy, framing refused, a Permissions-Policy. Pages showing a NIK (even
masked), a home address or a wallet balance must also send `Cache-Control: no-store` and carry
`hx-history="false"`, so neither a shared computer's browser cache nor htmx's history snapshot
in localStorage keeps them. Which pages those are is declared below (SHOWS_PERSONAL_DATA) and
checked against what the pages actually contain, so a new one cannot slip by undeclared.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.conftest import csrf_token
from tests.security.test_access_matrix import ACCESS, expected
from tests.security.world import (
    A_NIK,
    A_STREET,
    ALLOWED,
    ANONYMOUS,
    B_STREET,
    PERSONAS,
    calls,
    client_for,
    make_world,
)

# Pages that show someone's NIK (full or masked), home address or wallet balance, to some
# persona. Every response of these is no-store and kept out of htmx's history.
SHOWS_PERSONAL_DATA = frozenset(
    {
        "accounts.profile_show",
        "accounts.profile_edit",
        "admin.user_show",
        "jumpa_madu.index",  # the balance, once logged in
        "jumpa_madu.pickup_new",
        "jumpa_madu.pickup_show",
        "jumpa_madu.wallet_show",
        "jumpa_madu.withdrawal_new",
        "jumpa_madu_officer.pickup_show",
        "jumpa_madu_officer.pickup_schedule",
        "jumpa_madu_officer.pickup_cancel",
        "privacy.data_show",
        "sadoku.draft_edit",  # the subject and summary steps
        "sadoku.request_show",
        "sadoku.request_receipt",
        "sadoku.request_correct",
        "sadoku.track",  # the result of a lookup (a POST, see the test below)
        "sadoku_officer.request_show",
        "sadoku_officer.request_transition",
        "sadoku_officer.delivery_index",  # the courier's addresses on the delivery day
    }
)
# Public product photos and shop logos: cached for a year on purpose (random, never reused keys).
PUBLIC_ASSETS = frozenset({"mall.photo"})

PERSONAL_MARKERS = {
    "a masked NIK": re.compile(r"\d{4}•{4,}\d{4}"),
    "a full NIK or KK number": re.compile(r"(?<![\w-])\d{16}(?![\w-])"),
    "a resident's home address": re.compile(f"{re.escape(A_STREET)}|{re.escape(B_STREET)}"),
    "a wallet balance": re.compile(r"\bSaldo\b"),
}
# Long random strings (CSRF tokens, hashes) are not page text: a 16-digit run inside one is not
# a NIK.
TOKENS = re.compile(r"[A-Za-z0-9._~+/=-]{28,}")
SAFE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
HTMX_NAVIGATION = {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "content"}


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def header_problems(response: Any, *, html: bool) -> list[str]:
    """What is missing or weak in the browser-protection headers of one response."""
    problems = []
    csp = csp_directives(response.headers.get("Content-Security-Policy", ""))
    if not csp:
        problems.append("no Content-Security-Policy")
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None:
        problems.append("CSP does not restrict scripts (no script-src or default-src)")
    elif {"'unsafe-inline'", "'unsafe-eval'"} & set(scripts):
        problems.append(f"CSP script-src allows {scripts}")
    if html and csp.get("frame-ancestors") != ["'none'"]:
        problems.append("CSP frame-ancestors is not 'none'")
    if response.headers.get("X-Frame-Options") != "DENY":
        problems.append("X-Frame-Options is not DENY")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    if response.headers.get("Referrer-Policy") not in SAFE_REFERRER_POLICIES:
        problems.append(f"Referrer-Policy is {response.headers.get('Referrer-Policy')!r}")
    if not response.headers.get("Permissions-Policy"):
        problems.append("no Permissions-Policy")
    return problems


def personal_data_in(body: str) -> list[str]:
    text = TOKENS.sub(" ", body)
    return [name for name, pattern in PERSONAL_MARKERS.items() if pattern.search(text)]


def kept_out_of_caches(response: Any, *, html: bool) -> list[str]:
    problems = []
    cache = response.headers.get("Cache-Control", "")
    if "no-store" not in cache:
        problems.append(f"Cache-Control is {cache!r}, not no-store")
    if html and 'hx-history="false"' not in response.get_data(as_text=True):
        problems.append('no hx-history="false" in the page')
    return problems


def is_page(response: Any) -> bool:
    """An HTML page someone sees (a redirect's or a 204's body is not)."""
    return (
        response.mimetype == "text/html"
        and not 300 <= response.status_code < 400
        and bool(response.get_data())
    )


def page_problems(endpoint: str, persona: str, response: Any, label: str) -> list[str]:
    html = is_page(response)
    problems = header_problems(response, html=html)
    found = personal_data_in(response.get_data(as_text=True)) if html else []
    if found and endpoint not in SHOWS_PERSONAL_DATA:
        problems.append(f"shows {found} but is not in SHOWS_PERSONAL_DATA")
    # Every page of a logged-in user is private; a public page only when it shows someone's
    # data (and then it must be declared above).
    if (persona != ANONYMOUS and endpoint not in PUBLIC_ASSETS) or found:
        problems += kept_out_of_caches(response, html=html)
    return [f"{endpoint} ({label}, {response.status_code}): {p}" for p in problems]


def test_the_declared_pages_exist():
    unknown = sorted((SHOWS_PERSONAL_DATA | PUBLIC_ASSETS) - set(ACCESS))
    assert not unknown, f"declared pages that are not endpoints in the access table: {unknown}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_carries_the_headers(app: Flask, persona: str):
    """Every GET the persona may open, as a full page and as an htmx navigation."""
    world = make_world(app)
    client = client_for(app, world, persona)
    gets = [
        c
        for c in calls(app, world)
        if c.method == "GET"
        and c.endpoint in ACCESS
        and expected(c.endpoint, "GET", persona) == ALLOWED
    ]
    assert gets, persona
    failures = []
    for call in gets:
        response = client.get(call.url)
        failures += page_problems(call.endpoint, persona, response, "page")
        if is_page(response):
            # The htmx navigation swaps <main> only: the marker must come with it.
            response = client.get(call.url, headers=HTMX_NAVIGATION)
            failures += page_problems(call.endpoint, persona, response, "htmx")
    assert not failures, f"{persona}: {len(failures)} problem(s):\n" + "\n".join(failures)


def test_public_tracking_result_is_kept_out_of_caches(app: Flask):
    """Anyone with the code and 4 NIK digits sees a request's history: never cached or kept."""
    world = make_world(app)
    client = client_for(app, world, ANONYMOUS)
    data = {"code": world["open_code"], "nik_last4": A_NIK[-4:]}
    data["csrf_token"] = csrf_token(client)
    for headers in ({}, HTMX_NAVIGATION):
        response = client.post("/sadoku/track", data=data, headers=headers)
        assert response.status_code == 200
        assert world["open_code"] in response.get_data(as_text=True)
        assert kept_out_of_caches(response, html=True) == []
        assert header_problems(response, html=True) == []
    # The empty form next to it is a public page like any other: cacheable, no marker.
    form = client.get("/sadoku/track")
    assert "no-store" not in form.headers.get("Cache-Control", "")
    assert 'hx-history="false"' not in form.get_data(as_text=True)
