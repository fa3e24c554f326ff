"""IKM writes and listing against a real database: rules, scope, versions, audit, paging."""

from datetime import date

import pytest
from sqlmodel import func, select

from models import AuditLog, Cohort, Ikm, IkmFinancials
from models.enums import Role, SizeClass
from services import ikm as svc
from services.errors import PermissionDenied, StaleRecord, ValidationFailed
from services.permissions import Actor

pytestmark = pytest.mark.db

STAFF_SUMENEP = Actor("staf", Role.staff, "35.29")
VIEWER = Actor("tamu", Role.viewer)
GOOD = {"name": "Kerupuk Ikan Barokah", "owner_name": "Siti Aminah", "owner_gender": "P",
        "phone": "+62 812 3456 789", "nib": "3529010203040", "legal_form": "UD",
        "kabupaten_code": "Sumenep", "kecamatan_code": "Kalianget", "desa_code": "Kalianget Timur",
        "employees": "5", "employees_female": "3", "founded_year": "2015"}


def count(session, model=Ikm) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_create_resolves_names_to_codes_and_normalises(session):
    row = svc.create_ikm(session, actor=STAFF_SUMENEP, data=GOOD)
    assert row.kabupaten_code == "35.29" and row.kecamatan_code.startswith("35.29.")
    assert row.desa_code.startswith(row.kecamatan_code)
    assert (row.phone, row.nib, row.employees) == ("08123456789", "3529010203040", 5)
    entry = session.exec(select(AuditLog).where(AuditLog.table_name == "ikm")).one()
    assert entry.action == "create" and entry.after["name"] == GOOD["name"]


def test_every_bad_field_gets_its_own_message_and_nothing_is_written(session):
    bad = {**GOOD, "nib": "123", "phone": "abc", "kecamatan_code": "Kaliangett",
           "employees": "2", "employees_female": "9", "owner_gender": "X", "name": " "}
    with pytest.raises(ValidationFailed) as err:
        svc.create_ikm(session, actor=STAFF_SUMENEP, data=bad)
    details = err.value.params["details"]
    assert details["nib"][0] == "v.nib" and details["phone"][0] == "v.phone"
    assert details["kecamatan_code"] == ("v.unknown_kecamatan_suggest",
                                         {"value": "Kaliangett", "suggestion": "Kalianget"})
    assert details["employees_female"][0] == "v.female_gt_total"
    assert details["owner_gender"][0] == "v.choice" and details["name"][0] == "v.required"
    assert count(session) == 0


def test_galis_resolves_within_its_regency(session):
    a = svc.create_ikm(session, actor=Actor("admin", Role.admin),
                       data={**GOOD, "nib": None, "kabupaten_code": "Bangkalan",
                             "kecamatan_code": "Galis", "desa_code": None})
    b = svc.create_ikm(session, actor=Actor("admin", Role.admin),
                       data={**GOOD, "nib": None, "kabupaten_code": "Pamekasan",
                             "kecamatan_code": "Galis", "desa_code": None})
    assert (a.kecamatan_code, b.kecamatan_code) == ("35.26.18", "35.28.03")


def test_scope_and_role_are_checked(session):
    with pytest.raises(PermissionDenied) as err:
        svc.create_ikm(session, actor=STAFF_SUMENEP,
                       data={**GOOD, "kabupaten_code": "Bangkalan", "kecamatan_code": "Kamal",
                             "desa_code": None})
    assert err.value.key == "err.out_of_scope"
    with pytest.raises(PermissionDenied):
        svc.create_ikm(session, actor=VIEWER, data=GOOD)
    other = svc.create_ikm(session, actor=Actor("admin", Role.admin),
                           data={**GOOD, "nib": None, "kabupaten_code": "Bangkalan",
                                 "kecamatan_code": "Kamal", "desa_code": None})
    with pytest.raises(PermissionDenied):
        svc.update_ikm(session, actor=STAFF_SUMENEP, ikm_id=other.id,
                       expected_version=other.version, changes={"name": "Taken over"})
    mine = svc.create_ikm(session, actor=STAFF_SUMENEP, data=GOOD)
    with pytest.raises(PermissionDenied):  # moving a record out of one's regency
        svc.update_ikm(session, actor=STAFF_SUMENEP, ikm_id=mine.id,
                       expected_version=mine.version,
                       changes={"kabupaten_code": "35.26", "kecamatan_code": "35.26.04",
                                "desa_code": None})


def test_duplicate_nib_refused_and_duplicates_warned(session):
    first = svc.create_ikm(session, actor=STAFF_SUMENEP, data=GOOD)
    with pytest.raises(ValidationFailed) as err:
        svc.create_ikm(session, actor=STAFF_SUMENEP, data={**GOOD, "name": "Lain"})
    assert err.value.errors["nib"] == ["v.nib_taken"]
    warnings = svc.find_duplicates(session, data={"nib": None, "name": "UD Kerupuk Ikan Barokah",
                                                  "desa_code": first.desa_code})
    assert [(w["id"], w["reason"]) for w in warnings] == [(first.id, "dup.similar_name")]
    same = svc.find_duplicates(session, data={"nib": "3529 0102 0304 0", "name": "x"})
    assert [w["reason"] for w in same] == ["dup.same_nib"]


def test_update_is_version_checked_and_audited_with_before_and_after(session):
    row = svc.create_ikm(session, actor=STAFF_SUMENEP, data=GOOD)
    version = row.version
    svc.update_ikm(session, actor=STAFF_SUMENEP, ikm_id=row.id, expected_version=version,
                   changes={"employees": "7"})
    assert row.version == version + 1 and row.employees == 7
    entry = session.exec(select(AuditLog).where(AuditLog.action == "update")).one()
    assert (entry.before, entry.after) == ({"employees": 5}, {"employees": 7})
    with pytest.raises(StaleRecord):
        svc.update_ikm(session, actor=STAFF_SUMENEP, ikm_id=row.id, expected_version=version,
                       changes={"employees": "8"})
    assert row.employees == 7


