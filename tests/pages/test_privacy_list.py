"""Data IKM's list and its download carry no owner's phone, NIB or address for a viewer or an
assessor (issue 9); staff see them in the grid."""

import io
import zipfile

import pytest
from sqlmodel import Session, select

from db.engine import get_engine
from models import Ikm
from tests.pages.conftest import make_app
from tests.pages.detail_view import sent


def listed_owners(at) -> list[dict]:
    """Phone, NIB and address of every IKM the list page shows now (by the grid's names)."""
    grid = next(d for d in at.dataframe if d.proto.editing_mode)
    names = set(grid.value["name"])
    with Session(get_engine()) as s:
        rows = s.exec(select(Ikm.phone, Ikm.nib, Ikm.address).where(Ikm.name.in_(names))).all()
    return [{"phone": p, "nib": n, "address": a} for p, n, a in rows]


def open_list(username: str):
    at = make_app(username)
    at.session_state["ikm_tab_id"] = "list"
    at.run()
    at.switch_page("app_pages/data_ikm.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("username", ["tamu", "penilai"])
def test_the_list_and_its_download_carry_no_phone_nib_or_address(demo_db, username):
    at = open_list(username)
    owners = listed_owners(at)
    assert owners
    at.button(key="ikm_export_prepare").click().run()
    assert not at.exception, at.exception
    _, xlsx, csv_bytes = at.session_state["ikm_export"]
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        workbook = "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
    texts = {"page": sent(at._tree), "xlsx": workbook, "csv": csv_bytes.decode("utf-8-sig")}
    for o in owners:
        secrets = [o["phone"], o["phone"] and o["phone"][:-3], o["nib"],
                   o["nib"] and o["nib"][:-2], o["address"]]
        for where, text in texts.items():
            for secret in filter(None, secrets):
                assert secret not in text, f"{secret!r} in the {where}"
    grid = next(d for d in at.dataframe if d.proto.editing_mode).value
    assert all(p.startswith("••••••••") for p in grid["phone"] if p)


def test_staff_see_phones_and_nibs_in_the_grid(demo_db):
    at = open_list("staf")
    grid = next(d for d in at.dataframe if d.proto.editing_mode).value
    with Session(get_engine()) as s:
        stored = s.exec(select(Ikm.phone, Ikm.nib)).all()
    phones, nibs = {p for p, _ in stored if p}, {n for _, n in stored if n}
    shown_phones, shown_nibs = {p for p in grid["phone"] if p}, {n for n in grid["nib"] if n}
    assert shown_phones and shown_phones <= phones
    assert shown_nibs and shown_nibs <= nibs
