"""The access matrix: every endpoint x every persona -> the outcome one declared table expects.

`ACCESS` below is the portal's access policy in one place: each endpoint names a rule (PUBLIC,
LOGGED_IN, OWNER_A, UNIT_X...), and each rule says, for every persona, whether the view runs
("allowed"), sends them to log in ("login"), refuses them (403, or 404 for records that are not
theirs: "denied"), or sends them home ("home"). The walk calls every endpoint of `app.url_map`
as every persona, with real ids of records that belong to someone else (resident A's request,
the seller's product, unit X's pickup...), and lists every disagreement at once.

A new endpoint without a row fails `test_every_endpoint_has_a_row`, by name; a row for an
endpoint that is gone fails `test_every_row_names_a_real_endpoint`. To add one: a row here, and
its URL arguments in `tests/security/world.py::URL_ARGS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from tests.conftest import csrf_token
from tests.security.world import (
    ADMIN,
    ALLOWED,
    ANONYMOUS,
    COURIER,
    DENIED,
    HOME,
    LOGIN,
    PERSONAS,
    RESIDENT_A,
    SADOKU_OFFICER,
    SELLER,
    UNIT_X_OFFICER,
    UNIT_Y_OFFICER,
    Call,
    World,
    calls,
    client_for,
    endpoint_methods,
    make_world,
    missing_url_args,
    outcome,
    send,
)

LOGGED_IN_PERSONAS = frozenset(PERSONAS) - {ANONYMOUS}


@dataclass(frozen=True)
class Rule:
    """A named access policy: who is let in, and what everyone else gets."""

    name: str
    allowed: frozenset[str] = field(default_factory=frozenset)
    anonymous: str = LOGIN
    others: str = DENIED

    def expect(self, persona: str) -> str:
        if persona == ANONYMOUS:
            return self.anonymous
        return ALLOWED if persona in self.allowed else self.others

    def __repr__(self) -> str:
        return self.name


def _rule(name: str, *allowed: str, **kw: Any) -> Rule:
    return Rule(name, frozenset(allowed), **kw)


PUBLIC = _rule("PUBLIC", *LOGGED_IN_PERSONAS, anonymous=ALLOWED)
# Log in, register: a logged-in person is sent home instead.
ANON_ONLY = _rule("ANON_ONLY", anonymous=ALLOWED, others=HOME)
LOGOUT = _rule("LOGOUT", others=HOME)
LOGGED_IN = _rule("LOGGED_IN", *LOGGED_IN_PERSONAS)
# Records of resident A (SADOKU requests and drafts, pickups, withdrawals, notifications,
# sessions): nobody else, not even an admin, opens them through the resident's pages.
OWNER_A = _rule("OWNER_A", RESIDENT_A)
# A's attachments: A, and the SADOKU office that checks them (not the courier).
OWNER_A_OR_SADOKU_OFFICE = _rule("OWNER_A_OR_SADOKU_OFFICE", RESIDENT_A, SADOKU_OFFICER, ADMIN)
# The seller's own shop, products and photos.
SELLER_OWNER = _rule("SELLER_OWNER", SELLER)
SADOKU_OFFICE = _rule("SADOKU_OFFICE", SADOKU_OFFICER, ADMIN)
SADOKU_STAFF = _rule("SADOKU_STAFF", SADOKU_OFFICER, ADMIN, COURIER)
# A request out for delivery with the world's courier: the courier may open it.
COURIER_ASSIGNED = _rule("COURIER_ASSIGNED", SADOKU_OFFICER, ADMIN, COURIER)
# Unit pages without a record: any unit's officer (their own unit) and admins (any unit).
UNIT_STAFF = _rule("UNIT_STAFF", UNIT_X_OFFICER, UNIT_Y_OFFICER, ADMIN)
# Filing at a unit's counter: only someone who works at a unit.
UNIT_OFFICER = _rule("UNIT_OFFICER", UNIT_X_OFFICER, UNIT_Y_OFFICER)
# Records of unit X (its pickups, withdrawals, prices): unit X's officer and admins.
UNIT_X = _rule("UNIT_X", UNIT_X_OFFICER, ADMIN)
UNIT_Y = _rule("UNIT_Y", UNIT_Y_OFFICER, ADMIN)
ADMIN_ONLY = _rule("ADMIN", ADMIN)

# endpoint -> rule, or {method: rule} where GET and POST differ.
ACCESS: dict[str, Rule | dict[str, Rule]] = {
    # accounts
    "accounts.account_new": ANON_ONLY,
    "accounts.session_new": ANON_ONLY,
    "accounts.session_delete": LOGOUT,
    "accounts.password_reset_request": PUBLIC,
    "accounts.password_reset_edit": PUBLIC,
    "accounts.password_edit": LOGGED_IN,
    "accounts.profile_show": LOGGED_IN,
    "accounts.profile_edit": LOGGED_IN,
    "account_security.mfa_verify": LOGGED_IN,
    "account_security.mfa_setup": LOGGED_IN,
    "account_security.password_confirm": LOGGED_IN,
    "account_security.mfa_show": LOGGED_IN,
    "account_security.mfa_recovery_codes": LOGGED_IN,
    "account_security.session_index": LOGGED_IN,
    "account_security.session_end": OWNER_A,
    "account_security.session_end_others": LOGGED_IN,
    # admin: accounts, roles, audit
    "admin.user_index": ADMIN_ONLY,
    "admin.user_show": ADMIN_ONLY,
    "admin.role_create": ADMIN_ONLY,
    "admin.role_delete": ADMIN_ONLY,
    "admin.user_disable": ADMIN_ONLY,
    "admin.user_enable": ADMIN_ONLY,
    "admin.user_sessions_end": ADMIN_ONLY,
    "admin.user_mfa_reset": ADMIN_ONLY,
    "admin.audit_index": ADMIN_ONLY,
    # main
    "main.home": PUBLIC,
    "main.privacy": PUBLIC,
    "main.healthz": PUBLIC,
    "main.language_set": PUBLIC,
    "main.notification_index": LOGGED_IN,
    "main.notification_read": OWNER_A,
    "main.notification_read_all": LOGGED_IN,
    "wilayah.desa_options": PUBLIC,
    # privacy (UU 27/2022): notices, "Data saya", the admins' correction queue
    "privacy.notice_show": PUBLIC,
    "privacy.data_show": LOGGED_IN,
    "privacy.export_create": LOGGED_IN,
    "privacy.correction_index": LOGGED_IN,
    "privacy.correction_new": LOGGED_IN,
    "privacy.correction_show": OWNER_A,
    "privacy.account_delete": LOGGED_IN,
    "privacy.consent_index": LOGGED_IN,
    "privacy.consent_email": LOGGED_IN,
    "privacy.map_pin_delete": LOGGED_IN,
    "privacy_admin.correction_index": ADMIN_ONLY,
    "privacy_admin.correction_show": ADMIN_ONLY,
    # SADOKU: public, resident, officer, admin
    "sadoku.index": PUBLIC,
    "sadoku.document_type_show": PUBLIC,
    "sadoku.track": PUBLIC,
    "sadoku.request_new": LOGGED_IN,
    "sadoku.request_index": LOGGED_IN,
    "sadoku.draft_edit": OWNER_A,
    "sadoku.draft_delete": OWNER_A,
    "sadoku.request_show": OWNER_A,
    "sadoku.request_receipt": OWNER_A,
    "sadoku.request_cancel": OWNER_A,
    "sadoku.request_correct": OWNER_A,
    "sadoku.attachment_download": OWNER_A_OR_SADOKU_OFFICE,
    "sadoku_officer.request_index": SADOKU_OFFICE,
    "sadoku_officer.request_bulk_assign": SADOKU_OFFICE,
    "sadoku_officer.assisted_new": SADOKU_OFFICE,
    "sadoku_officer.delivery_index": SADOKU_STAFF,
    "sadoku_officer.request_show": COURIER_ASSIGNED,
    "sadoku_officer.note_create": COURIER_ASSIGNED,
    "sadoku_officer.request_transition": COURIER_ASSIGNED,
    "sadoku_admin.document_type_index": ADMIN_ONLY,
    "sadoku_admin.document_type_new": ADMIN_ONLY,
    "sadoku_admin.document_type_edit": ADMIN_ONLY,
    "sadoku_admin.holiday_index": ADMIN_ONLY,
    "sadoku_admin.holiday_delete": ADMIN_ONLY,
    "sadoku_admin.template_index": ADMIN_ONLY,
    "sadoku_admin.template_edit": ADMIN_ONLY,
    "sadoku_admin.template_delete": ADMIN_ONLY,
    # Jumpa Madu: public, resident, unit officer, admin
    "jumpa_madu.index": PUBLIC,
    "jumpa_madu.price_index": PUBLIC,
    "jumpa_madu.pickup_new": LOGGED_IN,
    "jumpa_madu.pickup_index": LOGGED_IN,
    "jumpa_madu.wallet_show": LOGGED_IN,
    "jumpa_madu.withdrawal_new": LOGGED_IN,
    "jumpa_madu.pickup_show": OWNER_A,
    "jumpa_madu.pickup_cancel": OWNER_A,
    "jumpa_madu.pickup_confirm": OWNER_A,
    "jumpa_madu.pickup_dispute": OWNER_A,
    "jumpa_madu.pickup_photo": OWNER_A,
    "jumpa_madu.withdrawal_show": OWNER_A,
    "jumpa_madu_officer.pickup_index": UNIT_STAFF,
    "jumpa_madu_officer.pickup_route": UNIT_STAFF,
    "jumpa_madu_officer.withdrawal_index": UNIT_STAFF,
    "jumpa_madu_officer.cash_report": UNIT_STAFF,
    # An admin without a unit sees the explanation page, but cannot file at a counter.
    "jumpa_madu_officer.assisted_new": {"GET": UNIT_STAFF, "POST": UNIT_OFFICER},
    "jumpa_madu_officer.pickup_show": UNIT_X,
    "jumpa_madu_officer.pickup_schedule": UNIT_X,
    "jumpa_madu_officer.pickup_start": UNIT_X,
    "jumpa_madu_officer.pickup_weigh": UNIT_X,
    "jumpa_madu_officer.pickup_outcome": UNIT_X,
    "jumpa_madu_officer.pickup_resolve": UNIT_X,
    "jumpa_madu_officer.pickup_cancel": UNIT_X,
    "jumpa_madu_officer.pickup_photo": UNIT_X,
    "jumpa_madu_officer.weighing_photo": UNIT_X,
    "jumpa_madu_officer.withdrawal_approve": UNIT_X,
    "jumpa_madu_officer.withdrawal_reject": UNIT_X,
    "jumpa_madu_officer.withdrawal_pay": UNIT_X,
    "jumpa_madu_admin.unit_prices": UNIT_X,
    "jumpa_madu_admin.unit_price_edit": UNIT_X,
    "jumpa_madu_admin.unit_index": ADMIN_ONLY,
    "jumpa_madu_admin.unit_new": ADMIN_ONLY,
    "jumpa_madu_admin.unit_edit": ADMIN_ONLY,
    "jumpa_madu_admin.category_index": ADMIN_ONLY,
    "jumpa_madu_admin.category_new": ADMIN_ONLY,
    "jumpa_madu_admin.category_edit": ADMIN_ONLY,
    # Deli Serdang Mall: public, seller, admin
    "mall.index": PUBLIC,
    "mall.product_show": PUBLIC,
    "mall.product_whatsapp": PUBLIC,
    "mall.product_report": PUBLIC,
    "mall.shop_show": PUBLIC,
    "mall.photo": PUBLIC,
    # Anyone logged in may open a shop; with none yet these pages lead to opening one.
    "mall_seller.dashboard": LOGGED_IN,
    "mall_seller.shop_new": LOGGED_IN,
    "mall_seller.shop_edit": LOGGED_IN,
    "mall_seller.product_new": LOGGED_IN,
    "mall_seller.shop_submit": SELLER_OWNER,
    "mall_seller.product_row": SELLER_OWNER,
    "mall_seller.product_quick_edit": SELLER_OWNER,
    "mall_seller.product_edit": SELLER_OWNER,
    "mall_seller.product_status": SELLER_OWNER,
    "mall_seller.product_duplicate": SELLER_OWNER,
    "mall_seller.product_photo_add": SELLER_OWNER,
    "mall_seller.product_photo_move": SELLER_OWNER,
    "mall_seller.product_photo_delete": SELLER_OWNER,
    "mall_admin.shop_index": ADMIN_ONLY,
    "mall_admin.shop_show": ADMIN_ONLY,
    "mall_admin.shop_verify": ADMIN_ONLY,
    "mall_admin.shop_reinstate": ADMIN_ONLY,
    "mall_admin.shop_request_changes": ADMIN_ONLY,
    "mall_admin.shop_suspend": ADMIN_ONLY,
    "mall_admin.product_unblock": ADMIN_ONLY,
    "mall_admin.report_index": ADMIN_ONLY,
    "mall_admin.report_resolve": ADMIN_ONLY,
    "mall_admin.category_index": ADMIN_ONLY,
    "mall_admin.category_new": ADMIN_ONLY,
    "mall_admin.category_edit": ADMIN_ONLY,
}


@dataclass(frozen=True)
class Probe:
    """One more request beside the table's: the same endpoint on a record with another owner."""

    label: str
    endpoint: str
    args: Callable[[World], dict[str, Any]]
    rule: Rule


