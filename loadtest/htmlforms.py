"""Read HTML forms the way a browser does, so the load test fills in the real pages' forms.

A virtual user loads a page, picks a form by its action, and gets what a browser would send
without typing anything (hidden fields with the CSRF token, checked radios and boxes, selected
options, textarea text), plus the choices it could make. Standard library only: the load test
must not need more than locust.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


@dataclass
class Form:
    """One <form>: where it posts, what it sends untouched, and the choices it offers."""

    action: str
    method: str
    enctype: str
    values: dict[str, list[str]] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def data(self, **overrides: str | list[str]) -> list[tuple[str, str]]:
        """The body to post: the defaults with `overrides` replacing whole fields."""
        merged: dict[str, list[str]] = {k: list(v) for k, v in self.values.items()}
        for name, value in overrides.items():
            merged[name] = list(value) if isinstance(value, list) else [value]
        return [(name, v) for name, values in merged.items() for v in values]

    def first(self, name: str) -> str:
        values = self.values.get(name) or [""]
        return values[0]


class _FormParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_has_selected = False
        self._select_first: str | None = None
        self._option: dict[str, str | None] | None = None
        self._option_text: list[str] = []
        self._textarea: str | None = None
        self._textarea_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(
                action=urljoin(self.base_url, a.get("action") or self.base_url),
                method=(a.get("method") or "get").lower(),
                enctype=a.get("enctype") or "application/x-www-form-urlencoded",
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            value = a.get("value", "")
            if kind in ("submit", "image", "button", "reset"):
                form.buttons.append((name, value or ""))
            elif kind == "file":
                form.files.append(name)
            elif kind in ("radio", "checkbox"):
                form.choices.setdefault(name, []).append(value or "on")
                if "checked" in a:
                    form.values.setdefault(name, []).append(value or "on")
            else:
                form.values.setdefault(name, []).append(value or "")
        elif tag == "button" and name:
            form.buttons.append((name, a.get("value", "") or ""))
        elif tag == "select" and name:
            self._select, self._select_has_selected, self._select_first = name, False, None
            form.choices.setdefault(name, [])
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": a.get("value"),
                "selected": "selected" if "selected" in a else None,
            }
            self._option_text = []
        elif tag == "textarea" and name:
            self._textarea, self._textarea_text = name, []

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option_text.append(data)
        if self._textarea is not None:
            self._textarea_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if tag == "option" and self._option is not None and self._select is not None and form:
            value = self._option["value"]
            if value is None:
                value = "".join(self._option_text).strip()
            form.choices[self._select].append(value)
            if self._select_first is None:
                self._select_first = value
            if self._option["selected"]:
                form.values.setdefault(self._select, []).append(value)
                self._select_has_selected = True
            self._option = None
        elif tag == "select" and self._select is not None and form:
            if not self._select_has_selected and self._select_first is not None:
                form.values.setdefault(self._select, []).append(self._select_first)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and form:
            text = "".join(self._textarea_text)
            # Browsers drop the one line break that follows <textarea>.
            text = text.removeprefix("\r\n") if text.startswith("\r\n") else text.removeprefix("\n")
            form.values.setdefault(self._textarea, []).append(text)
            self._textarea = None
        elif tag == "form":
            self._form = None


def parse_forms(html: str, base_url: str) -> list[Form]:
    parser = _FormParser(base_url)
    parser.feed(html)
    parser.close()
    return parser.forms


def find_form(html: str, base_url: str, action_contains: str, method: str = "post") -> Form | None:
    """The first form whose action path contains `action_contains` (the page's main form)."""
    for form in parse_forms(html, base_url):
        if form.method == method and action_contains in urlsplit(form.action).path:
            return form
    return None


HREF_RE = re.compile(r'href="([^"]+)"')


def links(html: str, pattern: str) -> list[str]:
    """Every href matching the regular expression `pattern`, unescaped, in page order, unique."""
    wanted = re.compile(pattern)
    seen: dict[str, None] = {}
    for href in HREF_RE.findall(html):
        href = unescape(href)
        if wanted.search(href):
            seen.setdefault(href, None)
    return list(seen)
