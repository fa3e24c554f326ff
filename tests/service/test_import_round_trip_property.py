"""Property: an export of any programme, uploaded again, changes nothing and creates nothing
(IKM without an NIB included); records someone changed between the export and the upload (in a
field the file would put back) are exactly the rows refused as changed since the export, and
only the rows the user edited in the file are updates."""

import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from models import AuditLog, Ikm
from models.enums import Role
from services import exporter
from services import ikm as ikm_svc
from services.imports import dry_run
from services.permissions import Actor

pytestmark = pytest.mark.db

ADMIN = Actor("admin", Role.admin)
COLLEAGUE = Actor("rina", Role.staff)
KECAMATAN = {"Sumenep": "Guluk-Guluk", "Bangkalan": "Socah", "Pamekasan": "Proppo",
             "Sampang": "Camplong"}
WORDS = st.sampled_from(["Keripik", "Petis", "Batik", "Garam", "Jamu", "Rengginang", "Kopi",
                         "Sandal", "Pecut", "Dodol", "Andé", "Señora", "Bu", "Pak", "Madura"])
IKM = st.fixed_dictionaries({
    "name": st.lists(WORDS, min_size=1, max_size=3).map(" ".join),
    "kabupaten_code": st.sampled_from(sorted(KECAMATAN)),
    "has_nib": st.booleans(),
    "owner_name": st.none() | st.lists(WORDS, min_size=1, max_size=2).map(" ".join),
    "phone": st.none() | st.integers(10**8, 10**11 - 1).map(lambda n: f"08{n}"),
    "employees": st.none() | st.integers(0, 500),
    "address": st.none() | st.sampled_from(["Jl. Raya 1", "-", "Dusun Timur, RT 2/RW 3",
                                             "=2+5", "Toko A,=2+5"]),
})


def programme(session, ikm: list[dict]) -> list[Ikm]:
    made = []
    for i, spec in enumerate(ikm):
        data = {k: v for k, v in spec.items() if k != "has_nib"}
        data["kecamatan_code"] = KECAMATAN[spec["kabupaten_code"]]
        if spec["has_nib"]:
            data["nib"] = f"35290900{i:05d}"
        if data["employees"] is not None:
            data["employees"] = str(data["employees"])
        made.append(ikm_svc.create_ikm(session, actor=ADMIN, data=data))
    session.flush()
    return made


def edited(workbook: bytes, rows: dict[int, str]) -> bytes:
    """The export with the owner's name of some IKM (by ID) typed over, as a user would."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    ws = wb["IKM"]
    head = [c.value for c in ws[1]]
    id_col, owner_col = head.index("ID") + 1, head.index("Nama pemilik (Owner)") + 1
    for r in range(2, ws.max_row + 1):
        record = ws.cell(r, id_col).value
        if record in rows:
            ws.cell(r, owner_col).value = rows[record]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(ikm=st.lists(IKM, min_size=1, max_size=8), data=st.data())
def test_an_export_comes_back_unchanged_and_only_concurrent_changes_are_refused(
        session, ikm, data):
    nested = session.begin_nested()
    try:
        made = programme(session, ikm)
        ids = [r.id for r in made]
        workbook = exporter.export_workbook(session)
        count = session.exec(select(func.count()).select_from(Ikm)).one()
        audit_rows = session.exec(select(func.count()).select_from(AuditLog)).one()

        # 1. uploaded again as it is (workbook and CSV): nothing new, nothing changed
        for name, upload in (("semua.xlsx", workbook),
                             ("ikm.csv", exporter.to_csv(exporter.export_ikm(session)))):
            report = dry_run(session, actor=ADMIN, filename=name, data=upload)
            assert (report.errors, report.new, report.updated, report.changes) == \
                ([], 0, 0, []), name
            assert report.unchanged >= len(ids) and report.warnings == []

        # 2. a colleague changes some records, the user edits some rows of the old export
        changed = data.draw(st.sets(st.sampled_from(ids)), label="changed by a colleague")
        typed = data.draw(st.sets(st.sampled_from(ids)), label="edited in the file")
        for record_id in changed:  # a field the old file holds, so uploading it would revert
            row = session.get(Ikm, record_id)
            ikm_svc.update_ikm(session, actor=COLLEAGUE, ikm_id=record_id,
                               expected_version=row.version,
                               changes={"name": row.name + " Jaya"})
        session.flush()
        report = dry_run(session, actor=ADMIN, filename="lama.xlsx",
                         data=edited(workbook, {i: "Pemilik Baru" for i in typed}))
        refused = {e.row for e in report.errors if e.key == "imp.changed_since_export"}
        by_id = {i: r for r, i in enumerate(ids, start=2)}  # export rows follow the ids
        assert refused == {by_id[i] for i in changed}
        assert {e.key for e in report.errors} <= {"imp.changed_since_export"}
        assert {c.row for c in report.conflicts} == refused
        assert report.sheet("ikm").updated == len(typed - changed)
        assert report.new == 0
        # a dry run writes nothing
        assert session.exec(select(func.count()).select_from(Ikm)).one() == count
        assert session.exec(select(func.count()).select_from(AuditLog)).one() == \
            audit_rows + len(changed)
    finally:
        nested.rollback()
