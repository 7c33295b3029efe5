"""SADOKU without logging in: the service page, document pages and public tracking.

Tracking is the one place a stranger can reach a request, so these tests check that it shows
no personal data and cannot be tried endlessly.
"""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests.conftest import post
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    VALID_KK,
    VALID_NIK,
    make_document_type,
    make_request,
)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture(autouse=True)
def english(client):
    """Read the pages in English, whatever the Indonesian catalogue holds today."""
    client.set_cookie("lang", "en")


# --- service and document pages ------------------------------------------------------------------


def test_index_explains_the_service_and_lists_active_documents(client, app):
    with app.app_context():
        make_document_type()  # seeds the catalogue
        make_document_type(name="Dokumen Lama", slug="dokumen-lama", is_active=False)
    response = client.get("/sadoku/")
    assert response.status_code == 200
    page = text(response)
    assert page.count("<h1") == 1
    assert "The service is free." in page
    assert page.count("<li>") >= 4  # how it works, in four steps
    assert 'href="/sadoku/documents/ktp-el"' in page and "Akta Kelahiran" in page
    assert "Dokumen Lama" not in page
    assert 'href="/sadoku/requests/new"' in page and 'href="/sadoku/track"' in page


def test_document_page_shows_requirements_delivery_and_time(client, app):
    with app.app_context():
        make_document_type(
            name="KIA Uji",
            slug="kia-uji",
            description="Kartu Identitas Anak.",
            requirements="Akta kelahiran.\nKK orang tua.",
            attachment_names=["Akta kelahiran anak", "KTP-el orang tua"],
            service_days=1,
        )
        make_document_type(name="KK Uji", slug="kk-uji", service_days=3)
    page = text(client.get("/sadoku/documents/kia-uji"))
    assert "<h1>KIA Uji</h1>" in page and "Kartu Identitas Anak." in page
    assert "Akta kelahiran.\nKK orang tua." in page  # line breaks kept (shown with pre-line)
    assert "Akta kelahiran anak" in page and "KTP-el orang tua" in page
    assert "Free of charge" in page
    assert "Done in 1 working day." in page
    assert "surat kuasa" in page and "KTP-el" in page
    assert 'href="/sadoku/requests/new?type=kia-uji"' in page
    assert "Done in 3 working days." in text(client.get("/sadoku/documents/kk-uji"))


def test_unknown_or_inactive_document_is_404(client, app):
    with app.app_context():
        make_document_type(name="Tidak Aktif", slug="tidak-aktif", is_active=False)
    assert client.get("/sadoku/documents/tidak-aktif").status_code == 404
    assert client.get("/sadoku/documents/tidak-ada").status_code == 404


def test_public_pages_work_as_htmx_fragments(client, app):
    with app.app_context():
        make_document_type()
    for url in ("/sadoku/", "/sadoku/documents/ktp-el", "/sadoku/track"):
        fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "content"})
        assert fragment.status_code == 200
        assert '<main id="content"' in text(fragment) and "<html" not in text(fragment)


# --- tracking ---------------------------------------------------------------------------------


PRIVATE = ("Budi Santoso", VALID_NIK, VALID_KK, "Jl. Sudirman No. 5", "Lubuk Pakam III")


@pytest.fixture
def tracked(app) -> str:
    """A verified request whose public note names the recipient, as officers' notes may."""
    with app.test_request_context():
        req = make_request(status="verified", address=LUBUK_PAKAM_ADDRESS)
        req.events[-1].public_note = "Diterima oleh Budi Santoso, 081234567890"
        db.session.commit()
        return req.code


def test_tracking_form_is_public_and_posts(client):
    page = text(client.get("/sadoku/track"))
    assert 'method="post"' in page and 'name="nik_last4"' in page
    assert "/accounts/login" not in page.split("<main")[1]


def test_tracking_shows_status_and_timeline_without_personal_data(client, app, tracked):
    response = post(client, "/sadoku/track", {"code": tracked.lower(), "nik_last4": "0001"})
    assert response.status_code == 200
    page = text(response)
    assert tracked in page and "KTP-el" in page
    assert "chip-verified" in page and "chip-submitted" in page
    assert "Submitted" in page and "Verified" in page
    for private in (*PRIVATE, "081234567890", "0812\u2022", "Diterima oleh"):
        assert private not in page, private
    assert 'value="0001"' not in page  # the digits typed are not echoed back


def test_tracking_failure_is_the_same_for_a_wrong_code_and_wrong_digits(client, app, tracked):
    wrong_digits = post(client, "/sadoku/track", {"code": tracked, "nik_last4": "9999"})
    wrong_code = post(client, "/sadoku/track", {"code": "SDK-0000-999999", "nik_last4": "0001"})
    message = "No request matches this tracking code and NIK digits."
    for response in (wrong_digits, wrong_code):
        assert response.status_code == 404
        page = text(response)
        assert message in page and 'class="error-summary"' in page
        assert "chip-" not in page
        for private in PRIVATE:
            assert private not in page
    assert f'value="{tracked}"' in text(wrong_digits) and 'value="9999"' in text(wrong_digits)


def test_tracking_form_errors_are_422(client):
    response = post(client, "/sadoku/track", {"code": "", "nik_last4": "12a"})
    assert response.status_code == 422
    page = text(response)
    assert 'href="#code"' in page and 'href="#nik_last4"' in page
    assert 'value="12a"' in page


def test_tracking_is_rate_limited(client, app, tracked, monkeypatch):
    monkeypatch.setitem(app.config, "SADOKU_TRACK_RATE_LIMIT", "3 per minute")
    statuses = [
        post(client, "/sadoku/track", {"code": tracked, "nik_last4": f"{i:04d}"}).status_code
        for i in range(2, 6)
    ]
    assert statuses == [404, 404, 404, 429]
    # Even the right answer is refused until the window passes; reading the form is not limited.
    assert post(client, "/sadoku/track", {"code": tracked, "nik_last4": "0001"}).status_code == 429
    assert client.get("/sadoku/track").status_code == 200


def test_tracking_through_htmx_returns_the_main_only(client, app, tracked):
    found = post(client, "/sadoku/track", {"code": tracked, "nik_last4": "0001"}, htmx="content")
    assert found.status_code == 200
    assert '<main id="content"' in text(found) and "<html" not in text(found)
    assert "chip-verified" in text(found)
    missing = post(client, "/sadoku/track", {"code": tracked, "nik_last4": "1234"}, htmx="content")
    assert missing.status_code == 404 and "<html" not in text(missing)
    assert "No request matches" in text(missing)
