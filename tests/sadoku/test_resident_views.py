"""SADOKU for residents: the five-step draft, sending, following, cancelling and correcting.

Pages are read in English (the `lang` cookie), so the assertions do not depend on the Indonesian
catalogue; the Indonesian texts are checked by tests/core/test_i18n.py.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import event, select

from portal.accounts.models import Role
from portal.core.uploads import get_storage
from portal.extensions import db
from portal.sadoku import services
from portal.sadoku.models import Attachment, DocumentRequest, Reason, Status
from tests.conftest import log_in, post
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    VALID_KK,
    VALID_NIK,
    checked_png,
    make_document_type,
    make_request,
    make_user,
    tiny_pdf,
    tiny_png,
)

OTHER_NIK = "1207280202900002"  # valid: born 02-02-1990
MASKED_NIK = "1207" + "\u2022" * 8 + "0001"
KTP_ATTACHMENTS = ["Kartu Keluarga (KK)", "Surat kehilangan, KTP-el rusak, atau KTP-el lama"]


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture(autouse=True)
def english(client):
    """Read the pages in English, whatever the Indonesian catalogue holds today."""
    client.set_cookie("lang", "en")


@pytest.fixture
def resident(login_as):
    return login_as(
        full_name="Siti Aminah", nik=VALID_NIK, phone="081298765432", address=LUBUK_PAKAM_ADDRESS
    )


def _draft(app, owner_id: int, upto: str = "subject") -> int:
    """A draft of `owner_id` with the steps before `upto` done through the services."""
    with app.test_request_context():
        from portal.accounts.models import User

        owner = db.session.get(User, owner_id)
        req = make_request(owner=owner, status="draft") if upto == "summary" else None
        if req is None:
            req = services.start_request(owner, make_document_type(), Reason.NEW)
            db.session.commit()
        return req.id


def _files(**named: tuple[bytes, str]) -> dict:
    return {key: (io.BytesIO(data), filename) for key, (data, filename) in named.items()}


def _delivery_form(**change: str) -> dict:
    data = {
        "kecamatan": "12.07.28",
        "desa": "12.07.28.1008",
        "street": "Jl. Sudirman No. 5",
        "rt": "1",
        "rw": "2",
        "landmark": "Dekat pasar",
        "latitude": "",
        "longitude": "",
        "recipient_name": "Siti Aminah",
        "recipient_phone": "0812 9876 5432",
    }
    data.update(change)
    return data


# --- the whole flow -------------------------------------------------------------------------------


def test_whole_flow_from_document_to_receipt(client, app, resident):
    with app.test_request_context():
        make_document_type()  # the KTP-el catalogue entry
    page = text(client.get("/sadoku/requests/new?type=ktp-el"))
    assert "Step 1 of 5" in page
    assert re.search(r'value="ktp-el"\s+checked', page)

    response = post(client, "/sadoku/requests/new", {"document_type": "ktp-el", "reason": "lost"})
    assert response.status_code == 303
    match = re.search(r"/sadoku/drafts/(\d+)/subject$", response.headers["Location"])
    assert match
    base = f"/sadoku/drafts/{match.group(1)}"

    page = text(client.get(f"{base}/subject"))
    assert "Step 2 of 5" in page
    assert 'value="Siti Aminah"' in page and f'value="{VALID_NIK}"' in page  # from the profile
    response = post(
        client,
        f"{base}/subject",
        {"whose": "self", "subject_name": "Siti Aminah", "subject_nik": VALID_NIK,
         "subject_kk": "1207 2801 0120 0001"},
    )  # fmt: skip
    assert response.headers["Location"].endswith(f"{base}/attachments")

    page = text(client.get(f"{base}/attachments"))
    assert 'enctype="multipart/form-data"' in page
    assert "JPEG, PNG or PDF, at most 5 MB each" in page
    assert page.count('accept=".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"') == 2
    response = post(
        client,
        f"{base}/attachments",
        _files(file_0=(tiny_png(), "kk.png"), file_1=(tiny_pdf(), "laporan polisi.pdf")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{base}/delivery")

    page = text(client.get(f"{base}/delivery"))
    assert 'value="Jl. Sudirman No. 5"' in page  # the profile's address
    assert 'value="Siti Aminah"' in page and 'value="081298765432"' in page
    response = post(client, f"{base}/delivery", _delivery_form())
    assert response.headers["Location"].endswith(f"{base}/summary")

    page = text(client.get(f"{base}/summary"))
    assert "Step 5 of 5" in page
    assert VALID_NIK in page and VALID_KK in page  # in full, for the person checking them
    assert "kk.png" in page and "laporan_polisi.pdf" in page
    assert "Lubuk Pakam III" in page and "Dekat pasar" in page
    assert page.count(">Change<") >= 6

    response = post(client, f"{base}/summary", {"declaration": "y"})
    assert response.status_code == 303
    match = re.search(r"/sadoku/requests/(SDK-\d{4}-\d{6})/receipt$", response.headers["Location"])
    assert match, response.headers["Location"]
    code = match.group(1)

    with app.test_request_context():
        req = db.session.scalar(select(DocumentRequest).where(DocumentRequest.code == code))
        assert req.status == Status.SUBMITTED and req.reason == Reason.LOST
        assert req.subject_kk == VALID_KK and req.recipient_phone == "+6281298765432"
        assert sorted(a.content_type for a in req.current_attachments) == [
            "application/pdf",
            "image/png",
        ]
        due = req.due_date

    receipt = text(client.get(response.headers["Location"]))
    assert code in receipt
    assert "KTP-el" in receipt
    assert MASKED_NIK in receipt
    assert VALID_NIK not in receipt
    assert "Free of charge" in receipt
    assert "/sadoku/track" in receipt and "last 4 digits of the NIK" in receipt
    assert str(due.year) in receipt
    # The draft is gone from the drafts list and the request is in the sent list.
    listing = text(client.get("/sadoku/requests"))
    assert code in listing and "Drafts not sent yet" not in listing


def test_start_with_htmx_gets_an_hx_location(client, app, resident):
    with app.test_request_context():
        make_document_type()
    response = post(
        client, "/sadoku/requests/new", {"document_type": "ktp-el", "reason": "new"}, htmx="content"
    )
    assert response.status_code == 204
    assert "/subject" in response.headers["HX-Location"]


def test_step_one_needs_a_document_and_reason(client, app, resident):
    with app.test_request_context():
        make_document_type()
    response = post(client, "/sadoku/requests/new", {"document_type": "ktp-el"})
    assert response.status_code == 422
    page = text(response)
    assert 'class="error-summary"' in page and 'href="#reason"' in page
    assert re.search(r'value="ktp-el"\s+checked', page)  # the choice is kept
    with app.test_request_context():
        assert db.session.scalar(select(DocumentRequest)) is None


def test_document_step_can_be_changed(client, app, resident):
    draft_id = _draft(app, resident.id)
    with app.test_request_context():
        other = make_document_type(name="Akta Uji", attachment_names=["Surat keterangan"])
        slug = other.slug
    page = text(client.get(f"/sadoku/drafts/{draft_id}/document"))
    assert re.search(r'value="ktp-el"\s+checked', page) and "Step 1 of 5" in page
    response = post(
        client, f"/sadoku/drafts/{draft_id}/document", {"document_type": slug, "reason": "damaged"}
    )
    assert response.headers["Location"].endswith("/subject")
    with app.test_request_context():
        req = db.session.get(DocumentRequest, draft_id)
        assert req.document_type.slug == slug and req.reason == Reason.DAMAGED


# --- validation: 422, summary, values kept ------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"subject_nik": "12345"}, "subject_nik", "A NIK has exactly 16 digits"),
        ({"subject_nik": "1207289901900001"}, "subject_nik", "Digits 7 to 12 of a NIK"),
        ({"subject_kk": "9999"}, "subject_kk", "A KK number has exactly 16 digits"),
        ({"subject_name": ""}, "subject_name", "Enter the name as written on the KK"),
    ],
)
def test_subject_errors_are_422_with_values_kept(client, app, resident, change, field, message):
    draft_id = _draft(app, resident.id)
    data = {
        "whose": "family",
        "subject_name": "Rina Aminah",
        "subject_nik": OTHER_NIK,
        "subject_kk": VALID_KK,
        **change,
    }
    response = post(client, f"/sadoku/drafts/{draft_id}/subject", data)
    assert response.status_code == 422
    page = text(response)
    assert "<title>Error:" in page
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert f'href="#{field}"' in summary and message in summary
    for key, value in data.items():
        if key != "whose" and value:
            assert f'value="{value}"' in page
    assert re.search(r'value="family"\s+checked', page)
    with app.test_request_context():
        assert db.session.get(DocumentRequest, draft_id).step_done == 1


def test_delivery_errors_are_422_with_values_kept(client, app, resident):
    draft_id = _draft(app, resident.id, upto="summary")
    with app.test_request_context():
        db.session.get(DocumentRequest, draft_id).step_done = 3
        db.session.commit()
    response = post(
        client,
        f"/sadoku/drafts/{draft_id}/delivery",
        _delivery_form(recipient_phone="12345", street="Jl. Baru 7"),
    )
    assert response.status_code == 422
    page = text(response)
    assert 'href="#recipient_phone"' in page and "Enter a mobile number like" in page
    assert 'value="12345"' in page and 'value="Jl. Baru 7"' in page
    assert 'value="Dekat pasar"' in page


def test_summary_without_declaration_is_refused(client, app, resident):
    draft_id = _draft(app, resident.id, upto="summary")
    response = post(client, f"/sadoku/drafts/{draft_id}/summary", {})
    assert response.status_code == 422
    page = text(response)
    assert 'href="#declaration"' in page and "Tick the declaration" in page
    with app.test_request_context():
        assert db.session.get(DocumentRequest, draft_id).status == Status.DRAFT


def test_html_renamed_to_jpg_is_refused_and_the_good_file_kept(client, app, resident):
    draft_id = _draft(app, resident.id)
    with app.test_request_context():
        db.session.get(DocumentRequest, draft_id).step_done = 2
        db.session.commit()
    html = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
    response = post(
        client,
        f"/sadoku/drafts/{draft_id}/attachments",
        _files(file_0=(html, "foto-kk.jpg"), file_1=(tiny_pdf(), "laporan.pdf")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = text(response)
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert 'href="#file_0"' in summary and "Upload a JPEG, PNG or PDF file" in summary
    assert "These files were saved" in page and KTP_ATTACHMENTS[1] in page
    with app.test_request_context():
        req = db.session.get(DocumentRequest, draft_id)
        assert [a.name for a in req.current_attachments] == [KTP_ATTACHMENTS[1]]
        assert req.step_done == 2
    # The saved file is shown, and the form accepts the missing one alone.
    page = text(client.get(f"/sadoku/drafts/{draft_id}/attachments"))
    assert "laporan.pdf" in page and "Not uploaded yet." in page
    response = post(
        client,
        f"/sadoku/drafts/{draft_id}/attachments",
        _files(file_0=(tiny_png(), "kk.png")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303


def test_attachments_step_needs_every_file(client, app, resident):
    draft_id = _draft(app, resident.id)
    with app.test_request_context():
        db.session.get(DocumentRequest, draft_id).step_done = 2
        db.session.commit()
    response = post(client, f"/sadoku/drafts/{draft_id}/attachments", {})
    assert response.status_code == 422
    assert "Upload every required attachment" in text(response)


# --- steps and access --------------------------------------------------------------------------


def test_skipping_ahead_redirects_to_the_first_open_step(client, app, resident):
    draft_id = _draft(app, resident.id)
    for step in ("attachments", "delivery", "summary"):
        response = client.get(f"/sadoku/drafts/{draft_id}/{step}")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/sadoku/drafts/{draft_id}/subject")
    response = post(client, f"/sadoku/drafts/{draft_id}/summary", {"declaration": "y"})
    assert response.status_code == 302
    assert client.get(f"/sadoku/drafts/{draft_id}/subject").status_code == 200
    assert client.get(f"/sadoku/drafts/{draft_id}/nonsense").status_code == 404
    with app.test_request_context():
        assert db.session.get(DocumentRequest, draft_id).status == Status.DRAFT


def test_back_link_and_step_indicator(client, app, resident):
    draft_id = _draft(app, resident.id, upto="summary")
    page = text(client.get(f"/sadoku/drafts/{draft_id}/delivery"))
    assert "Step 4 of 5" in page
    assert f'class="back-link" href="/sadoku/drafts/{draft_id}/attachments"' in page


def test_another_resident_gets_404_everywhere(client, app, login_as):
    with app.test_request_context():
        owner = make_user()
        req = make_request(owner=owner)
        code, attachment_id = req.code, req.current_attachments[0].id
        draft = make_request(owner=owner, status="draft")
        draft_id = draft.id
    login_as()
    for step in ("document", "subject", "attachments", "delivery", "summary"):
        assert client.get(f"/sadoku/drafts/{draft_id}/{step}").status_code == 404
    assert (
        post(client, f"/sadoku/drafts/{draft_id}/summary", {"declaration": "y"}).status_code == 404
    )
    assert post(client, f"/sadoku/drafts/{draft_id}/delete").status_code == 404
    for url in (
        f"/sadoku/requests/{code}",
        f"/sadoku/requests/{code}/receipt",
        f"/sadoku/requests/{code}/cancel",
        f"/sadoku/requests/{code}/correct",
        f"/sadoku/attachments/{attachment_id}",
    ):
        assert client.get(url).status_code == 404, url
    assert post(client, f"/sadoku/requests/{code}/cancel").status_code == 404
    assert post(client, f"/sadoku/requests/{code}/correct").status_code == 404
    with app.test_request_context():
        assert db.session.get(DocumentRequest, draft_id) is not None
        assert (
            db.session.scalar(select(DocumentRequest.status).where(DocumentRequest.code == code))
            == Status.SUBMITTED
        )


def test_anonymous_visitors_are_sent_to_log_in(client, app):
    with app.test_request_context():
        req = make_request()
        code, attachment_id, req_id = req.code, req.current_attachments[0].id, req.id
    for url in (
        "/sadoku/requests/new",
        "/sadoku/requests",
        f"/sadoku/drafts/{req_id}/subject",
        f"/sadoku/requests/{code}",
        f"/sadoku/requests/{code}/receipt",
        f"/sadoku/requests/{code}/cancel",
        f"/sadoku/attachments/{attachment_id}",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_draft_can_be_deleted_with_its_files(client, app, resident):
    draft_id = _draft(app, resident.id, upto="summary")
    with app.test_request_context():
        keys = [a.storage_key for a in db.session.get(DocumentRequest, draft_id).attachments]
    listing = text(client.get("/sadoku/requests"))
    assert "Drafts not sent yet" in listing
    assert f"/sadoku/drafts/{draft_id}/summary" in listing  # continue where it was left
    response = post(client, f"/sadoku/drafts/{draft_id}/delete")
    assert response.status_code == 303 and response.headers["Location"].endswith("/sadoku/requests")
    with app.test_request_context():
        assert db.session.get(DocumentRequest, draft_id) is None
        assert db.session.scalar(select(Attachment)) is None
        for key in keys:
            with pytest.raises(FileNotFoundError):
                get_storage().read(key)
    assert "Drafts not sent yet" not in text(client.get("/sadoku/requests"))


def test_assisted_mode_prefills_the_owner_and_returns_to_the_officer(client, app):
    with app.test_request_context():
        officer = make_user(full_name="Petugas Loket", roles=(Role.SADOKU_OFFICER,))
        owner = make_user(full_name="Siti Aminah", nik=VALID_NIK)
        req = services.start_request(
            owner, make_document_type(), Reason.NEW, assisted_by=officer, consent=True
        )
        db.session.commit()
        draft_id, officer_email = req.id, officer.email
    assert log_in(client, officer_email).status_code == 303
    page = text(client.get(f"/sadoku/drafts/{draft_id}/subject"))
    assert 'value="Siti Aminah"' in page and f'value="{VALID_NIK}"' in page
    assert 'value="Petugas Loket"' not in page
    assert "You are filing this request for Siti Aminah" in page
    with app.test_request_context():
        req = db.session.get(DocumentRequest, draft_id)
        services.save_subject_step(
            req, is_self=True, name="Siti Aminah", nik=VALID_NIK, kk=VALID_KK
        )
        for name in req.document_type.attachment_names:
            services.add_attachment(req, name, checked_png(), req.assisted_by)
        services.complete_attachments_step(req)
        services.save_delivery_step(
            req,
            {**LUBUK_PAKAM_ADDRESS, "landmark": None, "latitude": None, "longitude": None},
            "Siti Aminah",
            "081234567890",
        )
        db.session.commit()
    response = post(client, f"/sadoku/drafts/{draft_id}/summary", {"declaration": "y"})
    with app.test_request_context():
        req = db.session.get(DocumentRequest, draft_id)
        assert req.status == Status.SUBMITTED and req.user.full_name == "Siti Aminah"
        code = req.code
    if "sadoku_officer.request_show" not in app.view_functions:
        pytest.skip("the officer's request page is not built yet")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(code)
    assert "/sadoku/officer/" in response.headers["Location"]


# --- my requests ------------------------------------------------------------------------------


def _count_queries(app, fn) -> int:
    with app.test_request_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_request_list_is_paged_newest_first_with_fixed_queries(client, app, resident, monkeypatch):
    import portal.sadoku.views as views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    codes = []
    with app.test_request_context():
        from portal.accounts.models import User

        owner = db.session.get(User, resident.id)
        for i in range(2):
            doc = make_document_type(name=f"Dokumen Uji {i}")
            codes.append(make_request(owner=owner, document_type=doc).code)
    few = _count_queries(app, lambda: client.get("/sadoku/requests"))
    with app.test_request_context():
        owner = db.session.get(User, resident.id)
        doc = make_document_type(name="Dokumen Uji 2")
        codes.append(make_request(owner=owner, document_type=doc, status="delivered").code)
    page_one = client.get("/sadoku/requests")
    more = _count_queries(app, lambda: client.get("/sadoku/requests"))
    assert more == few  # one query for the document types, however many rows
    html = text(page_one)
    assert codes[2] in html and codes[1] in html and codes[0] not in html
    assert html.index(codes[2]) < html.index(codes[1])
    assert "chip-delivered" in html and "Dokumen Uji 2" in html
    assert 'href="/sadoku/requests?page=2"' in html
    older = text(client.get("/sadoku/requests?page=2"))
    assert codes[0] in older and codes[2] not in older and "Newer requests" in older


# --- detail, polling, receipt -----------------------------------------------------------------


def _own_request(app, resident, status: str) -> str:
    with app.test_request_context():
        from portal.accounts.models import User

        return make_request(owner=db.session.get(User, resident.id), status=status).code


def test_detail_shows_masked_data_and_timeline(client, app, resident):
    code = _own_request(app, resident, "out_for_delivery")
    response = client.get(f"/sadoku/requests/{code}")
    assert response.status_code == 200
    page = text(response)
    assert "<html" in page and '<section id="request-status"' in page
    assert (
        "1207\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001" in page and VALID_NIK not in page
    )
    assert "Lubuk Pakam III" in page and "Budi Santoso" in page
    assert "Delivery date:" in page
    for status in ("Submitted", "Verified", "Being printed", "Ready for delivery"):
        assert status in page
    assert "Cancel the request" not in page  # too late to cancel
    assert 'aria-live="polite"' in page
    assert "/sadoku/attachments/" in page and 'hx-boost="false"' in page


def test_polling_partial_while_open_and_not_when_final(client, app, resident):
    open_code = _own_request(app, resident, "verified")
    done_code = _own_request(app, resident, "delivered")
    headers = {"HX-Request": "true", "HX-Target": "request-status"}

    partial = client.get(f"/sadoku/requests/{open_code}", headers=headers)
    body = text(partial).strip()
    assert partial.status_code == 200
    assert body.startswith('<section id="request-status"') and "<html" not in body
    assert '<main id="content"' not in body
    assert 'hx-trigger="every 30s"' in body
    assert f'hx-get="/sadoku/requests/{open_code}"' in body
    assert "HX-Target" in partial.headers["Vary"]

    final = text(client.get(f"/sadoku/requests/{done_code}", headers=headers)).strip()
    assert final.startswith('<section id="request-status"')
    assert "hx-trigger" not in final and "Delivered" in final

    # A boosted navigation gets the page's main, not the partial.
    boosted = text(
        client.get(
            f"/sadoku/requests/{open_code}", headers={"HX-Request": "true", "HX-Target": "content"}
        )
    )
    assert '<main id="content"' in boosted and "<html" not in boosted


def test_attachment_download_is_private_and_inline_only_for_images(client, app, resident):
    with app.test_request_context():
        from portal.accounts.models import User

        req = make_request(owner=db.session.get(User, resident.id))
        attachment_id = req.current_attachments[0].id
    response = client.get(f"/sadoku/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.mimetype == "image/png" and response.data.startswith(b"\x89PNG")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    inline = client.get(f"/sadoku/attachments/{attachment_id}?inline=1")
    assert inline.headers["Content-Disposition"].startswith("inline")


# --- cancel -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["submitted", "verified"])
def test_cancel_while_not_in_process(client, app, resident, status):
    code = _own_request(app, resident, status)
    assert "Cancel the request" in text(client.get(f"/sadoku/requests/{code}"))
    page = text(client.get(f"/sadoku/requests/{code}/cancel"))
    assert f"Cancel request {code}?" in page
    response = post(client, f"/sadoku/requests/{code}/cancel", {"reason": "Sudah diurus sendiri"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/sadoku/requests/{code}")
    page = text(client.get(response.headers["Location"]))
    assert "Your request has been cancelled." in page and "Sudah diurus sendiri" in page
    with app.test_request_context():
        req = db.session.scalar(select(DocumentRequest).where(DocumentRequest.code == code))
        assert req.status == Status.CANCELLED
        assert req.events[-1].public_note == "Sudah diurus sendiri"


def test_cancel_refused_once_printing_started(client, app, resident):
    code = _own_request(app, resident, "in_process")
    response = client.get(f"/sadoku/requests/{code}/cancel")
    assert response.status_code == 302
    assert "can no longer be cancelled" in text(client.get(response.headers["Location"]))
    response = post(client, f"/sadoku/requests/{code}/cancel", {"reason": ""})
    assert response.status_code == 422
    assert "cannot become" in text(response)
    with app.test_request_context():
        assert (
            db.session.scalar(select(DocumentRequest.status).where(DocumentRequest.code == code))
            == Status.IN_PROCESS
        )


# --- correction ---------------------------------------------------------------------------------


def test_correction_offers_only_the_marked_field_and_resubmits(client, app, resident):
    code = _own_request(app, resident, "needs_correction")  # the officer marked subject_nik
    page = text(client.get(f"/sadoku/requests/{code}"))
    assert "Fix and send again" in page and "Periksa NIK" in page

    page = text(client.get(f"/sadoku/requests/{code}/correct"))
    assert 'name="subject_nik"' in page and f'value="{VALID_NIK}"' in page
    for other in ("subject_name", "subject_kk", "recipient_phone", "street"):
        assert f'name="{other}"' not in page
    assert 'type="file"' not in page
    assert "Periksa NIK" in page

    response = post(client, f"/sadoku/requests/{code}/correct", {"subject_nik": "123"})
    assert response.status_code == 422
    assert 'value="123"' in text(response) and 'href="#subject_nik"' in text(response)

    response = post(
        client,
        f"/sadoku/requests/{code}/correct",
        {"subject_nik": OTHER_NIK, "subject_name": "Orang Lain", "note": "Sudah diperbaiki"},
    )
    assert response.status_code == 303
    with app.test_request_context():
        req = db.session.scalar(select(DocumentRequest).where(DocumentRequest.code == code))
        assert req.status == Status.SUBMITTED
        assert req.subject_nik == OTHER_NIK
        assert req.subject_name == "Budi Santoso"  # not marked, so not changed
        assert [e.to_status for e in req.events] == [
            Status.SUBMITTED,
            Status.NEEDS_CORRECTION,
            Status.SUBMITTED,
        ]
    page = text(client.get(f"/sadoku/requests/{code}"))
    assert "Periksa NIK" in page and "Sudah diperbaiki" in page  # the history is kept
    assert "Fix and send again" not in page


def test_correction_of_an_attachment_needs_a_new_file(client, app, resident):
    with app.test_request_context():
        from portal.accounts.models import User

        req = make_request(owner=db.session.get(User, resident.id))
        officer = make_user(roles=(Role.SADOKU_OFFICER,), commit=False)
        services.request_correction(req, officer, [f"attachment:{KTP_ATTACHMENTS[0]}"], "Buram")
        db.session.commit()
        code = req.code
    page = text(client.get(f"/sadoku/requests/{code}/correct"))
    assert page.count('type="file"') == 1 and 'enctype="multipart/form-data"' in page
    assert f"Attachment: {KTP_ATTACHMENTS[0]}" in page
    response = post(client, f"/sadoku/requests/{code}/correct", {})
    assert response.status_code == 422 and "Upload a new file for" in text(response)
    response = post(
        client,
        f"/sadoku/requests/{code}/correct",
        _files(file_0=(tiny_png((0, 0, 200)), "kk-jelas.png")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    with app.test_request_context():
        req = db.session.scalar(select(DocumentRequest).where(DocumentRequest.code == code))
        assert req.status == Status.SUBMITTED
        files = [a.filename for a in req.current_attachments if a.name == KTP_ATTACHMENTS[0]]
        assert files == ["kk-jelas.png"]
        assert len(req.attachments) == 3  # the replaced file stays in the history


def test_correct_page_when_nothing_to_correct_redirects(client, app, resident):
    code = _own_request(app, resident, "submitted")
    response = client.get(f"/sadoku/requests/{code}/correct")
    assert response.status_code == 302
    assert "not waiting for a correction" in text(client.get(response.headers["Location"]))
