"""Password rules, Argon2id hashing and the `next=` redirect check."""

from __future__ import annotations

import pytest

from portal.core.security import (
    common_passwords,
    hash_password,
    is_safe_next,
    needs_rehash,
    password_problem,
    verify_password,
)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("kopi-su", "short"),  # 7 characters
        ("kopi-sus", None),  # 8
        ("k" * 63 + "-" + "s" * 64, None),  # 128
        ("k" * 64 + "-" + "s" * 64, "long"),  # 129
        ("", "short"),
        ("password", "common"),
        ("12345678", "common"),
        ("PassWord1", "common"),  # the list is compared lower-cased
        ("PASSWORD", "common"),
        ("bismillah", "common"),  # from the Indonesian additions
        ("Bismillah123", "common"),
        ("sayangku", "common"),
        ("deliserdang2026", "common"),  # a listed local word with a year or symbols added
        ("Sadoku!!", "common"),
        ("disdukcapil 123", "common"),
        ("sate padang pedas", None),  # spaces and no digits are fine: no composition rules
        ("pasar-lubuk-pakam-7", None),
    ],
)
def test_password_problem(password, problem):
    assert password_problem(password) == problem


def test_length_counts_characters_not_bytes():
    # Eight Indonesian/emoji characters are eight characters, even if they take more bytes.
    assert password_problem("kué🍵kué🍵") is None
    assert password_problem("é" * 7) == "short"


def test_common_password_list_is_large_and_lower_case():
    words = common_passwords()
    assert len(words) >= 1000
    assert {"password", "123456", "qwerty", "bismillah"} <= words
    assert all(w == w.lower() for w in words)


def test_hash_is_argon2id_and_verifies(ctx):
    hashed = hash_password("kopi-susu-pagi-hari")
    assert hashed.startswith("$argon2id$")
    assert "kopi-susu" not in hashed
    assert verify_password(hashed, "kopi-susu-pagi-hari")
    assert not verify_password(hashed, "kopi-susu-pagi-hari ")
    assert not verify_password(hashed, "Kopi-susu-pagi-hari")
    # A fresh salt every time: equal passwords do not give equal hashes.
    assert hash_password("kopi-susu-pagi-hari") != hashed


@pytest.mark.parametrize(
    "stored",
    ["", "not-a-hash", "$argon2id$v=19$m=8192,t=1,p=4$garbage", "pbkdf2_sha256$1$x$y"],
)
def test_a_broken_stored_hash_does_not_log_anyone_in(ctx, stored):
    assert verify_password(stored, "kopi-susu-pagi-hari") is False


def test_needs_rehash_when_the_cost_is_raised(ctx, monkeypatch):
    hashed = hash_password("kopi-susu-pagi-hari")
    assert not needs_rehash(hashed)
    monkeypatch.setitem(ctx.config, "ARGON2_TIME_COST", ctx.config["ARGON2_TIME_COST"] + 1)
    assert needs_rehash(hashed)
    # The old hash still verifies, so the user can log in and be rehashed then.
    assert verify_password(hashed, "kopi-susu-pagi-hari")
    assert not needs_rehash(hash_password("kopi-susu-pagi-hari"))


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/accounts/profile",
        "/x?y=1",
        "/wilayah/desa?kecamatan=12.07.28#list",
        "/%0d%0aSet-Cookie",  # percent-encoded: stays encoded in the Location header
        "/search?q=http://example.test/",
    ],
)
def test_same_site_paths_are_safe(target):
    assert is_safe_next(target)


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "http://evil.test/",
        "https://evil.test/accounts/profile",
        "//evil.test",
        "//evil.test/accounts/profile",
        "/\\evil.test",
        "\\\\evil",
        "\\/evil.test",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "https:/evil",
        "https:evil.test",
        "evil.test",
        "accounts/profile",
        "/\r\nSet-Cookie: a=b",
        "/\tevil",
        "/\x00",
        " //evil.test",
    ],
)
def test_foreign_or_tricky_targets_are_refused(target):
    assert not is_safe_next(target)
