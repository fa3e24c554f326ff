"""Import history and undo: the batches with their counts, what a batch did record by record,
and the undo of a batch, which restores exactly the state before the import on every table it
touched, or is refused naming the records someone changed since."""

import json
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from models import (
    AuditLog,
    Certification,
    CoachingAction,
    Cohort,
    ExportRecord,
    Ikm,
    IkmFinancials,
    ImportBatch,
    Product,
    RetailListing,
    User,
)
from models.enums import Role
from services import records
from services.errors import PermissionDenied, ServiceError
from services.ikm import create_ikm, update_ikm
from services.imports import commit
from services.imports.history import UndoRefused, batch_records, batches, undo_batch
from services.permissions import Actor
from tests.service.test_import_kinds import NIB_A, full_upload, retailer_name, workbook

pytestmark = pytest.mark.db

ADMIN = Actor("admin", Role.admin)
STAFF = Actor("staf", Role.staff, "35.29")
COLLEAGUE = Actor("rina", Role.staff, "35.29")
NIB_B, NIB_C = "3529090000003", "3529090000004"

# every table an import writes, and the columns an undo may stamp on a row it gives back
TABLES = (Cohort, Ikm, Product, Certification, RetailListing, ExportRecord, CoachingAction,
          IkmFinancials)
STAMPS = {"updated_at", "updated_by", "version", "deleted_at"}


def state(session) -> dict[str, dict[int, dict]]:
    """Every row of every table an import writes: the live rows with all their data columns."""
    out = {}
    for model in TABLES:
        table = model.__table__
        query = select(table)
        if "deleted_at" in table.c:
            query = query.where(table.c.deleted_at.is_(None))
        out[table.name] = {row.id: {k: v for k, v in row._mapping.items() if k not in STAMPS}
                           for row in session.execute(query)}
    return out


@pytest.fixture
def programme(session):
    """What exists before the import under test: one import of every kind (IKM A with its
    records) and IKM B typed in a form."""
    commit(session, actor=ADMIN, filename="awal.xlsx", data=full_upload(session))
    create_ikm(session, actor=ADMIN, data={
        "name": "Petis Pak Hasan", "nib": NIB_B, "kabupaten_code": "Sumenep",
        "kecamatan_code": "Guluk-Guluk", "address": "Jl. Pasar 2", "owner_name": "Hasan"})
    session.add(User(username="rina", display_name="Rina Wati", role="staff",
                     kabupaten_code="35.29", password_hash="x"))
    session.commit()
    return session


def second_upload(session) -> bytes:
    """The import under test: a new cohort with a new IKM C and one record of every kind, and
    updates of IKM A (its phone; its cohort stays: the file may not move a trained IKM), its
    records, and IKM B (address cleared)."""
    retailer = retailer_name(session)
    return workbook(
        Angkatan=[["Nama angkatan", "Kabupaten", "Tahun", "Target peserta"],
                  ["Angkatan Kedua", "Sumenep", 2026, 25],
                  ["Angkatan Uji 2026", "Sumenep", 2026, 40]],
        IKM=[["NIB", "Nama usaha", "Kabupaten", "Kecamatan", "Angkatan", "Telepon", "Alamat"],
             [NIB_A, "Keripik Ani", "Sumenep", "Guluk-Guluk", None, "081900001111", None],
             [NIB_B, "Petis Pak Hasan", "Sumenep", "Guluk-Guluk", "Angkatan Kedua", None,
              "#KOSONG"],
             [NIB_C, "Dodol Bu Cici", "Sumenep", "Guluk-Guluk", "Angkatan Kedua", None, None]],
        Produk=[["NIB IKM", "Nama produk", "Kategori", "Harga (Rp)"],
                [NIB_A, "Keripik tempe", "Olahan pangan: keripik", "Rp 15.000"],
                [NIB_C, "Dodol ketan", "Olahan pangan: keripik", "Rp 9.000"]],
        Sertifikat=[["NIB IKM", "Jenis sertifikat", "Produk", "Nomor", "Status",
                     "Tanggal pengajuan", "Tanggal terbit"],
                    [NIB_A, "HALAL", "Keripik tempe", "ID-999", "terbit", None,
                     date(2025, 6, 1)],
                    [NIB_C, "HALAL", "Dodol ketan", "ID-555", "proses", date(2025, 5, 2),
                     None]],
        Ritel=[["NIB IKM", "Produk", "Ritel", "Status", "Tanggal listing",
                "Tanggal delisting"],
               [NIB_A, "Keripik tempe", retailer, "delisting", "15/03/2025", "30/04/2025"],
               [NIB_C, "Dodol ketan", retailer, "listing", "01/05/2025", None]],
        Ekspor=[["NIB IKM", "Produk", "Tanggal kirim", "Negara tujuan", "Volume", "Satuan",
                 "Nilai (USD)"],
                [NIB_A, "Keripik tempe", date(2025, 9, 1), "Malaysia", "1.200", "kg", 3900],
                [NIB_C, "Dodol ketan", date(2025, 10, 2), "Singapura", "300", "kg", 800]],
        Pembinaan=[["NIB IKM", "Tindakan pembinaan", "Produk", "Tenggat", "Selesai pada"],
                   [NIB_A, "Perbaiki label gizi", "Keripik tempe", date(2025, 7, 1),
                    date(2025, 6, 20)],
                   [NIB_C, "Daftar PIRT", "Dodol ketan", date(2025, 8, 1), None]],
        Keuangan=[["NIB IKM", "Tahun", "Modal usaha (Rp)", "Omzet (Rp)"],
                  [NIB_A, 2024, "Rp 25.000.000", "Rp 200.000.000"],
                  [NIB_C, 2024, "Rp 5.000.000", "Rp 40.000.000"]],
    )


