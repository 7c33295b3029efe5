"""NIK and KK encrypted at rest: what a stolen database shows, tampering, rotation, lookups."""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import JSON, String, Text, select, text

from config import DEV_DATA_ENCRYPTION_KEYS, DEV_DATA_LOOKUP_KEY, ProductionConfig
from portal import create_app
from portal.accounts.models import User
from portal.core.crypto import (
    ENCRYPTED_COLUMNS,
    CryptoConfigError,
    DecryptionError,
    EncryptedString,
    Keyring,
    encrypt_existing,
    nik_lookup_hash,
)
from portal.extensions import db
from portal.sadoku import services as sadoku
from portal.sadoku.models import DocumentRequest
from tests.factories import VALID_KK, VALID_NIK, make_request, make_user

SIXTEEN_DIGITS = re.compile(r"\d{16}")
OTHER_NIK = "1207284506900002"


def _key(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * 32).decode()


V1, V2, LOOKUP, LOOKUP2 = _key(1), _key(2), _key(9), _key(8)


def _keyring(keys: str = f"v1:{V1}", lookup: str = LOOKUP) -> Keyring:
    return Keyring.from_settings(keys, lookup)


def _raw_row(table: str, row_id: int) -> dict:
    """The row exactly as the database holds it (what a dump or a stolen file shows)."""
    row = db.session.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id})  # noqa: S608
    return dict(row.mappings().one())


def _assert_no_identity_numbers(values: object, *numbers: str) -> None:
    blob = " ".join(str(v) for v in (values.values() if isinstance(values, dict) else values))
    assert not SIXTEEN_DIGITS.search(blob), blob
    for number in numbers:
        assert number not in blob


# --- the cipher itself -----------------------------------------------------------------------


def test_same_value_encrypts_differently_each_time_and_decrypts_back():
    keyring = _keyring()
    first = keyring.encrypt(VALID_NIK, "users.nik")
    second = keyring.encrypt(VALID_NIK, "users.nik")
    assert first != second
    assert first.startswith("v1:") and second.startswith("v1:")
    assert keyring.decrypt(first, "users.nik") == keyring.decrypt(second, "users.nik") == VALID_NIK
    assert VALID_NIK not in first and not SIXTEEN_DIGITS.search(first)


def test_tampered_token_is_refused_with_a_clear_error():
    keyring = _keyring()
    token = keyring.encrypt(VALID_NIK, "users.nik")
    key_id, body = token.split(":")
    # Flip one character of the ciphertext (not the final one, whose low bits may be padding).
    i = len(body) // 2
    flipped = body[:i] + ("A" if body[i] != "A" else "B") + body[i + 1 :]
    with pytest.raises(DecryptionError, match=r"users\.nik could not be decrypted") as info:
        keyring.decrypt(f"{key_id}:{flipped}", "users.nik")
    assert VALID_NIK not in str(info.value)
    # Cut short (a column too narrow in a botched migration): refused, not half-decrypted.
    with pytest.raises(DecryptionError, match="could not be decrypted"):
        keyring.decrypt(f"{key_id}:{body[:40]}", "users.nik")


def test_a_token_copied_into_another_column_does_not_decrypt():
    keyring = _keyring()
    token = keyring.encrypt(VALID_NIK, "sadoku_requests.subject_nik")
    with pytest.raises(DecryptionError, match=r"sadoku_requests\.subject_kk"):
        keyring.decrypt(token, "sadoku_requests.subject_kk")


def test_wrong_or_unknown_key_and_plaintext_are_refused():
    token = _keyring().encrypt(VALID_NIK, "users.nik")
    # Same key id, other key material (a misconfigured server).
    with pytest.raises(DecryptionError, match="could not be decrypted with key 'v1'"):
        _keyring(f"v1:{V2}").decrypt(token, "users.nik")
    # The key was removed from DATA_ENCRYPTION_KEYS too early.
    with pytest.raises(DecryptionError, match="key 'v1', which is not in DATA_ENCRYPTION_KEYS"):
        _keyring(f"v2:{V2}").decrypt(token, "users.nik")
    with pytest.raises(DecryptionError, match="not an encrypted token"):
        _keyring().decrypt(VALID_NIK, "users.nik")


