"""`flask seed scale`: proportional counts, data the app's own rules accept, pages that open.

Seeded at a tiny scale (100 products) so the file runs in seconds; the benchmark seeds 10,000 and
100,000 products with the same code.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import column, func, select, table

from portal.accounts.models import User
from portal.core.crypto import nik_lookup_hash, token_key_id
from portal.core.identity import is_valid_kk, is_valid_nik
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu.models import (
    PICKUP_TRANSITIONS,
    Pickup,
    PickupEvent,
    PickupStatus,
    Weighing,
    WeighingLine,
)
from portal.mall.models import Product, ProductStatus, Shop, ShopStatus
from portal.sadoku.models import TRANSITIONS, DocumentRequest, RequestEvent, Status
from portal.scale import SCALE_DOMAIN, Sizes
from tests.conftest import log_in

PRODUCTS = 100


@pytest.fixture
def seeded(app: Flask, runner) -> str:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["seed", "scale", "--products", str(PRODUCTS), "--no-photos"])
    assert result.exit_code == 0, result.output
    return result.output


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_counts_follow_the_issue_proportions_and_the_ledger_balances(
    app: Flask, runner, seeded: str
) -> None:  # type: ignore[no-untyped-def]
    sizes = Sizes.for_products(PRODUCTS)
    assert (sizes.shops, sizes.residents, sizes.requests, sizes.pickups) == (10, 50, 200, 100)
    with app.app_context():
        assert _count(Shop) == sizes.shops
        assert _count(Product) == sizes.products
        residents = db.session.scalar(
            select(func.count(User.id)).where(
                User.email.like(f"warga%@{SCALE_DOMAIN}") | User.email.is_(None)
            )
        )
        assert residents == sizes.residents
        assert _count(DocumentRequest) == sizes.requests
        assert _count(Pickup) == sizes.pickups
        entries = _count(ledger.LedgerEntry)
        assert 0.8 * sizes.ledger_entries <= entries <= 1.1 * sizes.ledger_entries
        assert ledger.check() == []
    assert "Ledger OK" in seeded
    again = runner.invoke(args=["seed", "scale", "--products", str(PRODUCTS)])
    assert again.exit_code != 0
    assert "already holds scale data" in again.output


def test_timelines_follow_the_state_machines(app: Flask, seeded: str) -> None:
    with app.app_context():
        events = defaultdict(list)
        for e in db.session.scalars(select(RequestEvent).order_by(RequestEvent.id)):
            events[e.request_id].append(e)
        for req in db.session.scalars(select(DocumentRequest)):
            timeline = events[req.id]
            if req.status == Status.DRAFT:
                assert not timeline and req.code is None
                continue
            assert (timeline[0].from_status, timeline[0].to_status) == (
                Status.DRAFT,
                Status.SUBMITTED,
            )
            for before, after in pairwise(timeline):
                assert after.from_status == before.to_status
                assert after.created_at >= before.created_at
            assert all((e.from_status, e.to_status) in TRANSITIONS for e in timeline)
            assert timeline[-1].to_status == req.status
            assert (req.closed_at is not None) == req.status.is_final
            assert req.code.endswith(f"-{req.id:06d}")
            assert is_valid_nik(req.subject_nik) and is_valid_kk(req.subject_kk)

        pickup_events = defaultdict(list)
        for e in db.session.scalars(select(PickupEvent).order_by(PickupEvent.id)):
            pickup_events[e.pickup_id].append(e)
        credited = {
            t.pickup_id: t
            for t in db.session.scalars(
                select(ledger.LedgerTransaction).where(
                    ledger.LedgerTransaction.kind == ledger.TxnKind.WEIGHING_CREDIT
                )
            )
        }
        for pickup in db.session.scalars(select(Pickup)):
            timeline = pickup_events[pickup.id]
            assert timeline[0].to_status == PickupStatus.REQUESTED
            for before, after in pairwise(timeline):
                assert after.from_status == before.to_status
                assert (after.from_status, after.to_status) in PICKUP_TRANSITIONS
            assert timeline[-1].to_status == pickup.status
            current = [w for w in pickup.weighings if w.superseded_at is None]
            if pickup.status == PickupStatus.CONFIRMED:
                (weighing,) = current
                assert credited[pickup.id].entries[0].amount == weighing.resident_amount
                assert weighing.resident_amount == sum(
                    line.resident_amount for line in weighing.lines
                )
            else:
                assert pickup.id not in credited

        # The running balance of every wallet, in posting order, never dips below zero.
        running: dict[int, int] = defaultdict(int)
        wallets = set(
            db.session.scalars(
                select(ledger.LedgerAccount.id).where(
                    ledger.LedgerAccount.kind == ledger.AccountKind.WALLET
                )
            )
        )
        for entry in db.session.scalars(select(ledger.LedgerEntry).order_by(ledger.LedgerEntry.id)):
            if entry.account_id in wallets:
                running[entry.account_id] += entry.amount
                assert running[entry.account_id] >= 0


def test_nik_is_encrypted_at_rest_with_its_lookup_hash(app: Flask, seeded: str) -> None:
    with app.app_context():
        raw = table("users", column("id"), column("nik"), column("nik_hash"))
        rows = db.session.execute(select(raw).where(raw.c.nik.is_not(None))).all()
        assert rows
        for row_id, stored, stored_hash in rows:
            assert token_key_id(stored) is not None  # a token, not digits
            nik = db.session.get(User, row_id).nik
            assert is_valid_nik(nik)
            assert stored_hash == nik_lookup_hash(nik)
        assert db.session.scalar(select(func.count()).select_from(WeighingLine)) > 0
        assert db.session.scalar(select(func.count()).select_from(Weighing)) > 0


def _login_of(user: User) -> str:
    return user.email or "0" + user.phone[3:]


def test_pages_open_on_seeded_data(app: Flask, client: FlaskClient, seeded: str) -> None:
    with app.app_context():
        product = db.session.scalar(
            select(Product)
            .join(Shop, Shop.id == Product.shop_id)
            .where(
                Product.status == ProductStatus.PUBLISHED,
                Product.blocked_reason.is_(None),
                Shop.status == ShopStatus.VERIFIED,
            )
            .limit(1)
        )
        query = f"{product.name} {product.shop.name}"
        product_url = f"/mall/products/{product.id}"
        shop_url = f"/mall/shops/{product.shop.slug}"
        req = db.session.scalar(
            select(DocumentRequest).where(DocumentRequest.status == Status.DELIVERED).limit(1)
        )
        owner, code = _login_of(req.user), req.code
        officer_login = f"petugas.sadoku%@{SCALE_DOMAIN}"
        officer = db.session.scalar(select(User).where(User.email.like(officer_login)).limit(1))
        officer_login = officer.email

    page = client.get("/mall/", query_string={"q": query})
    assert page.status_code == 200
    assert product_url in page.get_data(as_text=True)
    assert client.get(product_url).status_code == 200
    assert client.get(shop_url).status_code == 200

    assert log_in(client, owner, DEMO_PASSWORD).status_code == 303
    mine = client.get(f"/sadoku/requests/{code}")
    assert mine.status_code == 200
    assert code in mine.get_data(as_text=True)
    assert client.get("/sadoku/requests").status_code == 200
    assert client.get("/jumpa-madu/wallet").status_code == 200
    client.post("/accounts/logout", data={})

    other = FlaskClient(app, app.response_class, use_cookies=True)
    assert log_in(other, officer_login, DEMO_PASSWORD).status_code == 303
    queue = other.get("/sadoku/officer/requests")
    assert queue.status_code == 200
    assert "SDK-" in queue.get_data(as_text=True)


def test_the_shop_it_names_for_the_benchmark_is_public(app: Flask, seeded: str) -> None:
    """The bench measures the shop the seed names; a suspended one would measure a 404 page."""
    shop_lines = [line for line in seeded.splitlines() if "/mall/shops/" in line]
    assert len(shop_lines) == 1
    slug = shop_lines[0].split("/mall/shops/")[1].split()[0]
    with app.app_context():
        shops = db.session.scalars(select(Shop)).all()
        # Some seeded shops are hidden, so choosing among all of them could name a hidden one.
        assert any(s.status != ShopStatus.VERIFIED for s in shops)
        assert db.session.scalar(select(Shop.status).where(Shop.slug == slug)) == (
            ShopStatus.VERIFIED
        )
    assert app.test_client().get(f"/mall/shops/{slug}").status_code == 200


def test_refused_outside_demo_mode(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    app.config["DEMO_MODE"] = False
    try:
        result = runner.invoke(args=["seed", "scale", "--products", "10"])
    finally:
        app.config["DEMO_MODE"] = True
    assert result.exit_code != 0
    assert "demo mode" in result.output
    with app.app_context():
        assert _count(Product) == 0
