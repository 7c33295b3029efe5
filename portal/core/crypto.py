"""NIK and KK encrypted at rest: AES-256-GCM per value, and a keyed hash for lookups.

Adminduk art. 95A makes spreading population data a crime and UU 27/2022 counts the NIK as
specific personal data, so a copied database file or backup must not reveal one. Each value is
sealed on its own:

- stored token ``<key id>:<base64url(nonce | ciphertext | tag)>``, a random 96-bit nonce per value,
  so two saves of one NIK give two different tokens and nothing can be learned by comparing rows;
- the associated data is the key id and the column (``users.nik``), so a token copied into another
  column or row type does not decrypt there;
- the key id names which key of ``DATA_ENCRYPTION_KEYS`` sealed it, so keys can be rotated: the
  first (newest) key encrypts, every listed key decrypts, and ``flask crypto reencrypt`` moves
  old rows to the newest key;
- a failed decryption raises `DecryptionError`, never returns garbage.

Because equal values encrypt differently, the database cannot compare them; lookups go through
`lookup_hash` (HMAC-SHA256 with the separate ``DATA_LOOKUP_KEY``) stored next to the token.

This protects the data at rest (database files, dumps, backups, SQL read access). It does not
protect against anyone who holds the app's environment (the keys) or runs code in the app.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, has_app_context
from sqlalchemy import Connection, Engine, String, column, select, table, update
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, GCM's native nonce size
TAG_BYTES = 16
# Wide enough for a 16-digit value (about 65 characters) with room for longer key ids.
TOKEN_COLUMN_LENGTH = 255
LOOKUP_HASH_LENGTH = 64
KEY_ID_RE = re.compile(r"^[A-Za-z0-9]{1,16}$")
# A stored token. NIK and KK are digits only, so a plaintext value can never look like one.
TOKEN_RE = re.compile(r"^([A-Za-z0-9]{1,16}):([A-Za-z0-9_-]{38,})$")
# Public development-only keys (config.py): production refuses to start with them.
DEV_KEY_IDS = frozenset({"dev"})
DEV_KEY_MATERIAL = frozenset(
    {b"DEV-ONLY-NOT-SECRET-nik-kk-key-1", b"DEV-ONLY-NOT-SECRET-lookup-key-1"}
)


class CryptoConfigError(RuntimeError):
    """The keys in the configuration are missing or malformed: the app must not start."""


class DecryptionError(ValueError):
    """A stored value could not be decrypted: wrong key, wrong column, or tampered with.

    The message names the column and key id, never the value.
    """


def _b64decode_key(text: str, what: str) -> bytes:
    text = text.strip()
    try:
        # Accept both alphabets: operators paste whatever their key generator printed.
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoConfigError(f"{what} is not valid base64") from exc
    if len(raw) != KEY_BYTES:
        raise CryptoConfigError(f"{what} must be {KEY_BYTES} random bytes, base64-encoded")
    return raw


def parse_encryption_keys(spec: str | None) -> tuple[tuple[str, bytes], ...]:
    """``"v2:<base64>,v1:<base64>"`` -> ((id, key), ...), newest first."""
    keys: list[tuple[str, bytes]] = []
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        key_id, sep, material = part.partition(":")
        key_id = key_id.strip()
        if not sep or not KEY_ID_RE.match(key_id):
            raise CryptoConfigError(
                "DATA_ENCRYPTION_KEYS entries must look like <id>:<base64 key>, the id 1-16 "
                "letters or digits (e.g. v1)"
            )
        if any(key_id == k for k, _ in keys):
            raise CryptoConfigError(f"DATA_ENCRYPTION_KEYS lists the key id {key_id!r} twice")
        keys.append((key_id, _b64decode_key(material, f"DATA_ENCRYPTION_KEYS key {key_id!r}")))
    if not keys:
        raise CryptoConfigError("DATA_ENCRYPTION_KEYS must list at least one key")
    return tuple(keys)


@dataclass(frozen=True)
class Keyring:
    """The encryption keys (newest first) and the lookup-hash key."""

    keys: tuple[tuple[str, bytes], ...]
    lookup_key: bytes
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise CryptoConfigError("DATA_ENCRYPTION_KEYS must list at least one key")
        if len(self.lookup_key) < KEY_BYTES:
            raise CryptoConfigError(f"DATA_LOOKUP_KEY must be {KEY_BYTES} random bytes")
        if any(hmac.compare_digest(self.lookup_key, key) for _, key in self.keys):
            raise CryptoConfigError("DATA_LOOKUP_KEY must differ from every encryption key")
        for key_id, key in self.keys:
            self._ciphers[key_id] = AESGCM(key)

    @classmethod
    def from_settings(cls, keys: str | None, lookup_key: str | None) -> Keyring:
        return cls(
            parse_encryption_keys(keys),
            _b64decode_key(lookup_key or "", "DATA_LOOKUP_KEY"),
        )

    @property
    def current_key_id(self) -> str:
        return self.keys[0][0]

    def encrypt(self, plaintext: str, label: str) -> str:
        """Seal `plaintext` for the column `label` ("table.column") with the newest key."""
        key_id = self.current_key_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(
            nonce, plaintext.encode("utf-8"), _associated_data(key_id, label)
        )
        return f"{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"

    def decrypt(self, token: str, label: str) -> str:
        """Open a token written by `encrypt` for the same column; anything else raises."""
        match = TOKEN_RE.match(token) if isinstance(token, str) else None
        if match is None:
            raise DecryptionError(
                f"{label} holds a value that is not an encrypted token (plaintext left over? "
                "run the migration or `flask crypto reencrypt`)"
            )
        key_id, body = match.groups()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(
                f"{label} was encrypted with key {key_id!r}, which is not in DATA_ENCRYPTION_KEYS"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise DecryptionError(f"{label} holds a damaged token (key {key_id!r})") from exc
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(f"{label} holds a truncated token (key {key_id!r})")
        try:
            plain = cipher.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(key_id, label)
            )
        except InvalidTag as exc:
            raise DecryptionError(
                f"{label} could not be decrypted with key {key_id!r}: the value was altered, "
                "belongs to another column, or the key is wrong"
            ) from exc
        return plain.decode("utf-8")

    def lookup_hash(self, value: str, kind: str = "nik") -> str:
        """Keyed hash of a normalised value, for equality lookups; `kind` separates NIK from KK."""
        digest = hmac.new(
            self.lookup_key, f"{kind}\x00{normalize_number(value)}".encode(), hashlib.sha256
        ).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _associated_data(key_id: str, label: str) -> bytes:
    return f"portal-deli-serdang|{key_id}|{label}".encode()


def normalize_number(value: str) -> str:
    """The form people type a NIK in ("1207 2801.0190-0001") reduced to its digits' string."""
    return re.sub(r"[\s.\-]", "", value or "")


