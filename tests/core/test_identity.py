"""NIK, nomor KK and phone numbers (DOMAIN.md section 2): what is accepted, what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.core.identity import (
    MASK,
    is_valid_kk,
    is_valid_nik,
    kk_problem,
    mask_email,
    mask_number,
    mask_phone,
    nik_problem,
    normalize_phone,
)

# PP KK CC DDMMYY NNNN
MALE_LUBUK_PAKAM = "1207281508850001"  # 15-08-1985
FEMALE_LUBUK_PAKAM = "1207285508850002"  # day 15 + 40
JAKARTA_SELATAN = "3174011203900003"  # someone who moved here keeps the NIK issued in Jakarta


@pytest.mark.parametrize(
    "nik",
    [
        MALE_LUBUK_PAKAM,
        FEMALE_LUBUK_PAKAM,
        JAKARTA_SELATAN,
        "1207280101000001",  # 1 January (yy 00)
        "1207283112990001",  # 31 December
        "1207284101850001",  # woman born on the 1st: day 41
        "1207287112850001",  # woman born on the 31st: day 71
        "1207282902880001",  # 29 February of a leap year
        "1207286902880001",  # the same for a woman
        "1207283004859999",  # 30 April, last serial
    ],
)
def test_well_formed_nik_is_accepted(nik):
    assert nik_problem(nik) is None
    assert is_valid_nik(nik)


@pytest.mark.parametrize(
    ("nik", "problem"),
    [
        ("120728150885001", "length"),  # 15 digits
        ("12072815088500011", "length"),  # 17 digits
        ("12072815088500A1", "length"),  # a letter
        ("1207 2815 0885 0001", "length"),  # spaces are the form's job, not this function's
        ("", "length"),
        ("1207280008850001", "date"),  # day 00
        ("1207283208850001", "date"),  # day 32
        ("1207284008850001", "date"),  # day 40: neither a man's nor a woman's day
        ("1207287208850001", "date"),  # day 72: a woman's 32nd
        ("1207281500850001", "date"),  # month 00
        ("1207281513850001", "date"),  # month 13
        ("1207283104850001", "date"),  # 31 April
        ("1207287104850001", "date"),  # 31 April, woman
        ("1207283002850001", "date"),  # 30 February
        ("1207282902850001", "date"),  # 29 February of a common year
        ("1207281508850000", "serial"),  # serial 0000
    ],
)
def test_malformed_nik_is_refused_with_the_reason(nik, problem):
    assert nik_problem(nik) == problem
    assert not is_valid_nik(nik)


@pytest.mark.parametrize(
    "nik",
    [
        "\uff11\uff12\uff10\uff17\uff12\uff18\uff11\uff15\uff10\uff18\uff18\uff15\uff10\uff10\uff10\uff11",
        "\u0661\u0662\u0660\u0667\u0662\u0668\u0661\u0665\u0660\u0668\u0668\u0665\u0660\u0660\u0660\u0661",
        "1207281508850000\n",  # serial 0000 slips through behind the newline
    ],
    ids=["fullwidth-digits", "arabic-indic-digits", "trailing-newline"],
)
def test_nik_must_be_sixteen_ascii_digits(nik):
    assert nik_problem(nik) is not None


@pytest.mark.parametrize(
    "kk",
    ["1207281508850001", "3174010101200012", "1207282902880001"],
)
def test_well_formed_kk_is_accepted(kk):
    assert kk_problem(kk) is None
    assert is_valid_kk(kk)


@pytest.mark.parametrize(
    ("kk", "problem"),
    [
        ("120728150885001", "length"),
        ("12072815088500011", "length"),
        ("1207281508850O01", "length"),  # letter O for zero
        ("1207284508850001", "date"),  # day 45: the +40 rule is for women's NIK only
        ("1207280008850001", "date"),
        ("1207283208850001", "date"),
        ("1207281513850001", "date"),
        ("1207283104850001", "date"),
        ("1207281508850000", "serial"),
    ],
)
def test_malformed_kk_is_refused(kk, problem):
    assert kk_problem(kk) == problem
    assert not is_valid_kk(kk)


@pytest.mark.parametrize(
    "typed",
    [
        "0812-3456-7890",
        "+62 812 3456 7890",
        "6281234567890",
        "81234567890",
        "(0812) 3456 7890",
        "0812.3456.7890",
        " 0812 3456 7890 ",
    ],
)
def test_phone_is_normalised_to_e164(typed):
    assert normalize_phone(typed) == "+6281234567890"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0811 234 567", "+62811234567"),  # shortest: 628, one digit 1-9, then 7 digits
        ("0895-1234-5678-9", "+62895123456789"),  # longest: 628, one digit, then 10 digits
    ],
)
def test_phone_length_limits(typed, expected):
    assert normalize_phone(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "061 1234567",  # Medan landline
        "(061) 795 1234",
        "0800 1234 5678",  # 0800 toll-free, not a mobile
        "0812 345",  # too short
        "0812 3456 7890 12",  # too long
        "",
        "   ",
        "nomor saya",
        "+1 812 3456 7890",
    ],
)
def test_non_mobile_numbers_are_refused(typed):
    assert normalize_phone(typed) is None


def test_mask_number_keeps_region_and_serial_only():
    assert mask_number("1207123456780001") == "1207••••••••0001"
    assert mask_number(None) == ""
    assert mask_number("") == ""
    assert mask_number("12345678") == "••••••••"  # too short to show anything


def test_mask_phone_and_email():
    assert mask_phone("+6281234567890") == "0812•••••890"  # the local form people know
    assert mask_phone(None) == ""
    assert mask_email("warga@demo.test") == "w•••@demo.test"
    assert mask_email("a@b.id") == "a•••@b.id"
    assert mask_email(None) == ""


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_masked_nik_shows_only_first_and_last_four_digits(number):
    masked = mask_number(number)
    assert len(masked) == len(number)
    assert masked[:4] == number[:4]
    assert masked[-4:] == number[-4:]
    assert masked[4:-4] == MASK * 8
    assert sum(c.isdigit() for c in masked) == 8
