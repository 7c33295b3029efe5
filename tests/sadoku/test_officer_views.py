"""SADOKU officer and courier pages: queue, detail, every status change over HTTP, day lists.

Pages are read in English (lang cookie) so assertions do not depend on the Indonesian catalogue.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from portal.accounts.models import Role, User
from portal.core.audit import AuditLog
from portal.core.time import today_wib
from portal.extensions import db
from portal.sadoku.models import (
    DocumentRequest,
    InternalNote,
    Relation,
    ResponseTemplate,
    Status,
)
from tests.conftest import log_in, post
from tests.factories import (
    VALID_KK,
    VALID_NIK,
    make_document_type,
    make_request,
    make_user,
    tiny_png,
)

QUEUE = "/sadoku/officer/requests"
TOMORROW = today_wib() + dt.timedelta(days=1)
CODE_RE = re.compile(r"SDK-\d{4}-\d{6}")


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


@pytest.fixture
def officer(login_as) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    return login_as(Role.SADOKU_OFFICER)


def _req(app: Flask, **kwargs) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """Make a request and return plain data about it (no ORM object leaves the context)."""
    with app.test_request_context():
        req = make_request(**kwargs)
        return SimpleNamespace(id=req.id, code=req.code, owner_id=req.user_id)


def _status(app: Flask, code: str) -> Status:
    with app.test_request_context():
        return db.session.scalar(select(DocumentRequest.status).where(DocumentRequest.code == code))


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _codes(html: str) -> list[str]:
    """Tracking codes in the order they appear, each once."""
    seen: list[str] = []
    for code in CODE_RE.findall(html):
        if code not in seen:
            seen.append(code)
    return seen


# --- access -------------------------------------------------------------------------------------


def test_residents_and_couriers_cannot_open_the_queue(app: Flask, client: FlaskClient, login_as):
    login_as()
    assert client.get(QUEUE).status_code == 403
    assert client.get("/sadoku/officer/assisted").status_code == 403
    assert client.get("/sadoku/officer/deliveries").status_code == 403
    req = _req(app)
    assert client.get(f"{QUEUE}/{req.code}").status_code == 403
    assert client.get(f"{QUEUE}/{req.code}/status/verified").status_code == 403

    courier_client = app.test_client()
    with app.test_request_context():
        courier = make_user(roles=(Role.SADOKU_COURIER,))
        email = courier.email
    log_in(courier_client, email)
    assert courier_client.get(QUEUE).status_code == 403
    assert courier_client.get("/sadoku/officer/assisted").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]


# --- the queue ----------------------------------------------------------------------------------


def test_queue_is_oldest_first_with_counts(app: Flask, client: FlaskClient, officer):
    first, second, third = _req(app), _req(app), _req(app, status="verified")
    with app.test_request_context():
        # The last one made was submitted first: order follows submission, not creation.
        now = dt.datetime.now(dt.UTC)
        for code, hours in ((first.code, 5), (second.code, 10), (third.code, 20)):
            req = db.session.scalar(select(DocumentRequest).where(DocumentRequest.code == code))
            req.submitted_at = now - dt.timedelta(hours=hours)
        db.session.commit()
    html = client.get(QUEUE).get_data(as_text=True)
    assert _codes(html) == [third.code, second.code, first.code]
    assert re.search(r"Submitted <span class=\"count\">2</span>", html)
    assert re.search(r"Verified <span class=\"count\">1</span>", html)
    assert re.search(r"Overdue <span class=\"count\">0</span>", html)
    assert "3 requests" in html


def test_queue_filters(app: Flask, client: FlaskClient, officer):
    other_doc_id = None
    with app.test_request_context():
        other = make_document_type(name="Akta Uji", slug="akta-uji")
        other_doc_id = other.id
        plain = make_request()
        verified = make_request(status="verified")
        elsewhere = make_request(
            document_type=other,
            subject_name="Siti Aminah",
            address={"kecamatan_code": "12.07.27", "desa_code": "12.07.27.2001"},
        )
        late = make_request()
        late.due_date = today_wib() - dt.timedelta(days=3)
        db.session.commit()
        codes = SimpleNamespace(
            plain=plain.code, verified=verified.code, elsewhere=elsewhere.code, late=late.code
        )

    def shown(query: str) -> set[str]:
        response = client.get(f"{QUEUE}?{query}")
        assert response.status_code == 200
        return set(_codes(response.get_data(as_text=True)))

    assert shown("status=verified") == {codes.verified}
    assert shown(f"document_type={other_doc_id}") == {codes.elsewhere}
    assert shown("kecamatan=12.07.27") == {codes.elsewhere}
    assert shown("overdue=y") == {codes.late}
    assert shown(f"q={codes.plain}") == {codes.plain}
    assert shown(f"q={codes.plain.lower()}") == {codes.plain}
    assert shown("q=aminah") == {codes.elsewhere}
    assert shown("status=verified&q=aminah") == set()
    # An edited URL with values that do not exist filters nothing instead of failing.
    assert len(shown("status=nonsense&document_type=x&kecamatan=99")) == 4
    html = client.get(QUEUE).get_data(as_text=True)
    assert re.search(r"Overdue <span class=\"count\">1</span>", html)
    assert 'class="chip chip-overdue">Overdue' in html


def test_active_search_returns_only_the_results_for_its_target(
    app: Flask, client: FlaskClient, officer
):
    wanted = _req(app, subject_name="Siti Aminah")
    _req(app)
    plain = client.get(f"{QUEUE}?q=aminah")
    assert plain.status_code == 200
    assert "<h1>" in plain.get_data(as_text=True)
    assert "HX-Target" in plain.headers["Vary"]
    partial = client.get(
        f"{QUEUE}?q=aminah", headers={"HX-Request": "true", "HX-Target": "queue-results"}
    )
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200
    assert body.lstrip().startswith('<div id="queue-results"')
    assert "<h1>" not in body
    assert _codes(body) == [wanted.code]
    # A boosted navigation gets the page's main content, not the partial alone.
    boosted = client.get(
        f"{QUEUE}?q=aminah", headers={"HX-Request": "true", "HX-Target": "content"}
    )
    assert "<h1>" in boosted.get_data(as_text=True)
    # The search input is wired for active search.
    page = client.get(QUEUE).get_data(as_text=True)
    assert 'hx-trigger="keyup changed delay:300ms, search"' in page
    assert 'hx-target="#queue-results"' in page


def _count_queries(app: Flask, client: FlaskClient, url: str) -> int:
    with app.test_request_context():
        engine = db.engine
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counter)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


def _make_many(app: Flask, n: int, status: str | None = None) -> None:
    """`n` requests; without `status`, alternately submitted and ready (with a select box)."""
    with app.test_request_context():
        doc = make_document_type()
        owner = make_user()
        officer = make_user(roles=(Role.SADOKU_OFFICER,))
        for i in range(n):
            # Different kecamatan and document types, so lazy loads would show up as queries.
            kind = make_document_type(slug=f"jenis-{n}-{i}") if i % 3 == 0 else doc
            make_request(
                owner=owner,
                officer=officer,
                document_type=kind,
                status=status or ("submitted" if i % 2 else "ready_for_delivery"),
                address={"kecamatan_code": "12.07.27", "desa_code": "12.07.27.2001"}
                if i % 4 == 0
                else None,
            )


def test_queue_uses_a_fixed_number_of_queries(app: Flask, client: FlaskClient, officer):
    _make_many(app, 3)
    few = _count_queries(app, client, QUEUE)
    _make_many(app, 27)
    many = _count_queries(app, client, QUEUE)
    assert many == few
    second_page = client.get(f"{QUEUE}?page=2").get_data(as_text=True)
    assert len(_codes(second_page)) == 5
    assert "Page 2 of 2" in second_page


def test_status_counts_stop_at_the_cap(
    app: Flask, client: FlaskClient, officer, monkeypatch: pytest.MonkeyPatch
):
    """History only grows, so the queue counts each status no further than a cap."""
    from portal.sadoku import services

    monkeypatch.setattr(services, "COUNT_CAP", 4)
    _make_many(app, 6, status="delivered")
    _make_many(app, 5, status="verified")
    html = client.get(QUEUE).get_data(as_text=True)
    assert re.search(r"Delivered <span class=\"count\">4\+</span>", html)
    assert re.search(r"Verified <span class=\"count\">4\+</span>", html)
    assert re.search(r"Submitted <span class=\"count\">0</span>", html)
    # The list's own total is capped no lower than one page of rows, so 11 are counted exactly.
    assert "11 requests" in html

    monkeypatch.setattr(services, "COUNT_CAP", 2)
    _make_many(app, 30, status="delivered")
    html = client.get(QUEUE).get_data(as_text=True)
    # 41 in "All statuses": more than a page's cap, so the page says so instead of a total.
    assert "More than 25 requests" in html
    assert "Page 1</span>" in html
    assert "Page 1 of" not in html
    page_two = client.get(f"{QUEUE}?page=2").get_data(as_text=True)
    assert len(_codes(page_two)) == 16  # 41 requests, 25 on the first page
    assert "Page 2 of 2" in page_two  # the last page knows the total again
    with app.test_request_context():
        assert services.status_counts()[Status.DELIVERED] == 3  # cap + 1: "more than 2"
        assert services.status_counts()[Status.VERIFIED] == 3
        monkeypatch.setattr(services, "COUNT_CAP", 1000)
        assert services.status_counts()[Status.DELIVERED] == 36
        assert services.status_counts()[Status.VERIFIED] == 5


def test_pagination_keeps_the_filter(app: Flask, client: FlaskClient, officer):
    _make_many(app, 30, status="verified")
    html = client.get(f"{QUEUE}?status=verified").get_data(as_text=True)
    assert "status=verified" in re.search(r'href="([^"]*page=2[^"]*)"', html).group(1)


# --- bulk assign --------------------------------------------------------------------------------


def _courier(app: Flask, name: str = "Kurir Satu") -> SimpleNamespace:
    with app.test_request_context():
        courier = make_user(roles=(Role.SADOKU_COURIER,), full_name=name)
        return SimpleNamespace(id=courier.id, email=courier.email, name=name)


def test_bulk_assign_sends_the_selected_ready_requests(app: Flask, client: FlaskClient, officer):
    one, two = _req(app, status="ready_for_delivery"), _req(app, status="ready_for_delivery")
    untouched = _req(app, status="ready_for_delivery")
    courier = _courier(app)
    page = client.get(f"{QUEUE}?status=ready_for_delivery").get_data(as_text=True)
    assert f'name="request_ids" value="{one.id}"' in page
    assert f'<option value="{courier.id}">Kurir Satu</option>' in page
    response = post(
        client,
        f"{QUEUE}/assign",
        {
            "request_ids": [str(one.id), str(two.id)],
            "courier": str(courier.id),
            "delivery_date": TOMORROW.isoformat(),
            "back": f"{QUEUE}?status=ready_for_delivery",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"{QUEUE}?status=ready_for_delivery"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 requests assigned to Kurir Satu for" in html
    assert _status(app, one.code) == Status.OUT_FOR_DELIVERY
    assert _status(app, two.code) == Status.OUT_FOR_DELIVERY
    assert _status(app, untouched.code) == Status.READY_FOR_DELIVERY
    with app.test_request_context():
        req = db.session.get(DocumentRequest, one.id)
        assert (req.courier_id, req.delivery_date) == (courier.id, TOMORROW)


def test_bulk_assign_is_all_or_nothing(app: Flask, client: FlaskClient, officer):
    ready = _req(app, status="ready_for_delivery")
    not_ready = _req(app, status="verified")
    courier = _courier(app)
    response = post(
        client,
        f"{QUEUE}/assign",
        {
            "request_ids": [str(ready.id), str(not_ready.id)],
            "courier": str(courier.id),
            "delivery_date": TOMORROW.isoformat(),
        },
        htmx="content",
    )
    assert response.status_code == 204
    assert "HX-Location" in response.headers
    html = client.get(QUEUE).get_data(as_text=True)
    assert f"{not_ready.code} is not ready for delivery" in html
    assert _status(app, ready.code) == Status.READY_FOR_DELIVERY
    assert _status(app, not_ready.code) == Status.VERIFIED


def test_bulk_assign_without_courier_says_so(app: Flask, client: FlaskClient, officer):
    ready = _req(app, status="ready_for_delivery")
    response = post(
        client,
        f"{QUEUE}/assign",
        {"request_ids": [str(ready.id)], "courier": "", "delivery_date": TOMORROW.isoformat()},
    )
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose a courier from the list" in html
    assert _status(app, ready.code) == Status.READY_FOR_DELIVERY


# --- the detail page ----------------------------------------------------------------------------


def _nik_views(app: Flask) -> int:
    with app.test_request_context():
        return db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "sadoku_nik_viewed")
        )


def test_officer_sees_full_nik_and_each_view_is_audited(app: Flask, client: FlaskClient, officer):
    req = _req(app)
    for expected in (1, 2):
        response = client.get(f"{QUEUE}/{req.code}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert VALID_NIK in html and VALID_KK in html
        assert _nik_views(app) == expected
    with app.test_request_context():
        entry = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert entry.actor_id == officer.id and entry.detail["request"] == req.code
    # Attachments, timeline and the full phone are there for officers.
    assert "/sadoku/attachments/" in html
    assert 'href="tel:+6281234567890"' in html
    assert "Verify" in html and f"{req.code}/status/verified" in html
    assert f"{req.code}/status/rejected" in html


def test_detail_marks_replaced_attachments_and_shows_internal_notes(
    app: Flask, client: FlaskClient, officer
):
    from portal.sadoku import services
    from tests.factories import checked_png

    with app.test_request_context():
        req = make_request(status="draft")
        name = req.document_type.attachment_names[0]
        services.add_attachment(req, name, checked_png("baru.png"), req.user)
        services.submit_request(req, req.user, declaration=True)
        services.add_internal_note(
            req, make_user(roles=(Role.SADOKU_OFFICER,), commit=False), "Hubungi dulu"
        )
        db.session.commit()
        code = req.code
    html = client.get(f"{QUEUE}/{code}").get_data(as_text=True)
    assert html.count(">Replaced</span>") == 1
    assert "Hubungi dulu" in html


def test_courier_sees_a_reduced_page_only_for_their_own_delivery(app: Flask, client: FlaskClient):
    courier = _courier(app)
    with app.test_request_context():
        mine = make_request(
            status="out_for_delivery", courier=_user(courier.id), delivery_date=TOMORROW
        )
        other = make_request(status="ready_for_delivery")
        mine_code, other_code = mine.code, other.code
    log_in(client, courier.email)
    response = client.get(f"{QUEUE}/{mine_code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert VALID_NIK not in html and VALID_KK not in html
    assert "1207••••••••0001" in html
    assert "/sadoku/attachments/" not in html
    assert 'href="tel:+6281234567890"' in html
    assert f"{mine_code}/status/delivered" in html
    assert f"{mine_code}/status/delivery_failed" in html
    assert _nik_views(app) == 0
    assert client.get(f"{QUEUE}/{other_code}").status_code == 404
    assert client.get(f"{QUEUE}/{other_code}/status/delivered").status_code == 404
    # A courier cannot make office moves, even on their own delivery.
    assert client.get(f"{QUEUE}/{mine_code}/status/collect_at_office").status_code == 403


def test_unknown_request_and_unknown_status_are_404(app: Flask, client: FlaskClient, officer):
    req = _req(app)
    assert client.get(f"{QUEUE}/SDK-0000-999999").status_code == 404
    assert client.get(f"{QUEUE}/{req.code}/status/flying").status_code == 404


def test_internal_note(app: Flask, client: FlaskClient, officer):
    req = _req(app)
    empty = post(client, f"{QUEUE}/{req.code}/notes", {"text": "  "})
    assert empty.status_code == 422
    assert "Write the note" in empty.get_data(as_text=True)
    response = post(client, f"{QUEUE}/{req.code}/notes", {"text": "Berkas asli dicek"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/{req.code}#notes")
    with app.test_request_context():
        note = db.session.scalar(select(InternalNote))
        assert (note.text, note.author_id) == ("Berkas asli dicek", officer.id)
    htmx = post(client, f"{QUEUE}/{req.code}/notes", {"text": "Kedua"}, htmx="content")
    assert htmx.status_code == 204 and "HX-Location" in htmx.headers


# --- status changes -----------------------------------------------------------------------------


def _last_event(app: Flask, code: str):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        req = db.session.scalar(select(DocumentRequest).where(DocumentRequest.code == code))
        event_ = req.events[-1]
        return SimpleNamespace(
            to=event_.to_status,
            public=event_.public_note,
            internal=event_.internal_note,
            actor=event_.actor_id,
            items=list(req.correction_items),
        )


def test_verify_with_a_response_template(app: Flask, client: FlaskClient, officer):
    req = _req(app)
    with app.test_request_context():
        template = db.session.scalar(
            select(ResponseTemplate).where(ResponseTemplate.status == Status.VERIFIED)
        )
        template_id, text = template.id, template.text
    url = f"{QUEUE}/{req.code}/status/verified"
    page = client.get(url).get_data(as_text=True)
    assert text in page and f'value="{template_id}"' in page and "Write my own" in page
    response = post(
        client, url, {"template": str(template_id), "public_note": "", "internal_note": "ok"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{QUEUE}/{req.code}")
    event_ = _last_event(app, req.code)
    assert (event_.to, event_.public, event_.internal, event_.actor) == (
        Status.VERIFIED,
        text,
        "ok",
        officer.id,
    )
    assert "is now \u201cVerified\u201d" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_correction_names_the_items(app: Flask, client: FlaskClient, officer):
    req = _req(app)
    url = f"{QUEUE}/{req.code}/status/needs_correction"
    page = client.get(url).get_data(as_text=True)
    assert 'value="attachment:Kartu Keluarga (KK)"' in page
    nothing = post(client, url, {"template": "own", "public_note": "Perbaiki"})
    assert nothing.status_code == 422
    assert "Choose at least one item" in nothing.get_data(as_text=True)
    assert "Perbaiki" in nothing.get_data(as_text=True)
    response = post(
        client,
        url,
        {
            "items": ["subject_nik", "attachment:Kartu Keluarga (KK)"],
            "template": "own",
            "public_note": "NIK dan KK tidak cocok",
        },
    )
    assert response.status_code == 303
    event_ = _last_event(app, req.code)
    assert event_.to == Status.NEEDS_CORRECTION
    assert event_.items == ["subject_nik", "attachment:Kartu Keluarga (KK)"]
    assert event_.public == "NIK dan KK tidak cocok"


def test_reject_needs_a_reason(app: Flask, client: FlaskClient, officer):
    req = _req(app)
    url = f"{QUEUE}/{req.code}/status/rejected"
    refused = post(client, url, {"template": "own", "public_note": "", "internal_note": "cek"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Give the reason for rejecting the request" in html
    assert "<title>Error:" in html
    assert "cek</textarea>" in html
    assert _status(app, req.code) == Status.SUBMITTED
    response = post(client, url, {"template": "own", "public_note": "Belum perekaman"})
    assert response.status_code == 303
    assert _last_event(app, req.code).public == "Belum perekaman"
    assert _status(app, req.code) == Status.REJECTED


def test_printing_ready_and_assign_through_http(app: Flask, client: FlaskClient, officer):
    req = _req(app, status="verified")
    courier = _courier(app)
    assert post(client, f"{QUEUE}/{req.code}/status/in_process", {}).status_code == 303
    assert _status(app, req.code) == Status.IN_PROCESS
    response = post(client, f"{QUEUE}/{req.code}/status/ready_for_delivery", {}, htmx="content")
    assert response.status_code == 204 and "HX-Location" in response.headers
    assert _status(app, req.code) == Status.READY_FOR_DELIVERY
    url = f"{QUEUE}/{req.code}/status/out_for_delivery"
    assert "Kurir Satu" in client.get(url).get_data(as_text=True)
    past = post(
        client,
        url,
        {
            "courier": str(courier.id),
            "delivery_date": (today_wib() - dt.timedelta(days=1)).isoformat(),
            "template": "own",
        },
    )
    assert past.status_code == 422
    assert "cannot be in the past" in past.get_data(as_text=True)
    response = post(
        client,
        url,
        {"courier": str(courier.id), "delivery_date": TOMORROW.isoformat(), "template": "own"},
    )
    assert response.status_code == 303
    with app.test_request_context():
        saved = db.session.get(DocumentRequest, req.id)
        assert saved.status == Status.OUT_FOR_DELIVERY
        assert (saved.courier_id, saved.delivery_date) == (courier.id, TOMORROW)


def _out_for_delivery(app: Flask, courier: SimpleNamespace) -> SimpleNamespace:
    with app.test_request_context():
        req = make_request(
            status="out_for_delivery", courier=_user(courier.id), delivery_date=TOMORROW
        )
        return SimpleNamespace(id=req.id, code=req.code)


def test_courier_records_a_delivery_with_photo_and_position(app: Flask, client: FlaskClient):
    courier = _courier(app)
    req = _out_for_delivery(app, courier)
    log_in(client, courier.email)
    url = f"{QUEUE}/{req.code}/status/delivered"
    page = client.get(url).get_data(as_text=True)
    assert 'accept="image/*"' in page and 'capture="environment"' in page
    assert "data-geolocate" in page and 'enctype="multipart/form-data"' in page
    missing = post(client, url, {"received_by": "Budi", "relation": "self"})
    assert missing.status_code == 422
    assert "Take a photo of the hand-over" in missing.get_data(as_text=True)
    assert 'value="Budi"' in missing.get_data(as_text=True)
    not_an_image = post(
        client,
        url,
        {
            "received_by": "Budi",
            "relation": "self",
            "photo": (io.BytesIO(b"not an image at all"), "foto.png"),
        },
    )
    assert not_an_image.status_code == 422
    assert _status(app, req.code) == Status.OUT_FOR_DELIVERY
    response = post(
        client,
        url,
        {
            "received_by": "Siti (istri)",
            "relation": "family",
            "photo": (io.BytesIO(tiny_png()), "serah.png"),
            "latitude": "3.556100",
            "longitude": "98.875200",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/sadoku/officer/deliveries")
    with app.test_request_context():
        saved = db.session.get(DocumentRequest, req.id)
        assert saved.status == Status.DELIVERED
        assert (saved.received_by, saved.received_relation) == ("Siti (istri)", Relation.FAMILY)
        assert (saved.delivered_lat, saved.delivered_lon) == (3.5561, 98.8752)
        assert saved.handover_photo is not None
        assert saved.events[-1].actor_id == courier.id


def test_officer_sees_the_handover_photo_inline(app: Flask, client: FlaskClient, officer):
    with app.test_request_context():
        req = make_request(status="delivered")
        photo_id, code = req.handover_photo.id, req.code
    html = client.get(f"{QUEUE}/{code}").get_data(as_text=True)
    assert f"/sadoku/attachments/{photo_id}?inline=1" in html
    assert "The device did not give a position" in html


def test_failed_then_rescheduled(app: Flask, client: FlaskClient, officer):
    courier = _courier(app)
    req = _out_for_delivery(app, courier)
    url = f"{QUEUE}/{req.code}/status/delivery_failed"
    assert "Nobody was at home" in client.get(url).get_data(as_text=True)
    unanswered = post(client, url, {})
    assert unanswered.status_code == 422
    assert "Choose why the delivery failed" in unanswered.get_data(as_text=True)
    assert post(client, url, {"failure_reason": "not_home"}).status_code == 303
    assert _status(app, req.code) == Status.DELIVERY_FAILED
    html = client.get(f"{QUEUE}/{req.code}").get_data(as_text=True)
    assert "Reschedule the delivery" in html
    day = TOMORROW + dt.timedelta(days=1)
    response = post(
        client,
        f"{QUEUE}/{req.code}/status/out_for_delivery",
        {"courier": str(courier.id), "delivery_date": day.isoformat(), "template": "own"},
    )
    assert response.status_code == 303
    with app.test_request_context():
        saved = db.session.get(DocumentRequest, req.id)
        assert (saved.status, saved.delivery_date) == (Status.OUT_FOR_DELIVERY, day)


def test_collect_at_office_then_collected(app: Flask, client: FlaskClient, officer):
    req = _req(app, status="delivery_failed")
    response = post(
        client,
        f"{QUEUE}/{req.code}/status/collect_at_office",
        {"template": "own", "public_note": "Ambil di loket 3"},
    )
    assert response.status_code == 303
    assert _last_event(app, req.code).public == "Ambil di loket 3"
    assert post(client, f"{QUEUE}/{req.code}/status/collected", {}).status_code == 303
    assert _status(app, req.code) == Status.COLLECTED
    # A finished request offers no more moves.
    html = client.get(f"{QUEUE}/{req.code}").get_data(as_text=True)
    assert "/status/" not in html


def test_a_move_the_table_does_not_allow_is_refused(app: Flask, client: FlaskClient, officer):
    req = _req(app)
    url = f"{QUEUE}/{req.code}/status/delivered"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 409
    assert "A request that is \u201cSubmitted\u201d cannot become \u201cDelivered\u201d" in html
    assert f'href="{QUEUE}/{req.code}"' in html
    posted = post(
        client,
        url,
        {"received_by": "X", "relation": "self", "photo": (io.BytesIO(tiny_png()), "a.png")},
    )
    assert posted.status_code == 409
    assert _status(app, req.code) == Status.SUBMITTED
    assert post(client, f"{QUEUE}/{req.code}/status/collected", {}).status_code == 409
    assert _status(app, req.code) == Status.SUBMITTED


# --- the courier's day --------------------------------------------------------------------------

# Desa centroids (portal/data/desa.csv); the office is at 3.559, 98.874 (DISDUKCAPIL_POINT).
DESA = {
    "tanjung_garbus": "12.07.28.2003",  # 3.5366, 98.8709
    "sekip": "12.07.28.2001",  # 3.5709, 98.8890
    "lubuk_pakam_3": "12.07.28.1008",  # 3.5559, 98.8751: next to the office
    "bakaran_batu": "12.07.28.2006",  # 3.5701, 98.8630
}
# Nearest neighbour from the office: LP III (0.4 km), Bakaran Batu (2.1), Sekip (2.9), T. Garbus.
EXPECTED_ORDER = ["lubuk_pakam_3", "bakaran_batu", "sekip", "tanjung_garbus"]


@pytest.fixture
def day_route(app: Flask) -> Iterator[tuple[SimpleNamespace, dict[str, str]]]:
    courier = _courier(app)
    codes = {}
    with app.test_request_context():
        for key, desa in DESA.items():
            req = make_request(
                status="out_for_delivery",
                courier=_user(courier.id),
                delivery_date=TOMORROW,
                address={"kecamatan_code": "12.07.28", "desa_code": desa},
            )
            codes[key] = req.code
        # Another day's delivery stays off the list.
        make_request(status="out_for_delivery", courier=_user(courier.id))
        req = db.session.scalar(select(DocumentRequest).order_by(DocumentRequest.id.desc()))
        req.delivery_date = TOMORROW + dt.timedelta(days=2)
        db.session.commit()
    yield courier, codes


def test_courier_day_list_is_in_nearest_neighbour_order(app: Flask, client: FlaskClient, day_route):
    courier, codes = day_route
    log_in(client, courier.email)
    response = client.get(f"/sadoku/officer/deliveries?date={TOMORROW.isoformat()}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _codes(html) == [codes[key] for key in EXPECTED_ORDER]
    assert "0.4 km from the Disdukcapil office" in html
    assert html.count("km from the previous stop") == 3
    assert "4 stops" in html
    assert "https://www.google.com/maps/search/?api=1&amp;query=3.555900,98.875100" in html
    assert 'rel="noopener"' in html and "opens a maps app" in html
    assert html.count('href="tel:+6281234567890"') == 4
    assert html.count("/status/delivered") == 4
    # Today's list is empty, with links to the days around it.
    today = client.get("/sadoku/officer/deliveries").get_data(as_text=True)
    assert "No deliveries on this day." in today
    assert f"date={TOMORROW.isoformat()}" in today


def test_officer_chooses_the_courier_of_a_day_list(
    app: Flask, client: FlaskClient, officer, day_route
):
    courier, codes = day_route
    chooser = client.get("/sadoku/officer/deliveries").get_data(as_text=True)
    assert "Choose a courier to see their deliveries." in chooser
    assert f'<option value="{courier.id}">Kurir Satu</option>' in chooser
    html = client.get(
        f"/sadoku/officer/deliveries?courier={courier.id}&date={TOMORROW.isoformat()}"
    ).get_data(as_text=True)
    assert _codes(html) == [codes[key] for key in EXPECTED_ORDER]
    assert f"courier={courier.id}" in re.search(r'href="([^"]*)">Next day', html).group(1)


def test_courier_day_list_ignores_another_courier_param(app: Flask, client: FlaskClient, day_route):
    courier, _codes_by_desa = day_route
    other = _courier(app, "Kurir Dua")
    log_in(client, other.email)
    html = client.get(
        f"/sadoku/officer/deliveries?courier={courier.id}&date={TOMORROW.isoformat()}"
    ).get_data(as_text=True)
    assert _codes(html) == []


# --- assisted mode ------------------------------------------------------------------------------


def _doc_id(app: Flask) -> int:
    with app.test_request_context():
        return make_document_type().id


def test_assisted_request_for_an_existing_account(app: Flask, client: FlaskClient, officer):
    doc_id = _doc_id(app)
    with app.test_request_context():
        resident = make_user(phone="081299990000", full_name="Ibu Rahma")
        resident_id = resident.id
    url = "/sadoku/officer/assisted"
    assert "The resident agreed that I file this request" in client.get(url).get_data(as_text=True)
    no_consent = post(
        client, url, {"phone": "0812 9999 0000", "document_type": str(doc_id), "reason": "new"}
    )
    assert no_consent.status_code == 422
    assert 'value="0812 9999 0000"' in no_consent.get_data(as_text=True)
    response = post(
        client,
        url,
        {"phone": "0812 9999 0000", "document_type": str(doc_id), "reason": "lost", "consent": "y"},
    )
    assert response.status_code == 303
    with app.test_request_context():
        draft = db.session.scalar(select(DocumentRequest))
        assert draft.status == Status.DRAFT
        assert (draft.user_id, draft.assisted_by_id) == (resident_id, officer.id)
        assert draft.assisted_consent_at is not None
        assert response.headers["Location"].endswith(f"/sadoku/drafts/{draft.id}/subject")
        assert db.session.scalar(select(func.count(User.id)).where(User.phone.isnot(None))) == 1


def test_assisted_request_makes_an_account_for_a_new_phone(
    app: Flask, client: FlaskClient, officer
):
    doc_id = _doc_id(app)
    url = "/sadoku/officer/assisted"
    nameless = post(
        client,
        url,
        {"phone": "081377778888", "document_type": str(doc_id), "reason": "new", "consent": "y"},
    )
    assert nameless.status_code == 422
    assert "enter the resident&#39;s full name" in nameless.get_data(as_text=True)
    with app.test_request_context():
        assert db.session.scalar(select(User).where(User.phone == "+6281377778888")) is None
    response = post(
        client,
        url,
        {
            "phone": "081377778888",
            "full_name": "Pak Darman",
            "document_type": str(doc_id),
            "reason": "new",
            "consent": "y",
        },
    )
    assert response.status_code == 303
    with app.test_request_context():
        resident = db.session.scalar(select(User).where(User.phone == "+6281377778888"))
        assert resident.full_name == "Pak Darman" and resident.email is None
        draft = db.session.scalar(select(DocumentRequest))
        assert (draft.user_id, draft.assisted_by_id) == (resident.id, officer.id)
        assert draft.assisted_consent_at is not None
    # The flash tells the officer how the resident gets in, without any password.
    html = client.get(QUEUE).get_data(as_text=True)
    assert "A new account was made for the resident" in html
    assert "Forgot password" in html


def test_assisted_form_errors(app: Flask, client: FlaskClient, officer):
    _doc_id(app)
    response = post(client, "/sadoku/officer/assisted", {"phone": "12", "document_type": "999"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a mobile number like 0812 3456 7890" in html
    assert "Choose the document" in html
    assert "Choose why the document is needed" in html
    assert "Confirm that the resident agreed" in html
