"""Owners' phone numbers, NIBs and addresses are need-to-know (services/privacy.py): who may
read them, and what everyone else sees instead."""

import pandas as pd
import pytest

from models.enums import Role
from services import privacy
from services.permissions import ACTIONS, Actor

SEE = [Actor("admin", Role.admin), Actor("kepala", Role.head), Actor("staf", Role.staff, "35.29")]
MASKED = [Actor("penilai", Role.assessor), Actor("tamu", Role.viewer), None]
ROW = {"id": 7, "name": "Keripik Bu Ani", "owner_name": "Ani", "phone": "081234567890",
       "nib": "3529010000012", "address": "Jl. Raya Guluk-Guluk 12", "employees": 4}


def test_admin_head_and_staff_read_personal_data_assessors_and_viewers_do_not():
    assert ACTIONS["personal.read"] == {Role.admin, Role.head, Role.staff}
    assert [privacy.sees_personal(a) for a in SEE + MASKED] == [True] * 3 + [False] * 3


def test_everyone_who_may_edit_an_ikm_sees_its_personal_data():
    # An edit form is prefilled with what the reader sees: a masked phone saved back would
    # overwrite the real one. So every writer must be a reader of personal data.
    assert ACTIONS["programme.write"] <= ACTIONS["personal.read"]


@pytest.mark.parametrize("actor", MASKED, ids=lambda a: getattr(a, "username", "nobody"))
def test_a_row_shows_the_last_digits_only_and_no_address(actor):
    shown = privacy.mask_rows([ROW], actor)[0]
    assert shown["phone"] == "••••••••890"
    assert shown["nib"] == "•••••••••••12"
    assert shown["address"] == "•••"
    assert {k: shown[k] for k in ("id", "name", "owner_name", "employees")} == \
        {"id": 7, "name": "Keripik Bu Ani", "owner_name": "Ani", "employees": 4}
    assert ROW["phone"] == "081234567890"  # the caller's rows (a cache's) are left alone


@pytest.mark.parametrize("actor", SEE, ids=lambda a: a.username)
def test_readers_of_personal_data_get_the_full_row(actor):
    assert privacy.mask_rows([ROW], actor) == [ROW]


@pytest.mark.parametrize("value", [None, ""])
def test_nothing_recorded_stays_nothing(value):
    shown = privacy.mask_row({"phone": value, "nib": value, "address": value}, None)
    assert shown == {"phone": value, "nib": value, "address": value}


def test_short_values_show_no_digit_and_no_length():
    assert privacy.mask_phone("12345") == "•" * 11
    assert privacy.mask_phone("+62 812-3456-7890") == privacy.mask_phone("081234567890")
    assert len(privacy.mask_phone("0812345678")) == len(privacy.mask_phone("08123456789012"))
    assert privacy.mask_nib("1234") == "•" * 13


def test_a_frame_is_masked_by_its_headers_and_its_address_emptied():
    frame = pd.DataFrame({"Telepon (Phone)": ["081234567890", None],
                          "NIB (Business ID)": ["3529010000012", ""],
                          "Alamat (Address)": ["Jl. Raya 12", None],
                          "Nama usaha (Business name)": ["Keripik", "Batik"]}, dtype=object)
    fields = {"Telepon (Phone)": "phone", "NIB (Business ID)": "nib",
              "Alamat (Address)": "address", "Nama usaha (Business name)": "name"}
    out = privacy.mask_frame(frame, Actor("tamu", Role.viewer), fields)
    assert list(out["Telepon (Phone)"]) == ["••••••••890", None]
    assert list(out["NIB (Business ID)"]) == ["•••••••••••12", ""]
    assert list(out["Alamat (Address)"]) == [None, None]
    assert list(out["Nama usaha (Business name)"]) == ["Keripik", "Batik"]
    assert frame.iloc[0, 0] == "081234567890"  # a copy
    assert privacy.mask_frame(frame, Actor("kepala", Role.head), fields) is frame


def test_history_hides_changed_personal_values_and_nib_certificate_numbers():
    entries = [
        {"table": "ikm", "row_id": "7", "before": {"phone": "081234567890"},
         "after": {"phone": "081298765432"},
         "changes": [{"field": "phone", "before": "081234567890", "after": "081298765432"},
                     {"field": "employees", "before": 3, "after": 4}]},
        # an update of an NIB certificate records only the changed number
        {"table": "certification", "row_id": "5", "before": {"number": "3529010000012"},
         "after": {"number": "3529010000099"},
         "changes": [{"field": "number", "before": "3529010000012",
                      "after": "3529010000099"}]},
        {"table": "certification", "row_id": "5", "before": None,
         "after": {"cert_type_code": "NIB", "number": "3529010000012"},
         "changes": [{"field": "number", "before": None, "after": "3529010000012"}]},
        {"table": "certification", "row_id": "6", "before": {"number": "HALAL-1"},
         "after": {"number": "HALAL-2"},
         "changes": [{"field": "number", "before": "HALAL-1", "after": "HALAL-2"}]},
    ]
    shown = privacy.mask_history(entries, Actor("penilai", Role.assessor))
    text = repr(shown)
    for secret in ("1234567", "9876543", "352901000"):
        assert secret not in text
    assert shown[0]["changes"] == [
        {"field": "phone", "before": "••••••••890", "after": "••••••••432"},
        {"field": "employees", "before": 3, "after": 4}]
    assert shown[1]["changes"][0]["after"] == "•••••••••••99"
    assert shown[3]["changes"][0]["after"] == "HALAL-2"  # other certificates' numbers stay
    assert privacy.mask_history(entries, Actor("staf", Role.staff)) == entries