def import_second(session) -> int:
    report = commit(session, actor=STAFF, filename="kedua.xlsx", data=second_upload(session))
    session.commit()
    assert report.rejected == 0, report.errors
    return report.batch_id


def batch_of(session, batch_id: int) -> ImportBatch:
    session.expire_all()
    return session.get(ImportBatch, batch_id)


# --- undo ---------------------------------------------------------------------------------------

def test_undo_restores_exactly_the_state_before_the_import_on_every_table(programme):
    session = programme
    before = state(session)
    batch_id = import_second(session)
    after_import = state(session)
    # the import really touched every table, with creates and updates
    for name in before:
        assert after_import[name] != before[name], name
    done = undo_batch(session, actor=ADMIN, batch_id=batch_id)
    session.commit()
    session.expire_all()
    assert state(session) == before
    records_of_batch = session.execute(select(AuditLog).where(
        AuditLog.batch_id == batch_id, AuditLog.action == "import",
        AuditLog.table_name != "importbatch")).scalars().all()
    created = [r for r in records_of_batch if r.before is None]
    assert done == {"batch_id": batch_id, "removed": len(created),
                    "restored": len(records_of_batch) - len(created)}
    assert done["removed"] == 8 and done["restored"] == 9
    # created IKM, products and cohorts are in the trash; the rest is gone
    nib_c = session.execute(select(Ikm).where(Ikm.nib == NIB_C)).scalar_one()
    assert nib_c.deleted_at is not None and nib_c.updated_by == "admin"
    assert session.execute(select(Cohort).where(Cohort.name == "Angkatan Kedua")) \
        .scalar_one().deleted_at is not None
    for model in (Certification, RetailListing, ExportRecord, CoachingAction, IkmFinancials):
        ids = {int(r.row_id) for r in created if r.table_name == model.__tablename__}
        assert ids and session.execute(select(func.count()).select_from(model).where(
            model.id.in_(ids))).scalar_one() == 0, model
    # the restored records moved on a version: anyone holding the import's version is refused
    ikm_a = session.execute(select(Ikm).where(Ikm.nib == NIB_A)).scalar_one()
    assert ikm_a.version == 3
    # audited: one "undo" row per record and one for the batch, all with the batch id
    undo_rows = session.execute(select(AuditLog).where(AuditLog.action == "undo")).scalars().all()
    assert {r.batch_id for r in undo_rows} == {batch_id}
    assert len(undo_rows) == len(records_of_batch) + 1
    summary = next(r for r in undo_rows if r.table_name == "importbatch")
    assert (summary.username, summary.row_id, summary.after["removed"]) == \
        ("admin", str(batch_id), 8)
    phone = next(r for r in undo_rows if r.table_name == "ikm" and r.row_id == str(ikm_a.id))
    assert phone.before["phone"] == "081900001111" and phone.after["phone"] is None
    batch = batch_of(session, batch_id)
    assert batch.undone_by == "admin" and batch.undone_at is not None


