"""Field rules as staff type values: Indonesian numbers, NIB, phones, barcodes, dates."""

import contextlib
import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.validation import (
    BIDI_CONTROLS,
    Invalid,
    clean_text,
    gtin_valid,
    parse_date,
    parse_gtin,
    parse_int,
    parse_money,
    parse_nib,
    parse_number,
    parse_phone,
    plain,
    similar,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("Rp 1.500.000", Decimal(1500000)), ("Rp1.500.000,-", Decimal(1500000)),
    ("1.500.000,50", Decimal("1500000.50")), ("1,500,000.50", Decimal("1500000.50")),
    ("2,5", Decimal("2.5")), ("1.500", Decimal(1500)), ("0.5", Decimal("0.5")),
    ("IDR 250.000", Decimal(250000)), (" 42 ", Decimal(42)), (1500000.0, Decimal("1500000.0")),
    (7, Decimal(7)),
])
def test_numbers_the_indonesian_and_english_way(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3,4,5x", "Rp", "--5", "1e5", "true"])
def test_not_numbers_are_refused(text):
    with pytest.raises(Invalid) as err:
        parse_number(text)
    assert err.value.key == "v.not_number"


def test_money_is_whole_non_negative_rupiah():
    assert parse_money("Rp 1.500.000,49") == 1500000
    with pytest.raises(Invalid) as err:
        parse_money("-5")
    assert err.value.key == "v.negative"
    assert parse_money("  ") is None


def test_int_bounds():
    assert parse_int("12") == 12
    with pytest.raises(Invalid) as err:
        parse_int("2,5")
    assert err.value.key == "v.not_whole"
    with pytest.raises(Invalid) as err:
        parse_int("-1", minimum=0)
    assert (err.value.key, err.value.params) == ("v.too_small", {"min": 0})


@pytest.mark.parametrize(("value", "expected"), [
    ("3529010203040", "3529010203040"), ("3529 0102 0304 0", "3529010203040"),
    (3529010203040.0, "3529010203040"), ("3529.0102.0304.0", "3529010203040"),
])
def test_nib_accepts_13_digits_however_typed(value, expected):
    assert parse_nib(value) == expected


@pytest.mark.parametrize("value", ["123", "35290102030401", "352901020304X"])
def test_nib_refuses_anything_else(value):
    with pytest.raises(Invalid) as err:
        parse_nib(value)
    assert err.value.key == "v.nib"


@pytest.mark.parametrize(("value", "expected"), [
    ("+62 812-3456-789", "08123456789"), ("62812345678", "0812345678"),
    ("0812 3456 7890", "081234567890"), (81234567890.0, "081234567890"),
    ("(0328) 662-123", "0328662123"),
    # the trunk zero written after the country code, and the international prefix
    ("+62 (0)812-3456-7000", "081234567000"), ("+62 0812 3456 7000", "081234567000"),
    ("0062 812 3456 7000", "081234567000"), ("62 (0)328 662 123", "0328662123"),
])
def test_phone_is_normalised(value, expected):
    assert parse_phone(value) == expected


@pytest.mark.parametrize("value", ["12345", "08-abc", "+1 555 0100 999 999 9"])
def test_bad_phones_are_refused(value):
    with pytest.raises(Invalid):
        parse_phone(value)


def test_gtin_check_digit():
    assert gtin_valid("8991234567893") is False
    assert parse_gtin("4006381333931") == "4006381333931"  # a real EAN-13
    with pytest.raises(Invalid) as err:
        parse_gtin("4006381333932")
    assert err.value.key == "v.gtin"


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-05", date(2024, 3, 5)), ("05-03-2024", date(2024, 3, 5)),
    ("5/3/2024", date(2024, 3, 5)), ("05.03.2024", date(2024, 3, 5)),
    (date(2024, 3, 5), date(2024, 3, 5)),
])
def test_dates(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["31-02-2024", "kemarin", "3024-01-01"])
def test_bad_dates(value):
    with pytest.raises(Invalid) as err:
        parse_date(value)
    assert err.value.key == "v.bad_date"


