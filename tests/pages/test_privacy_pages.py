"""The IKM detail view shows owners' phone, NIB and address only to those who need them
(issue 9): a viewer or an assessor gets none of them sent to the browser (not the identity
line, the NIB certificate's number, nor the history of a changed phone and address), and is
told they are hidden; admins, heads and staff see them."""

import pytest
from sqlmodel import Session, select

from db.engine import get_engine
from models import Certification, Ikm
from models.enums import Role
from services.ikm import update_ikm
from services.permissions import Actor
from tests.pages.conftest import shown
from tests.pages.detail_view import detail_tab, detail_tables, open_detail, sent
from ui.catalogue import CATALOGUE

SUMENEP = "35.29"
NEW_PHONE, NEW_ADDRESS = "0819-7766-5544", "Jl. Pahlawan Baru No. 41, Sumenep"


def changed_owner(listed: list[int]) -> dict:
    """A listed Sumenep IKM with a phone, an address and an NIB certificate, whose phone and
    address an admin has just changed (so its history holds old and new values); returns the
    IKM's id and every value that is personal."""
    with Session(get_engine()) as s:
        nib_certs = set(s.exec(select(Certification.ikm_id)
                               .where(Certification.cert_type_code == "NIB")).all())
        rows = s.exec(select(Ikm).where(Ikm.id.in_(listed), Ikm.kabupaten_code == SUMENEP,
                                        Ikm.phone.is_not(None), Ikm.nib.is_not(None),
                                        Ikm.address.is_not(None))).all()
        ikm = next(r for r in rows if r.id in nib_certs)
        old = {"phone": ikm.phone, "nib": ikm.nib, "address": ikm.address}
        update_ikm(s, actor=Actor("admin", Role.admin), ikm_id=ikm.id,
                   expected_version=ikm.version,
                   changes={"phone": NEW_PHONE, "address": NEW_ADDRESS})
        s.commit()
        s.refresh(ikm)
        return {"id": ikm.id, "old": old, "phone": ikm.phone, "nib": ikm.nib,
                "address": ikm.address}


def open_changed(username: str) -> tuple:
    chosen: dict = {}

    def choose(listed: list[int]) -> int:
        chosen.update(changed_owner(listed))
        return chosen["id"]

    at, _ = open_detail(username, choose)
    return at, chosen


def secrets_of(owner: dict) -> list[str]:
    """The full values and all but the last digits a masked reader must never be sent."""
    pieces = []
    for phone in (owner["old"]["phone"], owner["phone"]):
        pieces += [phone, phone[:-3]]
    pieces += [owner["nib"], owner["nib"][:-2], owner["old"]["address"], owner["address"]]
    return pieces


def identity_line(at) -> str:
    nib_label = CATALOGUE["id"]["ikm.col.nib"]
    return next(shown(m.value) for m in detail_tab(at).markdown
                if m.value.startswith(f"**{nib_label}**"))


@pytest.mark.parametrize("username", ["tamu", "penilai"])
def test_a_viewer_or_assessor_is_sent_no_phone_nib_or_address(demo_db, username):
    at, owner = open_changed(username)
    assert not at.exception
    everything = sent(detail_tab(at))
    for secret in secrets_of(owner):
        assert secret not in everything, f"{secret!r} was sent to {username}"
    line = identity_line(at)
    assert f"••••••••{owner['phone'][-3:]}" in line and f"•••••••••••{owner['nib'][-2:]}" in line
    assert CATALOGUE["id"]["det.personal_hidden"] in [c.value for c in detail_tab(at).caption]
    certificates = detail_tables(at)[CATALOGUE["id"]["det.cert"]].value
    nib_row = certificates[certificates[CATALOGUE["id"]["det.cert"]] == "Nomor Induk Berusaha"]
    assert list(nib_row[CATALOGUE["id"]["det.number"]]) == [f"•••••••••••{owner['nib'][-2:]}"]
    history = detail_tables(at)[CATALOGUE["id"]["det.when"]].value
    changes = " ".join(history[CATALOGUE["id"]["det.changes"]].dropna())
    assert "phone: ••••••••" in changes and "address: ••• → •••" in changes


@pytest.mark.parametrize("username", ["admin", "kepala", "staf"])
def test_admins_heads_and_staff_see_phone_nib_and_address(demo_db, username):
    at, owner = open_changed(username)
    assert not at.exception
    line = identity_line(at)
    assert owner["phone"] in line and owner["nib"] in line
    assert CATALOGUE["id"]["det.personal_hidden"] not in [c.value for c in at.caption]
    certificates = detail_tables(at)[CATALOGUE["id"]["det.cert"]].value
    assert owner["nib"] in list(certificates[CATALOGUE["id"]["det.number"]])
    history = detail_tables(at)[CATALOGUE["id"]["det.when"]].value
    changes = " ".join(history[CATALOGUE["id"]["det.changes"]].dropna())
    assert f"{owner['old']['phone']} → {owner['phone']}" in changes
    assert f"{owner['old']['address']} → {owner['address']}" in changes