def test_grid_save_is_all_or_nothing_with_cell_errors(session):
    a = svc.create_ikm(session, actor=STAFF_SUMENEP, data=GOOD)
    b = svc.create_ikm(session, actor=STAFF_SUMENEP, data={**GOOD, "nib": None, "name": "Petis"})
    session.commit()
    edits = [{"row": 1, "id": a.id, "version": a.version, "changes": {"employees": "9"}},
             {"row": 2, "id": b.id, "version": b.version,
              "changes": {"phone": "12", "nib": "3529010203040"}}]
    with pytest.raises(svc.CellErrors) as err:
        svc.update_many(session, actor=STAFF_SUMENEP, edits=edits)
    cells = {(c.row, c.column, c.key) for c in err.value.cells}
    assert cells == {(2, "phone", "v.phone"), (2, "nib", "v.nib_taken")}
    session.rollback()
    session.expire_all()
    assert session.get(Ikm, a.id).employees == 5  # the valid row was not written either
    ok = [{"row": 1, "id": a.id, "version": a.version, "changes": {"employees": "9"}},
          {"row": 2, "id": b.id, "version": b.version, "changes": {"owner_name": "Budi"}}]
    assert svc.update_many(session, actor=STAFF_SUMENEP, edits=ok) == 2


def test_grid_cannot_change_columns_outside_the_grid(session):
    a = svc.create_ikm(session, actor=STAFF_SUMENEP, data=GOOD)
    from services.errors import ServiceError

    with pytest.raises(ServiceError):
        svc.update_many(session, actor=STAFF_SUMENEP, edits=[
            {"row": 1, "id": a.id, "version": a.version, "changes": {"kabupaten_code": "35.26"}}])


def test_soft_delete_and_admin_restore(session):
    row = svc.create_ikm(session, actor=STAFF_SUMENEP, data=GOOD)
    svc.delete_ikm(session, actor=STAFF_SUMENEP, ikm_id=row.id, expected_version=row.version)
    assert svc.list_ikm(session)[1] == 0
    from services import trash

    with pytest.raises(PermissionDenied):
        trash.restore(session, actor=STAFF_SUMENEP, kind="ikm", row_id=row.id)
    trash.restore(session, actor=Actor("admin", Role.admin), kind="ikm", row_id=row.id)
    assert svc.list_ikm(session)[1] == 1


def test_leaving_needs_a_reason(session):
    with pytest.raises(ValidationFailed) as err:
        svc.create_ikm(session, actor=STAFF_SUMENEP, data={**GOOD, "status": "keluar"})
    assert err.value.errors == {"status_reason": ["v.reason_required"]}


def test_cohort_must_be_of_the_same_regency(session):
    cohort = Cohort(name="Angkatan Bangkalan", kabupaten_code="35.26", year=2025)
    session.add(cohort)
    session.flush()
    with pytest.raises(ValidationFailed) as err:
        svc.create_ikm(session, actor=STAFF_SUMENEP, data={**GOOD, "cohort_id": cohort.id})
    assert err.value.errors == {"cohort_id": ["v.cohort_other_regency"]}


@pytest.mark.parametrize(("capital", "revenue", "expected"), [
    (500_000_000, None, SizeClass.mikro), (1_000_000_000, None, SizeClass.mikro),
    (3_000_000_000, None, SizeClass.kecil), (8_000_000_000, None, SizeClass.menengah),
    (20_000_000_000, None, SizeClass.besar), (None, 1_500_000_000, SizeClass.mikro),
    (None, 10_000_000_000, SizeClass.kecil), (None, 40_000_000_000, SizeClass.menengah),
    (None, None, None),
])
def test_size_class_pp_7_2021(capital, revenue, expected):
    assert svc.size_class(capital_rp=capital, revenue_rp=revenue) == expected


def test_latest_financials_carry_the_size_class(session):
    row = svc.create_ikm(session, actor=STAFF_SUMENEP, data=GOOD)
    session.add_all([IkmFinancials(ikm_id=row.id, year=2024, capital_rp=2_000_000_000),
                     IkmFinancials(ikm_id=row.id, year=2025, capital_rp=600_000_000)])
    session.flush()
    assert svc.latest_financials(session, row.id)["size_class"] == SizeClass.mikro


def test_listing_filters_search_and_pages_in_sql(session):
    from db.demo import seed_demo

    seed_demo(session, ikm_per_kabupaten=30, today=date(2026, 6, 1))
    session.commit()
    rows, total = svc.list_ikm(session, page=1, page_size=25)
    assert total == 120 and len(rows) == 25
    second, _ = svc.list_ikm(session, page=2, page_size=25)
    assert not {r["id"] for r in rows} & {r["id"] for r in second}
    sumenep, n = svc.list_ikm(session, filters=svc.IkmFilter(kabupaten_code="35.29"),
                              page_size=100)
    assert n == 30 and {r["kabupaten"] for r in sumenep} == {"Sumenep"}
    one = rows[0]
    found, n = svc.list_ikm(session, filters=svc.IkmFilter(search=one["name"][:12].upper()))
    assert n >= 1 and one["id"] in {r["id"] for r in found}
    retail, n_retail = svc.list_ikm(session, filters=svc.IkmFilter(stage="in_retail"),
                                    page_size=200, as_of=date(2026, 6, 1))
    assert 0 < n_retail < 120
    food, n_food = svc.list_ikm(session, filters=svc.IkmFilter(category_code="kerupuk"))
    assert 0 < n_food < 120