def test_undo_is_refused_twice(programme):
    session = programme
    batch_id = import_second(session)
    undo_batch(session, actor=ADMIN, batch_id=batch_id)
    session.commit()
    rows = session.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    with pytest.raises(ServiceError) as err:
        undo_batch(session, actor=ADMIN, batch_id=batch_id)
    assert err.value.key == "imphist.already_undone" and err.value.params["by"] == "admin"
    session.rollback()
    assert session.execute(select(func.count()).select_from(AuditLog)).scalar_one() == rows


@pytest.mark.parametrize("actor", [STAFF, Actor("staf", Role.staff),
                                   Actor("kepala", Role.head), Actor("tamu", Role.viewer),
                                   Actor("penilai", Role.assessor)])
def test_only_admins_undo(programme, actor):
    session = programme
    batch_id = import_second(session)
    after_import = state(session)
    with pytest.raises(PermissionDenied):
        undo_batch(session, actor=actor, batch_id=batch_id)
    session.rollback()
    assert state(session) == after_import and batch_of(session, batch_id).undone_at is None


def test_undo_is_refused_naming_a_record_someone_changed_since(programme):
    session = programme
    batch_id = import_second(session)
    product = session.execute(select(Product).where(Product.name == "Dodol ketan")).scalar_one()
    records.update_product(session, actor=COLLEAGUE, product_id=product.id,
                           expected_version=product.version, changes={"price_rp": "9500"})
    session.commit()
    changed_state = state(session)
    with pytest.raises(UndoRefused) as err:
        undo_batch(session, actor=ADMIN, batch_id=batch_id)
    session.rollback()
    [item] = err.value.changed
    assert (item["kind"], item["id"], item["username"], item["reason"]) == \
        ("product", product.id, "rina", "changed")
    assert item["name"] == "Dodol ketan · Dodol Bu Cici" and item["at"] is not None
    assert err.value.key == "imphist.changed_since" and err.value.params["count"] == 1
    assert state(session) == changed_state  # nothing written
    assert batch_of(session, batch_id).undone_at is None
    assert session.execute(select(func.count()).select_from(AuditLog)
                           .where(AuditLog.action == "undo")).scalar_one() == 0


def test_undo_is_refused_when_a_later_import_changed_a_record(programme):
    session = programme
    first = import_second(session)
    data = workbook(IKM=[["NIB", "Nama usaha", "Kabupaten", "Kecamatan", "Telepon"],
                         [NIB_A, "Keripik Ani", "Sumenep", "Guluk-Guluk", "081977778888"]])
    commit(session, actor=COLLEAGUE, filename="ketiga.xlsx", data=data)
    session.commit()
    with pytest.raises(UndoRefused) as err:
        undo_batch(session, actor=ADMIN, batch_id=first)
    session.rollback()
    assert [(i["kind"], i["name"], i["username"]) for i in err.value.changed] == \
        [("ikm", "Keripik Ani", "rina")]


def test_undo_is_refused_when_new_work_hangs_on_a_created_record(programme):
    session = programme
    batch_id = import_second(session)
    ikm_c = session.execute(select(Ikm).where(Ikm.nib == NIB_C)).scalar_one()
    records.create_product(session, actor=COLLEAGUE, ikm_id=ikm_c.id, data={
        "name": "Dodol durian", "category_code": "Olahan pangan: keripik"})
    lonely = create_ikm(session, actor=COLLEAGUE, data={
        "name": "Batik Bu Dewi", "kabupaten_code": "Sumenep", "kecamatan_code": "Guluk-Guluk"})
    cohort = session.execute(select(Cohort).where(Cohort.name == "Angkatan Kedua")).scalar_one()
    session.execute(Ikm.__table__.update().where(Ikm.id == lonely.id)
                    .values(cohort_id=cohort.id))
    session.commit()
    with pytest.raises(UndoRefused) as err:
        undo_batch(session, actor=ADMIN, batch_id=batch_id)
    session.rollback()
    found = {(i["kind"], i["name"], i["reason"]) for i in err.value.changed}
    assert found == {("product", "Dodol durian · Dodol Bu Cici", "linked"),
                     ("ikm", "Batik Bu Dewi", "linked")}
    assert {i["username"] for i in err.value.changed} == {"rina"}


