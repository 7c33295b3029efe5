"""Account views: what a resident or an admin sees and can do, plain and through htmx."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.core.audit import AuditLog
from portal.extensions import db
from tests.conftest import csrf_token, log_in, post
from tests.factories import DEFAULT_PASSWORD, make_user

REGISTER = {
    "full_name": "Siti Aminah",
    "phone": "0812 3456 7890",
    "email": "siti@contoh.id",
    "password": DEFAULT_PASSWORD,
    "consent": "y",
}


def text(response) -> str:
    return response.get_data(as_text=True)


# --- registration -------------------------------------------------------------------------------


def test_register_logs_in_and_sends_to_profile(client, app):
    response = post(client, "/accounts/register", REGISTER)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/accounts/profile/edit")
    page = text(client.get("/accounts/profile"))
    assert "Siti Aminah" in page
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.phone == "+6281234567890"


def test_register_with_htmx_redirects_the_whole_page(client):
    response = post(client, "/accounts/register", REGISTER, htmx="content")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith("/accounts/profile/edit")


def test_invalid_registration_is_422_with_summary_and_values_kept(client):
    data = dict(REGISTER, password="pendek", consent="", phone="12345", full_name="Budi Santoso")
    response = post(client, "/accounts/register", data)
    assert response.status_code == 422
    page = text(response)
    assert "<title>Galat:" in page
    assert 'class="error-summary"' in page
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    for field in ("phone", "password", "consent"):
        assert f'href="#{field}"' in summary
    assert 'value="Budi Santoso"' in page
    assert 'value="12345"' in page
    assert 'value="siti@contoh.id"' in page
    assert 'aria-invalid="true"' in page


def test_invalid_registration_through_htmx_returns_the_main_fragment(client):
    response = post(client, "/accounts/register", dict(REGISTER, consent=""), htmx="content")
    assert response.status_code == 422
    page = text(response)
    assert "<html" not in page and '<main id="content"' in page
    assert "Galat:" in page.split("</title>")[0]
    assert "HX-Target" in response.headers["Vary"]


def test_registering_an_existing_phone_says_log_in_instead(client, app):
    with app.app_context():
        make_user(phone="081234567890")
    response = post(client, "/accounts/register", REGISTER)
    assert response.status_code == 422
    assert 'href="#phone"' in text(response)


# --- log in and out -----------------------------------------------------------------------------


def test_login_with_phone_and_logout(client, app):
    with app.app_context():
        make_user(email=None, phone="081234567890", full_name="Budi Santoso")
    response = log_in(client, "0812-3456-7890")
    assert response.status_code == 303
    assert "Budi" in text(client.get("/"))
    response = post(client, "/accounts/logout")
    assert response.status_code == 303
    assert client.get("/accounts/profile").status_code == 302


def test_logout_is_post_only(client, login_as):
    login_as()
    assert client.get("/accounts/logout").status_code == 405


def test_wrong_password_is_422_without_saying_which_part_was_wrong(client, app):
    with app.app_context():
        make_user(email="budi@contoh.id")
    wrong_password = log_in(client, "budi@contoh.id", "salah-sandi-123")
    unknown_user = log_in(client, "tidak.ada@contoh.id", "salah-sandi-123")
    assert wrong_password.status_code == unknown_user.status_code == 422
    message = re.search(r"error-summary.*?<li>(.*?)</li>", text(wrong_password), re.S).group(1)
    assert message == re.search(r"error-summary.*?<li>(.*?)</li>", text(unknown_user), re.S).group(
        1
    )
    assert 'value="budi@contoh.id"' in text(wrong_password)


def test_login_follows_a_safe_next_and_refuses_an_open_redirect(client, app):
    with app.app_context():
        make_user(email="budi@contoh.id")
    data = {"identifier": "budi@contoh.id", "password": DEFAULT_PASSWORD}
    response = post(client, "/accounts/login?next=/accounts/password", data)
    assert response.headers["Location"] == "/accounts/password"
    post(client, "/accounts/logout")
    for evil in ("https://evil.test/", "//evil.test/x", "/\\evil.test"):
        response = post(client, "/accounts/login", dict(data, next=evil))
        assert response.headers["Location"] == "/", evil
        post(client, "/accounts/logout")


def test_protected_page_sends_anonymous_users_to_login_and_back(client, app):
    response = client.get("/accounts/profile")
    assert response.status_code == 302
    assert "/accounts/login?next=/accounts/profile" in response.headers["Location"]
    htmx = client.get("/accounts/profile", headers={"HX-Request": "true", "HX-Target": "content"})
    assert htmx.status_code == 204 and "/accounts/login" in htmx.headers["HX-Redirect"]


def test_remember_me_makes_the_session_cookie_outlive_the_browser(client, app):
    with app.app_context():
        make_user(email="budi@contoh.id")
    post(
        client,
        "/accounts/login",
        {"identifier": "budi@contoh.id", "password": DEFAULT_PASSWORD, "remember": "y"},
    )
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.expires is not None
    # No second, unrevocable login cookie: the server-side session is the only way in.
    assert client.get_cookie("remember_token") is None


def test_without_remember_me_the_session_ends_with_the_browser(client, login_as):
    login_as()
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is None


def test_session_cookie_is_httponly_and_lax(client, login_as):
    login_as()
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_a_disabled_account_is_logged_out_on_its_next_request(client, app, login_as):
    user = login_as()
    assert client.get("/accounts/profile").status_code == 200
    with app.app_context():
        admin = make_user(roles=(Role.ADMIN,))
        from portal.accounts.services import set_disabled

        set_disabled(admin, db.session.get(User, user.id), True)
        db.session.commit()
    assert client.get("/accounts/profile").status_code == 302


# --- passwords ----------------------------------------------------------------------------------


def test_change_password(client, login_as):
    user = login_as()
    wrong = post(
        client,
        "/accounts/password",
        {"current_password": "salah", "new_password": "sandi-baru-yang-panjang"},
    )
    assert wrong.status_code == 422 and 'href="#current_password"' in text(wrong)
    ok = post(
        client,
        "/accounts/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "sandi-baru-yang-panjang"},
    )
    assert ok.status_code == 303
    post(client, "/accounts/logout")
    assert log_in(client, user.email).status_code == 422
    assert log_in(client, user.email, "sandi-baru-yang-panjang").status_code == 303


def test_change_password_refuses_a_common_one(client, login_as):
    login_as()
    response = post(
        client,
        "/accounts/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "iloveyou"},
    )
    assert response.status_code == 422 and 'href="#new_password"' in text(response)


def test_unknown_reset_link_is_404(client):
    assert client.get("/accounts/password-reset/not-a-real-token").status_code == 404


# --- profile ------------------------------------------------------------------------------------


def test_profile_shows_nik_masked_and_only_the_edit_form_shows_it_whole(client, login_as):
    login_as(nik="1207284506900001", phone="081234567890")
    show = text(client.get("/accounts/profile"))
    assert "1207284506900001" not in show and "1207" + "\u2022" * 8 + "0001" in show
    assert "+6281234567890" not in show and "081234567890" not in show
    edit = text(client.get("/accounts/profile/edit"))
    assert 'value="1207284506900001"' in edit
    assert 'value="081234567890"' in edit  # the way residents write their own number


def _profile_form(email: str, **changes: str) -> dict[str, str]:
    """What a resident submits on the profile form: an address in Lubuk Pakam, no pin."""
    data = {
        "full_name": "Siti Aminah",
        "email": email,
        "phone": "",
        "nik": "",
        "kecamatan": "12.07.28",
        "desa": "12.07.28.1008",
        "street": "Jl. Sudirman No. 5",
        "rt": "",
        "rw": "",
        "landmark": "Dekat pasar",
        "latitude": "",
        "longitude": "",
    }
    data.update(changes)
    return data


def test_profile_edit_saves_address_and_pin(client, login_as, app):
    user = login_as()
    data = _profile_form(
        user.email,
        nik="1207 2845 0690 0001",
        rt="1",
        rw="02",
        latitude="3.5561",
        longitude="98.8750",
    )
    response = post(client, "/accounts/profile/edit", data)
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.get(User, user.id)
        assert (saved.desa_code, saved.rt, saved.rw, saved.nik) == (
            "12.07.28.1008",
            "001",
            "002",
            "1207284506900001",
        )
        assert saved.latitude == pytest.approx(3.5561)
    assert "Lubuk Pakam III" in text(client.get("/accounts/profile"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"desa": "12.07.01.2001"}, "desa"),  # a desa of Gunung Meriah, not Lubuk Pakam
        ({"nik": "1207280613900001"}, "nik"),  # month 13
        ({"latitude": "1.0", "longitude": "100.0"}, "latitude"),  # outside the regency
        ({"street": ""}, "street"),
        ({"rt": "abc"}, "rt"),
        ({"email": "", "phone": ""}, "phone"),
    ],
)
def test_profile_edit_errors_keep_what_was_typed(client, login_as, change, field):
    user = login_as()
    data = {**_profile_form(user.email), **change}
    response = post(client, "/accounts/profile/edit", data)
    assert response.status_code == 422
    page = text(response)
    assert f'href="#{field}"' in page
    assert 'value="Dekat pasar"' in page
    assert '<option value="12.07.28" data-lat' in page and "selected>Lubuk Pakam</option>" in page


def test_profile_edit_htmx_fragment_and_full_page(client, login_as):
    login_as()
    full = client.get("/accounts/profile/edit")
    fragment = client.get(
        "/accounts/profile/edit", headers={"HX-Request": "true", "HX-Target": "content"}
    )
    assert "<html" in text(full) and "<html" not in text(fragment)
    assert '<main id="content"' in text(fragment) and 'id="bell"' in text(fragment)
    assert "hx-swap-oob" in text(fragment)
    assert fragment.headers["Vary"] == full.headers["Vary"]


def test_desa_options_partial_and_plain_page(client):
    partial = client.get(
        "/wilayah/desa?kecamatan=12.07.28",
        headers={"HX-Request": "true", "HX-Target": "desa-field"},
    )
    body = text(partial)
    assert body.lstrip().startswith('<div id="desa-field"')
    assert 'value="12.07.28.1008"' in body and 'value="12.07.01.2001"' not in body
    plain = client.get("/wilayah/desa?kecamatan=12.07.28")
    assert "<html" in text(plain) and "Lubuk Pakam III" in text(plain)
    everything = text(
        client.get("/wilayah/desa", headers={"HX-Request": "true", "HX-Target": "desa-field"})
    )
    assert everything.count("<optgroup") == 22 and everything.count('<option value="12.07.') == 394


# --- notifications ------------------------------------------------------------------------------


def test_bell_counts_unread_and_reading_clears_it(client, login_as):
    login_as()
    home = text(client.get("/"))
    assert re.search(r'class="badge">1<', home)
    page = text(client.get("/notifications"))
    note_id = re.search(r"/notifications/(\d+)/read", page).group(1)
    response = post(client, f"/notifications/{note_id}/read")
    assert response.status_code == 303
    assert 'class="badge"' not in text(client.get("/"))


def test_someone_elses_notification_is_404(client, app, login_as):
    with app.app_context():
        other = make_user()
        from portal.core.notifications import Notification

        note_id = db.session.scalar(select(Notification.id).where(Notification.user_id == other.id))
    login_as()
    assert post(client, f"/notifications/{note_id}/read").status_code == 404


# --- admin --------------------------------------------------------------------------------------


def test_admin_pages_are_403_for_residents_and_officers(client, login_as):
    login_as(Role.SADOKU_OFFICER)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_admin_search_plain_and_active_search_partial(client, app, login_as):
    with app.app_context():
        make_user(full_name="Budi Santoso", email="budi@contoh.id", phone="081211110000")
        make_user(full_name="Siti Aminah")
    login_as(Role.ADMIN, full_name="Admin Uji")
    listing = text(client.get("/admin/users"))
    assert "Budi Santoso" in listing and "Siti Aminah" in listing
    plain = post(client, "/admin/users", {"q": "0812 1111 0000"})
    assert plain.status_code == 200
    assert "Budi Santoso" in text(plain) and "Siti Aminah" not in text(plain)
    assert "081211110000" not in text(plain) and "+6281211110000" not in text(plain)
    partial = post(client, "/admin/users", {"q": "siti"}, htmx="user-results")
    assert text(partial).lstrip().startswith('<div id="user-results"')
    assert "Siti Aminah" in text(partial) and "Budi Santoso" not in text(partial)
    assert "HX-Push-Url" not in partial.headers


def test_admin_search_never_puts_the_query_in_a_url(client, app, login_as):
    with app.app_context():
        make_user(full_name="Budi Santoso", phone="081211110000")
    login_as(Role.ADMIN)
    page = text(client.get("/admin/users"))
    form = re.search(r'<form method="post" action="/admin/users"[^>]*>', page)
    assert form is not None and "hx-push-url" not in form.group(0)
    response = post(client, "/admin/users", {"q": "081211110000"})
    assert "Budi Santoso" in text(response)
    assert "081211110000" not in "".join(re.findall(r'href="([^"]*)"', text(response)))


def test_admin_grants_and_revokes_a_role_with_audit(client, app, login_as):
    from tests.factories import make_unit

    with app.app_context():
        target_id = make_user(full_name="Dewi Petugas").id
        unit_scope = make_unit().scope  # a waste officer's scope is their unit's number
    login_as(Role.ADMIN)
    response = post(
        client, f"/admin/users/{target_id}/roles", {"role": "waste_officer", "scope": unit_scope}
    )
    assert response.status_code == 303
    page = text(client.get(f"/admin/users/{target_id}"))
    assert f"({unit_scope})" in page and "Peran diberikan" in page  # the audit entry, in Indonesian
    grant_id = re.search(rf"/admin/users/{target_id}/roles/(\d+)/delete", page).group(1)
    assert post(client, f"/admin/users/{target_id}/roles/{grant_id}/delete").status_code == 303
    with app.app_context():
        assert not db.session.get(User, target_id).grants
        actions = db.session.scalars(
            select(AuditLog.action).where(AuditLog.target_user_id == target_id)
        ).all()
        assert actions == ["role_granted", "role_revoked"]


def test_admin_grant_errors_are_422(client, app, login_as):
    with app.app_context():
        target_id = make_user(roles=(Role.ADMIN,)).id
    login_as(Role.ADMIN)
    response = post(client, f"/admin/users/{target_id}/roles", {"role": "admin"}, htmx="content")
    assert response.status_code == 422 and "Galat:" in text(response)
    assert post(client, f"/admin/users/{target_id}/roles", {"role": "seller"}).status_code == 422


def test_admin_disables_an_account(client, app, login_as):
    with app.app_context():
        target = make_user(email="budi@contoh.id")
        target_id = target.id
    login_as(Role.ADMIN)
    response = post(client, f"/admin/users/{target_id}/disable", htmx="content")
    assert response.status_code == 204
    assert json.loads(response.headers["HX-Location"])["path"] == f"/admin/users/{target_id}"
    other = app.test_client()
    assert log_in(other, "budi@contoh.id").status_code == 422
    post(client, f"/admin/users/{target_id}/enable")
    assert log_in(other, "budi@contoh.id").status_code == 303


def test_unknown_user_is_404_for_admin(client, login_as):
    login_as(Role.ADMIN)
    assert client.get("/admin/users/999999").status_code == 404


# --- baseline security --------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused(client, app):
    with app.app_context():
        make_user(email="budi@contoh.id")
    response = client.post(
        "/accounts/login", data={"identifier": "budi@contoh.id", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 400
    assert client.get("/accounts/profile").status_code == 302


def test_htmx_header_token_is_accepted(client, app):
    with app.app_context():
        make_user(email="budi@contoh.id")
    token = csrf_token(client)
    response = client.post(
        "/accounts/login",
        data={"identifier": "budi@contoh.id", "password": DEFAULT_PASSWORD},
        headers={"X-CSRFToken": token, "HX-Request": "true", "HX-Target": "content"},
    )
    assert response.status_code == 204 and "HX-Redirect" in response.headers


def test_login_is_rate_limited_per_account(client, app):
    with app.app_context():
        make_user(email="budi@contoh.id")
    statuses = [log_in(client, "budi@contoh.id", f"salah-{i}").status_code for i in range(6)]
    assert statuses == [422] * 5 + [429]
    # The same account written another way is the same account; another account is not limited.
    assert log_in(client, "BUDI@contoh.id").status_code == 429
    assert log_in(client, "siapa@contoh.id", "salah-lagi").status_code == 422


def test_login_is_rate_limited_per_ip(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT_IP", "3 per minute")
    statuses = [log_in(client, f"orang{i}@contoh.id", "salah-sandi").status_code for i in range(4)]
    assert statuses == [422, 422, 422, 429]
    other_ip = app.test_client()
    token = csrf_token(other_ip)
    response = other_ip.post(
        "/accounts/login",
        data={"identifier": "x@contoh.id", "password": "salah", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 422


def test_registration_and_reset_are_rate_limited(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT_IP", "2 per minute")
    assert post(client, "/accounts/password-reset", {"email": "a@contoh.id"}).status_code == 200
    assert post(client, "/accounts/password-reset", {"email": "b@contoh.id"}).status_code == 200
    assert post(client, "/accounts/password-reset", {"email": "c@contoh.id"}).status_code == 429
    assert post(client, "/accounts/register", REGISTER).status_code == 429
    assert client.get("/accounts/register").status_code == 200  # reading the form is not limited