def test_rotation_keeps_old_values_readable_and_writes_with_the_newest_key():
    old = _keyring(f"v1:{V1}").encrypt(VALID_NIK, "users.nik")
    rotated = _keyring(f"v2:{V2},v1:{V1}")
    assert rotated.decrypt(old, "users.nik") == VALID_NIK
    assert rotated.encrypt(VALID_NIK, "users.nik").startswith("v2:")


def test_lookup_hash_is_keyed_and_ignores_how_the_number_was_typed():
    keyring = _keyring()
    assert keyring.lookup_hash(VALID_NIK) == keyring.lookup_hash("1207 2801.0190-0001")
    assert keyring.lookup_hash(VALID_NIK) != keyring.lookup_hash(OTHER_NIK)
    # Another key gives another hash: a dictionary of all NIKs cannot be precomputed without it.
    assert keyring.lookup_hash(VALID_NIK) != _keyring(lookup=LOOKUP2).lookup_hash(VALID_NIK)
    # A NIK and a KK with the same digits do not match each other.
    assert keyring.lookup_hash(VALID_NIK, "nik") != keyring.lookup_hash(VALID_NIK, "kk")
    assert not SIXTEEN_DIGITS.search(keyring.lookup_hash(VALID_NIK))


@pytest.mark.parametrize(
    ("keys", "lookup", "message"),
    [
        ("", LOOKUP, "at least one key"),
        (V1, LOOKUP, "<id>:<base64 key>"),
        ("v1:not base64!", LOOKUP, "not valid base64"),
        (f"v1:{base64.b64encode(b'short').decode()}", LOOKUP, "32 random bytes"),
        (f"v1:{V1},v1:{V2}", LOOKUP, "twice"),
        (f"v1:{V1}", "", "DATA_LOOKUP_KEY"),
        (f"v1:{V1}", V1, "must differ"),
    ],
)
def test_malformed_key_settings_are_refused(keys, lookup, message):
    with pytest.raises(CryptoConfigError, match=re.escape(message)):
        Keyring.from_settings(keys, lookup)


def _production(**settings):
    values = {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SECRET_KEY": "x" * 48,
        "DATA_ENCRYPTION_KEYS": f"v1:{V1}",
        "DATA_LOOKUP_KEY": LOOKUP,
        **settings,
    }
    return type("Prod", (ProductionConfig,), values)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"DATA_ENCRYPTION_KEYS": ""}, "DATA_ENCRYPTION_KEYS and DATA_LOOKUP_KEY must be set"),
        ({"DATA_LOOKUP_KEY": ""}, "DATA_ENCRYPTION_KEYS and DATA_LOOKUP_KEY must be set"),
        ({"DATA_ENCRYPTION_KEYS": "v1:abc"}, "must be set"),
        ({"DATA_ENCRYPTION_KEYS": DEV_DATA_ENCRYPTION_KEYS}, "public development key"),
        ({"DATA_ENCRYPTION_KEYS": f"v2:{V2},{DEV_DATA_ENCRYPTION_KEYS}"}, "development key"),
        ({"DATA_LOOKUP_KEY": DEV_DATA_LOOKUP_KEY}, "public development key"),
    ],
)
def test_production_refuses_to_start_without_real_encryption_keys(settings, message):
    with pytest.raises(RuntimeError, match=re.escape(message)):
        create_app(_production(**settings))


def test_production_starts_with_real_keys():
    app = create_app(_production())
    assert app.config["DATA_ENCRYPTION_KEYS"] == f"v1:{V1}"


# --- columns in the database -----------------------------------------------------------------


