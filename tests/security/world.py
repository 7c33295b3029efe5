"""One small portal with something of everyone's in it, the personas who use it, and a walker.

The access matrix, CSRF walk and header walk all need the same things: real records owned by
particular people (resident A's SADOKU request, unit X's pickups, the seller's product...), a
logged-in test client per persona, and a way to turn every endpoint of `app.url_map` into a real
URL with ids that belong to someone. They live here so the three walks agree on them.

Adding an endpoint: give it a row in `tests/security/test_access_matrix.py::ACCESS`; if its URL
has arguments, add them to `URL_ARGS` below (a function of the world); if a POST needs a field to
get past `abort(400)`, add it to `POST_DATA`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, url_for
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext

from portal.accounts import services as accounts
from portal.accounts import sessions
from portal.accounts.models import Role, User
from portal.core.notifications import notify
from portal.extensions import db
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.models import PayoutMethod
from portal.mall import services as mall
from portal.mall.models import ReportReason
from portal.privacy import services as privacy
from portal.privacy.models import CorrectionArea
from portal.sadoku import services as sadoku
from portal.sadoku.models import Status
from tests.conftest import log_in
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    category,
    checked_png,
    fund_wallet,
    make_document_type,
    make_pickup,
    make_product,
    make_request,
    make_shop,
    make_unit,
    make_user,
)

# --- personas -------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
RESIDENT_A = "resident_a"
RESIDENT_B = "resident_b"
SELLER = "seller"
SADOKU_OFFICER = "sadoku_officer"
COURIER = "courier"
UNIT_X_OFFICER = "unit_x_officer"
UNIT_Y_OFFICER = "unit_y_officer"
ADMIN = "admin"
PERSONAS = (
    ANONYMOUS,
    RESIDENT_A,
    RESIDENT_B,
    SELLER,
    SADOKU_OFFICER,
    COURIER,
    UNIT_X_OFFICER,
    UNIT_Y_OFFICER,
    ADMIN,
)

# Values that appear on a page only where personal data is shown: the header walk looks for them.
# Residents' streets differ from the seller's shop street (a shop's address is published on
# purpose, a resident's home is not).
A_STREET = "Gang Melati Warga A No. 7"
B_STREET = "Gang Kenanga Warga B No. 9"
A_NIK = "1207280101900001"
A_FUNDS = 87_650
A_WITHDRAWAL = 20_000

# --- outcomes -------------------------------------------------------------------------------------

ALLOWED = "allowed"  # the view ran: 2xx, a redirect elsewhere, 409 (state refused), 422 (form)
LOGIN = "login"  # sent to the login page (303/302, or HX-Redirect/HX-Location for htmx)
DENIED = "denied"  # 403, or 404 for records that are not yours
HOME = "home"  # sent to the home page (logged-in user on a log-in-only page, or logging out)
CSRF_REFUSED = "csrf-refused"  # the CSRF error page: a walker bug when a valid token was sent
ERROR = "error"  # 5xx: always a failure


@dataclass
class World:
    """The ids of everything the walks touch, and each persona's login identifier."""

    logins: dict[str, str] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.ids[key]


def make_world(app: Flask) -> World:
    """Build the world in a request context of its own (services build URLs), then leave it.

    The walks' test clients must not run inside a pushed context: `g` and Flask-Login's cached
    user would leak between their requests.
    """
    with app.test_request_context():
        world = build_world()
        db.session.remove()
    return world