def token_key_id(value: str | None) -> str | None:
    """The key id of a stored token, or None for a plaintext (or empty) value."""
    match = TOKEN_RE.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


@functools.lru_cache(maxsize=8)
def _keyring(keys: str | None, lookup_key: str | None) -> Keyring:
    # Parsing and AESGCM setup once per distinct configuration, not once per value.
    return Keyring.from_settings(keys, lookup_key)


def current_keyring() -> Keyring:
    """The app's keys; outside an app (a bare migration script) the environment's."""
    if has_app_context():
        config = current_app.config
        return _keyring(config.get("DATA_ENCRYPTION_KEYS"), config.get("DATA_LOOKUP_KEY"))
    keys, lookup = os.environ.get("DATA_ENCRYPTION_KEYS"), os.environ.get("DATA_LOOKUP_KEY")
    if not keys or not lookup:
        raise CryptoConfigError(
            "No app context and DATA_ENCRYPTION_KEYS / DATA_LOOKUP_KEY are not in the environment"
        )
    return _keyring(keys, lookup)


def nik_lookup_hash(value: str | None) -> str | None:
    """The keyed hash kept in ``users.nik_hash``: ``User.nik_hash == nik_lookup_hash(typed)``."""
    if not value or not normalize_number(value):
        return None
    return current_keyring().lookup_hash(value, "nik")


