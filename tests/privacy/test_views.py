"""The privacy pages as people use them: notices, "Data saya", corrections, deletion, consents.

Pages are read in English (lang cookie) so assertions do not depend on the Indonesian catalogue.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.core.notifications import Notification
from portal.extensions import db
from portal.privacy.models import CorrectionRequest, CorrectionStatus
from tests.conftest import log_in, post
from tests.factories import (
    DEFAULT_PASSWORD,
    VALID_NIK,
    fund_wallet,
    make_request,
    make_user,
)
from tests.privacy.conftest import EMAIL, NAME, build_resident

CORRECTION = {
    "area": "profile",
    "reference": "",
    "what_is_wrong": "Nama saya tertulis Siti Rahmawatty",
    "correct_value": "Siti Rahmawati",
}


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


def _client(app: Flask, identifier: str) -> FlaskClient:
    other = app.test_client()
    other.set_cookie("lang", "en")
    assert log_in(other, identifier).status_code == 303
    return other


def _admin(app: Flask) -> FlaskClient:
    with app.app_context():
        email = make_user(roles=(Role.ADMIN,)).email
    return _client(app, email)


# --- notices --------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["sadoku", "jumpa-madu", "mall"])
def test_each_service_has_a_public_notice_with_its_rights(client: FlaskClient, service: str):
    page = client.get(f"/privacy/{service}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for heading in ("What we keep", "Legal basis", "Who sees it", "How long we keep it"):
        assert heading in text
    for right in ("See your data", "Correct it", "Have it deleted", "Withdraw consent", "Complain"):
        assert right in text


def test_the_notices_state_the_configured_retention(app: Flask, client: FlaskClient, monkeypatch):
    monkeypatch.setitem(app.config, "SADOKU_RETENTION_DAYS", 90)
    monkeypatch.setitem(app.config, "JUMPA_MADU_RETENTION_DAYS", 180)
    assert "erased, 90 days after the request closes" in client.get("/privacy/sadoku").get_data(
        as_text=True
    )
    assert "erased 180 days after the pickup closes" in client.get("/privacy/jumpa-madu").get_data(
        as_text=True
    )


def test_an_unknown_service_has_no_notice(client: FlaskClient):
    assert client.get("/privacy/e-padi").status_code == 404


@pytest.mark.parametrize(
    ("path", "notice"),
    [
        ("/sadoku/", "/privacy/sadoku"),
        ("/sadoku/requests/new", "/privacy/sadoku"),
        ("/jumpa-madu/", "/privacy/jumpa-madu"),
        ("/jumpa-madu/pickups/new", "/privacy/jumpa-madu"),
        ("/mall/", "/privacy/mall"),
        ("/mall/my-shop/new", "/privacy/mall"),
        ("/privacy", "/privacy/mall"),
    ],
)
def test_each_service_links_its_notice_from_where_people_start(
    login_as, client: FlaskClient, path: str, notice: str
):
    login_as()
    page = client.get(path, follow_redirects=True)
    assert page.status_code == 200
    assert f'href="{notice}"' in page.get_data(as_text=True)


def test_my_data_is_linked_from_the_profile_and_the_account_menu(login_as, client: FlaskClient):
    login_as()
    page = client.get("/accounts/profile").get_data(as_text=True)
    assert page.count('href="/privacy/my-data"') == 2  # the account menu and the profile


# --- export ---------------------------------------------------------------------------------------


def test_download_as_json_is_an_uncached_attachment(app: Flask, client: FlaskClient, resident):
    assert log_in(client, EMAIL).status_code == 303
    response = post(client, "/privacy/my-data/export", {"format": "json"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.data)
    assert data["tables"]["profile"][0]["full_name"] == NAME
    assert data["tables"]["profile"][0]["nik"] == VALID_NIK


def test_download_as_csv_is_a_zip(client: FlaskClient, resident):
    assert log_in(client, EMAIL).status_code == 303
    response = post(client, "/privacy/my-data/export", {"format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {"profile.csv", "sadoku_requests.csv", "withdrawals.csv"} <= set(archive.namelist())


def test_the_download_needs_a_form_token_and_a_known_format(login_as, client: FlaskClient):
    login_as()
    assert client.post("/privacy/my-data/export", data={"format": "json"}).status_code == 400
    response = post(client, "/privacy/my-data/export", {"format": "xml"})
    assert response.status_code == 422
    assert "Choose JSON or CSV" in response.get_data(as_text=True)


# --- corrections ----------------------------------------------------------------------------------


def test_correction_goes_from_resident_to_admin_and_back(app: Flask, client: FlaskClient, login_as):
    resident = login_as()
    response = post(client, "/privacy/corrections/new", CORRECTION)
    assert response.status_code == 303
    show_url = response.headers["Location"]
    assert CORRECTION["what_is_wrong"] in client.get(show_url).get_data(as_text=True)
    with app.app_context():
        correction = db.session.scalar(select(CorrectionRequest))
        assert correction.user_id == resident.id and correction.status is CorrectionStatus.OPEN
        correction_id, code = correction.id, correction.code

    admin = _admin(app)
    queue = admin.get("/admin/privacy/corrections")
    assert queue.status_code == 200 and code in queue.get_data(as_text=True)
    url = f"/admin/privacy/corrections/{correction_id}"
    # Refusing without a reason is sent back, with what was chosen kept.
    refused = post(admin, url, {"outcome": "refused", "note": ""})
    assert refused.status_code == 422
    assert "Explain why the correction is refused" in refused.get_data(as_text=True)
    assert re.search(r'value="refused"\s+checked', refused.get_data(as_text=True))
    done = post(admin, url, {"outcome": "done", "note": "Nama sudah diperbaiki."})
    assert done.status_code == 303
    assert code not in admin.get("/admin/privacy/corrections").get_data(as_text=True)
    answered = admin.get("/admin/privacy/corrections?status=done")
    assert answered.status_code == 200 and code in answered.get_data(as_text=True)
    assert admin.get("/admin/privacy/corrections?status=lost").status_code == 404
    assert post(admin, url, {"outcome": "refused", "note": "x"}).status_code == 422

    page = client.get(show_url).get_data(as_text=True)
    assert "Corrected" in page and "Nama sudah diperbaiki." in page
    with app.app_context():
        notes = db.session.scalars(
            select(Notification).where(Notification.user_id == resident.id)
        ).all()
        assert any(code in n.title and n.url == show_url for n in notes)


def test_an_incomplete_correction_comes_back_with_what_was_typed(login_as, client: FlaskClient):
    login_as()
    response = post(client, "/privacy/corrections/new", {**CORRECTION, "correct_value": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Error:" in page
    assert "Write what the data should be" in page
    assert CORRECTION["what_is_wrong"] in page
    assert re.search(r'value="profile"\s+checked', page)


def test_a_nik_cannot_be_sent_as_the_reference(login_as, client: FlaskClient):
    login_as()
    for reference in ("NIK 12/07", VALID_NIK):
        response = post(client, "/privacy/corrections/new", {**CORRECTION, "reference": reference})
        assert response.status_code == 422
    assert "looks like a NIK or KK number" in response.get_data(as_text=True)


def test_nobody_else_sees_a_persons_correction_requests(app: Flask, client: FlaskClient, login_as):
    login_as()
    assert post(client, "/privacy/corrections/new", CORRECTION).status_code == 303
    with app.app_context():
        correction = db.session.scalar(select(CorrectionRequest))
        correction_id, code = correction.id, correction.code
        other_email = make_user().email
        officer_email = make_user(roles=(Role.SADOKU_OFFICER,)).email
    other = _client(app, other_email)
    assert other.get(f"/privacy/corrections/{correction_id}").status_code == 404
    assert code not in other.get("/privacy/corrections").get_data(as_text=True)
    officer = _client(app, officer_email)
    assert officer.get("/admin/privacy/corrections").status_code == 403
    assert officer.get(f"/admin/privacy/corrections/{correction_id}").status_code == 403


# --- deletion -------------------------------------------------------------------------------------


def test_deleting_the_account_logs_out_for_good_and_leaves_a_pseudonym(
    app: Flask, client: FlaskClient
):
    resident = build_resident(app)
    assert log_in(client, EMAIL).status_code == 303
    page = client.get("/privacy/account/delete").get_data(as_text=True)
    assert "Delete my account for good" in page

    wrong = post(client, "/privacy/account/delete", {"understood": "y", "password": "salah"})
    assert wrong.status_code == 422
    assert "The password is not correct" in wrong.get_data(as_text=True)
    assert re.search(
        r'<input(?=[^>]*name="understood")[^>]*\bchecked', wrong.get_data(as_text=True)
    )

    response = post(
        client, "/privacy/account/delete", {"understood": "y", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 303
    assert client.get("/privacy/my-data").status_code == 302  # logged out
    assert log_in(client, EMAIL).status_code != 303
    with app.app_context():
        user = db.session.get(User, resident.id)
        pseudonym = user.full_name
        officer_email = make_user(roles=(Role.SADOKU_OFFICER,)).email
    assert NAME not in pseudonym and "#" in pseudonym

    officer = _client(app, officer_email)
    page = officer.get(f"/sadoku/officer/requests/{resident.request_code}").get_data(as_text=True)
    assert pseudonym in page
    assert NAME not in page and VALID_NIK not in page
    assert client.get(f"/mall/shops/{resident.shop_slug}").status_code == 404


def test_staff_pages_still_work_for_a_deleted_account(app: Flask, client: FlaskClient):
    """The kept records show the pseudonym, and the erased fields do not break any page."""
    resident = build_resident(app)
    assert log_in(client, EMAIL).status_code == 303
    post(client, "/privacy/account/delete", {"understood": "y", "password": DEFAULT_PASSWORD})
    with app.app_context():
        pseudonym = db.session.get(User, resident.id).full_name
        unit_officer = make_user(roles=(Role.WASTE_OFFICER,), scope=str(resident.unit_id)).email
    officer = _client(app, unit_officer)
    page = officer.get(f"/jumpa-madu/unit/pickups/{resident.pickup_id}")
    assert page.status_code == 200
    assert pseudonym in page.get_data(as_text=True) and NAME not in page.get_data(as_text=True)
    admin = _admin(app)
    for url in (
        f"/admin/users/{resident.id}",
        f"/admin/mall/shops/{resident.shop_id}",
        "/admin/privacy/corrections",
        "/admin/audit",
    ):
        page = admin.get(url)
        assert page.status_code == 200, url
        assert NAME not in page.get_data(as_text=True), url
    assert pseudonym in admin.get(f"/admin/users/{resident.id}").get_data(as_text=True)
    # A deleted account cannot be switched back on.
    post(admin, f"/admin/users/{resident.id}/enable")
    with app.app_context():
        assert db.session.get(User, resident.id).is_disabled


def test_deletion_without_confirming_is_sent_back(login_as, client: FlaskClient):
    login_as()
    response = post(client, "/privacy/account/delete", {"password": DEFAULT_PASSWORD})
    assert response.status_code == 422
    assert "Confirm that you understand what is erased" in response.get_data(as_text=True)
    assert client.get("/privacy/my-data").status_code == 200  # still logged in


def test_deletion_is_refused_with_what_to_do_while_money_is_pending(
    app: Flask, client: FlaskClient, login_as
):
    resident = login_as()
    with app.app_context():
        fund_wallet(db.session.get(User, resident.id), 25_000)
    page = client.get("/privacy/account/delete").get_data(as_text=True)
    assert "cannot be deleted yet" in page and "Rp 25.000" in page
    assert "Delete my account for good" not in page
    response = post(
        client, "/privacy/account/delete", {"understood": "y", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 422
    assert "Withdraw it first" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, resident.id).deleted_at is None


def test_deletion_is_refused_while_a_sadoku_request_is_in_progress(
    app: Flask, client: FlaskClient, login_as
):
    resident = login_as()
    with app.test_request_context():
        make_request(owner=db.session.get(User, resident.id), status="ready_for_delivery")
    page = client.get("/privacy/account/delete").get_data(as_text=True)
    assert "A SADOKU document request is in progress" in page


# --- consents -------------------------------------------------------------------------------------


def test_email_messages_can_be_switched_off_and_on(app: Flask, client: FlaskClient, login_as):
    resident = login_as()
    assert "On: messages about your requests" in client.get("/privacy/consents").get_data(
        as_text=True
    )
    assert post(client, "/privacy/consents/email", {"allow": "0"}).status_code == 303
    page = client.get("/privacy/consents").get_data(as_text=True)
    assert "Off since" in page
    with app.app_context():
        assert db.session.get(User, resident.id).email_opt_out_at is not None
    assert post(client, "/privacy/consents/email", {"allow": "1"}).status_code == 303
    with app.app_context():
        assert db.session.get(User, resident.id).email_opt_out_at is None


def test_the_map_pin_can_be_removed_everywhere(app: Flask, client: FlaskClient, login_as):
    resident = login_as(address={"latitude": 3.56, "longitude": 98.87})
    assert "Your profile has a map pin." in client.get("/privacy/consents").get_data(as_text=True)
    assert post(client, "/privacy/consents/map-pin").status_code == 303
    page = client.get("/privacy/consents").get_data(as_text=True)
    assert "Your profile has no map pin." in page and "You last removed your pins" in page
    with app.app_context():
        assert not db.session.get(User, resident.id).has_pin


def test_withdrawing_consent_to_the_notice_leads_to_deletion(login_as, client: FlaskClient):
    login_as()
    page = client.get("/privacy/consents").get_data(as_text=True)
    assert "withdrawing this consent means deleting your account" in page
    assert 'href="/privacy/account/delete"' in page


def test_no_personal_data_travels_in_privacy_urls(app: Flask, client: FlaskClient, resident):
    assert log_in(client, EMAIL).status_code == 303
    for path in ("/privacy/my-data", "/privacy/corrections", "/privacy/consents"):
        page = client.get(path).get_data(as_text=True)
        for href in re.findall(r'href="([^"]+)"', page):
            assert VALID_NIK not in href and "siti" not in href.lower(), href