def test_undo_is_refused_when_a_record_was_deleted_since(programme):
    session = programme
    batch_id = import_second(session)
    money = session.execute(select(IkmFinancials).join(Ikm, Ikm.id == IkmFinancials.ikm_id)
                            .where(Ikm.nib == NIB_C)).scalar_one()
    records.delete_financials(session, actor=COLLEAGUE, ikm_id=money.ikm_id, year=2024)
    session.commit()
    with pytest.raises(UndoRefused) as err:
        undo_batch(session, actor=ADMIN, batch_id=batch_id)
    session.rollback()
    [item] = err.value.changed
    assert (item["kind"], item["username"], item["reason"]) == ("financials", "rina", "changed")
    assert item["name"] == "Dodol Bu Cici · 2024"  # from the delete's copy: the row is gone


def test_a_batch_whose_audit_rows_do_not_name_it_is_not_undone(programme):
    session = programme
    batch_id = import_second(session)
    # as a batch written before audit rows carried the batch id
    session.execute(AuditLog.__table__.update().where(
        AuditLog.batch_id == batch_id, AuditLog.table_name != "importbatch")
        .values(batch_id=None))
    session.commit()
    with pytest.raises(ServiceError) as err:
        undo_batch(session, actor=ADMIN, batch_id=batch_id)
    assert err.value.key == "imphist.incomplete"


def test_an_unknown_batch_is_not_found(programme):
    with pytest.raises(ServiceError) as err:
        undo_batch(programme, actor=ADMIN, batch_id=999)
    assert err.value.key == "err.not_found"


# --- the history --------------------------------------------------------------------------------

def test_batches_count_in_sql_and_show_the_undo(programme):
    session = programme
    batch_id = import_second(session)
    rows = batches(session, actor=STAFF, limit=10)
    assert [r["id"] for r in rows] == [batch_id, batch_id - 1]
    newest, first = rows
    assert (newest["username"], newest["display_name"], newest["filename"]) == \
        ("staf", "staf", "kedua.xlsx")
    # kedua.xlsx: 8 new (one of each kind), 9 updated (cohort "Angkatan Uji 2026", IKM A and
    # B, and one of each other kind), none unchanged or rejected
    assert (newest["new"], newest["updated"], newest["unchanged"], newest["rejected"]) == \
        (8, 9, 0, 0)
    assert (first["new"], first["updated"]) == (9, 0)
    assert newest["undone_at"] is None
    undo_batch(session, actor=ADMIN, batch_id=batch_id)
    session.commit()
    newest = batches(session, actor=ADMIN, limit=1)[0]
    assert (newest["id"], newest["undone_by"]) == (batch_id, "admin")
    assert newest["undone_at"] is not None
    with pytest.raises(PermissionDenied):
        batches(session, actor=Actor("tamu", Role.viewer))


def test_batch_records_say_what_each_record_did(programme):
    session = programme
    batch_id = import_second(session)
    found = batch_records(session, batch_id=batch_id)
    assert len(found) == 17
    by_name = {(r["kind"], r["name"]): r for r in found}
    assert by_name[("ikm", "Dodol Bu Cici")]["action"] == "created"
    assert by_name[("ikm", "Dodol Bu Cici")]["changes"] == []
    ikm_a = by_name[("ikm", "Keripik Ani")]
    assert ikm_a["action"] == "updated"
    changes = {column: (before, after) for column, before, after in ikm_a["changes"]}
    assert changes == {"Telepon": (None, "081900001111")}
    ikm_b = by_name[("ikm", "Petis Pak Hasan")]
    assert sorted(ikm_b["changes"]) == [("Alamat", "Jl. Pasar 2", None),
                                        ("Angkatan", None, "Angkatan Kedua")]  # names, not ids
    english = batch_records(session, batch_id=batch_id, lang="en")
    ikm_b = next(r for r in english if r["name"] == "Petis Pak Hasan")
    assert sorted(ikm_b["changes"]) == [("Address", "Jl. Pasar 2", None),
                                        ("Cohort", None, "Angkatan Kedua")]
    money = by_name[("financials", "Keripik Ani · 2024")]
    assert money["changes"] == [("Omzet (Rp)", 180_000_000, 200_000_000)]


