"""The password policy: 12–128 characters, no spaces at either end, not a breached or common
password (nor one dressed up with a capital, trailing digits or leet-speak), never the demo
password."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services import auth
from services.auth import hash_password, password_problems, verify_password

SERVICES = Path(auth.__file__).parent


@pytest.mark.parametrize(("password", "problems"), [
    ("short", ["pw.too_short"]),
    ("password123456", ["pw.common"]),
    ("Bismillah123", ["pw.common"]),
    ("aaaaaaaaaaaaaaa", ["pw.common"]),
    ("x" * 129, ["pw.too_long", "pw.common"]),
    ("kerupuk-lorjuk-gurih", []),
    ("y" * 11 + "z", ["pw.common"]),
    ("tikar-pandan", []),
])
def test_policy(password, problems):
    assert password_problems(password) == problems


@pytest.mark.parametrize("password", [
    "Password1234!",  # accepted before: a listed password, a capital, digits and a symbol
    "Password2026",
    "P@ssw0rd2024!!",
    "Dragon12345678!",
    "Sunshine!!!!2026",
    "Qwertyuiop123",
    "Iloveyou.2024.",
    "Sumenep-2026!!",
    "123456789012",
])
def test_listed_passwords_dressed_up_are_refused(password):
    assert password_problems(password) == ["pw.common"]


@pytest.mark.parametrize("password", [" kerupuk-lorjuk-gurih", "kerupuk-lorjuk-gurih ",
                                      "\tkerupuk-lorjuk-gurih", "kerupuk-lorjuk-gurih\u00a0",
                                      "  kerupuk-lorjuk-gurih  "])
def test_passwords_with_spaces_at_either_end_are_refused(password):
    # The login form strips them, so such a password could never be typed back in.
    assert password_problems(password) == ["pw.outer_spaces"]
    assert password_problems("kerupuk lorjuk gurih") == []  # spaces inside are fine


@pytest.mark.parametrize("password", [auth.DEMO_PASSWORD, "Madura-Demo-2024", "madura-demo-2024!",
                                      "MADURA-DEMO-2024 ".strip()])
def test_the_demo_password_is_refused(password):
    assert password_problems(password) == ["pw.demo"]


def test_password_containing_the_username_is_refused():
    assert password_problems("siti-aminah-2024", username="siti") == ["pw.common"]
    assert password_problems("kerupuk-lorjuk-gurih", username="  ") == []


def test_the_breached_list_is_real_sized_and_ships_its_licence():
    words = auth.common_passwords()
    assert len(words) > 5000 and "password" in words and "dragon" in words
    notes = (SERVICES / "breached_passwords.md").read_text(encoding="utf-8")
    assert "MIT" in notes and "Dropbox" in notes and "Daniel Wolf" in notes
    assert isinstance(words, frozenset)


listed = sorted(w for w in auth.common_passwords() if w.isalpha() and len(w) >= 4)
tails = st.text(alphabet="0123456789!@#$%&*.-_ ", min_size=0, max_size=12)


@given(st.sampled_from(listed), tails, st.booleans())
def test_any_listed_word_with_a_capital_and_a_tail_is_refused(word, tail, capital):
    password = (word.capitalize() if capital else word) + tail
    problems = password_problems(password)
    if password != password.strip():
        assert "pw.outer_spaces" in problems
    elif len(password) >= 12:
        assert problems == ["pw.common"], password


def test_long_passwords_are_hashed_whole_not_cut_at_72_bytes():
    base = "a9" * 40  # 80 characters, beyond bcrypt's 72-byte window
    stored = hash_password(base + "X")
    assert verify_password(base + "X", stored)
    assert not verify_password(base + "Y", stored)


def test_malformed_hash_is_a_plain_no():
    assert verify_password("whatever-password", "not-a-hash") is False
