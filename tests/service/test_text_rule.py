"""One text rule for every way data comes in: the add form, the grid, an import and a search
refuse control and bidi characters with a message and drop invisible ones; nothing crashes and
nothing is written."""

import pytest
from sqlmodel import func, select

from models import Ikm
from models.enums import Role
from services import ikm as svc
from services.errors import ValidationFailed
from services.imports import commit, dry_run
from services.permissions import Actor

pytestmark = pytest.mark.db

STAFF = Actor("staf", Role.staff, "35.29")
GOOD = {"name": "Kerupuk Ikan Barokah", "owner_name": "Siti Aminah",
        "kabupaten_code": "Sumenep", "kecamatan_code": "Kalianget",
        "desa_code": "Kalianget Timur", "nib": "3529010203040"}
HOSTILE = [("Kopi\x00Madura", "v.control_chars"), ("Keripik\x1b[2J", "v.control_chars"),
           ("Batik\x7f", "v.control_chars"), ("Petis\u202eKORAM", "v.bidi_chars")]


def count(session) -> int:
    return session.exec(select(func.count()).select_from(Ikm)).one()


@pytest.mark.parametrize(("name", "key"), HOSTILE)
def test_the_form_refuses_control_and_bidi_characters_and_the_duplicate_check_survives(
        session, name, key):
    data = {**GOOD, "name": name}
    assert svc.find_duplicates(session, data=data) == []  # no crash before the save
    with pytest.raises(ValidationFailed) as err:
        svc.create_ikm(session, actor=STAFF, data=data)
    assert err.value.params["details"]["name"][0] == key
    assert count(session) == 0


@pytest.mark.parametrize(("name", "key"), HOSTILE)
def test_the_grid_refuses_them_cell_by_cell(session, name, key):
    row = svc.create_ikm(session, actor=STAFF, data=GOOD)
    session.commit()
    with pytest.raises(svc.CellErrors) as err:
        svc.update_many(session, actor=STAFF, edits=[
            {"row": 1, "id": row.id, "version": row.version, "changes": {"owner_name": name}}])
    assert [(c.column, c.key) for c in err.value.cells] == [("owner_name", key)]
    session.rollback()
    session.expire_all()
    assert session.get(Ikm, row.id).owner_name == "Siti Aminah"


def test_an_import_rejects_the_cell_and_keeps_the_file_otherwise_readable(session):
    data = ("NIB;Nama usaha;Kabupaten;Kecamatan\r\n"
            "3529090000001;Kopi\x1bMadura;Sumenep;Guluk-Guluk\r\n"
            "3529\u200b090000002;Petis\u200b Udang;Sumenep;Guluk-Guluk\r\n").encode("utf-8")
    report = dry_run(session, actor=STAFF, filename="kontrol.csv", data=data)
    assert [(e.row, e.key) for e in report.errors] == [(2, "v.control_chars")]
    assert report.new == 1
    commit(session, actor=STAFF, filename="kontrol.csv", data=data, allow_partial=True)
    stored = session.exec(select(Ikm)).one()
    assert (stored.nib, stored.name) == ("3529090000002", "Petis Udang")


def test_invisible_characters_and_placeholders_never_reach_the_database(session):
    row = svc.create_ikm(session, actor=STAFF, data={
        **GOOD, "name": "\ufeffKopi\u200b Andé", "address": "-", "owner_name": "\u2014",
        "phone": "+62 (0)812-3456-7000"})
    assert (row.name, row.address, row.owner_name, row.phone) == \
        ("Kopi Andé", None, None, "081234567000")


def test_a_search_with_control_characters_finds_instead_of_crashing(session):
    svc.create_ikm(session, actor=STAFF, data=GOOD)
    rows, total = svc.list_ikm(session, filters=svc.IkmFilter(search="Kerupuk\x00\u202e"))
    assert total == 1 and rows[0]["name"] == GOOD["name"]