def check_production_keys(keys: str | None, lookup_key: str | None) -> None:
    """Refuse to start production without real keys (called by `ProductionConfig.validate`)."""
    hint = '(python -c "import base64,os; print(base64.b64encode(os.urandom(32)).decode())")'
    try:
        keyring = Keyring.from_settings(keys, lookup_key)
    except CryptoConfigError as exc:
        raise RuntimeError(
            f"DATA_ENCRYPTION_KEYS and DATA_LOOKUP_KEY must be set in production: {exc} {hint}"
        ) from exc
    for key_id, key in keyring.keys:
        if key_id in DEV_KEY_IDS or key in DEV_KEY_MATERIAL:
            raise RuntimeError(
                "DATA_ENCRYPTION_KEYS holds the public development key; set real keys "
                f"in production {hint}"
            )
    if keyring.lookup_key in DEV_KEY_MATERIAL:
        raise RuntimeError(
            f"DATA_LOOKUP_KEY is the public development key; set a real key in production {hint}"
        )


def generate_key(key_id: str | None = None) -> str:
    """A new ``<id>:<base64>`` entry for DATA_ENCRYPTION_KEYS, or without an id a lookup key."""
    if key_id is None:
        return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    if not KEY_ID_RE.match(key_id):
        raise CryptoConfigError("A key id is 1-16 letters or digits, e.g. v2")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


# --- SQLAlchemy column type --------------------------------------------------------------------


class EncryptedString(TypeDecorator[str]):
    """A string column stored as an AES-GCM token bound to `label` ("table.column").

    Models and services read and write plain strings (``user.nik``); only the database sees the
    token. Comparing the column in SQL is refused, because a random nonce makes equal values
    differ: query the lookup-hash column instead. ``IS NULL`` checks still work.
    """

    impl = String
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[str]):
        __slots__ = ()

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            _refuse_comparison(self.expr.type, op, other)
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            _refuse_comparison(self.expr.type, op, (other,))
            return super().reverse_operate(op, other, **kwargs)

    comparator_factory = Comparator

    def __init__(self, label: str, length: int = TOKEN_COLUMN_LENGTH) -> None:
        super().__init__(length)
        self.label = label

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return current_keyring().encrypt(str(value), self.label)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return current_keyring().decrypt(value, self.label)


_NULL_CHECKS = {operators.is_, operators.is_not}


def _refuse_comparison(type_: Any, op: Any, other: tuple[Any, ...]) -> None:
    if op in _NULL_CHECKS:
        return
    if op in (operators.eq, operators.ne) and len(other) == 1 and other[0] is None:
        return
    raise TypeError(
        f"{type_.label} is encrypted with a random nonce and cannot be compared in SQL; "
        "compare its lookup hash instead (nik_lookup_hash)"
    )


# --- Bulk conversion: the migration and key rotation -------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    """One encrypted column, and the lookup-hash column kept next to it (if any)."""

    table: str
    column: str
    hash_column: str | None = None
    hash_kind: str = "nik"

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"


# Every NIK/KK column in the schema. A new one must be added here so that the migration and key
# rotation cover it (tests/core/test_crypto.py checks the models against this list).
ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn("users", "nik", hash_column="nik_hash"),
    EncryptedColumn("sadoku_requests", "subject_nik"),
    EncryptedColumn("sadoku_requests", "subject_kk"),
    # Not a NIK, but as secret: whoever reads it can make a staff member's login codes.
    EncryptedColumn("users", "totp_secret"),
)
BATCH_SIZE = 500


@dataclass
class ColumnReport:
    """What a conversion did to one column; the operator reads it after the command."""

    label: str
    encrypted: int = 0  # plaintext rows now encrypted
    reencrypted: int = 0  # rows moved from an older key to the newest
    hashed: int = 0  # rows whose lookup hash was filled in or corrected
    unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"{self.label}: {self.encrypted} encrypted, {self.reencrypted} re-encrypted, "
            f"{self.hashed} lookup hashes set, {self.unchanged} unchanged"
        )


def _column_table(spec: EncryptedColumn) -> Any:
    # Lightweight table()/column() constructs: plain strings in and out, no EncryptedString.
    cols = [column("id"), column(spec.column)]
    if spec.hash_column:
        cols.append(column(spec.hash_column))
    return table(spec.table, *cols)


