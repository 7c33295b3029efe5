"""SADOKU administration pages: document catalogue, holidays, response templates, access."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.core.time import add_working_days, today_wib, wib_date
from portal.extensions import db
from portal.sadoku.models import DocumentRequest, DocumentType, Holiday, ResponseTemplate, Status
from tests.conftest import csrf_token, log_in, post
from tests.factories import make_document_type, make_request, make_user

ADMIN = "/admin/sadoku"


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


@pytest.fixture
def admin(login_as):  # type: ignore[no-untyped-def]
    return login_as(Role.ADMIN)


def _admin_urls(app: Flask) -> list[tuple[str, str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("sadoku_admin."):
            continue
        url = rule.rule.replace("<int:doc_id>", "1").replace("<int:holiday_id>", "1")
        url = url.replace("<int:template_id>", "1")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            urls.append((rule.endpoint, method, url))
    return urls


@pytest.mark.parametrize("role", [None, Role.SADOKU_OFFICER, Role.SADOKU_COURIER])
def test_non_admins_get_403_everywhere(app: Flask, role: Role | None):
    client = app.test_client()
    with app.test_request_context():
        make_document_type()  # ids 1 exist, so a 403 is not a 404 in disguise
        email = make_user(roles=(role,) if role else ()).email
    assert log_in(client, email).status_code == 303
    token = csrf_token(client)
    urls = _admin_urls(app)
    assert len(urls) >= 10
    for endpoint, method, url in urls:
        status = client.open(url, method=method, data={"csrf_token": token}).status_code
        assert status == 403, (role, endpoint, method, status)


# --- document types -----------------------------------------------------------------------------


def test_document_type_list_and_create(app: Flask, client: FlaskClient, admin):
    with app.test_request_context():
        make_document_type()
    html = client.get(f"{ADMIN}/document-types").get_data(as_text=True)
    assert "KTP-el" in html and "Akta Kelahiran" in html
    form = client.get(f"{ADMIN}/document-types/new").get_data(as_text=True)
    assert 'name="slug"' in form and 'name="attachment_names"' in form
    response = post(
        client,
        f"{ADMIN}/document-types/new",
        {
            "name": "Surat Keterangan Tinggal",
            "slug": "skt",
            "description": "Untuk WNA",
            "requirements": "Paspor\nKITAS",
            "attachment_names": "Paspor\r\n\r\nKITAS\r\n",
            "service_days": "10",
            "is_active": "y",
        },
    )
    assert response.status_code == 303
    with app.test_request_context():
        doc = db.session.scalar(select(DocumentType).where(DocumentType.slug == "skt"))
        assert doc.name == "Surat Keterangan Tinggal"
        assert doc.attachment_names == ["Paspor", "KITAS"]
        assert (doc.service_days, doc.is_active) == (10, True)
    assert "Surat Keterangan Tinggal" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_document_type_duplicate_slug_is_422(app: Flask, client: FlaskClient, admin):
    with app.test_request_context():
        make_document_type()
    data = {"name": "KTP lagi", "slug": "ktp-el", "service_days": "5"}
    response = post(client, f"{ADMIN}/document-types/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Another document type already uses this web address" in html
    assert 'value="KTP lagi"' in html
    with app.test_request_context():
        assert (
            db.session.scalar(
                select(func.count(DocumentType.id)).where(DocumentType.name == "KTP lagi")
            )
            == 0
        )


def test_document_type_form_checks_slug_and_days(app: Flask, client: FlaskClient, admin):
    response = post(
        client,
        f"{ADMIN}/document-types/new",
        {"name": "X", "slug": "Bad Slug!", "service_days": "61"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Use only lowercase letters, digits and hyphens" in html
    assert "Enter a number from 1 to 60" in html


def test_document_type_edit(app: Flask, client: FlaskClient, admin):
    with app.test_request_context():
        doc = make_document_type(name="Lama", slug="lama", attachment_names=["A", "B"])
        doc_id = doc.id
    url = f"{ADMIN}/document-types/{doc_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Lama"' in page and "A\nB</textarea>" in page
    response = post(
        client,
        url,
        {"name": "Baru", "slug": "baru", "attachment_names": "C", "service_days": "3"},
    )
    assert response.status_code == 303
    with app.test_request_context():
        doc = db.session.get(DocumentType, doc_id)
        assert (doc.name, doc.slug, doc.attachment_names, doc.service_days) == (
            "Baru",
            "baru",
            ["C"],
            3,
        )
        assert doc.is_active is False
    assert client.get(f"{ADMIN}/document-types/9999/edit").status_code == 404


# --- holidays -----------------------------------------------------------------------------------


def _next_working_day(start: dt.date) -> dt.date:
    return add_working_days(start, 1)


def test_adding_a_holiday_moves_open_due_dates(app: Flask, client: FlaskClient, admin):
    with app.test_request_context():
        req = make_request()
        req_id, before = req.id, req.due_date
        start = wib_date(req.submitted_at)
    closed = _next_working_day(start)
    response = post(client, f"{ADMIN}/holidays", {"day": closed.isoformat(), "name": "Cuti"})
    assert response.status_code == 303
    with app.test_request_context():
        after = db.session.get(DocumentRequest, req_id).due_date
    assert after == add_working_days(start, 5, {closed})
    assert after > before
    html = client.get(f"{ADMIN}/holidays").get_data(as_text=True)
    assert "Cuti" in html and "Due dates of open requests were updated" in html
    # The same day twice is refused, keeping what was typed.
    again = post(client, f"{ADMIN}/holidays", {"day": closed.isoformat(), "name": "Lagi"})
    assert again.status_code == 422
    assert "This date is already a holiday" in again.get_data(as_text=True)
    assert 'value="Lagi"' in again.get_data(as_text=True)
    # Removing it moves the due date back.
    with app.test_request_context():
        holiday_id = db.session.scalar(select(Holiday.id))
    removed = post(client, f"{ADMIN}/holidays/{holiday_id}/delete", {}, htmx="content")
    assert removed.status_code == 204 and "HX-Location" in removed.headers
    with app.test_request_context():
        assert db.session.get(DocumentRequest, req_id).due_date == before
        assert db.session.scalar(select(func.count(Holiday.id))) == 0


def test_holiday_list_shows_recent_and_upcoming_only(app: Flask, client: FlaskClient, admin):
    with app.test_request_context():
        db.session.add(Holiday(day=today_wib() - dt.timedelta(days=60), name="Lama sekali"))
        db.session.add(Holiday(day=today_wib() - dt.timedelta(days=10), name="Baru lewat"))
        db.session.add(Holiday(day=today_wib() + dt.timedelta(days=10), name="Akan datang"))
        db.session.commit()
    html = client.get(f"{ADMIN}/holidays").get_data(as_text=True)
    assert "Baru lewat" in html and "Akan datang" in html
    assert "Lama sekali" not in html
    empty = post(client, f"{ADMIN}/holidays", {"day": "", "name": ""})
    assert empty.status_code == 422
    assert "Enter the date" in empty.get_data(as_text=True)


# --- response templates -------------------------------------------------------------------------


def test_response_templates_add_edit_delete(app: Flask, client: FlaskClient, admin):
    url = f"{ADMIN}/templates"
    assert "No response templates yet." in client.get(url).get_data(as_text=True)
    missing = post(client, url, {"status": "", "text": "Tanpa status"})
    assert missing.status_code == 422
    assert "Choose the status" in missing.get_data(as_text=True)
    assert "Tanpa status</textarea>" in missing.get_data(as_text=True)
    assert post(client, url, {"status": "verified", "text": "Semua lengkap."}).status_code == 303
    with app.test_request_context():
        template = db.session.scalar(select(ResponseTemplate))
        assert (template.status, template.text) == (Status.VERIFIED, "Semua lengkap.")
        template_id = template.id
    html = client.get(url).get_data(as_text=True)
    assert "Semua lengkap." in html and "chip-verified" in html

    edit = f"{ADMIN}/templates/{template_id}/edit"
    assert "Semua lengkap.</textarea>" in client.get(edit).get_data(as_text=True)
    response = post(client, edit, {"status": "rejected", "text": "Ditolak karena X."})
    assert response.status_code == 303
    with app.test_request_context():
        template = db.session.get(ResponseTemplate, template_id)
        assert (template.status, template.text) == (Status.REJECTED, "Ditolak karena X.")

    assert post(client, f"{ADMIN}/templates/{template_id}/delete", {}).status_code == 303
    with app.test_request_context():
        assert db.session.get(ResponseTemplate, template_id) is None
    assert client.get(edit).status_code == 404


def test_a_new_template_is_offered_when_changing_status(app: Flask, client: FlaskClient, login_as):
    admin = login_as(Role.ADMIN)
    assert admin.id
    with app.test_request_context():
        code = make_request().code
    post(client, f"{ADMIN}/templates", {"status": "verified", "text": "Teks baru admin."})
    page = client.get(f"/sadoku/officer/requests/{code}/status/verified").get_data(as_text=True)
    assert "Teks baru admin." in page