# The world's courier carries one request; these prove the other ones stay closed to them, and
# that unit X's officer cannot manage unit Y's prices either.
PROBES = (
    Probe(
        "request not assigned to the courier",
        "sadoku_officer.request_show",
        lambda w: {"code": w["unassigned_code"]},
        SADOKU_OFFICE,
    ),
    Probe(
        "delivering a request not assigned to the courier",
        "sadoku_officer.request_transition",
        lambda w: {"code": w["unassigned_code"], "to": "delivered"},
        SADOKU_OFFICE,
    ),
    # A draft is not sent yet: its files are the resident's alone (the request page of a draft
    # is a 404 to officers too), unless an officer is filing it for them at a counter.
    Probe(
        "attachment of A's unsent draft",
        "sadoku.attachment_download",
        lambda w: {"attachment_id": w["draft_attachment_id"]},
        OWNER_A,
    ),
    Probe(
        "unit Y's prices",
        "jumpa_madu_admin.unit_prices",
        lambda w: {"unit_id": w["unit_y"]},
        UNIT_Y,
    ),
)


def rule_for(endpoint: str, method: str) -> Rule:
    entry = ACCESS[endpoint]
    return entry[method] if isinstance(entry, dict) else entry


def expected(endpoint: str, method: str, persona: str) -> str:
    return rule_for(endpoint, method).expect(persona)