def build_world() -> World:
    """Every persona and the records the walks reach for. Needs a request context; commits."""
    w = World()
    doc = make_document_type()
    unit_x = make_unit(name="Bank Sampah Unit X", commit=False)
    unit_y = make_unit(name="Bank Sampah Unit Y", commit=False)
    address_a = {**LUBUK_PAKAM_ADDRESS, "street": A_STREET}
    users = {
        RESIDENT_A: make_user(full_name="Ani Warga", nik=A_NIK, address=address_a, commit=False),
        RESIDENT_B: make_user(
            full_name="Bonar Warga",
            address={**LUBUK_PAKAM_ADDRESS, "street": B_STREET},
            commit=False,
        ),
        SELLER: make_user(full_name="Sari Penjual", commit=False),
        SADOKU_OFFICER: make_user(roles=(Role.SADOKU_OFFICER,), commit=False),
        COURIER: make_user(roles=(Role.SADOKU_COURIER,), commit=False),
        UNIT_X_OFFICER: make_user(roles=(Role.WASTE_OFFICER,), scope=unit_x.scope, commit=False),
        UNIT_Y_OFFICER: make_user(roles=(Role.WASTE_OFFICER,), scope=unit_y.scope, commit=False),
        ADMIN: make_user(roles=(Role.ADMIN,), commit=False),
    }
    a, officer, courier = users[RESIDENT_A], users[SADOKU_OFFICER], users[COURIER]
    db.session.flush()

    # SADOKU: resident A's draft, an open request (with attachments), one waiting for a
    # correction, one out for delivery with the courier, and one the courier does not carry.
    sadoku_args = {"owner": a, "document_type": doc, "nik": A_NIK, "address": address_a}
    draft = make_request(status="draft", commit=False, **sadoku_args)
    open_req = make_request(status="submitted", commit=False, **sadoku_args)
    correction = make_request(
        status="needs_correction", officer=officer, commit=False, **sadoku_args
    )
    delivery = make_request(
        status="out_for_delivery", officer=officer, courier=courier, commit=False, **sadoku_args
    )
    unassigned = make_request(
        status="ready_for_delivery", officer=officer, commit=False, **sadoku_args
    )
    holiday = sadoku.add_holiday(dt.date(2031, 12, 25), "Natal", users[ADMIN])
    template = sadoku.save_response_template(None, Status.VERIFIED, "Berkas lengkap.")

    # Jumpa Madu: resident A's weighed pickup at unit X (with a photo and a weighing photo),
    # a freshly requested one, a funded wallet and a withdrawal waiting at unit X.
    x_officer = users[UNIT_X_OFFICER]
    weighed = _weighed_pickup_with_photos(a, unit_x, x_officer, address_a)
    requested = make_pickup(user=a, unit=unit_x, address=address_a, commit=False)
    fund_wallet(a, A_FUNDS, unit_x, commit=False)
    withdrawal = jm.request_withdrawal(a, unit_x, A_WITHDRAWAL, PayoutMethod.CASH)

    # Deli Serdang Mall: the seller's verified shop, a published product with a photo, and a
    # report on it from resident B.
    shop = make_shop(owner=users[SELLER], commit=False)
    product = make_product(shop=shop, commit=False)
    photo = mall.add_photo(product, users[SELLER], checked_png("produk.png"))
    report = mall.report_product(product, ReportReason.MISLEADING, "Harga salah", users[RESIDENT_B])

    # Accounts: a notification for A, a password-reset token for B, a role grant to revoke.
    note = notify(a.id, "Uji", "Catatan untuk A", "/sadoku/requests")
    other_device = _other_device_session(a)
    correction_request = privacy.file_correction(
        a, area=CorrectionArea.PROFILE, reference="", what_is_wrong="Nama", correct_value="Ani W."
    )
    db.session.flush()
    _user, reset_token = accounts.create_password_reset(users[RESIDENT_B].email) or (None, "")
    courier_grant = next(g for g in courier.grants if g.role == Role.SADOKU_COURIER)
    db.session.commit()

    w.logins = {name: (u.email or u.phone) for name, u in users.items()}
    w.ids.update(
        doc_id=doc.id,
        doc_slug=doc.slug,
        draft_id=draft.id,
        open_code=open_req.code,
        correction_code=correction.code,
        delivery_code=delivery.code,
        unassigned_code=unassigned.code,
        attachment_id=open_req.current_attachments[0].id,
        draft_attachment_id=draft.current_attachments[0].id,
        holiday_id=holiday.id,
        template_id=template.id,
        unit_x=unit_x.id,
        unit_y=unit_y.id,
        waste_category_id=category("pet").id,
        weighed_pickup=weighed.id,
        requested_pickup=requested.id,
        pickup_codes=[weighed.code, requested.code],
        withdrawal_code=withdrawal.code,
        weighing_number=weighed.current_weighing.number,
        withdrawal_id=withdrawal.id,
        shop_id=shop.id,
        shop_slug=shop.slug,
        product_id=product.id,
        photo_id=photo.id,
        photo_key=photo.key,
        mall_category_id=mall.active_categories()[0].id,
        report_id=report.id,
        note_id=note.id,
        a_session_id=other_device.id,
        privacy_correction_id=correction_request.id,
        reset_token=reset_token,
        courier_id=courier.id,
        courier_grant_id=courier_grant.id,
        a_id=a.id,
        b_id=users[RESIDENT_B].id,
    )
    return w


def _other_device_session(user: User) -> Any:
    """A login of `user` on another device (a session row), as the sessions page lists it.

    `sessions.start` also logs the user in on this throwaway request context; nothing else sees
    that.
    """
    return sessions.start(user)