def test_similar_names_ignore_legal_form_and_case():
    assert similar("UD Kerupuk Ikan Barokah", "kerupuk ikan barokah") > 0.95
    assert similar("Batik Tulis Pamekasan", "Petis Udang Sumenep") < 0.6


@given(st.one_of(st.text(max_size=60), st.integers(), st.floats(allow_nan=True), st.none()))
def test_parsers_raise_only_invalid(value):
    for parse in (parse_number, parse_money, parse_nib, parse_phone, parse_gtin, parse_date):
        with contextlib.suppress(Invalid):
            parse(value)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), "inf", "NaN"])
def test_infinite_and_nan_are_not_numbers(value):
    with pytest.raises(Invalid):
        parse_int(value)


def test_money_rounds_half_up_and_asks_about_a_lone_thousands_comma():
    assert parse_money("1.500.001,50") == 1500002
    assert parse_money(14000.5) == 14001
    for text in ("Rp 1,500", "$1,250", "1,250", "USD 12,500"):
        with pytest.raises(Invalid) as err:
            parse_money(text)
        assert err.value.key == "v.ambiguous_number", text


@pytest.mark.parametrize("text", ["1,250", "$1,250", "US$ 1,250", "-1,250"])
def test_a_lone_comma_before_three_digits_is_asked_about_in_every_number_rule(text):
    for parse in (parse_number, parse_money, parse_int):
        with pytest.raises(Invalid) as err:
            parse(text)
        assert err.value.key == "v.ambiguous_number"
        assert err.value.params["thousands"].lstrip("-") == "1.250"


# --- the one text rule (services.validation.plain / clean_text) -------------------------------


@pytest.mark.parametrize("text", ["Kopi\x00Madura", "Kopi\x01", "\x1b[31mMerah", "Batik\x7f",
                                  "Jamu\x9b", "Garam\ud800", "A\x1cB"])
def test_control_characters_are_refused_with_their_message(text):
    with pytest.raises(Invalid) as err:
        clean_text(text)
    assert err.value.key == "v.control_chars"


@pytest.mark.parametrize("text", ["Batik\u202eKORAM", "\u2066Petis\u2069", "a\u202db"])
def test_bidi_overrides_are_refused(text):
    with pytest.raises(Invalid) as err:
        clean_text(text)
    assert err.value.key == "v.bidi_chars"


@pytest.mark.parametrize(("text", "expected"), [
    ("Kopi\u200b Madura", "Kopi Madura"),  # zero-width space
    ("\ufeffKeripik", "Keripik"),  # byte order mark
    ("Se\u00adnora", "Senora"),  # soft hyphen
    ("Petis\u00a0Udang", "Petis Udang"),  # no-break space
    ("Garam\u200e", "Garam"),  # left-to-right mark
    ("Baris\nkedua\tketiga", "Baris kedua ketiga"),
    ("  Dua   spasi  ", "Dua spasi"),
    ("Cafe\u0301", "Café"),  # one form of the same letter (NFC)
])
def test_invisible_characters_go_and_spaces_are_tidied(text, expected):
    assert clean_text(text) == expected


@pytest.mark.parametrize("text", ["-", " - ", "\u2013", "\u2014", "--", "\u200b-"])
def test_a_lone_dash_means_empty(text):
    assert clean_text(text) is None
    assert parse_number(text) is None and parse_date(text) is None


def test_codes_lose_invisible_characters_too():
    assert parse_nib("3529\u200b010203040") == "3529010203040"
    assert parse_phone("\ufeff0812\u200b3456 789") == "08123456789"


def test_a_search_drops_what_a_field_would_refuse():
    assert plain("bat\x00ik\u202e", refuse=False) == "batik"


@given(st.text())
def test_plain_text_never_keeps_a_control_an_invisible_or_a_bidi_character(text):
    try:
        result = plain(text)
    except Invalid as exc:
        assert exc.key in ("v.control_chars", "v.bidi_chars")
        result = plain(text, refuse=False)
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") or ch in BIDI_CONTROLS
                   for ch in result)
    assert result == result.strip()
