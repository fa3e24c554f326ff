"""Imports of cohorts, certificates, retail listings, exports, coaching and financials: sheets
linked to IKM by NIB and to products by name, upsert keys, scope, and the commit reusing its dry
run only while nothing was written."""

import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from models import (
    AuditLog,
    Certification,
    CoachingAction,
    Cohort,
    ExportRecord,
    Ikm,
    IkmFinancials,
    Product,
    Retailer,
    RetailListing,
)
from models.enums import Role
from services import audit
from services.ikm import create_ikm, update_ikm
from services.imports import ALIASES, KINDS, ImportRefused, commit, dry_run
from services.imports import plan as import_plan
from services.imports import read as import_read
from services.imports import write as import_write
from services.permissions import Actor

pytestmark = pytest.mark.db

STAFF_SUMENEP = Actor("staf", Role.staff, "35.29")
NIB_A, NIB_B = "3529090000001", "3526010000002"  # Sumenep, Bangkalan

IKM_HEAD = ["NIB", "Nama usaha", "Kabupaten", "Kecamatan", "Angkatan"]


def workbook(**sheets: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def retailer_name(session) -> str:
    return session.execute(select(Retailer.name).order_by(Retailer.id)).scalars().first()


def full_upload(session) -> bytes:
    """One of each kind, all new, linked within the file (cohort <- IKM <- product <- rest)."""
    return workbook(
        Angkatan=[["Nama angkatan", "Kabupaten", "Tahun", "Tanggal mulai", "Tanggal selesai",
                   "Target peserta"],
                  ["Angkatan Uji 2026", "Sumenep", 2026, date(2026, 2, 1), date(2026, 4, 30),
                   30]],
        IKM=[IKM_HEAD, [NIB_A, "Keripik Ani", "Sumenep", "Guluk-Guluk", "Angkatan Uji 2026"]],
        Produk=[["NIB IKM", "Nama produk", "Kategori", "Harga (Rp)"],
                [NIB_A, "Keripik tempe", "Olahan pangan: keripik", "Rp 12.500"]],
        Sertifikat=[["NIB IKM", "Jenis sertifikat", "Produk", "Nomor", "Status",
                     "Tanggal terbit"],
                    [NIB_A, "HALAL", "Keripik tempe", "ID-123", "terbit", date(2025, 6, 1)],
                    [NIB_A, "NIB", None, "NIB-1", "terbit", date(2024, 1, 10)]],
        Ritel=[["NIB IKM", "Produk", "Ritel", "Status", "Tanggal listing"],
               [NIB_A, "Keripik tempe", retailer_name(session), "listing", "15/03/2025"]],
        Ekspor=[["NIB IKM", "Produk", "Tanggal kirim", "Negara tujuan", "Volume", "Satuan",
                 "Nilai (USD)"],
                [NIB_A, "keripik TEMPE", date(2025, 9, 1), "Malaysia", "1.200", "kg", 3400]],
        Pembinaan=[["NIB IKM", "Tindakan pembinaan", "Produk", "Tenggat"],
                   [NIB_A, "Perbaiki label gizi", "Keripik tempe", date(2025, 7, 1)]],
        Keuangan=[["NIB IKM", "Tahun", "Modal usaha (Rp)", "Omzet (Rp)"],
                  [NIB_A, 2024, "Rp 25.000.000", "Rp 180.000.000"]],
    )


def test_every_kind_is_imported_and_linked_in_one_upload(session, admin_actor):
    data = full_upload(session)
    report = dry_run(session, actor=admin_actor, filename="semua.xlsx", data=data)
    assert report.errors == []
    assert {s.kind: s.new for s in report.sheets} == {
        "cohort": 1, "ikm": 1, "product": 1, "certification": 2, "listing": 1, "export": 1,
        "coaching": 1, "financials": 1}
    assert count(session, Cohort) == 0  # a dry run writes nothing

    report = commit(session, actor=admin_actor, filename="semua.xlsx", data=data)
    session.commit()
    assert report.new == 9
    ikm = session.execute(select(Ikm).where(Ikm.nib == NIB_A)).scalar_one()
    cohort = session.execute(select(Cohort)).scalar_one()
    product = session.execute(select(Product)).scalar_one()
    assert ikm.cohort_id == cohort.id and product.ikm_id == ikm.id
    certs = {c.cert_type_code: c for c in session.execute(select(Certification)).scalars()}
    assert certs["HALAL"].product_id == product.id and certs["NIB"].product_id is None
    assert certs["HALAL"].ikm_id == ikm.id
    listing = session.execute(select(RetailListing)).scalar_one()
    assert (listing.product_id, listing.listed_on) == (product.id, date(2025, 3, 15))
    shipment = session.execute(select(ExportRecord)).scalar_one()
    assert (shipment.product_id, shipment.country, shipment.volume) == (product.id, "MY", 1200)
    action = session.execute(select(CoachingAction)).scalar_one()
    assert (action.ikm_id, action.product_id) == (ikm.id, product.id)
    money = session.execute(select(IkmFinancials)).scalar_one()
    assert (money.ikm_id, money.capital_rp, money.revenue_rp) == (ikm.id, 25_000_000,
                                                                   180_000_000)
    tables = set(session.execute(select(AuditLog.table_name)
                                 .where(AuditLog.action == "import")).scalars())
    assert {"cohort", "ikm", "product", "certification", "retaillisting", "exportrecord",
            "coachingaction", "ikmfinancials", "importbatch"} <= tables

    # the same file again: everything matched by its key, nothing changes
    report = dry_run(session, actor=admin_actor, filename="semua.xlsx", data=data)
    assert (report.new, report.updated, report.rejected) == (0, 0, 0)
    assert report.unchanged == 9


def test_changed_values_update_by_key_and_blank_sheets_are_fine(session, admin_actor):
    commit(session, actor=admin_actor, filename="a.xlsx", data=full_upload(session))
    session.commit()
    data = workbook(
        Sertifikat=[["NIB IKM", "Jenis sertifikat", "Produk", "Nomor", "Status",
                     "Tanggal terbit"],
                    [NIB_A, "halal", "Keripik tempe", "ID-999", "terbit", date(2025, 6, 1)]],
        Keuangan=[["NIB IKM", "Tahun", "Omzet (Rp)"], [NIB_A, 2024, "Rp 200.000.000"]],
        Ritel=[["NIB IKM", "Produk", "Ritel", "Status", "Tanggal listing"]],  # headers only
    )
    report = commit(session, actor=admin_actor, filename="b.xlsx", data=data)
    session.commit()
    assert (report.updated, report.new) == (2, 0)
    session.expire_all()
    halal = session.execute(select(Certification)
                            .where(Certification.cert_type_code == "HALAL")).scalar_one()
    assert halal.number == "ID-999" and halal.version == 2
    money = session.execute(select(IkmFinancials)).scalar_one()
    # the omitted capital column keeps its value
    assert (money.capital_rp, money.revenue_rp) == (25_000_000, 200_000_000)


def test_rows_of_linked_sheets_explain_what_is_wrong(session, admin_actor):
    commit(session, actor=admin_actor, filename="a.xlsx", data=full_upload(session))
    session.commit()
    data = workbook(
        Sertifikat=[["NIB IKM", "Jenis sertifikat", "Produk", "Status", "Tanggal terbit",
                     "Berlaku sampai"],
                    [NIB_A, "HALAL", "Dodol", "terbit", date(2025, 6, 1), None],
                    [NIB_A, "Piagam", None, "terbit", date(2025, 6, 1), None],
                    [NIB_A, "SPP-IRT", "Keripik tempe", "terbit", date(2025, 6, 1),
                     date(2025, 1, 1)],
                    ["3529999999990", "NIB", None, "terbit", date(2025, 6, 1), None]],
        Ekspor=[["NIB IKM", "Produk", "Tanggal kirim", "Negara tujuan"],
                [NIB_A, "Keripik tempe", date(2025, 9, 1), "Atlantis"],
                [NIB_A, "Keripik tempe", date(2025, 10, 1), "Jepang"],
                [NIB_A, "Keripik tempe", date(2025, 10, 1), "JP"]],
    )
    before = {m: count(session, m) for m in (Certification, ExportRecord, AuditLog)}
    report = dry_run(session, actor=admin_actor, filename="c.xlsx", data=data)
    found = {(e.sheet, e.row, e.key) for e in report.errors}
    assert found == {
        ("Sertifikat", 2, "rec.product_not_of_ikm"),
        ("Sertifikat", 3, "rec.unknown_cert_type"),
        ("Sertifikat", 4, "v.date_order"),
        ("Sertifikat", 5, "imp.unknown_ikm"),
        ("Ekspor", 2, "rec.unknown_country"),
        ("Ekspor", 3, "imp.duplicate_row"),
        ("Ekspor", 4, "imp.duplicate_row"),
    }
    with pytest.raises(ImportRefused) as exc:
        commit(session, actor=admin_actor, filename="c.xlsx", data=data)
    assert exc.value.key == "imp.has_rejected"
    assert {m: count(session, m) for m in before} == before


def test_a_record_of_a_rejected_product_says_so(session, admin_actor):
    data = workbook(
        IKM=[IKM_HEAD, [NIB_A, "Keripik Ani", "Sumenep", "Guluk-Guluk", None]],
        Produk=[["NIB IKM", "Nama produk", "Kategori"], [NIB_A, "Petis", "bukan kategori"]],
        Ritel=[["NIB IKM", "Produk", "Ritel", "Tanggal listing"],
               [NIB_A, "Petis", retailer_name(session), date(2025, 1, 5)]],
    )
    report = dry_run(session, actor=admin_actor, filename="d.xlsx", data=data)
    (listing_error,) = [e for e in report.errors if e.sheet == "Ritel"]
    assert (listing_error.key, listing_error.params) == ("imp.product_rejected", {"row": 2})


def test_scoped_staff_cannot_import_records_of_another_regency(session, admin_actor):
    create_ikm(session, actor=admin_actor, data={
        "name": "Batik Bangkalan", "nib": NIB_B, "kabupaten_code": "35.26",
        "kecamatan_code": "35.26.01"})
    session.commit()
    data = workbook(
        Angkatan=[["Nama angkatan", "Kabupaten", "Tahun"], ["Angkatan Bangkalan", "Bangkalan",
                                                          2026]],
        Keuangan=[["NIB IKM", "Tahun", "Omzet (Rp)"], [NIB_B, 2024, 5_000_000]],
    )
    report = dry_run(session, actor=STAFF_SUMENEP, filename="e.xlsx", data=data)
    assert {(e.sheet, e.key) for e in report.errors} == {("Angkatan", "imp.out_of_scope"),
                                                        ("Keuangan", "imp.out_of_scope")}
    with pytest.raises(ImportRefused):
        commit(session, actor=STAFF_SUMENEP, filename="e.xlsx", data=data, allow_partial=True)
    assert count(session, Cohort) == count(session, IkmFinancials) == 0


def test_a_new_cohort_of_another_regency_is_refused_for_an_ikm(session, admin_actor):
    data = workbook(
        Angkatan=[["Nama angkatan", "Kabupaten", "Tahun"], ["Angkatan Sampang", "Sampang", 2026]],
        IKM=[IKM_HEAD, [NIB_A, "Keripik Ani", "Sumenep", "Guluk-Guluk", "Angkatan Sampang"]],
    )
    report = dry_run(session, actor=admin_actor, filename="f.xlsx", data=data)
    assert [(e.sheet, e.key) for e in report.errors] == [("IKM", "v.cohort_other_regency")]


def test_commit_reuses_the_dry_run_only_while_nothing_was_written(session, admin_actor,
                                                                  monkeypatch):
    data = workbook(IKM=[IKM_HEAD, [NIB_A, "Keripik Ani", "Sumenep", "Guluk-Guluk", None]])
    checks = []
    original = import_plan._plan
    for module in (import_plan, import_write):  # the dry run's check and the commit's
        monkeypatch.setattr(module, "_plan",
                            lambda *a, **k: checks.append(1) or original(*a, **k))

    # a database never written to cannot be told from a new one at the same place: checked
    dry_run(session, actor=admin_actor, filename="g.xlsx", data=data)
    commit(session, actor=admin_actor, filename="g.xlsx", data=data)
    session.rollback()
    assert len(checks) == 2

    audit.record(session, username="admin", action="login", table="user", row_id=1,
                 data_changed=False)  # what a login leaves
    session.commit()
    checks.clear()
    dry_run(session, actor=admin_actor, filename="g.xlsx", data=data)
    report = commit(session, actor=admin_actor, filename="g.xlsx", data=data)
    session.commit()
    assert len(checks) == 1 and report.new == 1  # the commit used the dry run's check

    # someone writes between the dry run and the commit: the commit checks again and sees it
    changed = workbook(IKM=[IKM_HEAD, [NIB_A, "Keripik Ani Jaya", "Sumenep", "Guluk-Guluk",
                                       None]])
    dry_run(session, actor=admin_actor, filename="h.xlsx", data=changed)
    ikm = session.execute(select(Ikm).where(Ikm.nib == NIB_A)).scalar_one()
    update_ikm(session, actor=admin_actor, ikm_id=ikm.id, expected_version=ikm.version,
               changes={"owner_name": "Ani"})
    session.commit()
    report = commit(session, actor=admin_actor, filename="h.xlsx", data=changed)
    session.commit()
    assert len(checks) == 3 and report.updated == 1
    session.expire_all()
    ikm = session.execute(select(Ikm).where(Ikm.nib == NIB_A)).scalar_one()
    assert (ikm.name, ikm.owner_name) == ("Keripik Ani Jaya", "Ani")

    # another user's dry run is not reused either
    other = Actor("admin2", Role.admin)
    dry_run(session, actor=other, filename="h.xlsx", data=changed)
    commit(session, actor=admin_actor, filename="h.xlsx", data=changed)
    assert len(checks) == 5


def test_an_export_of_demo_data_comes_back_unchanged_on_every_sheet(session, admin_actor):
    from db.demo import seed_demo
    from services import exporter

    seed_demo(session, ikm_per_kabupaten=25)
    session.commit()
    report = dry_run(session, actor=admin_actor, filename="semua.xlsx",
                     data=exporter.export_workbook(session))
    assert report.errors == []
    by_kind = {s.kind: s for s in report.sheets}
    assert set(by_kind) == set(KINDS)
    # every row names its record by ID: IKM without an NIB come back unchanged too
    without_nib = session.execute(select(func.count()).select_from(Ikm).where(
        Ikm.nib.is_(None), Ikm.deleted_at.is_(None))).scalar_one()
    assert without_nib > 0 and report.warnings == [] and report.changes == []
    for kind, sheet in by_kind.items():
        assert (sheet.new, sheet.updated, sheet.rejected) == (0, 0, 0), kind
        assert sheet.unchanged > 0, kind
    assert by_kind["ikm"].unchanged == session.execute(select(func.count()).select_from(Ikm)
                                                       .where(Ikm.deleted_at.is_(None))).scalar_one()


def test_the_filled_template_imports_every_sheet(session, admin_actor):
    from services import exporter

    template = openpyxl.load_workbook(io.BytesIO(exporter.template_workbook(session)))
    upload = openpyxl.load_workbook(io.BytesIO(full_upload(session)))
    for ws in upload.worksheets:  # the same rows typed under the template's headers
        target = template[ws.title]
        aliases = ALIASES[import_read._SHEET_KINDS[ws.title.lower()]]
        fields = [aliases[import_read._norm(c.value)] for c in target[1]]
        mine = [aliases[import_read._norm(c.value)] for c in ws[1]]
        for row in ws.iter_rows(min_row=2, values_only=True):
            values = dict(zip(mine, row, strict=False))
            target.append([values.get(name) for name in fields])
    buf = io.BytesIO()
    template.save(buf)
    report = dry_run(session, actor=admin_actor, filename="templat.xlsx", data=buf.getvalue())
    assert report.errors == []
    assert all(s.skipped == 1 for s in report.sheets)  # each sheet's example row
    assert report.new == 9


@pytest.mark.parametrize(("xml", "slow"), [
    (b'<c r="A1"><f>SUM(B1:B2)</f><v>3</v></c>', True),
    (b'<c r="A2"><f t="shared" ref="A2:A9" si="0"/></c>', True),
    # a namespace prefix, as some programs write
    (b'<?xml version="1.0"?>\n<x:worksheet xmlns:x="..."><x:c r="A1"><x:f>1+1</x:f></x:c>',
     True),
    (b'<c r="A1" t="e"><v>#N/A</v></c>', True),
    (b'<autoFilter><filterColumn colId="0"/></autoFilter><c r="A1"><v>1</v></c>', False),
    (b'<c r="A1" t="inlineStr"><is><t>&lt;f&gt; is text</t></is></c>', False),
])
def test_workbooks_with_formulas_or_error_cells_take_the_careful_reader(xml, slow):
    assert import_read._has_formula_or_error(xml) is slow


def test_common_spellings_are_understood_and_near_misses_get_a_suggestion(session, admin_actor):
    commit(session, actor=admin_actor, filename="a.xlsx", data=full_upload(session))
    session.commit()
    data = workbook(
        Sertifikat=[["NIB IKM", "Jenis sertifikat", "Produk", "Status", "Tanggal terbit"],
                    [NIB_A, "P-IRT", "Keripik tempe", "terbit", date(2025, 6, 1)],
                    [NIB_A, "Halaal", "Keripik tempe", "belum", None],
                    [NIB_A, "BPOM MD", "keripik", "belum", None]])
    report = dry_run(session, actor=admin_actor, filename="b.xlsx", data=data)
    assert [(e.row, e.key, e.params.get("suggestion")) for e in report.errors] == [
        (3, "rec.unknown_cert_type_suggest", "Sertifikat halal"),
        (4, "rec.product_not_of_ikm_suggest", "Keripik tempe")]
    assert report.sheet("certification").new == 1  # P-IRT is the SPP-IRT


def test_an_imported_record_shows_its_file_in_the_history(session, admin_actor):
    from services.records import ikm_detail

    commit(session, actor=admin_actor, filename="angkatan_2026.xlsx", data=full_upload(session))
    session.commit()
    changed = workbook(IKM=[IKM_HEAD, [NIB_A, "Keripik Ani Jaya", "Sumenep", "Guluk-Guluk",
                                       "Angkatan Uji 2026"]])
    commit(session, actor=admin_actor, filename="perbaikan.xlsx", data=changed)
    session.commit()
    ikm = session.execute(select(Ikm).where(Ikm.nib == NIB_A)).scalar_one()
    history = ikm_detail(session, ikm_id=ikm.id)["history"]
    own = [h for h in history if h["table"] == "ikm"]
    assert [(h["action"], h["source"]) for h in own] == [
        ("import", "perbaikan.xlsx"), ("import", "angkatan_2026.xlsx")]
    assert own[0]["changes"] == [{"field": "name", "before": "Keripik Ani",
                                  "after": "Keripik Ani Jaya"}]
    assert own[1]["changes"] == []  # created: its values are the record's own
    assert {h["table"] for h in history} >= {"product", "certification", "ikmfinancials"}


def test_several_new_ikm_join_the_same_new_cohort(session, admin_actor):
    data = workbook(
        Angkatan=[["Nama angkatan", "Kabupaten", "Tahun"], ["Angkatan Baru", "Sumenep", 2026]],
        IKM=[IKM_HEAD, [NIB_A, "Keripik Ani", "Sumenep", "Guluk-Guluk", "angkatan baru"],
             ["3529090000009", "Dodol Budi", "Sumenep", "Ganding", "Angkatan Baru"]],
        Produk=[["NIB IKM", "Nama produk", "Kategori"],
                ["3529090000009", "Petis udang", "Olahan pangan: petis"]])
    report = commit(session, actor=admin_actor, filename="c.xlsx", data=data)
    session.commit()
    assert report.errors == [] and report.new == 4
    cohort = session.execute(select(Cohort)).scalar_one()
    members = session.execute(select(Ikm.nib, Ikm.cohort_id).order_by(Ikm.nib)).all()
    assert [c for _n, c in members] == [cohort.id, cohort.id]
    product = session.execute(select(Product)).scalar_one()
    assert product.ikm_id == session.execute(
        select(Ikm.id).where(Ikm.nib == "3529090000009")).scalar_one()
