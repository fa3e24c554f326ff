"""The password policy: 12–128 characters, not a common password."""

import pytest

from services.auth import hash_password, password_problems, verify_password


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


def test_password_containing_the_username_is_refused():
    assert password_problems("siti-aminah-2024", username="siti") == ["pw.common"]


def test_long_passwords_are_hashed_whole_not_cut_at_72_bytes():
    base = "a9" * 40  # 80 characters, beyond bcrypt's 72-byte window
    stored = hash_password(base + "X")
    assert verify_password(base + "X", stored)
    assert not verify_password(base + "Y", stored)


def test_malformed_hash_is_a_plain_no():
    assert verify_password("whatever-password", "not-a-hash") is False
