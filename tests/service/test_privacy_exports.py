"""Owners' phone numbers, NIBs and addresses reach only those who need them (issue 9): a
viewer's or an assessor's export and detail view carry none of them (derived from the data the
test made), admins, heads and staff get them in full, and a masked export uploaded again by
someone who may write overwrites nothing."""

import contextlib
import io
import zipfile

import pytest
from sqlalchemy import select

from models import Ikm
from models.enums import Role
from services import exporter, records
from services import imports as importer
from services.ikm import create_ikm, update_ikm
from services.imports import ImportRefused
from services.permissions import Actor

pytestmark = pytest.mark.db

ADMIN = Actor("admin", Role.admin)
MASKED = [Actor("tamu", Role.viewer), Actor("penilai", Role.assessor)]
FULL = [ADMIN, Actor("kepala", Role.head), Actor("staf", Role.staff, "35.29")]
STAFF = FULL[2]
OWNERS = [  # name, phone as typed, NIB, address
    ("Keripik Bu Ani", "0817-2233-4401", "3529017700001", "Jl. Sumber Rejeki 17"),
    ("Batik Pak Harun", "+62 857 4412 9902", "3529017700002", "Dusun Lembung Timur RT 3"),
    ("Petis Bu Lilik", "0331 558 903", "3529017700003", "Jl. Trunojoyo 88 Sumenep"),
]


def ids(actor: Actor) -> str:
    return actor.username


@pytest.fixture
def owners(session):
    """Three Sumenep IKM with a phone, an NIB and an address, one with an NIB certificate, a
    product and a changed phone; one more with an address only. Returns the stored values."""
    made = []
    for name, phone, nib, address in OWNERS:
        made.append(create_ikm(session, actor=ADMIN, data={
            "name": name, "phone": phone, "nib": nib, "address": address,
            "kabupaten_code": "Sumenep", "kecamatan_code": "Guluk-Guluk"}))
    create_ikm(session, actor=ADMIN, data={
        "name": "Gula Aren Pak Mat", "address": "Jl. Asta Tinggi 5",
        "kabupaten_code": "Sumenep", "kecamatan_code": "Guluk-Guluk"})
    first = made[0]
    records.create_product(session, actor=ADMIN, ikm_id=first.id, data={
        "name": "Keripik Singkong", "category_code": "keripik"})
    records.create_certification(session, actor=ADMIN, ikm_id=first.id, data={
        "cert_type_code": "NIB", "status": "terbit", "issued_on": "2024-03-01",
        "number": first.nib})
    update_ikm(session, actor=ADMIN, ikm_id=first.id, expected_version=first.version,
               changes={"phone": "0817-2233-4477"})
    session.commit()
    stored = session.execute(select(Ikm.id, Ikm.phone, Ikm.nib, Ikm.address)
                             .order_by(Ikm.id)).all()
    return [dict(r._mapping) for r in stored]


def secrets_of(owners: list[dict], phones: tuple[str, ...] = ()) -> list[str]:
    """Every piece of personal data the test made that a masked reader must never get: whole
    phone numbers (old ones too) and all but their last 3 digits, whole NIBs and all but their
    last 2 digits, whole addresses."""
    pieces = []
    for phone in [o["phone"] for o in owners if o["phone"]] + list(phones):
        digits = "".join(c for c in phone if c.isdigit())
        pieces += [digits, digits[:-3]]
    for nib in (o["nib"] for o in owners if o["nib"]):
        pieces += [nib, nib[:-2]]
    pieces += [o["address"] for o in owners if o["address"]]
    return pieces