# --- the migration ------------------------------------------------------------------------------

@pytest.fixture
def bare_engine():
    """An empty database of its own (not migrated)."""
    from db.engine import make_engine
    from tests.conftest import PG_URL, _drop_pg, _fresh_pg_url

    url = _fresh_pg_url() if PG_URL else "sqlite://"
    eng = make_engine(url)
    yield eng
    eng.dispose()
    if PG_URL:
        _drop_pg(url)


def test_migration_0002_names_the_batch_of_rows_written_before_it(bare_engine):
    from db.migrate import upgrade

    upgrade(bare_engine, "0001")
    with bare_engine.begin() as conn:
        conn.execute(text("INSERT INTO importbatch (at, username, kind, filename, rows_total, "
                          "rows_ok, rows_failed, committed) VALUES "
                          "(CURRENT_TIMESTAMP, 'staf', 'ikm', 'lama.xlsx', 2, 2, 0, TRUE)"))
        rows = [("import", "importbatch", "1", {"filename": "lama.xlsx", "new": 1}),
                ("import", "ikm", "7", {"import_batch": 1}),
                ("import", "ikm", "8", {"phone": "0812", "import_batch": 1}),
                ("update", "ikm", "9", {"phone": "0813"}),  # typed in a form
                ("login", "user", "1", None)]
        for action, table, row_id, after in rows:
            conn.execute(text("INSERT INTO auditlog (at, username, action, table_name, row_id, "
                              "after) VALUES (CURRENT_TIMESTAMP, 'staf', :action, :table, "
                              ":row, :after)"),
                         {"action": action, "table": table, "row": row_id,
                          "after": json.dumps(after) if after else None})
    upgrade(bare_engine)
    with Session(bare_engine) as session:
        found = {(t, r): b for t, r, b in session.execute(
            select(AuditLog.table_name, AuditLog.row_id, AuditLog.batch_id))}
        assert found == {("importbatch", "1"): 1, ("ikm", "7"): 1, ("ikm", "8"): 1,
                         ("ikm", "9"): None, ("user", "1"): None}
        assert session.get(ImportBatch, 1).undone_at is None


def test_an_update_typed_in_a_form_after_the_import_is_a_change(programme):
    session = programme
    batch_id = import_second(session)
    ikm_b = session.execute(select(Ikm).where(Ikm.nib == NIB_B)).scalar_one()
    update_ikm(session, actor=COLLEAGUE, ikm_id=ikm_b.id, expected_version=ikm_b.version,
               changes={"address": "Jl. Baru 3"})
    session.commit()
    with pytest.raises(UndoRefused) as err:
        undo_batch(session, actor=ADMIN, batch_id=batch_id)
    assert [(i["name"], i["username"]) for i in err.value.changed] == [("Petis Pak Hasan",
                                                                         "rina")]


def test_a_change_the_audit_trail_missed_still_refuses_the_undo(programme):
    session = programme
    batch_id = import_second(session)
    # a value changed behind the services' back (no audit row): the record no longer holds
    # what the import wrote, and the undo must not write over it
    session.execute(Ikm.__table__.update().where(Ikm.nib == NIB_A).values(phone="0800"))
    session.commit()
    with pytest.raises(UndoRefused) as err:
        undo_batch(session, actor=ADMIN, batch_id=batch_id)
    session.rollback()
    assert [(i["kind"], i["name"], i["reason"]) for i in err.value.changed] == \
        [("ikm", "Keripik Ani", "changed")]
    session.expire_all()
    assert session.execute(select(Ikm.phone).where(Ikm.nib == NIB_A)).scalar_one() == "0800"