# --- the table matches the app --------------------------------------------------------------------


def test_every_endpoint_has_a_row(app: Flask):
    missing = sorted(set(endpoint_methods(app)) - set(ACCESS))
    assert not missing, f"endpoints with no row in ACCESS (add one): {missing}"


def test_every_row_names_a_real_endpoint(app: Flask):
    found = endpoint_methods(app)
    gone = sorted(set(ACCESS) - set(found))
    assert not gone, f"rows in ACCESS for endpoints that no longer exist: {gone}"
    wrong_methods = [
        (endpoint, sorted(entry), sorted(found[endpoint]))
        for endpoint, entry in ACCESS.items()
        if isinstance(entry, dict) and endpoint in found and set(entry) != found[endpoint]
    ]
    assert not wrong_methods, f"per-method rows that do not match the methods: {wrong_methods}"


def test_every_endpoint_with_url_arguments_gets_real_ids(app: Flask):
    missing = missing_url_args(app)
    assert not missing, f"add URL arguments to tests/security/world.py URL_ARGS: {missing}"


# --- the walk -------------------------------------------------------------------------------------


def _probe_calls(app: Flask, world: World) -> list[tuple[Call, Rule, str]]:
    from flask import url_for

    found = []
    for probe in PROBES:
        with app.test_request_context():
            url = url_for(probe.endpoint, **probe.args(world))
        found.append((Call(probe.endpoint, "GET", url, {}), probe.rule, probe.label))
    return found