def test_every_nik_and_kk_column_is_encrypted_and_listed_for_rotation(app):
    listed = {spec.label for spec in ENCRYPTED_COLUMNS}
    encrypted = set()
    for table in db.metadata.sorted_tables:
        for col in table.columns:
            label = f"{table.name}.{col.name}"
            if isinstance(col.type, EncryptedString):
                assert col.type.label == label  # bound to its own column
                encrypted.add(label)
            elif re.search(r"(^|_)(nik|kk)($|_)", col.name) and not col.name.endswith("_hash"):
                pytest.fail(f"{label} looks like a NIK/KK column but is not encrypted")
    assert encrypted == listed
    for spec in ENCRYPTED_COLUMNS:
        if spec.hash_column:
            assert spec.hash_column in db.metadata.tables[spec.table].columns


def test_a_saved_user_shows_no_nik_in_the_database_and_reads_back(ctx):
    user = make_user(nik=VALID_NIK)
    raw = _raw_row("users", user.id)
    _assert_no_identity_numbers(raw, VALID_NIK)
    assert raw["nik"].startswith("dev:")
    db.session.expire_all()
    assert db.session.get(User, user.id).nik == VALID_NIK


def test_two_saves_of_the_same_nik_store_different_ciphertexts(ctx):
    first, second = make_user(nik=VALID_NIK), make_user(nik=VALID_NIK)
    assert _raw_row("users", first.id)["nik"] != _raw_row("users", second.id)["nik"]
    # The lookup hash is what stays equal, so both are found by the NIK.
    assert _raw_row("users", first.id)["nik_hash"] == _raw_row("users", second.id)["nik_hash"]


def test_a_user_is_found_by_nik_through_the_lookup_hash_which_follows_changes(ctx):
    user = make_user(nik=VALID_NIK)
    make_user(nik=OTHER_NIK)

    def found(typed: str) -> list[int]:
        stmt = select(User.id).where(User.nik_hash == nik_lookup_hash(typed))
        return list(db.session.scalars(stmt))

    assert found("1207 2801 0190 0001") == [user.id]
    user.nik = "1207285503900001"
    db.session.commit()
    assert found(VALID_NIK) == [] and found("1207285503900001") == [user.id]
    user.nik = None
    db.session.commit()
    assert _raw_row("users", user.id)["nik_hash"] is None
    assert found("1207285503900001") == []


def test_comparing_an_encrypted_column_in_sql_is_refused(ctx):
    # A random nonce makes equal values differ: such a query would silently find nothing.
    with pytest.raises(TypeError, match="lookup hash"):
        select(User).where(User.nik == VALID_NIK)
    with pytest.raises(TypeError, match="lookup hash"):
        select(DocumentRequest).where(DocumentRequest.subject_nik.like("%0001"))
    make_user(nik=None)
    assert db.session.scalar(select(db.func.count()).where(User.nik.is_(None))) == 1


def test_a_request_stores_no_nik_or_kk_and_public_tracking_still_works(ctx):
    req = make_request(nik=VALID_NIK, kk=VALID_KK)
    raw = _raw_row("sadoku_requests", req.id)
    _assert_no_identity_numbers(raw, VALID_NIK, VALID_KK)
    assert raw["subject_nik"] != raw["subject_kk"]
    db.session.expire_all()
    again = db.session.get(DocumentRequest, req.id)
    assert (again.subject_nik, again.subject_kk) == (VALID_NIK, VALID_KK)
    assert sadoku.track(req.code, VALID_NIK[-4:]) == again
    assert sadoku.track(req.code, "9999") is None


def test_no_table_holds_a_full_nik_or_kk_after_a_whole_request(ctx):
    """Audit details, notifications, timeline notes: a full NIK/KK is stored nowhere in clear."""
    req = make_request(status="delivered", nik=VALID_NIK, kk=VALID_KK)
    officer = make_user(nik=OTHER_NIK)
    sadoku.record_nik_view(req, officer)
    db.session.commit()
    for table in db.metadata.sorted_tables:
        textual = [
            c.name
            for c in table.columns
            if isinstance(c.type, String | Text | JSON | EncryptedString)
        ]
        if not textual:
            continue
        cols = ", ".join(textual)
        for row in db.session.execute(text(f"SELECT {cols} FROM {table.name}")):  # noqa: S608
            blob = " ".join(str(v) for v in row)
            for number in (VALID_NIK, VALID_KK, OTHER_NIK):
                assert number not in blob, (table.name, number)