def xlsx_text(data: bytes) -> str:
    """Everything a workbook holds, as text (its XML parts unzipped)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist())


def csv_text(data: bytes) -> str:
    return data.decode("utf-8-sig")


@pytest.mark.parametrize("actor", MASKED, ids=ids)
def test_a_viewer_or_assessor_downloads_no_phone_nib_or_address(session, owners, actor):
    frame = exporter.export_ikm(session, actor=actor)
    files = {"xlsx": xlsx_text(exporter.to_xlsx(frame, sheet="IKM")),
             "csv": csv_text(exporter.to_csv(frame))}
    for kind, text in files.items():
        for secret in secrets_of(owners, phones=("081722334401",)):
            assert secret not in text, f"{secret!r} is in the {kind}"
        # what the reader sees instead: the last digits, so a call can be matched up
        for o in owners:
            if o["phone"]:
                assert "••••••••" + o["phone"][-3:] in text, kind
            if o["nib"]:
                assert "•••••••••••" + o["nib"][-2:] in text, kind
    assert len(frame) == len(owners)


@pytest.mark.parametrize("actor", MASKED, ids=ids)
def test_every_sheet_of_the_workbook_is_masked_too(session, owners, actor):
    text = xlsx_text(exporter.export_workbook(session, actor=actor))
    for secret in secrets_of(owners, phones=("081722334401",)):
        assert secret not in text  # the NIB IKM link columns and the NIB certificate too
    assert "Keripik Singkong" in text  # the product sheet is there


@pytest.mark.parametrize("actor", FULL, ids=ids)
def test_admins_heads_and_staff_download_the_full_values(session, owners, actor):
    frame = exporter.export_ikm(session, actor=actor)
    for text in (xlsx_text(exporter.to_xlsx(frame, sheet="IKM")),
                 csv_text(exporter.to_csv(frame))):
        for o in owners:
            for value in (o["phone"], o["nib"], o["address"]):
                assert value is None or value in text
    workbook = xlsx_text(exporter.export_workbook(session, actor=actor))
    assert all(o["nib"] in workbook for o in owners if o["nib"])


@pytest.mark.parametrize("actor", MASKED, ids=ids)
def test_the_detail_view_data_is_masked_for_a_viewer_or_assessor(session, owners, actor):
    first = owners[0]
    detail = records.ikm_detail(session, ikm_id=first["id"], actor=actor)
    text = repr(detail)
    for secret in secrets_of(owners, phones=("081722334401",)):
        assert secret not in text
    info = detail["ikm"]
    assert (info["phone"], info["nib"], info["address"]) == \
        ("••••••••" + first["phone"][-3:], "•••••••••••" + first["nib"][-2:], "•••")
    nib_cert = next(c for c in detail["certifications"] if c["cert_type_code"] == "NIB")
    assert nib_cert["number"] == "•••••••••••" + first["nib"][-2:]
    phone_change = next(c for h in detail["history"] for c in h["changes"]
                        if c["field"] == "phone" and c["before"])
    assert (phone_change["before"], phone_change["after"]) == ("••••••••401", "••••••••477")


@pytest.mark.parametrize("actor", FULL, ids=ids)
def test_the_detail_view_data_is_full_for_admins_heads_and_staff(session, owners, actor):
    first = owners[0]
    detail = records.ikm_detail(session, ikm_id=first["id"], actor=actor)
    info = detail["ikm"]
    assert (info["phone"], info["nib"], info["address"]) == \
        (first["phone"], first["nib"], first["address"])
    assert detail == records.ikm_detail(session, ikm_id=first["id"])


def test_a_viewers_export_uploaded_by_staff_overwrites_nothing(session, owners):
    data = exporter.to_csv(exporter.export_ikm(session, actor=MASKED[0]))
    report = importer.dry_run(session, actor=STAFF, filename="dari-tamu.csv", data=data)
    with_personal = sum(1 for o in owners if o["phone"] or o["nib"])
    assert report.rejected == with_personal  # a masked phone or NIB is no phone or NIB
    assert report.updated == 0
    with contextlib.suppress(ImportRefused):  # refused, or the valid rows change nothing
        importer.commit(session, actor=STAFF, filename="dari-tamu.csv", data=data,
                        allow_partial=True)
    session.commit()
    session.expire_all()
    again = session.execute(select(Ikm.id, Ikm.phone, Ikm.nib, Ikm.address)
                            .order_by(Ikm.id)).all()
    assert [dict(r._mapping) for r in again] == owners


def test_a_reader_without_a_need_to_know_finds_an_nib_only_in_full(session, admin_actor):
    """Issue 9: a masked NIB could be recovered digit by digit through the list's search."""
    from services.ikm import IkmFilter, create_ikm, list_ikm

    made = create_ikm(session, actor=admin_actor, data={
        "name": "Kerupuk Rahasia", "nib": "3529111122223", "kabupaten_code": "35.29",
        "kecamatan_code": "35.29.01"})
    session.flush()

    def found(search: str, whole: bool) -> list[int]:
        return [r["id"] for r in list_ikm(session, filters=IkmFilter(
            search=search, nib_whole_only=whole))[0]]

    assert found("352911", whole=False) == [made.id]  # staff: any part of an NIB
    assert found("352911", whole=True) == []  # a viewer: a part reveals nothing
    assert found("3529111122223", whole=True) == [made.id]  # the whole NIB, as on paper
    assert found("Rahasia", whole=True) == [made.id]  # names are searched as before