@pytest.mark.usefixtures("no_rate_limits")
@pytest.mark.parametrize("persona", PERSONAS)
def test_access_matrix(app: Flask, persona: str):
    """Each persona, every endpoint and method, real records of other people: as the table says.

    GETs run first, then POSTs with a valid CSRF token and a minimal form (a 422 means the view
    ran, so access was granted); POSTs that delete or hide what others need go last.
    """
    world = make_world(app)
    client = client_for(app, world, persona)
    token = csrf_token(client)
    walk: list[tuple[Call, Rule, str]] = [
        (call, rule_for(call.endpoint, call.method), "")
        for call in calls(app, world)
        if call.endpoint in ACCESS
    ]
    # Probes are GETs: they go before the first POST.
    first_post = next((i for i, (c, _r, _l) in enumerate(walk) if c.method != "GET"), len(walk))
    walk[first_post:first_post] = _probe_calls(app, world)
    mismatches = []
    for call, rule, label in walk:
        response = send(client, call, token if call.method != "GET" else None)
        got, want = outcome(app, response), rule.expect(persona)
        if got != want:
            where = f" ({label})" if label else ""
            mismatches.append(
                f"{call.method} {call.endpoint}{where} [{rule}]: expected {want}, "
                f"got {got} ({response.status_code} {response.headers.get('Location', '')})"
            )
    assert not mismatches, f"{persona}: {len(mismatches)} mismatch(es):\n" + "\n".join(mismatches)


@pytest.mark.usefixtures("no_rate_limits")
def test_unit_pages_stay_within_the_officers_own_unit(app: Flask):
    """`?unit=` picks the unit for admins only: unit Y's officer asking for unit X still sees
    unit Y, so resident A's pickups and withdrawal at unit X never appear to them."""
    world = make_world(app)
    secrets = [*world["pickup_codes"], world["withdrawal_code"]]
    pages = [
        f"/jumpa-madu/unit/pickups?unit={world['unit_x']}&tab={tab}" for tab in ("new", "weighed")
    ] + [f"/jumpa-madu/unit/withdrawals?unit={world['unit_x']}"]
    seen: dict[str, set[str]] = {}
    for persona in (UNIT_X_OFFICER, UNIT_Y_OFFICER, ADMIN):
        client = client_for(app, world, persona)
        bodies = []
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (persona, url, response.status_code)
            bodies.append(response.get_data(as_text=True))
        seen[persona] = {code for code in secrets if any(code in body for body in bodies)}
    assert seen[UNIT_X_OFFICER] == set(secrets)
    assert seen[ADMIN] == set(secrets)
    assert seen[UNIT_Y_OFFICER] == set()
