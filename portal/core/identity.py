"""Indonesian identity and contact numbers: NIK, nomor KK and mobile phones (DOMAIN.md section 2).

Pure functions, used by form validators and services alike, so a rule lives in one place.
"""

from __future__ import annotations

import datetime as dt
import re

# ASCII digits only, the whole string: \d would let full-width or Arabic-Indic digits through.
_DIGITS16 = re.compile(r"[0-9]{16}")
_PHONE = re.compile(r"628[1-9][0-9]{7,10}")
MASK = "\u2022"  # bullet


def _valid_date(day: int, month: int, yy: int) -> bool:
    # The century is unknown from two digits; 2000 is a leap year, so 29 February is accepted for
    # every yy divisible by 4, which is right for both 19yy and 20yy except 1900 (no NIK holder).
    try:
        dt.date(2000 + yy, month, day)
    except ValueError:
        return False
    return True


def nik_problem(value: str) -> str | None:
    """Why `value` is not a well-formed NIK, or None when it is.

    Structure: PP KK CC DDMMYY NNNN; women's day has 40 added. The regency prefix is not checked:
    people who moved to Deli Serdang keep the NIK they were first given elsewhere.
    """
    if not _DIGITS16.fullmatch(value):
        return "length"
    day, month, yy = int(value[6:8]), int(value[8:10]), int(value[10:12])
    if 41 <= day <= 71:
        day -= 40
    if not (1 <= day <= 31) or not (1 <= month <= 12) or not _valid_date(day, month, yy):
        return "date"
    if value[12:] == "0000":
        return "serial"
    if value[:2] == "00" or value[2:4] == "00" or value[4:6] == "00":
        return "region"
    return None


def is_valid_nik(value: str) -> bool:
    return nik_problem(value) is None


def kk_problem(value: str) -> str | None:
    """Why `value` is not a well-formed nomor KK (region code, issue date DDMMYY, serial)."""
    if not _DIGITS16.fullmatch(value):
        return "length"
    day, month, yy = int(value[6:8]), int(value[8:10]), int(value[10:12])
    if not (1 <= month <= 12) or not (1 <= day <= 31) or not _valid_date(day, month, yy):
        return "date"
    if value[12:] == "0000":
        return "serial"
    if value[:2] == "00":
        return "region"
    return None


def is_valid_kk(value: str) -> bool:
    return kk_problem(value) is None


def normalize_phone(value: str) -> str | None:
    """Return the E.164 form (+628...) of an Indonesian mobile number, or None if it is not one.

    Accepts what people type: spaces, dashes, brackets, +62, 62, 0 or a bare 8 at the start.
    """
    digits = re.sub(r"[^0-9]", "", value or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if not _PHONE.fullmatch(digits):
        return None
    return "+" + digits


def local_phone(e164: str | None) -> str:
    """The way people write their own number: +6281234567890 -> 081234567890."""
    if not e164:
        return ""
    return "0" + e164[3:] if e164.startswith("+62") else e164


def looks_like_phone(value: str) -> bool:
    """True when a login identifier is meant as a phone number rather than an email address."""
    return "@" not in value and bool(re.search(r"[0-9]", value or ""))


def mask_number(value: str | None, keep_start: int = 4, keep_end: int = 4) -> str:
    """Mask the middle of a NIK or KK: 1207••••••••0001. Empty input gives an empty string."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return MASK * len(value)
    middle = len(value) - keep_start - keep_end
    return value[:keep_start] + MASK * middle + value[-keep_end:]


def mask_phone(value: str | None) -> str:
    """Mask a phone for display in the form people know it: +6281234567890 -> 0812•••••890."""
    if not value:
        return ""
    return mask_number(local_phone(value), keep_start=4, keep_end=3)


def mask_email(value: str | None) -> str:
    """Mask an email address for display: w•••@demo.test."""
    if not value or "@" not in value:
        return value or ""
    local, domain = value.split("@", 1)
    return local[:1] + MASK * 3 + "@" + domain