def test_a_token_moved_to_another_column_fails_on_read(ctx):
    req = make_request(nik=VALID_NIK, kk=VALID_KK)
    db.session.execute(
        text("UPDATE sadoku_requests SET subject_kk = subject_nik WHERE id = :id"), {"id": req.id}
    )
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(DecryptionError, match=r"sadoku_requests\.subject_kk"):
        db.session.get(DocumentRequest, req.id)


# --- the migration's conversion and key rotation ---------------------------------------------


def _make_plaintext(user_id: int, req_id: int) -> None:
    """Put rows back into the pre-encryption state the migration finds on a live database."""
    db.session.execute(
        text("UPDATE users SET nik = :nik, nik_hash = NULL WHERE id = :id"),
        {"nik": VALID_NIK, "id": user_id},
    )
    db.session.execute(
        text("UPDATE sadoku_requests SET subject_nik = :nik, subject_kk = :kk WHERE id = :id"),
        {"nik": OTHER_NIK, "kk": VALID_KK, "id": req_id},
    )
    db.session.commit()


def test_encrypt_existing_converts_plaintext_rows_and_is_idempotent(app):
    with app.test_request_context():
        user = make_user()
        req = make_request(owner=make_user())  # the owner gets the request's NIK: encrypted
        untouched = make_user(nik="1207285503900001")
        user_id, req_id, untouched_id = user.id, req.id, untouched.id
        _make_plaintext(user_id, req_id)
        before_untouched = _raw_row("users", untouched_id)["nik"]
        keyring = Keyring.from_settings(
            app.config["DATA_ENCRYPTION_KEYS"], app.config["DATA_LOOKUP_KEY"]
        )
        engine = db.engine
    # A bare connection, no app context: what the Alembic migration hands over.
    with engine.begin() as conn:
        reports = {r.label: r for r in encrypt_existing(conn, keyring)}
    assert reports["users.nik"].encrypted == 1 and reports["users.nik"].hashed == 1
    assert reports["users.nik"].unchanged >= 1
    assert reports["sadoku_requests.subject_nik"].encrypted == 1
    assert reports["sadoku_requests.subject_kk"].encrypted == 1
    with app.app_context():
        user_raw, req_raw = _raw_row("users", user_id), _raw_row("sadoku_requests", req_id)
        _assert_no_identity_numbers(user_raw, VALID_NIK)
        _assert_no_identity_numbers(req_raw, OTHER_NIK, VALID_KK)
        assert _raw_row("users", untouched_id)["nik"] == before_untouched
        assert db.session.get(User, user_id).nik == VALID_NIK
        # The request's owner holds the same NIK (their own request): both are found.
        found = set(
            db.session.scalars(
                select(User.id).where(User.nik_hash == nik_lookup_hash(VALID_NIK))
            ).all()
        )
        assert user_id in found
        saved = db.session.get(DocumentRequest, req_id)
        assert (saved.subject_nik, saved.subject_kk) == (OTHER_NIK, VALID_KK)
        db.session.remove()
    with engine.begin() as conn:
        again = encrypt_existing(conn, keyring)
    assert all(r.encrypted == r.reencrypted == r.hashed == 0 for r in again)
    with app.app_context():
        assert _raw_row("users", user_id) == user_raw
        assert _raw_row("sadoku_requests", req_id) == req_raw


