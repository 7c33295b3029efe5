"""Indonesian first, English on request: catalogue, language switch, rupiah and WIB times."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from portal import ERROR_TITLES
from portal.accounts.models import Role
from portal.core.money import format_rupiah
from tests.conftest import post
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "portal" / "translations" / "id" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}  # as `make extract-messages`
# %(name)s, %d, %.1f, %% ... and a lone % (which breaks Jinja's new-style gettext formatting).
FORMAT_SPEC = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]|%")


@cache
def _catalogue() -> Catalog:
    with PO_FILE.open("rb") as fh:
        return read_po(fh, locale="id")


@cache
def _extracted() -> dict[tuple[str, str | None], tuple[str | tuple[str, ...], list[str]]]:
    """Every translatable message in the current source: (msgid, context) -> (message, places)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(ROOT / "babel.cfg"))
    found: dict[tuple[str, str | None], tuple[str | tuple[str, ...], list[str]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if not msgid:
            continue
        _, places = found.setdefault((msgid, context), (message, []))
        places.append(f"{filename}:{lineno}")
    return found


def _translation(msgid: str) -> str:
    """The Indonesian text the catalogue gives for an English msgid (singular)."""
    entry = _catalogue().get(msgid)
    assert entry is not None and entry.string, f"{msgid!r} is not translated"
    return entry.string if isinstance(entry.string, str) else entry.string[0]


def _specs(text: str) -> Counter[str]:
    return Counter(FORMAT_SPEC.findall(text))


# --- (a) the catalogue ----------------------------------------------------------------------------


def test_extraction_finds_the_source_messages():
    # Guards the completeness test below against an extraction that silently finds nothing.
    found = _extracted()
    assert len(found) > 100
    assert ("Log in", None) in found  # a template
    assert ("A NIK has exactly 16 digits", None) in found  # _l() in a form


def test_indonesian_catalogue_is_complete():
    catalogue = _catalogue()
    missing, untranslated, fuzzy = [], [], []
    for (msgid, context), (_message, places) in sorted(_extracted().items()):
        entry = catalogue.get(msgid, context=context)
        where = f"{msgid!r} ({places[0]})"
        if entry is None:
            missing.append(where)
        elif entry.fuzzy:
            fuzzy.append(where)
        elif not (entry.string if isinstance(entry.string, str) else all(entry.string)):
            untranslated.append(where)
    problems = {
        "not in messages.po (run `make extract-messages`)": missing,
        "without a translation": untranslated,
        "marked fuzzy": fuzzy,
    }
    report = "\n".join(
        f"{len(items)} {label}:\n  " + "\n  ".join(items)
        for label, items in problems.items()
        if items
    )
    assert not report, report


def test_translations_keep_the_placeholders():
    wrong = []
    for entry in _catalogue():
        if not entry.id or not entry.string:
            continue
        if isinstance(entry.id, tuple):
            expected = set(_specs(entry.id[0])) | set(_specs(entry.id[1]))
            forms = [s for s in entry.string if s]
            if any(not set(_specs(s)) <= expected for s in forms) or (
                forms and set(_specs(forms[-1])) != expected
            ):
                wrong.append(f"{entry.id!r} -> {entry.string!r}")
        elif _specs(entry.string) != _specs(entry.id):
            wrong.append(f"{entry.id!r} -> {entry.string!r}")
    assert not wrong, "placeholders differ:\n  " + "\n  ".join(wrong)


def test_error_page_titles_are_translated(client):
    catalogue = _catalogue()
    untranslated = [
        title for title in ERROR_TITLES.values() if not getattr(catalogue.get(title), "string", "")
    ]
    assert not untranslated, untranslated
    html = client.get("/no-such-page").get_data(as_text=True)
    assert f"<h1>{_translation('Page not found')}</h1>" in html


# --- (b) choosing the language --------------------------------------------------------------------


def test_indonesian_is_the_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="id">' in html
    assert ">Masuk<" in html
    assert ">Log in<" not in html


def test_language_switch_sets_a_cookie_and_english_is_shown(client):
    response = post(client, "/language", {"lang": "en"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/")
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith("lang=en;")
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie
    assert "Max-Age=31536000" in set_cookie  # remembered for a year, across log in and log out
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"

    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert ">Log in<" in html
    assert ">Masuk<" not in html

    post(client, "/language", {"lang": "id"})
    assert '<html lang="id">' in client.get("/").get_data(as_text=True)


def test_language_switch_returns_to_the_page_but_never_off_site(client):
    response = post(client, "/language", {"lang": "en", "next": "/privacy"})
    assert response.headers["Location"].endswith("/privacy")
    response = post(client, "/language", {"lang": "en", "next": "//evil.test/"})
    assert response.status_code == 303
    assert "evil.test" not in response.headers["Location"]


@pytest.mark.parametrize("value", ["fr", "", "en;x", "ID"])
def test_unknown_language_is_ignored(client, value):
    response = post(client, "/language", {"lang": value})
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers or "lang=" not in response.headers["Set-Cookie"]
    client.set_cookie("lang", value)
    assert '<html lang="id">' in client.get("/").get_data(as_text=True)


def test_role_names_in_the_admin_form_follow_the_language(app, client, login_as):
    with app.app_context():
        target_id = make_user().id
    login_as(Role.ADMIN)
    response = client.get(f"/admin/users/{target_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<select" in html
    for english in ("SADOKU officer", "Jumpa Madu unit officer"):
        assert f">{_translation(english)}</option>" in html


# --- (c) rupiah -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (15000, "Rp 15.000"),
        (1234567, "Rp 1.234.567"),
        (0, "Rp 0"),
        (999, "Rp 999"),
        (1000, "Rp 1.000"),
        (-2500, "-Rp 2.500"),
        (None, ""),
    ],
)
def test_format_rupiah(amount, shown):
    assert format_rupiah(amount) == shown


def test_rupiah_is_indonesian_in_the_english_ui(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        rendered = app.jinja_env.from_string("{{ 1500000|rupiah }}").render()
    assert rendered == "Rp 1.500.000"


# --- (d) times in WIB -----------------------------------------------------------------------------


def test_wib_filter_shows_jakarta_time_in_indonesian(app):
    wib = app.jinja_env.filters["wib"]
    with app.test_request_context():
        new_year = wib(dt.datetime(2026, 1, 1, 17, 30, tzinfo=dt.UTC))
        merdeka = wib(dt.datetime(2026, 8, 17, 3, 0, tzinfo=dt.UTC))
        naive_from_sqlite = wib(dt.datetime(2026, 12, 31, 20, 15))
        nothing = wib(None)
    assert new_year.startswith("2 Jan 2026")  # already the next day in Jakarta (UTC+7)
    assert "00.30" in new_year
    assert new_year.endswith(" WIB")
    assert merdeka == "17 Agu 2026, 10.00 WIB"  # Indonesian month name, dot in the time
    assert naive_from_sqlite == "1 Jan 2027, 03.15 WIB"  # naive values are UTC
    assert nothing == ""


def test_wib_filter_in_english(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        shown = app.jinja_env.filters["wib"](dt.datetime(2026, 8, 17, 3, 0, tzinfo=dt.UTC))
    assert "Aug" in shown
    assert "10.00 WIB" in shown


def test_templates_follow_force_locale_within_one_request(app):
    """Translations are looked up once per request and locale (portal.core.i18n): a mail rendered
    in the recipient's language inside a page's request must not keep the page's language, nor
    the page the mail's; templates, gettext and lazy labels alike."""
    from flask import render_template_string
    from flask_babel import force_locale, gettext, lazy_gettext

    from portal.sadoku.models import Status

    source = "{{ _('Log in') }}|{{ ngettext('%(num)d request', '%(num)d requests', 2) }}"
    label = lazy_gettext("Log in")

    def everything() -> tuple[str, str, str, str]:
        return render_template_string(source), gettext("Log in"), str(label), Status.DELIVERED.label

    with app.test_request_context(headers={"Cookie": "lang=id"}):
        page = everything()
        with force_locale("en"):
            mail = everything()
        again = everything()
    assert mail == ("Log in|2 requests", "Log in", "Log in", "Delivered")
    assert page == again
    assert page[0].split("|")[0] == page[1] == page[2] != "Log in"
    assert "permohonan" in page[0].split("|")[1]
    assert page[3] != "Delivered"