def _weighed_pickup_with_photos(user: User, unit: Any, officer: User, address: dict) -> Any:
    """A pickup that has a resident's photo and a weighing photo (make_pickup attaches none)."""
    day = jm.pickup_days_ahead(unit)[0]
    pickup = jm.request_pickup(
        user,
        unit,
        address={**address, "landmark": None, "latitude": None, "longitude": None},
        estimates={category("pet").id: 3500},
        preferred_date=day,
        window=unit.time_windows[0],
        photo=checked_png("sampah.png"),
    )
    jm.schedule_pickup(pickup, officer, day=day, window=unit.time_windows[0], collector=officer)
    jm.start_route(pickup, officer)
    jm.record_weighing(
        pickup, officer, {category("pet").id: 3300}, photos=[checked_png("timbangan.png")]
    )
    db.session.flush()
    return pickup


# --- URLs -----------------------------------------------------------------------------------------

# Arguments that build each endpoint's URL from the world: always someone's real record, so a
# persona who is not its owner (resident B, the unit-Y officer...) proves they cannot reach it.
URL_ARGS: dict[str, Callable[[World], dict[str, Any]]] = {
    "accounts.password_reset_edit": lambda w: {"token": w["reset_token"]},
    "account_security.session_end": lambda w: {"session_id": w["a_session_id"]},
    "admin.user_show": lambda w: {"user_id": w["a_id"]},
    "admin.role_create": lambda w: {"user_id": w["a_id"]},
    "admin.role_delete": lambda w: {"user_id": w["courier_id"], "grant_id": w["courier_grant_id"]},
    "admin.user_disable": lambda w: {"user_id": w["b_id"]},
    "admin.user_sessions_end": lambda w: {"user_id": w["a_id"]},
    "admin.user_mfa_reset": lambda w: {"user_id": w["courier_id"]},
    "admin.user_enable": lambda w: {"user_id": w["b_id"]},
    "jumpa_madu.pickup_show": lambda w: {"pickup_id": w["weighed_pickup"]},
    "jumpa_madu.pickup_photo": lambda w: {"pickup_id": w["weighed_pickup"]},
    "jumpa_madu.pickup_confirm": lambda w: {"pickup_id": w["weighed_pickup"]},
    "jumpa_madu.pickup_dispute": lambda w: {"pickup_id": w["weighed_pickup"]},
    "jumpa_madu.pickup_cancel": lambda w: {"pickup_id": w["requested_pickup"]},
    "jumpa_madu.withdrawal_show": lambda w: {"withdrawal_id": w["withdrawal_id"]},
    "jumpa_madu_admin.unit_edit": lambda w: {"unit_id": w["unit_x"]},
    "jumpa_madu_admin.category_edit": lambda w: {"category_id": w["waste_category_id"]},
    "jumpa_madu_admin.unit_prices": lambda w: {"unit_id": w["unit_x"]},
    "jumpa_madu_admin.unit_price_edit": lambda w: {
        "unit_id": w["unit_x"],
        "category_id": w["waste_category_id"],
    },
    "jumpa_madu_officer.pickup_show": lambda w: {"pickup_id": w["weighed_pickup"]},
    "jumpa_madu_officer.pickup_photo": lambda w: {"pickup_id": w["weighed_pickup"]},
    "jumpa_madu_officer.weighing_photo": lambda w: {
        "pickup_id": w["weighed_pickup"],
        "number": w["weighing_number"],
        "index": 0,
    },
    "jumpa_madu_officer.pickup_weigh": lambda w: {"pickup_id": w["weighed_pickup"]},
    "jumpa_madu_officer.pickup_resolve": lambda w: {"pickup_id": w["weighed_pickup"]},
    "jumpa_madu_officer.pickup_schedule": lambda w: {"pickup_id": w["requested_pickup"]},
    "jumpa_madu_officer.pickup_start": lambda w: {"pickup_id": w["requested_pickup"]},
    "jumpa_madu_officer.pickup_outcome": lambda w: {"pickup_id": w["requested_pickup"]},
    "jumpa_madu_officer.pickup_cancel": lambda w: {"pickup_id": w["requested_pickup"]},
    "jumpa_madu_officer.withdrawal_approve": lambda w: {"withdrawal_id": w["withdrawal_id"]},
    "jumpa_madu_officer.withdrawal_reject": lambda w: {"withdrawal_id": w["withdrawal_id"]},
    "jumpa_madu_officer.withdrawal_pay": lambda w: {"withdrawal_id": w["withdrawal_id"]},
    "main.notification_read": lambda w: {"note_id": w["note_id"]},
    "mall.photo": lambda w: {"key": w["photo_key"]},
    "mall.product_report": lambda w: {"product_id": w["product_id"]},
    "mall.product_show": lambda w: {"product_id": w["product_id"]},
    "mall.product_whatsapp": lambda w: {"product_id": w["product_id"]},
    "mall.shop_show": lambda w: {"slug": w["shop_slug"]},
    "mall_admin.category_edit": lambda w: {"category_id": w["mall_category_id"]},
    "mall_admin.product_unblock": lambda w: {"product_id": w["product_id"]},
    "mall_admin.report_resolve": lambda w: {"report_id": w["report_id"]},
    "mall_admin.shop_show": lambda w: {"shop_id": w["shop_id"]},
    "mall_admin.shop_verify": lambda w: {"shop_id": w["shop_id"]},
    "mall_admin.shop_reinstate": lambda w: {"shop_id": w["shop_id"]},
    "mall_admin.shop_request_changes": lambda w: {"shop_id": w["shop_id"]},
    "mall_admin.shop_suspend": lambda w: {"shop_id": w["shop_id"]},
    "mall_seller.product_row": lambda w: {"product_id": w["product_id"]},
    "mall_seller.product_quick_edit": lambda w: {"product_id": w["product_id"]},
    "mall_seller.product_edit": lambda w: {"product_id": w["product_id"]},
    "mall_seller.product_status": lambda w: {"product_id": w["product_id"]},
    "mall_seller.product_duplicate": lambda w: {"product_id": w["product_id"]},
    "mall_seller.product_photo_add": lambda w: {"product_id": w["product_id"]},
    "mall_seller.product_photo_move": lambda w: {"photo_id": w["photo_id"]},
    "mall_seller.product_photo_delete": lambda w: {"photo_id": w["photo_id"]},
    "privacy.notice_show": lambda w: {"service": "sadoku"},
    "privacy.correction_show": lambda w: {"correction_id": w["privacy_correction_id"]},
    "privacy_admin.correction_show": lambda w: {"correction_id": w["privacy_correction_id"]},
    "sadoku.document_type_show": lambda w: {"slug": w["doc_slug"]},
    "sadoku.draft_edit": lambda w: {"draft_id": w["draft_id"], "step": "document"},
    "sadoku.draft_delete": lambda w: {"draft_id": w["draft_id"]},
    "sadoku.request_show": lambda w: {"code": w["open_code"]},
    "sadoku.request_receipt": lambda w: {"code": w["open_code"]},
    "sadoku.request_cancel": lambda w: {"code": w["open_code"]},
    "sadoku.request_correct": lambda w: {"code": w["correction_code"]},
    "sadoku.attachment_download": lambda w: {"attachment_id": w["attachment_id"]},
    "sadoku_admin.document_type_edit": lambda w: {"doc_id": w["doc_id"]},
    "sadoku_admin.holiday_delete": lambda w: {"holiday_id": w["holiday_id"]},
    "sadoku_admin.template_edit": lambda w: {"template_id": w["template_id"]},
    "sadoku_admin.template_delete": lambda w: {"template_id": w["template_id"]},
    "sadoku_officer.request_show": lambda w: {"code": w["delivery_code"]},
    "sadoku_officer.note_create": lambda w: {"code": w["delivery_code"]},
    "sadoku_officer.request_transition": lambda w: {
        "code": w["delivery_code"],
        "to": "delivery_failed",
    },
}

