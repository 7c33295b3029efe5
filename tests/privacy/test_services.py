"""Rights under UU 27/2022 at the service layer: export, erasure, consents, retention."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.accounts.models import PasswordResetToken, Role, RoleGrant, User, UserSession
from portal.accounts.services import authenticate, create_password_reset
from portal.core.audit import AuditLog
from portal.core.errors import DomainError
from portal.core.notifications import Notification, tell
from portal.core.time import utcnow
from portal.core.uploads import get_storage
from portal.extensions import db
from portal.jumpa_madu import ledger
from portal.jumpa_madu import services as jm
from portal.jumpa_madu.models import PayoutMethod, Pickup, WasteUnit, Weighing, Withdrawal
from portal.mall.models import Product, ProductStatus, Shop, ShopStatus
from portal.privacy import services as privacy
from portal.privacy.models import CorrectionRequest
from portal.sadoku import services as sadoku
from portal.sadoku.models import Attachment, DocumentRequest, Status
from tests.factories import (
    DEFAULT_PASSWORD,
    LUBUK_PAKAM_ADDRESS,
    VALID_NIK,
    fund_wallet,
    make_pickup,
    make_request,
    make_user,
    tiny_png,
)
from tests.privacy.conftest import EMAIL, NAME, PHONE, SHOP_NAME, STREET

OTHER_NIK = "1207285505850003"  # a woman born 15-05-1985


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def _exists(key: str) -> bool:
    try:
        get_storage().read(key)
    except FileNotFoundError:
        return False
    return True


# --- export ---------------------------------------------------------------------------------------


def test_json_export_holds_every_table_of_the_person_and_nobody_else(app: Flask, resident):
    with app.test_request_context():
        other = make_user(full_name="Tetangga Lain", nik=OTHER_NIK)
        make_request(owner=other, subject_name="Tetangga Lain", nik=OTHER_NIK)
        export = privacy.export_data(_user(resident.id), "json")
        db.session.commit()
    assert export.mimetype == "application/json"
    assert NAME not in export.filename and VALID_NIK not in export.filename
    document = json.loads(export.data)
    tables = document["tables"]
    assert tables["profile"][0]["nik"] == VALID_NIK
    assert tables["profile"][0]["email"] == EMAIL
    assert {r["code"] for r in tables["sadoku_requests"]} >= {resident.request_code}
    assert any(e["to_status"] == "delivered" for e in tables["sadoku_timeline"])
    assert tables["pickups"][0]["code"] == f"JM-{resident.pickup_id:06d}"
    assert tables["weighing_lines"][0]["weight_g"] == 5000
    # The wallet: credit, hold, in chronological order, back to Rp 0.
    statement = tables["wallet_statement"]
    assert [line["kind"] for line in statement] == ["weighing_credit", "withdrawal_hold"]
    assert statement[-1]["balance_after_rp"] == 0
    assert tables["withdrawals"][0]["account_number"] == "1234567890"
    assert tables["shop"][0]["name"] == SHOP_NAME
    assert len(tables["products"]) == 1
    assert {n["title"] for n in tables["notifications"]} >= {"Halo Siti"}
    assert tables["correction_requests"][0]["what_is_wrong"] == "Nama saya salah eja"
    assert {e["action"] for e in tables["audit_events"]} >= {"role_granted"}
    # Staff are "staff", never named; nothing of the neighbour anywhere in the file.
    text = export.data.decode()
    assert "Tetangga Lain" not in text and OTHER_NIK not in text
    assert {e["by"] for e in tables["sadoku_timeline"]} <= {"you", "staff", "system"}


def test_csv_export_is_a_zip_of_parseable_tables(app: Flask, resident):
    with app.test_request_context():
        export = privacy.export_data(_user(resident.id), "csv")
        db.session.commit()
    assert export.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(export.data))
    assert "profile.csv" in archive.namelist()
    assert "wallet_statement.csv" in archive.namelist()
    profile = list(csv.DictReader(io.StringIO(archive.read("profile.csv").decode("utf-8-sig"))))
    assert profile[0]["full_name"] == NAME
    assert profile[0]["nik"] == VALID_NIK
    # A phone starts with "+": written so a spreadsheet shows it as text, not a formula.
    assert profile[0]["phone"] == "'" + PHONE
    statement = list(
        csv.DictReader(io.StringIO(archive.read("wallet_statement.csv").decode("utf-8-sig")))
    )
    assert int(statement[0]["amount_rp"]) > 0


def test_a_subject_who_is_someone_else_keeps_their_nik_masked(app: Flask):
    with app.test_request_context():
        owner = make_user()
        req = make_request(owner=owner, status="draft", nik=OTHER_NIK)
        req.subject_is_self = False
        db.session.commit()
        tables = privacy.collect_personal_data(owner)
    row = tables["sadoku_requests"][0]
    assert row["subject_nik"] != OTHER_NIK
    assert row["subject_nik"].endswith(OTHER_NIK[-4:])


def test_every_export_is_in_the_audit_log(app: Flask, resident):
    with app.test_request_context():
        privacy.export_data(_user(resident.id), "csv")
        db.session.commit()
        entry = db.session.scalar(
            select(AuditLog).where(AuditLog.action == "privacy_data_exported")
        )
        assert entry is not None
        assert entry.target_user_id == resident.id
        assert entry.detail == {"format": "csv"}


# --- deletion -------------------------------------------------------------------------------------


def test_deletion_erases_personal_data_and_keeps_the_records(app: Flask, resident):
    with app.test_request_context():
        for key in resident.keys:
            assert _exists(key)
        erasure = privacy.delete_account(_user(resident.id), DEFAULT_PASSWORD)
        db.session.commit()
        assert privacy.delete_files(erasure.storage_keys) == len(erasure.storage_keys)

        user = _user(resident.id)
        assert user.full_name == erasure.pseudonym
        assert erasure.pseudonym.split("#")[-1].isalnum()
        assert (user.email, user.phone, user.nik) == (None, None, None)
        assert (user.street, user.desa_code, user.latitude, user.longitude) == (None,) * 4
        assert user.deleted_at is not None and not user.is_active
        assert user.grants == []
        notes = select(Notification).where(Notification.user_id == user.id)
        assert db.session.scalars(notes).all() == []

        # SADOKU: the request stays without subject, delivery data or attachments; no draft.
        req = db.session.get(DocumentRequest, resident.request_id)
        assert req is not None and req.status is Status.DELIVERED
        assert req.subject_name == erasure.pseudonym
        assert (req.subject_nik, req.subject_kk, req.recipient_phone) == (None, None, None)
        assert req.street != STREET and req.latitude is None and req.desa_code is None
        assert req.recipient_name != NAME and req.received_by != NAME
        assert req.attachments == []
        assert req.events and all(NAME not in (e.public_note or "") for e in req.events)
        assert db.session.get(DocumentRequest, resident.draft_id) is None
        assert db.session.scalar(select(func.count(Attachment.id))) == 0

        # Jumpa Madu: address and photos gone, weighings and withdrawal kept, books balanced.
        pickup = db.session.get(Pickup, resident.pickup_id)
        assert pickup.street != STREET and pickup.latitude is None and pickup.photo_key is None
        assert "Siti" not in pickup.resident_note
        assert pickup.weighings[0].photo_keys == []
        assert pickup.weighings[0].resident_amount == 15750
        assert db.session.get(Withdrawal, resident.withdrawal_id).amount == 15750
        assert ledger.check() == []

        # Mall: off the catalogue, anonymised, photos gone.
        shop = db.session.get(Shop, resident.shop_id)
        assert shop.status is ShopStatus.DRAFT and not shop.is_public
        assert NAME not in shop.name and shop.owner_name == erasure.pseudonym
        assert shop.slug != resident.shop_slug and shop.whatsapp == "" and shop.logo_key is None
        product = db.session.get(Product, resident.product_id)
        assert product.status is ProductStatus.HIDDEN and product.photos == []

        correction = db.session.get(CorrectionRequest, resident.correction_id)
        assert "Siti" not in correction.correct_value

        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "account_deleted"))
        assert entry.target_user_id == resident.id
        assert NAME not in json.dumps(entry.detail) and EMAIL not in json.dumps(entry.detail)
        for key in resident.keys:
            assert not _exists(key), key


def test_a_deleted_account_can_never_log_in_or_reset_its_password(app: Flask, resident):
    with app.test_request_context():
        privacy.delete_account(_user(resident.id), DEFAULT_PASSWORD)
        db.session.commit()
        assert authenticate(EMAIL, DEFAULT_PASSWORD) is None
        assert authenticate(PHONE, DEFAULT_PASSWORD) is None
        assert create_password_reset(EMAIL) is None
        assert (
            db.session.scalar(
                select(func.count(PasswordResetToken.id)).where(
                    PasswordResetToken.user_id == resident.id
                )
            )
            == 0
        )
        # Another person may register with the freed email address.
        newcomer = make_user(email=EMAIL)
        assert newcomer.id != resident.id


def test_deletion_ends_every_session_of_the_account(app: Flask):
    with app.test_request_context():
        user = make_user()
        db.session.add(UserSession(user=user, token_hash="a" * 64, ip="10.0.0.1"))
        db.session.commit()
        privacy.delete_account(user, DEFAULT_PASSWORD)
        db.session.commit()
        assert (
            db.session.scalar(
                select(func.count(UserSession.id)).where(UserSession.user_id == user.id)
            )
            == 0
        )


def test_deletion_needs_the_password(app: Flask):
    with app.test_request_context():
        user = make_user()
        with pytest.raises(DomainError) as refused:
            privacy.delete_account(user, "not-my-password")
        assert refused.value.field == "password"
        assert user.deleted_at is None


@pytest.mark.parametrize(
    "situation",
    ["balance", "open_withdrawal", "open_pickup", "open_request", "only_admin"],
)
def test_deletion_is_refused_while_money_or_a_request_is_pending(app: Flask, situation: str):
    with app.test_request_context():
        user = make_user(address=LUBUK_PAKAM_ADDRESS)
        if situation == "balance":
            fund_wallet(user, 20_000)
            expected = "Rp 20.000"
        elif situation == "open_withdrawal":
            fund_wallet(user, 20_000)
            unit = db.session.scalar(select(WasteUnit))
            jm.request_withdrawal(user, unit, 20_000, PayoutMethod.CASH)
            expected = "withdrawal"
        elif situation == "open_pickup":
            make_pickup(user=user, status="scheduled")
            expected = "pickup"
        elif situation == "open_request":
            make_request(owner=user, status="in_process")
            expected = "SADOKU"
        else:
            db.session.add(RoleGrant(user=user, role=Role.ADMIN, scope=""))
            expected = "administrator"
        db.session.commit()
        with force_locale("en"):
            reasons = [str(r) for r in privacy.deletion_blockers(user)]
        assert len(reasons) == 1 and expected in reasons[0]
        with pytest.raises(DomainError):
            privacy.delete_account(user, DEFAULT_PASSWORD)
        db.session.rollback()
        assert _user(user.id).deleted_at is None


def test_closed_requests_and_paid_withdrawals_do_not_block_deletion(app: Flask):
    with app.test_request_context():
        user = make_user()
        make_request(owner=user, status="rejected")
        make_request(owner=user, status="draft")
        assert privacy.deletion_blockers(user) == []


# --- consents -------------------------------------------------------------------------------------


def test_withdrawn_email_consent_stops_emails_but_not_the_bell(app: Flask):
    def outbox() -> list:  # type: ignore[type-arg]
        return list(db.session.info.get("portal_mail_outbox", []))

    with app.test_request_context():
        user = make_user()
        tell(user, "Judul", "Isi", "/x", "http://localhost/x")
        assert len(outbox()) == 1
        db.session.rollback()

        privacy.set_email_consent(user, False)
        db.session.commit()
        assert user.email_opt_out_at is not None and not user.wants_email
        tell(user, "Judul", "Isi", "/x", "http://localhost/x")
        assert outbox() == []
        unread = select(func.count(Notification.id)).where(Notification.user_id == user.id)
        assert db.session.scalar(unread) == 2  # the welcome and this one
        db.session.rollback()

        privacy.set_email_consent(user, True)
        assert user.wants_email
        entries = db.session.scalars(
            select(AuditLog.action)
            .where(AuditLog.action.like("privacy_consent_%"))
            .order_by(AuditLog.id)
        ).all()
        assert entries == ["privacy_consent_withdrawn", "privacy_consent_given"]


def test_removing_the_map_pin_clears_profile_and_open_records_only(app: Flask):
    pin = {"latitude": 3.5611, "longitude": 98.8712}
    with app.test_request_context():
        user = make_user(address={**LUBUK_PAKAM_ADDRESS, **pin})
        open_req = make_request(owner=user, status="submitted", address=pin)
        closed_req = make_request(owner=user, status="rejected", address=pin)
        pickup = make_pickup(user=user, status="scheduled", address=pin)
        changed = privacy.remove_map_pins(user)
        db.session.commit()
        assert changed == 3
        assert not user.has_pin and not open_req.has_pin and not pickup.has_pin
        assert closed_req.has_pin  # a closed request's pin goes with the retention job
        change = privacy.last_consent_change(user, privacy.CONSENT_MAP_PIN)
        assert change is not None and change.detail["records"] == 3


# --- retention ------------------------------------------------------------------------------------


def _age(obj, days: int) -> None:  # type: ignore[no-untyped-def]
    obj.closed_at = utcnow() - dt.timedelta(days=days)


def test_purge_erases_old_closed_requests_only_and_a_second_run_changes_nothing(app: Flask):
    with app.test_request_context():
        old = make_request(status="delivered", subject_name="Ani Lama")
        old_keys = [a.storage_key for a in old.attachments]
        recent = make_request(status="delivered", subject_name="Ani Baru")
        still_open = make_request(status="in_process")
        _age(old, 400)
        _age(recent, 30)
        db.session.commit()

        first = privacy.purge()
        db.session.commit()
        privacy.delete_files(first.storage_keys)
        assert (first.sadoku_requests, first.sadoku_attachments) == (1, len(old_keys))
        assert old.attachments == [] and old.recipient_phone is None
        assert old.received_by != "Ani Lama" and old.desa_code is None
        assert old.subject_name == "Ani Lama"  # the record of the service stays
        # "Received by Ani Lama" in the timeline was delivery data too.
        assert all("Ani Lama" not in e.public_note for e in old.events)
        assert any("Ani Baru" in e.public_note for e in recent.events)
        assert old.kecamatan_code == LUBUK_PAKAM_ADDRESS["kecamatan_code"]
        assert all(not _exists(k) for k in old_keys)
        assert recent.attachments and recent.recipient_phone is not None
        assert still_open.attachments and still_open.street == LUBUK_PAKAM_ADDRESS["street"]

        second = privacy.purge()
        db.session.commit()
        assert (second.sadoku_requests, second.sadoku_attachments, second.storage_keys) == (
            0,
            0,
            [],
        )


def test_purge_respects_the_configured_number_of_days(app: Flask, monkeypatch):
    monkeypatch.setitem(app.config, "SADOKU_RETENTION_DAYS", 10)
    with app.test_request_context():
        req = make_request(status="cancelled")
        _age(req, 11)
        db.session.commit()
        assert privacy.purge().sadoku_requests == 1


def test_purge_deletes_drafts_never_sent_and_expired_reset_links(app: Flask):
    with app.test_request_context():
        draft = make_request(status="draft")
        draft.created_at = utcnow() - dt.timedelta(days=400)
        fresh_draft = make_request(status="draft")
        user = make_user()
        create_password_reset(user.email)
        expired = create_password_reset(make_user().email)
        assert expired is not None
        db.session.scalar(
            select(PasswordResetToken).where(PasswordResetToken.user_id == expired[0].id)
        ).expires_at = utcnow() - dt.timedelta(hours=1)
        db.session.commit()
        draft_id = draft.id

        result = privacy.purge()
        db.session.commit()
        assert (result.sadoku_drafts, result.reset_tokens) == (1, 1)
        assert db.session.get(DocumentRequest, draft_id) is None
        assert db.session.get(DocumentRequest, fresh_draft.id) is not None
        assert privacy.purge().reset_tokens == 0


def test_purge_deletes_ended_sessions_past_retention_and_keeps_the_rest(app: Flask):
    """Old device names and IP addresses go; open sessions and recent history stay."""
    with app.test_request_context():
        user = make_user()
        old = utcnow() - dt.timedelta(days=120)
        rows = [
            UserSession(user=user, token_hash=f"{n:064x}", device="Chrome, Android", ip="10.0.0.1")
            for n in range(3)
        ]
        rows[0].ended_at, rows[0].end_reason = old, "logout"  # past 90 days: deleted
        rows[1].ended_at, rows[1].end_reason = utcnow(), "logout"  # recent: kept
        db.session.add_all(rows)  # rows[2] still open (however old): kept
        db.session.commit()
        kept = {rows[1].id, rows[2].id}

        assert privacy.purge().sessions == 1
        db.session.commit()
        left = set(db.session.scalars(select(UserSession.id)).all())
        assert left == kept
        assert privacy.purge().sessions == 0


def test_purge_erases_old_pickups_but_keeps_weighings_and_the_ledger(app: Flask):
    with app.test_request_context():
        pickup = make_pickup(status="confirmed", address={"landmark": "Rumah cat biru"})
        photo = get_storage().save(tiny_png(), ".png", "jumpa_madu")
        pickup.weighings[0].photo_keys = [photo]
        recent = make_pickup(status="confirmed")
        open_pickup = make_pickup(status="scheduled")
        _age(pickup, 400)
        db.session.commit()

        result = privacy.purge()
        db.session.commit()
        privacy.delete_files(result.storage_keys)
        assert (result.pickups, result.pickup_photos) == (1, 1)
        assert pickup.landmark is None and pickup.desa_code is None
        assert pickup.weighings[0].photo_keys == [] and not _exists(photo)
        assert db.session.scalar(select(func.count(Weighing.id))) == 2
        assert recent.street == LUBUK_PAKAM_ADDRESS["street"]
        assert open_pickup.street == LUBUK_PAKAM_ADDRESS["street"]
        assert ledger.check() == []
        assert privacy.purge().pickups == 0


def test_purge_command_prints_counts_and_is_idempotent(app: Flask, runner):
    with app.test_request_context():
        req = make_request(status="delivered")
        _age(req, 400)
        db.session.commit()
    first = runner.invoke(args=["privacy", "purge"])
    assert first.exit_code == 0, first.output
    assert "1 requests anonymised" in first.output
    second = runner.invoke(args=["privacy", "purge"])
    assert "0 requests anonymised, 0 attachments deleted, 0 unsent drafts deleted" in second.output
    assert "Files removed from storage: 0." in second.output


def test_a_request_someone_filed_keeps_working_for_others_after_a_purge(app: Flask):
    """The purge touches only closed requests: the tracking of an open one is untouched."""
    with app.test_request_context():
        req = make_request(status="submitted")
        privacy.purge()
        db.session.commit()
        assert sadoku.track(req.code, VALID_NIK[-4:]) is not None
