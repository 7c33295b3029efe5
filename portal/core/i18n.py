"""Translations looked up once per request and locale, for templates, gettext and lazy strings.

Flask-Babel resolves the domain, the request context and its cache key on every gettext call
(about 7 us; 12 us through a template). A queue or statement page translates 100-300 strings,
status and method labels included, which made translation a visible share of its time. The
domain below remembers the catalogue on `g` next to the Locale it was chosen for: force_locale
(mail in the recipient's language) swaps the Locale object, so the identity check notices.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import Babel, Domain, get_locale

_KEY = "_portal_translations"


class RequestCachedDomain(Domain):
    """Flask-Babel's default domain, with the request's catalogue kept on `g`."""

    def get_translations(self) -> Any:
        try:
            here = g._get_current_object().__dict__  # type: ignore[attr-defined]
        except RuntimeError:  # no application context: Flask-Babel's own answer
            return super().get_translations()
        # Flask-Babel keeps the chosen (or forced) Locale on g._flask_babel; reading it skips
        # three proxy lookups. get_locale() chooses it when it is not chosen yet.
        locale = getattr(here.get("_flask_babel"), "babel_locale", None) or get_locale()
        cached = here.get(_KEY)
        if cached is not None and cached[0] is locale:
            return cached[1]
        translations = super().get_translations()
        if locale is not None:
            here[_KEY] = (locale, translations)
        return translations


def install(app: Flask, babel: Babel) -> None:
    """Make the cached domain the default one, and give templates direct callables to it."""
    domain = RequestCachedDomain(domain=app.config.get("BABEL_DOMAIN", "messages"))
    babel.domain_instance = domain  # werkzeug's cached_property accepts an assigned value
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