# Form fields a POST needs to reach its access decision and the form check, not abort(400) on a
# missing choice. Empty forms otherwise: the walks are about who may, not about what is saved.
POST_DATA: dict[str, Callable[[World], dict[str, Any]]] = {
    "main.language_set": lambda w: {"lang": "id", "next": "/mall/"},
    "mall_seller.product_status": lambda w: {"status": "hidden"},
    "mall_seller.product_photo_move": lambda w: {"direction": "down"},
}

# POSTs that remove or hide what later requests of the same walk need: they go last. Logging out
# goes after everything.
LATE_POSTS = (
    "account_security.session_end_others",
    "mall_seller.product_status",
    "mall_seller.product_photo_delete",
    "sadoku.draft_delete",
    "sadoku_admin.holiday_delete",
    "sadoku_admin.template_delete",
    "admin.role_delete",
    "admin.user_disable",
)
LAST_POSTS = ("accounts.session_delete",)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SKIPPED_ENDPOINTS = frozenset({"static"})


@dataclass(frozen=True)
class Call:
    """One request of a walk: endpoint, HTTP method, URL and form data (without the token)."""

    endpoint: str
    method: str
    url: str
    data: dict[str, Any]


def endpoint_methods(app: Flask) -> dict[str, set[str]]:
    """Every endpoint (but `static`) and the methods it answers (HEAD and OPTIONS aside)."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        found.setdefault(rule.endpoint, set()).update(methods)
    return found


def endpoint_arguments(app: Flask) -> dict[str, set[str]]:
    """The URL arguments of each endpoint (empty for fixed URLs)."""
    args: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        args.setdefault(rule.endpoint, set()).update(rule.arguments)
    return args


def missing_url_args(app: Flask) -> list[str]:
    """Endpoints whose URL has arguments but that have no entry in URL_ARGS."""
    return sorted(
        endpoint
        for endpoint, args in endpoint_arguments(app).items()
        if args and endpoint not in SKIPPED_ENDPOINTS and endpoint not in URL_ARGS
    )


def build_url(app: Flask, world: World, endpoint: str) -> str:
    make_args = URL_ARGS.get(endpoint)
    with app.test_request_context():
        return url_for(endpoint, **(make_args(world) if make_args else {}))


def _order(call: Call) -> tuple[int, str, str]:
    if call.endpoint in LAST_POSTS and call.method != "GET":
        rank = 3
    elif call.endpoint in LATE_POSTS and call.method != "GET":
        rank = 2
    elif call.method != "GET":
        rank = 1
    else:
        rank = 0
    return rank, call.endpoint, call.method


def calls(app: Flask, world: World) -> list[Call]:
    """Every (endpoint, method) to try, GETs first, then POSTs, the destructive ones last."""
    unbuildable = set(missing_url_args(app))
    found = []
    for endpoint, methods in endpoint_methods(app).items():
        if endpoint in unbuildable:
            continue  # test_every_endpoint_with_url_arguments_gets_real_ids names it
        url = build_url(app, world, endpoint)
        for method in methods:
            data = POST_DATA[endpoint](world) if endpoint in POST_DATA and method != "GET" else {}
            found.append(Call(endpoint, method, url, data))
    return sorted(found, key=_order)


# --- clients --------------------------------------------------------------------------------------


def client_for(app: Flask, world: World, persona: str) -> FlaskClient:
    """A test client logged in as `persona` (through the login form), or anonymous."""
    client = app.test_client()
    if persona != ANONYMOUS:
        response = log_in(client, world.logins[persona])
        assert response.status_code == 303, (persona, response.status_code)
        assert not _is_login(response.headers.get("Location", "")), persona
    return client


def send(client: FlaskClient, call: Call, token: str | None) -> Any:
    data = dict(call.data)
    if token is not None:
        data["csrf_token"] = token
    return client.open(call.url, method=call.method, data=data)


# --- outcomes -------------------------------------------------------------------------------------


def _path(url: str) -> str:
    return urlsplit(url).path


def _is_login(url: str) -> bool:
    return _path(url) == "/accounts/login"


def csrf_messages(app: Flask) -> tuple[str, ...]:
    """The CSRF error page's message, in every language the portal speaks."""
    msgid = "The form expired or was sent from another site. Go back, reload and try again."
    found = []
    with app.test_request_context():
        for lang in app.config["LANGUAGES"]:
            with force_locale(lang):
                found.append(babel_gettext(msgid))
    return tuple(found)


def is_csrf_refusal(app: Flask, response: Any) -> bool:
    if response.status_code != 400:
        return False
    body = response.get_data(as_text=True)
    return any(message in body for message in csrf_messages(app))


def outcome(app: Flask, response: Any) -> str:
    """What a response amounts to for access control (see the constants above)."""
    status = response.status_code
    target = (
        response.headers.get("Location")
        or response.headers.get("HX-Redirect")
        or response.headers.get("HX-Location")
        or ""
    )
    if target.startswith("{"):  # HX-Location may be JSON: {"path": ..., "target": ...}
        target = re.sub(r'^.*"path"\s*:\s*"([^"]*)".*$', r"\1", target)
    if status >= 500:
        return ERROR
    if status in (403, 404):
        return DENIED
    if is_csrf_refusal(app, response):
        return CSRF_REFUSED
    if target and _is_login(target):
        return LOGIN
    if 300 <= status < 400 and _path(target) == "/":
        return HOME
    return ALLOWED
