"""Full page or fragment: one place decides, from the HX-Target header (see STYLE.md, htmx)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, redirect, render_template, request

CONTENT_TARGET = "content"


def is_htmx() -> bool:
    """True for requests sent by htmx (including boosted links and forms)."""
    return request.headers.get("HX-Request") == "true"


def hx_target() -> str | None:
    """The id of the element htmx will swap, when it is an htmx request."""
    return request.headers.get("HX-Target") if is_htmx() else None


def render_page(
    template: str,
    *,
    partial: str | None = None,
    target: str | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    """Render a page, only the <main> of it for boosted navigation, or only a partial.

    The partial is returned only when HX-Target names its root id; a boosted navigation (target
    ``content``) gets the page's <title> and <main>; everything else gets the whole document, so
    every URL works without JavaScript and in a new tab.
    """
    tgt = hx_target()
    if partial is not None and target is not None and tgt == target:
        body = render_template(partial, **context)
    else:
        body = render_template(template, htmx_fragment=(tgt == CONTENT_TARGET), **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response


def hx_redirect(url: str, *, full: bool = False) -> Response:
    """Redirect after a successful POST: 303 for plain requests, HX-Location for htmx ones.

    `full=True` asks htmx for a whole-page load (HX-Redirect): needed after log in, log out and a
    language change, because the header outside <main> changes too.
    """
    if is_htmx():
        response = make_response("", 204)
        if full:
            response.headers["HX-Redirect"] = url
        else:
            response.headers["HX-Location"] = json.dumps(
                {"path": url, "target": "#content", "swap": "outerHTML show:window:top"}
            )
        return response
    return redirect(url, code=303)