def _convert_batch(
    conn: Connection,
    spec: EncryptedColumn,
    keyring: Keyring,
    *,
    after: int,
    rotate: bool,
    report: ColumnReport,
) -> int | None:
    """Convert the next rows with an id above `after`; the last id seen, or None when done."""
    t = _column_table(spec)
    rows = conn.execute(
        select(*t.c)
        .where(t.c[spec.column].is_not(None), t.c.id > after)
        .order_by(t.c.id)
        .limit(BATCH_SIZE)
    ).all()
    for row in rows:
        row_id, stored = row[0], row[1]
        stored_hash = row[2] if spec.hash_column else None
        key_id = token_key_id(stored)
        values: dict[str, Any] = {}
        plain: str | None = None
        if key_id is None:
            plain = stored
            values[spec.column] = keyring.encrypt(stored, spec.label)
            report.encrypted += 1
        elif rotate and key_id != keyring.current_key_id:
            plain = keyring.decrypt(stored, spec.label)
            values[spec.column] = keyring.encrypt(plain, spec.label)
            report.reencrypted += 1
        if spec.hash_column and (rotate or stored_hash is None or key_id is None):
            if plain is None:
                plain = keyring.decrypt(stored, spec.label)
            wanted = keyring.lookup_hash(plain, spec.hash_kind) if plain else None
            if wanted != stored_hash:
                values[spec.hash_column] = wanted
                report.hashed += 1
        if not values:
            report.unchanged += 1
            continue
        # Only if the row still holds what was read: a value saved meanwhile is already current.
        conn.execute(update(t).where(t.c.id == row_id, t.c[spec.column] == stored).values(**values))
    return rows[-1][0] if rows else None


def _convert(
    run: Callable[[Callable[[Connection], int | None]], int | None],
    keyring: Keyring,
    *,
    rotate: bool,
) -> list[ColumnReport]:
    """Walk every encrypted column in id order; `run` decides the transaction of each batch."""
    reports = []
    for spec in ENCRYPTED_COLUMNS:
        report = ColumnReport(spec.label)
        after: int | None = 0
        while after is not None:
            start = after
            after = run(
                lambda conn, spec=spec, start=start, report=report: _convert_batch(
                    conn, spec, keyring, after=start, rotate=rotate, report=report
                )
            )
        reports.append(report)
    return reports


def encrypt_existing(connection: Connection, keyring: Keyring | None = None) -> list[ColumnReport]:
    """Encrypt plaintext NIK/KK rows in place and fill the lookup hashes. For the migration.

    Works on a bare Connection (``op.get_bind()``), inside the caller's transaction, with no ORM
    session. Tokens already there are left as they are (only a missing hash is filled in), so
    running it twice changes nothing. The columns must already be wide enough for tokens.
    """
    return _convert(lambda step: step(connection), keyring or current_keyring(), rotate=False)


def reencrypt(engine: Engine, keyring: Keyring | None = None) -> list[ColumnReport]:
    """Move every NIK/KK to the newest key and recompute every lookup hash. Idempotent.

    Each batch of rows commits on its own, so a large table is never locked for the whole run
    and an interrupted run can simply be started again.
    """

    def in_transaction(step: Callable[[Connection], int | None]) -> int | None:
        with engine.begin() as conn:
            return step(conn)

    return _convert(in_transaction, keyring or current_keyring(), rotate=True)


def decrypt_existing(connection: Connection, keyring: Keyring | None = None) -> int:
    """Turn every token back into plaintext and clear the lookup hashes: for a downgrade only.

    Returns the number of values decrypted. Plaintext rows are left alone, so it is idempotent.
    """
    keyring = keyring or current_keyring()
    count = 0
    for spec in ENCRYPTED_COLUMNS:
        t = _column_table(spec)
        rows = connection.execute(
            select(t.c.id, t.c[spec.column]).where(t.c[spec.column].is_not(None))
        )
        for row_id, stored in rows.all():
            if token_key_id(stored) is None:
                continue
            values: dict[str, Any] = {spec.column: keyring.decrypt(stored, spec.label)}
            if spec.hash_column:
                values[spec.hash_column] = None
            connection.execute(update(t).where(t.c.id == row_id).values(**values))
            count += 1
    return count


def key_usage(connection: Connection) -> dict[str, Counter[str]]:
    """Rows per key id for each encrypted column ("plaintext" for unconverted rows)."""
    usage: dict[str, Counter[str]] = {}
    for spec in ENCRYPTED_COLUMNS:
        t = table(spec.table, column(spec.column))
        counter: Counter[str] = Counter()
        stmt = select(t.c[spec.column]).where(t.c[spec.column].is_not(None))
        for (value,) in connection.execute(stmt):
            counter[token_key_id(value) or "plaintext"] += 1
        usage[spec.label] = counter
    return usage
