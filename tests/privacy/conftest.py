"""A resident with a bit of everything, for the export, erasure and retention tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask

from portal.accounts.models import Role
from portal.core.notifications import notify
from portal.core.uploads import get_storage
from portal.extensions import db
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.models import PayoutMethod
from portal.mall import services as mall
from portal.privacy import services as privacy
from portal.privacy.models import CorrectionArea
from tests.factories import (
    LUBUK_PAKAM_ADDRESS,
    VALID_NIK,
    checked_png,
    make_pickup,
    make_product,
    make_request,
    make_shop,
    make_unit,
    make_user,
    tiny_png,
)

NAME = "Siti Rahmawati"
EMAIL = "siti.rahmawati@uji.test"
PHONE = "+6281298765432"
STREET = "Jl. Melati Gg. Mawar No. 7"
PIN = {"latitude": 3.5611, "longitude": 98.8712}
SHOP_NAME = "Keripik Siti Rahmawati"


def build_resident(app: Flask) -> SimpleNamespace:
    """A resident who used every service: a delivered SADOKU request and a draft, a confirmed
    pickup with photos whose money was withdrawn and paid (wallet back to Rp 0), a shop with a
    logo and a product photo, a notification and a correction request. Returns plain data."""
    with app.test_request_context():
        user = make_user(
            full_name=NAME,
            email=EMAIL,
            phone=PHONE,
            nik=VALID_NIK,
            address={**LUBUK_PAKAM_ADDRESS, "street": STREET, "landmark": "Dekat masjid", **PIN},
            commit=False,
        )
        delivered = make_request(
            owner=user,
            status="delivered",
            subject_name=NAME,
            address={"street": STREET, **PIN},
            commit=False,
        )
        draft = make_request(owner=user, status="draft", commit=False)
        unit = make_unit(commit=False)
        pickup = make_pickup(
            user=user,
            unit=unit,
            status="confirmed",
            estimates={"pet": 5000},
            weights={"pet": 5000},
            address={"street": STREET, **PIN},
            commit=False,
        )
        storage = get_storage()
        pickup.photo_key = storage.save(tiny_png(), ".png", "jumpa_madu")
        pickup.photo_type = "image/png"
        pickup.resident_note = "Pagar hijau, rumah Siti"
        pickup.weighings[0].photo_keys = [storage.save(tiny_png(), ".png", "jumpa_madu")]
        officer = make_user(roles=(Role.WASTE_OFFICER,), scope=unit.scope, commit=False)
        amount = pickup.weighings[0].resident_amount
        withdrawal = jm.request_withdrawal(
            user,
            unit,
            amount,
            PayoutMethod.BANK,
            bank_name="Bank Sumut",
            account_number="1234567890",
            account_holder=NAME,
        )
        jm.approve_withdrawal(withdrawal, officer)
        jm.pay_withdrawal(withdrawal, officer, "TRF-001")
        shop = make_shop(owner=user, name=SHOP_NAME, owner_name=NAME, commit=False)
        mall.set_logo(shop, user, checked_png("logo.png"))
        product = make_product(shop=shop, commit=False)
        mall.add_photo(product, user, checked_png("produk.png"))
        notify(user.id, "Halo Siti", "Pesan untuk Siti Rahmawati")
        correction = privacy.file_correction(
            user,
            area=CorrectionArea.PROFILE,
            reference="",
            what_is_wrong="Nama saya salah eja",
            correct_value="Siti Rahmawati",
        )
        db.session.flush()
        keys = [a.storage_key for a in delivered.attachments]
        keys += [a.storage_key for a in draft.attachments]
        keys += [pickup.photo_key, *pickup.weighings[0].photo_keys, shop.logo_key]
        keys += [k for p in product.photos for k in (p.key, p.thumb_key)]
        info = SimpleNamespace(
            id=user.id,
            email=EMAIL,
            phone=PHONE,
            request_id=delivered.id,
            request_code=delivered.code,
            draft_id=draft.id,
            pickup_id=pickup.id,
            withdrawal_id=withdrawal.id,
            shop_id=shop.id,
            shop_slug=shop.slug,
            product_id=product.id,
            correction_id=correction.id,
            unit_id=unit.id,
            keys=keys,
        )
        db.session.commit()
    return info


@pytest.fixture
def resident(app: Flask) -> SimpleNamespace:
    return build_resident(app)
