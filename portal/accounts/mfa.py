"""Second factor for staff: TOTP (RFC 6238) codes from an authenticator app, and recovery codes.

Officers and admins see other people's NIKs and addresses and move money, so a stolen password
alone must not be enough (ASVS 6.3.3). TOTP needs no SMS gateway and works offline on a cheap
phone. Each code is accepted once (the last used time step is kept), recovery codes are single use
and stored hashed, and the secret is encrypted at rest like a NIK.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from portal.accounts.models import MfaRecoveryCode, User
from portal.core.audit import record_audit
from portal.core.errors import DomainError
from portal.core.security import hash_password, verify_password
from portal.core.time import utcnow
from portal.extensions import db

# Demo and test accounts only (DEMO_MODE): a fixed, published secret so newcomers and the browser
# tests can log in as staff. `flask seed demo` refuses to run in production, so no production
# account can get it; `check_not_demo_secret` refuses it at enrolment too.
DEMO_TOTP_SECRET = "DELISERDANGPORTALDEMOTOTPSECRET2"  # noqa: S105 - published demo value
RECOVERY_CODES = 10
RECOVERY_CODE_LENGTH = 10  # base32 characters: 50 bits
STEP_SECONDS = 30


def new_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    account = user.email or user.phone or str(user.id)
    return pyotp.TOTP(secret).provisioning_uri(
        name=account, issuer_name=current_app.config["MFA_ISSUER"]
    )


def qr_data_uri(uri: str) -> str:
    """The enrolment QR code as an SVG data URI (allowed by the CSP's img-src data:)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (previous, current or next: phone clocks drift) whose code is `code`."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def begin_enrolment(user: User) -> str:
    """Give a not-yet-enrolled user a secret to scan (kept across reloads of the page)."""
    if user.mfa_enrolled:
        raise DomainError(None, _("Two-step verification is already set up"))
    if not user.totp_secret:
        user.totp_secret = new_secret()
        db.session.flush()
    return user.totp_secret


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Check the first code from the app; on success enrol and return fresh recovery codes."""
    if not user.totp_secret or user.mfa_enrolled:
        raise DomainError("code", _("Start the set-up again"))
    step = _matching_step(user.totp_secret, code)
    if step is None:
        raise DomainError(
            "code",
            _("That code is not right. Enter the 6 digits your app shows now for this account."),
        )
    user.totp_last_step = step
    user.mfa_enrolled_at = utcnow()
    codes = _replace_recovery_codes(user)
    record_audit("mfa_enrolled", actor=user, target_user=user)
    db.session.flush()
    return codes


def verify(user: User, code: str) -> str:
    """Check a login or step-up code: a TOTP code (once) or an unused recovery code.

    Returns "totp" or "recovery"; raises DomainError when neither matches.
    """
    if not user.mfa_enrolled:
        raise DomainError("code", _("Two-step verification is not set up for this account"))
    assert user.totp_secret is not None
    step = _matching_step(user.totp_secret, code)
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            raise DomainError(
                "code", _("This code was already used. Wait for the next code and enter it.")
            )
        user.totp_last_step = step
        db.session.flush()
        return "totp"
    if _use_recovery_code(user, code):
        record_audit("mfa_recovery_code_used", actor=user, target_user=user)
        db.session.flush()
        return "recovery"
    raise DomainError(
        "code",
        _("That code is not right. Enter the 6 digits your app shows now, or a recovery code."),
    )


def _normalised(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _code_hash(code: str) -> str:
    """Argon2id, salted, like a password (ASVS 6.5.2): a stolen table yields no usable code."""
    return hash_password(_normalised(code))


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:RECOVERY_CODE_LENGTH]
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(MfaRecoveryCode(user_id=user.id, code_hash=_code_hash(raw)))
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    """New codes (the old ones stop working), after a step-up."""
    codes = _replace_recovery_codes(user)
    record_audit("mfa_recovery_codes_renewed", actor=user, target_user=user)
    db.session.flush()
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    """Try the code against each unused one (at most 10 hashes: the rare lost-phone path)."""
    normalised = _normalised(code)
    if len(normalised) != RECOVERY_CODE_LENGTH:
        return False
    rows = db.session.scalars(
        select(MfaRecoveryCode).where(
            MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None)
        )
    ).all()
    for row in rows:
        if verify_password(row.code_hash, normalised):
            # Used once: the conditional UPDATE loses to a simultaneous use of the same code.
            claimed = db.session.execute(
                update(MfaRecoveryCode)
                .where(MfaRecoveryCode.id == row.id, MfaRecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return bool(claimed.rowcount)
    return False


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(MfaRecoveryCode.id).where(
                MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def reset(actor: User, user: User) -> None:
    """An admin clears someone's second factor (lost phone and codes): they enrol again.

    Not their own: a second administrator checks who is asking (no self-service lock-out bypass).
    """
    if actor.id == user.id:
        raise DomainError(None, _("Another administrator must reset your two-step verification."))
    user.totp_secret = None
    user.mfa_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    record_audit("mfa_reset", actor=actor, target_user=user)
    db.session.flush()


def enrol_with_secret(user: User, secret: str) -> None:
    """Demo data and tests: enrol `user` with a known secret. Refused outside demo mode."""
    if not current_app.config.get("DEMO_MODE"):
        raise RuntimeError("fixed TOTP secrets are for demo mode only")
    user.totp_secret = secret
    user.mfa_enrolled_at = utcnow()
    user.totp_last_step = None
    db.session.flush()
