"""Passwords (Argon2id, common-password list), safe redirect targets, personal-data pages."""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PASSWORD_MIN = 8
_TRAILING_NOISE = re.compile(r"[\d\W_]+$")
PASSWORD_MAX = 128


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 20,000 most common passwords (Django's list) plus Indonesian favourites, lower-cased."""
    with gzip.open(DATA_DIR / "common-passwords.txt.gz", "rt", encoding="utf-8") as fh:
        words = {line.strip() for line in fh if line.strip()}
    extra = DATA_DIR / "common-passwords-id.txt"
    words |= {
        line.strip().lower()
        for line in extra.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    return frozenset(words)


def password_problem(password: str) -> str | None:
    """Why a new password is refused ("short", "long", "common"), or None.

    NIST SP 800-63B / ASVS: length and a block list only, no composition rules.
    """
    if len(password) < PASSWORD_MIN:
        return "short"
    if len(password) > PASSWORD_MAX:
        return "long"
    lowered = password.lower()
    words = common_passwords()
    # "deliserdang2026", "sadoku!!" and "Medan 123" are the list's words with a year or symbols
    # added: refuse them too (ASVS 6.2.11), by trimming trailing digits, spaces and symbols.
    stem = _TRAILING_NOISE.sub("", lowered)
    if lowered in words or (len(stem) >= 4 and stem in words):
        return "common"
    return None


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with other Argon2 parameters than the configured ones."""
    return _hasher().check_needs_rehash(password_hash)


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths may be `next=`: no scheme, no host, no `//` or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def mark_personal_data() -> None:
    """This response shows someone's personal data to a visitor who may not be logged in.

    Pages of a logged-in user are kept out of caches anyway; a public page that shows a person's
    records (SADOKU tracking) calls this, and then gets `Cache-Control: no-store` (the app's
    after-request hook) and `hx-history="false"` (base.html), so neither a proxy, the browser
    cache nor htmx's history snapshot in localStorage keeps a copy on a shared computer.
    """
    g.personal_data = True