def test_encrypt_existing_fills_a_missing_lookup_hash_of_an_encrypted_row(ctx):
    user = make_user(nik=VALID_NIK)
    db.session.execute(text("UPDATE users SET nik_hash = NULL WHERE id = :id"), {"id": user.id})
    db.session.commit()
    token = _raw_row("users", user.id)["nik"]
    with db.engine.begin() as conn:
        report = encrypt_existing(conn)[0]
    assert (report.encrypted, report.hashed) == (0, 1)
    assert _raw_row("users", user.id)["nik"] == token
    assert _raw_row("users", user.id)["nik_hash"] == nik_lookup_hash(VALID_NIK)


def test_key_rotation_with_the_cli(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", f"v1:{V1}")
    with app.test_request_context():
        user = make_user(nik=VALID_NIK)
        req = make_request(owner=user, nik=OTHER_NIK, kk=VALID_KK)
        user_id, req_id = user.id, req.id
        assert _raw_row("users", user_id)["nik"].startswith("v1:")

    # Step 1: the new key goes first; old rows still read, new writes use v2.
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", f"v2:{V2},v1:{V1}")
    monkeypatch.setitem(app.config, "DATA_LOOKUP_KEY", LOOKUP2)
    with app.app_context():
        assert db.session.get(User, user_id).nik == VALID_NIK
        stale = db.session.scalar(
            select(User.id).where(User.nik_hash == nik_lookup_hash(VALID_NIK))
        )
        assert stale is None  # the lookup key changed: hashes must be recomputed
    status = runner.invoke(args=["crypto", "status"])
    assert status.exit_code == 0 and "users.nik: v1: 1" in status.output

    # Step 2: reencrypt moves every value to v2 and recomputes the lookup hashes.
    result = runner.invoke(args=["crypto", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "users.nik: 0 encrypted, 1 re-encrypted, 1 lookup hashes set" in result.output
    assert "sadoku_requests.subject_kk: 0 encrypted, 1 re-encrypted" in result.output
    with app.app_context():
        rows = [_raw_row("users", user_id), _raw_row("sadoku_requests", req_id)]
        assert rows[0]["nik"].startswith("v2:")
        assert rows[1]["subject_nik"].startswith("v2:") and rows[1]["subject_kk"].startswith("v2:")
        # The request's owner holds the same NIK (their own request): both are found.
        found = set(
            db.session.scalars(
                select(User.id).where(User.nik_hash == nik_lookup_hash(VALID_NIK))
            ).all()
        )
        assert user_id in found

    # Idempotent: a second run changes nothing.
    second = runner.invoke(args=["crypto", "reencrypt"])
    assert (
        "users.nik: 0 encrypted, 0 re-encrypted, 0 lookup hashes set, 1 unchanged" in second.output
    )
    with app.app_context():
        assert [_raw_row("users", user_id), _raw_row("sadoku_requests", req_id)] == rows

    # Step 3: the old key can go; everything still reads.
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", f"v2:{V2}")
    with app.app_context():
        saved = db.session.get(DocumentRequest, req_id)
        assert (saved.subject_nik, saved.subject_kk) == (OTHER_NIK, VALID_KK)
    assert "users.nik: v2: 1" in runner.invoke(args=["crypto", "status"]).output


def test_crypto_status_fails_while_plaintext_is_left(app, runner):
    with app.test_request_context():
        user = make_user()
        req = make_request(owner=make_user())  # the owner gets the request's NIK: encrypted
        _make_plaintext(user.id, req.id)
    result = runner.invoke(args=["crypto", "status"])
    assert result.exit_code == 1
    assert "users.nik: dev: 1, plaintext: 1" in result.output
    assert "sadoku_requests.subject_kk: plaintext: 1" in result.output
    assert "reencrypt" in result.output


def test_new_key_prints_usable_keys(runner):
    entry = runner.invoke(args=["crypto", "new-key", "v3"]).output.strip()
    lookup = runner.invoke(args=["crypto", "new-key"]).output.strip()
    keyring = Keyring.from_settings(entry, lookup)
    assert keyring.current_key_id == "v3"
    assert runner.invoke(args=["crypto", "new-key", "bad id"]).exit_code != 0
