"""Deli Serdang Mall administration: shop verification, moderation of reports, categories.

Pages are read in English (the `lang` cookie), so assertions do not depend on the catalogue.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from portal.accounts.models import Role, User
from portal.core.time import utcnow
from portal.extensions import db
from portal.mall import services
from portal.mall.models import (
    MallCategory,
    Product,
    ProductStatus,
    Report,
    ReportReason,
    ReportStatus,
    Shop,
    ShopStatus,
)
from tests.conftest import csrf_token, log_in, post
from tests.factories import make_product, make_shop, make_user

ADMIN = "/admin/mall"


@pytest.fixture(autouse=True)
def _english(client: FlaskClient) -> None:
    client.set_cookie("lang", "en")


@pytest.fixture
def admin(login_as):  # type: ignore[no-untyped-def]
    return login_as(Role.ADMIN)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _shop(app: Flask, status: str = "submitted", **fields) -> int:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        return make_shop(status=status, **fields).id


def _report(app: Flask, product_id: int, days_ago: int = 0, **fields) -> int:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        product = db.session.get(Product, product_id)
        data = {"reason": ReportReason.FRAUD, "detail": "Minta transfer dulu", "reporter": None}
        data.update(fields)
        report = services.report_product(product, **data)
        report.created_at = utcnow() - dt.timedelta(days=days_ago)
        db.session.commit()
        return report.id


def _urls(app: Flask, ids: int) -> list[tuple[str, str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("mall_admin."):
            continue
        url = re.sub(r"<int:\w+>", str(ids), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            urls.append((rule.endpoint, method, url))
    return urls


# --- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, Role.SELLER, Role.SADOKU_OFFICER, Role.WASTE_OFFICER])
def test_everyone_but_admins_gets_403(app: Flask, role: Role | None):
    shop_id = _shop(app)
    client = app.test_client()
    with app.test_request_context():
        email = make_user(roles=(role,) if role else ()).email
    assert log_in(client, email).status_code == 303
    token = csrf_token(client)
    urls = _urls(app, shop_id)
    assert len(urls) == 17
    for endpoint, method, url in urls:
        status = client.open(url, method=method, data={"csrf_token": token}).status_code
        assert status == 403, (role, endpoint, method, status)
    with app.test_request_context():
        assert db.session.get(Shop, shop_id).status == ShopStatus.SUBMITTED


def test_anonymous_visitors_are_sent_to_log_in(app: Flask, client):
    for endpoint, method, url in _urls(app, 1):
        response = client.open(url, method=method, data={"csrf_token": csrf_token(client)})
        assert response.status_code == 302, (endpoint, method)
        assert "/accounts/login" in response.headers["Location"]


def test_admin_links_include_the_mall(client, admin):
    page = text(client.get("/admin/users"))
    for path in ("shops", "reports", "categories"):
        assert f'href="{ADMIN}/{path}"' in page


# --- the shop list ------------------------------------------------------------------------------


def test_shop_list_starts_with_shops_waiting_longest_and_counts_every_status(
    app: Flask, client, admin
):
    with app.test_request_context():
        newer = make_shop(status="submitted", name="Keripik Baru")
        older = make_shop(status="submitted", name="Dodol Lama", kecamatan_code="12.07.02",
                          desa_code="12.07.02.2001")  # fmt: skip
        older.submitted_at = utcnow() - dt.timedelta(days=3)
        make_shop(status="verified", name="Ulos Terverifikasi")
        make_shop(status="changes_requested")
        make_shop(status="suspended")
        make_shop(status="draft")
        make_shop(status="draft")
        db.session.commit()
        newer_id, older_id = newer.id, older.id
    page = text(client.get(f"{ADMIN}/shops"))
    assert page.index("Dodol Lama") < page.index("Keripik Baru")
    assert "Ulos Terverifikasi" not in page
    assert "Tanjung Morawa" in page  # the older shop's kecamatan
    assert f'href="{ADMIN}/shops/{older_id}"' in page and f'href="{ADMIN}/shops/{newer_id}"' in page
    tabs = dict(re.findall(r'status=(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>', page))
    assert tabs == {
        "submitted": "2",
        "changes_requested": "1",
        "verified": "1",
        "suspended": "1",
        "draft": "2",
    }
    assert re.search(r'aria-current="page">Waiting for verification', page)
    page = text(client.get(f"{ADMIN}/shops?status=verified"))
    assert "Ulos Terverifikasi" in page and "Dodol Lama" not in page
    # An edited URL falls back to the verification queue.
    assert "Dodol Lama" in text(client.get(f"{ADMIN}/shops?status=nonsense"))


def test_shop_tabs_swap_only_the_results_with_htmx(app: Flask, client, admin):
    _shop(app, "verified", name="Ulos Terverifikasi")
    url = f"{ADMIN}/shops?status=verified"
    partial = client.get(url, headers={"HX-Request": "true", "HX-Target": "shop-results"})
    body = text(partial)
    assert partial.status_code == 200
    assert body.lstrip().startswith('<div id="shop-results"') and "<html" not in body
    assert "Ulos Terverifikasi" in body
    assert "HX-Target" in partial.headers["Vary"]
    boosted = text(client.get(url, headers={"HX-Request": "true", "HX-Target": "content"}))
    assert '<main id="content"' in boosted and "<html" not in boosted
    assert 'id="shop-results"' in boosted
    full = text(client.get(url))
    assert "<html" in full and 'id="shop-results"' in full


def test_shop_list_counts_in_one_grouped_query(app: Flask, client, admin):
    for status in ("submitted", "verified", "draft"):
        _shop(app, status)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if "mall_shops" in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(f"{ADMIN}/shops").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    grouped = [s for s in statements if "GROUP BY" in s]
    assert len(grouped) == 1 and len(statements) == 2  # the counts and the page of shops


# --- one shop -----------------------------------------------------------------------------------


def test_shop_page_shows_legality_with_where_to_check_it(app: Flask, client, admin):
    shop_id = _shop(
        app,
        "submitted",
        name="Kopi Sidamanik",
        nib="9120001234567",
        pirt_number="P-IRT No. 2061207010123-29",
        halal_number="ID12110000123450824",
        halal_expiry=dt.date(2020, 1, 1),
        bpom_number="MD 123456789012",
        whatsapp="0812 7777 0001",
    )
    with app.test_request_context():
        shop = db.session.get(Shop, shop_id)
        make_product(shop=shop, name="Kopi Bubuk")
        make_product(shop=shop, name="Kopi Biji", status="draft")
        shop.warnings = 2
        db.session.commit()
    page = text(client.get(f"{ADMIN}/shops/{shop_id}"))
    legality = re.search(r'<dl class="summary-list" id="shop-legality">.*?</dl>', page, re.S)
    legality = legality.group(0)
    assert "9120001234567" in legality and "oss.go.id" in legality
    assert "P-IRT No. 2061207010123-29" in legality and "end of 2029" in legality
    assert "ID12110000123450824" in legality and "bpjph.halal.go.id" in legality
    assert "Expired" in legality  # the halal certificate ran out in 2020
    assert "MD123456789012" in legality and "cekbpom.pom.go.id" in legality
    badges = re.search(r'id="shop-badges">(.*?)</dd>', legality, re.S).group(1)
    assert "P-IRT" in badges and "BPOM" in badges and "Halal" not in badges
    assert "081277770001" in page and 'href="https://wa.me/6281277770001"' in page
    assert "Jl. Sudirman No. 5" in page and "Lubuk Pakam" in page
    assert re.search(r'id="shop-warnings">2<', page)
    assert "2 products" in page and "Published 1" in page and "Draft 1" in page
    # A submitted shop can be verified or sent back; not suspended or reinstated.
    actions = re.search(r'<div class="actions" id="shop-actions">.*?</div>', page, re.S).group(0)
    assert f'action="{ADMIN}/shops/{shop_id}/verify"' in actions
    assert f'href="{ADMIN}/shops/{shop_id}/request-changes"' in actions
    assert "suspend" not in actions and "reinstate" not in actions
    assert client.get(f"{ADMIN}/shops/9999").status_code == 404


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("draft", set()),
        ("changes_requested", set()),
        ("verified", {"suspend"}),
        ("suspended", {"reinstate"}),
    ],
)
def test_shop_page_offers_only_the_moves_the_table_allows(
    app: Flask, client, admin, status: str, expected: set[str]
):
    shop_id = _shop(app, status)
    page = text(client.get(f"{ADMIN}/shops/{shop_id}"))
    found = set(re.findall(rf"{ADMIN}/shops/{shop_id}/([a-z-]+)", page))
    assert found == expected


def test_admin_verifies_a_shop_and_its_owner_becomes_a_seller(app: Flask, client, admin):
    shop_id = _shop(app, "submitted", name="Dodol Galang")
    response = post(client, f"{ADMIN}/shops/{shop_id}/verify")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{ADMIN}/shops/{shop_id}")
    page = text(client.get(response.headers["Location"]))
    assert "Dodol Galang is verified" in page
    with app.test_request_context():
        shop = db.session.get(Shop, shop_id)
        assert shop.status == ShopStatus.VERIFIED and shop.verified_by_id == admin.id
        assert shop.owner.has_role(Role.SELLER)
    assert f'href="/mall/shops/{_slug(app, shop_id)}"' in page  # now public, with the badge
    # Verifying again is refused on the page, with the reason, and changes nothing.
    again = post(client, f"{ADMIN}/shops/{shop_id}/verify", htmx="content")
    assert again.status_code == 422
    assert "this step is not possible any more" in text(again)


def _slug(app: Flask, shop_id: int) -> str:
    with app.app_context():
        return db.session.get(Shop, shop_id).slug


def test_verify_with_htmx_sends_hx_location(app: Flask, client, admin):
    shop_id = _shop(app, "submitted")
    response = post(client, f"{ADMIN}/shops/{shop_id}/verify", htmx="content")
    assert response.status_code == 204
    assert f"{ADMIN}/shops/{shop_id}" in response.headers["HX-Location"]


def test_request_changes_needs_a_reason_and_tells_the_seller(app: Flask, client, admin):
    shop_id = _shop(app, "submitted")
    url = f"{ADMIN}/shops/{shop_id}/request-changes"
    form = text(client.get(url))
    assert 'name="reason"' in form
    empty = post(client, url, {"reason": "  "}, htmx="content")
    assert empty.status_code == 422
    assert "Tell the seller what to change" in text(empty) and "<title>Error:" in text(empty)
    response = post(client, url, {"reason": "Foto logo buram; lengkapi jam buka."})
    assert response.status_code == 303
    with app.test_request_context():
        shop = db.session.get(Shop, shop_id)
        assert shop.status == ShopStatus.CHANGES_REQUESTED
        assert shop.status_reason == "Foto logo buram; lengkapi jam buka."
        from portal.core.notifications import Notification

        titles = db.session.scalars(
            select(Notification.title).where(Notification.user_id == shop.owner_id)
        ).all()
        assert any("Changes requested" in t for t in titles)
    page = text(client.get(f"{ADMIN}/shops/{shop_id}"))
    assert "Foto logo buram" in page
    # The move is no longer possible: the page says so instead of showing the form.
    refused = client.get(url)
    assert refused.status_code == 409 and "not possible any more" in text(refused)
    assert post(client, url, {"reason": "lagi"}).status_code == 422


def test_suspend_and_reinstate(app: Flask, client, admin):
    shop_id = _shop(app, "verified", name="Tenun Pantai Labu")
    url = f"{ADMIN}/shops/{shop_id}/suspend"
    assert "Reason for the suspension" in text(client.get(url))
    empty = post(client, url, {"reason": ""})
    assert empty.status_code == 422 and "Give the reason for the suspension" in text(empty)
    response = post(client, url, {"reason": "Menjual barang palsu"}, htmx="content")
    assert response.status_code == 204
    with app.test_request_context():
        assert db.session.get(Shop, shop_id).status == ShopStatus.SUSPENDED
    page = text(client.get(f"{ADMIN}/shops/{shop_id}"))
    assert "Menjual barang palsu" in page and 'href="/mall/shops/' not in page  # no longer public
    response = post(client, f"{ADMIN}/shops/{shop_id}/reinstate")
    assert response.status_code == 303
    with app.test_request_context():
        shop = db.session.get(Shop, shop_id)
        assert shop.status == ShopStatus.VERIFIED and shop.status_reason == ""


def test_reinstate_does_not_verify_a_submitted_shop(app: Flask, client, admin):
    """Both end in "verified", but the reinstate button must not skip the verification."""
    shop_id = _shop(app, "submitted")
    response = post(client, f"{ADMIN}/shops/{shop_id}/reinstate")
    assert response.status_code == 422
    assert "this step is not possible any more" in text(response)
    with app.test_request_context():
        assert db.session.get(Shop, shop_id).status == ShopStatus.SUBMITTED
    suspended = _shop(app, "suspended")
    assert post(client, f"{ADMIN}/shops/{suspended}/verify").status_code == 422


# --- moderation ---------------------------------------------------------------------------------


def _product(app: Flask, shop_status: str = "verified", **fields) -> int:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        shop = make_shop(status=shop_status, commit=False)
        return make_product(shop=shop, **fields).id


def test_report_queue_is_oldest_first_with_counts_per_product(app: Flask, client, admin):
    obat = _product(app, name="Obat Kuat Ajaib")
    kain = _product(app, name="Kain Songket")
    newest = _report(app, obat, 0)
    oldest = _report(app, kain, 5, reason=ReportReason.MISLEADING, detail="Bukan songket asli")
    _report(app, obat, 2, reason=ReportReason.PROHIBITED, detail="")
    dismissed = _report(app, kain, 1)
    with app.test_request_context():
        report = db.session.get(Report, dismissed)
        report.status = ReportStatus.DISMISSED
        db.session.commit()
    page = text(client.get(f"{ADMIN}/reports"))
    assert "3 open reports, oldest first." in page
    ids = [int(i) for i in re.findall(r'id="report-(\d+)"', page)]
    assert ids[0] == oldest and ids[-1] == newest and dismissed not in ids
    row = re.search(rf'id="report-{newest}".*?</li>', page, re.S).group(0)
    assert f'href="/mall/products/{obat}"' in row  # still public
    assert re.search(r'class="open-count">2<', row)
    assert "Looks like a scam" in row and "Minta transfer dulu" in row
    old_row = re.search(rf'id="report-{oldest}".*?</li>', page, re.S).group(0)
    assert "Bukan songket asli" in old_row and re.search(r'class="open-count">1<', old_row)
    assert f'href="{ADMIN}/reports/{oldest}"' in old_row


def test_hiding_a_listing_blocks_it_until_an_admin_lifts_it(app: Flask, client, admin):
    product_id = _product(app, name="Obat Kuat Ajaib")
    report_id = _report(app, product_id)
    url = f"{ADMIN}/reports/{report_id}"
    form = text(client.get(url))
    assert form.count('name="action"') == 4  # the shop is verified: suspension is offered
    assert "Minta transfer dulu" in form
    missing = post(client, url, {"action": "hidden", "note": ""}, htmx="content")
    assert missing.status_code == 422 and "Write the reason the seller will read" in text(missing)
    assert 'value="hidden" checked' in text(missing)
    nothing = post(client, url, {"note": "x"})
    assert nothing.status_code == 422 and "Choose what to do" in text(nothing)
    response = post(client, url, {"action": "hidden", "note": "Obat tanpa izin edar BPOM"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{ADMIN}/reports")
    with app.test_request_context():
        product = db.session.get(Product, product_id)
        assert product.status == ProductStatus.HIDDEN
        assert product.blocked_reason == "Obat tanpa izin edar BPOM"
        assert db.session.get(Report, report_id).status == ReportStatus.HIDDEN
        shop_id = product.shop_id
    assert "No open reports" in text(client.get(f"{ADMIN}/reports"))
    # Handled: the page shows the outcome and a second decision is refused.
    handled = text(client.get(url))
    assert "This report has already been handled." in handled and 'name="action"' not in handled
    again = post(client, url, {"action": "dismissed", "note": ""})
    assert again.status_code == 422 and "already been handled" in text(again)
    # The shop page lists the blocked product with the button that lifts the block.
    page = text(client.get(f"{ADMIN}/shops/{shop_id}"))
    assert "Obat tanpa izin edar BPOM" in page
    unblock = f"{ADMIN}/products/{product_id}/unblock"
    assert f'action="{unblock}"' in page
    response = post(client, unblock, htmx="content")
    assert response.status_code == 204
    assert f"{ADMIN}/shops/{shop_id}" in response.headers["HX-Location"]
    with app.test_request_context():
        product = db.session.get(Product, product_id)
        assert product.blocked_reason is None and product.status == ProductStatus.HIDDEN
    page = text(client.get(f"{ADMIN}/shops/{shop_id}"))
    assert f'action="{unblock}"' not in page and "is lifted" in page
    assert client.post(unblock).status_code == 400  # no CSRF token
    assert post(client, f"{ADMIN}/products/9999/unblock").status_code == 404


def test_warn_and_dismiss(app: Flask, client, admin):
    product_id = _product(app)
    warn, dismiss = _report(app, product_id), _report(app, product_id)
    response = post(client, f"{ADMIN}/reports/{warn}", {"action": "warned", "note": "Foto menipu"})
    assert response.status_code == 303
    response = post(client, f"{ADMIN}/reports/{dismiss}", {"action": "dismissed", "note": ""})
    assert response.status_code == 303
    with app.test_request_context():
        product = db.session.get(Product, product_id)
        assert product.shop.warnings == 1 and product.is_public
        assert db.session.get(Report, warn).status == ReportStatus.WARNED
        assert db.session.get(Report, dismiss).status == ReportStatus.DISMISSED


def test_suspending_from_a_report_is_offered_only_for_a_verified_shop(app: Flask, client, admin):
    unverified = _product(app, "submitted")
    report_id = _report(app, unverified)
    form = text(client.get(f"{ADMIN}/reports/{report_id}"))
    assert form.count('name="action"') == 3 and 'value="suspended"' not in form
    refused = post(client, f"{ADMIN}/reports/{report_id}", {"action": "suspended", "note": "x"})
    assert refused.status_code == 422 and "Choose what to do" in text(refused)
    verified = _product(app, "verified")
    report_id = _report(app, verified)
    response = post(
        client, f"{ADMIN}/reports/{report_id}", {"action": "suspended", "note": "Penipuan berulang"}
    )
    assert response.status_code == 303
    with app.test_request_context():
        shop = db.session.get(Product, verified).shop
        assert shop.status == ShopStatus.SUSPENDED and shop.status_reason == "Penipuan berulang"
    assert client.get(f"{ADMIN}/reports/9999").status_code == 404


# --- categories ---------------------------------------------------------------------------------


def test_admin_adds_and_edits_a_category(app: Flask, client, admin):
    with app.test_request_context():
        services.seed_categories()
        db.session.commit()
    page = text(client.get(f"{ADMIN}/categories"))
    assert "Kuliner" in page and "Jasa" in page
    form = text(client.get(f"{ADMIN}/categories/new"))
    assert re.search(r'<input checked id="is_active"', form)
    data = {"slug": "otomotif", "name": "Otomotif & bengkel", "position": "9", "is_active": "y"}
    response = post(client, f"{ADMIN}/categories/new", data)
    assert response.status_code == 303
    with app.test_request_context():
        cat = db.session.scalar(select(MallCategory).where(MallCategory.slug == "otomotif"))
        assert (cat.name, cat.position, cat.is_active) == ("Otomotif & bengkel", 9, True)
        cat_id = cat.id
    url = f"{ADMIN}/categories/{cat_id}/edit"
    assert 'value="Otomotif &amp; bengkel"' in text(client.get(url))
    response = post(client, url, {**data, "is_active": ""}, htmx="content")
    assert response.status_code == 204 and f"{ADMIN}/categories" in response.headers["HX-Location"]
    with app.test_request_context():
        assert db.session.get(MallCategory, cat_id).is_active is False
        assert cat_id not in [c.id for c in services.active_categories()]
    page = text(client.get(f"{ADMIN}/categories"))
    assert "Not active" in page
    clash = post(client, url, {**data, "slug": "kuliner"})
    assert clash.status_code == 422
    assert "Another category already uses this short name" in text(clash)
    bad = post(client, f"{ADMIN}/categories/new", {**data, "slug": "Bad Slug", "name": ""})
    assert bad.status_code == 422
    assert "Use only lowercase letters" in text(bad) and "Enter the category's name" in text(bad)
    assert 'value="9"' in text(bad)  # what was typed is kept
    assert client.get(f"{ADMIN}/categories/9999/edit").status_code == 404


def test_owner_account_link_on_the_shop_page(app: Flask, client, admin):
    with app.test_request_context():
        owner = make_user(full_name="Butet Pengrajin")
        shop_id = make_shop(owner=owner, status="submitted").id
        owner_id = owner.id
        assert db.session.get(User, owner_id) is not None
    page = text(client.get(f"{ADMIN}/shops/{shop_id}"))
    assert f'href="/admin/users/{owner_id}"' in page and "Butet Pengrajin" in page
