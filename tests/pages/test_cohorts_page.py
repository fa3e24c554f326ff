"""The Cohorts page as staff use it: progress, a new cohort, members pasted or chosen, edits
checked against the version, deletes, and who may open it."""

from datetime import date

import pytest
from sqlmodel import Session, func, select

from db import write_session
from db.engine import get_engine
from models import AuditLog, Cohort, Ikm
from models.enums import Role
from services import clock
from services.cohorts import update_cohort
from services.permissions import Actor
from tests.pages.conftest import make_app, shown

SUMENEP, BANGKALAN = "35.29", "35.26"


def open_page(username: str):
    at = make_app(username)
    at.run()
    at.switch_page("app_pages/cohorts.py").run()
    assert not at.exception, at.exception
    return at


def progress_table(at):
    return next(d.value for d in at.dataframe if "percent" in d.value.columns)


def click(at, label: str):
    at.button[[b.label for b in at.button].index(label)].click().run()
    assert not at.exception, at.exception
    return at


def live_cohorts() -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count()).select_from(Cohort)
                      .where(Cohort.deleted_at.is_(None))).one()


def cohort_of(name: str) -> Cohort:
    with Session(get_engine()) as s:
        return s.exec(select(Cohort).where(Cohort.name == name)).one()


def newest_cohort(kabupaten: str) -> Cohort:
    """The regency's latest cohort (its name and dates depend on the day the demo was made)."""
    with Session(get_engine()) as s:
        return s.exec(select(Cohort).where(Cohort.kabupaten_code == kabupaten,
                                           Cohort.deleted_at.is_(None))
                      .order_by(Cohort.start_on.desc(), Cohort.id.desc())).first()


def first_cohort(kabupaten: str) -> Cohort:
    with Session(get_engine()) as s:
        return s.exec(select(Cohort).where(Cohort.kabupaten_code == kabupaten)
                      .order_by(Cohort.start_on, Cohort.id)).first()


def members(cohort_id: int) -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count()).select_from(Ikm).where(
            Ikm.cohort_id == cohort_id, Ikm.deleted_at.is_(None))).one()


def ikm_with_nib(kabupaten: str, *, not_in: int) -> Ikm:
    with Session(get_engine()) as s:
        return s.exec(select(Ikm).where(Ikm.kabupaten_code == kabupaten, Ikm.nib.is_not(None),
                                        Ikm.cohort_id != not_in, Ikm.deleted_at.is_(None))
                      .order_by(Ikm.id)).first()


@pytest.mark.parametrize("username", ["admin", "staf"])
def test_page_renders_progress_for_admin_and_staff(demo_db, username):
    at = open_page(username)
    assert at.title[0].value == "Angkatan pelatihan"
    table = progress_table(at)
    assert len(table) == 12 and set(table["kabupaten"]) == {"Bangkalan", "Sampang", "Pamekasan",
                                                            "Sumenep"}
    assert list(table["percent"]) == [100.0] * 12 and table["members"].sum() == 480
    assert {tab.label for tab in at.tabs} >= {"Kemajuan", "Anggota", "Angkatan baru",
                                              "Ubah atau hapus"}
    at.selectbox(key="coh_f_kab").set_value(SUMENEP).run()
    assert set(progress_table(at)["kabupaten"]) == {"Sumenep"}


def test_scoped_staff_sees_every_cohort_but_changes_only_their_regency(demo_db):
    at = open_page("staf")
    assert len(at.selectbox(key="coh_m_pick").options) == 12  # every cohort can be viewed
    assert at.selectbox(key="coh_new_kab").options == ["Sumenep"]
    assert all("Sumenep" in o for o in at.selectbox(key="coh_e_pick").options)
    bangkalan = first_cohort(BANGKALAN)
    at.selectbox(key="coh_m_pick").set_value(bangkalan.id).run()
    assert "di luar wilayah Anda" in " ".join(c.value for c in at.caption)
    assert not [b for b in at.button if b.label == "Cocokkan dan tambahkan"]


def test_staff_creates_a_cohort_in_sumenep_with_an_audit_row(demo_db):
    before = live_cohorts()
    at = open_page("staf")
    assert at.text_input(key="coh_new_partners").value == "BPWS, INOPAK, GIZ"
    assert at.number_input(key="coh_new_target").value == 120
    year = clock.today().year + 1  # next year's cohort, whatever the day
    name = f"Angkatan 4 Sumenep {year}"
    at.text_input(key="coh_new_name").input(name)
    at.date_input(key="coh_new_start").set_value(date(year, 2, 1))
    at.date_input(key="coh_new_end").set_value(date(year, 6, 30))
    click(at, "Buat angkatan")
    assert name in at.success[0].value
    assert live_cohorts() == before + 1
    row = cohort_of(name)
    assert (row.kabupaten_code, row.year, row.partners, row.target_participants,
            row.created_by) == (SUMENEP, year, "BPWS, INOPAK, GIZ", 120, "staf")
    with Session(get_engine()) as s:
        assert s.exec(select(AuditLog).where(AuditLog.table_name == "cohort",
                                             AuditLog.row_id == str(row.id),
                                             AuditLog.action == "create")).one()
    assert at.text_input(key="coh_new_name").value == ""  # the form is fresh again


def test_bad_input_gets_a_message_per_field_and_writes_nothing(demo_db):
    before = live_cohorts()
    at = open_page("staf")
    at.date_input(key="coh_new_start").set_value(date(2027, 6, 1))
    at.date_input(key="coh_new_end").set_value(date(2027, 3, 1))
    click(at, "Buat angkatan")
    assert "Periksa isian yang ditandai." in at.error[0].value
    captions = [shown(c.value) for c in at.caption]
    assert "**Nama angkatan**: Wajib diisi." in captions
    assert "**Tanggal selesai**: Tanggal harus sesudah 2027-06-01." in captions
    assert live_cohorts() == before and not at.success


def test_pasted_column_reports_matched_not_found_and_other_regency(demo_db):
    target = newest_cohort(SUMENEP)
    sumenep = ikm_with_nib(SUMENEP, not_in=target.id)
    bangkalan = ikm_with_nib(BANGKALAN, not_in=target.id)
    before = members(target.id)
    at = open_page("staf")
    at.selectbox(key="coh_m_pick").set_value(target.id).run()
    at.text_area(key=f"coh_m_paste_{target.id}").input(
        f"{sumenep.nib}\nUsaha Yang Tidak Ada\n{bangkalan.nib}")
    click(at, "Cocokkan dan tambahkan")
    assert at.success[0].value == "1 IKM ditambahkan ke angkatan."
    assert "2 isian tidak ditambahkan: 1 tidak ditemukan · 1 di kabupaten lain" in \
        at.warning[0].value
    reasons = list(next(d.value for d in at.dataframe
                        if "Keterangan" in d.value.columns)["Keterangan"])
    assert reasons == ["Baris 2: 'Usaha Yang Tidak Ada' tidak ditemukan di antara IKM "
                       "kabupaten ini.",
                       f"Baris 3: '{bangkalan.nib}' terdaftar di kabupaten lain."]
    assert members(target.id) == before + 1
    with Session(get_engine()) as s:
        assert s.get(Ikm, sumenep.id).cohort_id == target.id
        assert s.get(Ikm, bangkalan.id).cohort_id == bangkalan.cohort_id  # untouched


def test_members_chosen_from_the_list_join_and_can_be_removed(demo_db):
    target = newest_cohort(SUMENEP)
    other = ikm_with_nib(SUMENEP, not_in=target.id)
    before = members(target.id)
    at = open_page("staf")
    at.selectbox(key="coh_m_pick").set_value(target.id).run()
    at.text_input(key=f"coh_m_search_{target.id}").input(other.nib).run()
    choose = at.multiselect(key=f"coh_m_choose_{target.id}")
    assert choose.options and all(other.nib in o for o in choose.options)
    choose.set_value([other.id]).run()
    click(at, "Tambahkan yang dipilih")
    assert members(target.id) == before + 1
    at.multiselect(key=f"coh_m_remove_{target.id}").set_value([other.id]).run()
    click(at, "Keluarkan dari angkatan")
    assert at.success[0].value == "1 IKM dikeluarkan dari angkatan."
    assert members(target.id) == before
    with Session(get_engine()) as s:
        assert s.get(Ikm, other.id).cohort_id is None


def test_edit_saves_and_a_stale_edit_is_refused(demo_db):
    row = newest_cohort(SUMENEP)
    at = open_page("staf")
    at.selectbox(key="coh_e_pick").set_value(row.id).run()
    prefix = f"coh_e_{row.id}_{row.version}"
    at.number_input(key=f"{prefix}_target").set_value(45)
    click(at, "Simpan perubahan")
    assert "disimpan" in at.success[0].value
    assert cohort_of(row.name).target_participants == 45

    saved = cohort_of(row.name)
    at.text_input(key=f"coh_e_{row.id}_{saved.version}_name").input("Angkatan 3 (dari staf)")
    with write_session(get_engine()) as s:  # someone else saves meanwhile
        update_cohort(s, actor=Actor("admin", Role.admin), cohort_id=row.id,
                      expected_version=saved.version, changes={"notes": "diubah admin"})
    click(at, "Simpan perubahan")
    assert "Data telah diubah oleh orang lain — muat ulang." in [e.value for e in at.error]
    now = cohort_of(row.name)  # nothing overwritten
    assert (now.name, now.notes) == (row.name, "diubah admin")
    click(at, "Muat ulang data terbaru")
    assert at.text_area(key=f"coh_e_{row.id}_{now.version}_notes").value == "diubah admin"


def test_delete_is_refused_while_the_cohort_has_members(demo_db):
    row = first_cohort(SUMENEP)
    at = open_page("admin")
    at.selectbox(key="coh_e_pick").set_value(row.id).run()
    at.checkbox(key=f"coh_e_{row.id}_{row.version}_delete_ok").check().run()
    click(at, "Hapus angkatan")
    assert "masih punya anggota" in at.error[0].value
    assert cohort_of(row.name).deleted_at is None


def test_an_empty_cohort_can_be_deleted(demo_db):
    at = open_page("staf")
    at.text_input(key="coh_new_name").input("Angkatan Coba")
    at.number_input(key="coh_new_year").set_value(clock.today().year)
    click(at, "Buat angkatan")
    row = cohort_of("Angkatan Coba")
    at.selectbox(key="coh_e_pick").set_value(row.id).run()
    at.checkbox(key=f"coh_e_{row.id}_{row.version}_delete_ok").check().run()
    click(at, "Hapus angkatan")
    assert "tempat sampah" in at.success[0].value
    assert cohort_of("Angkatan Coba").deleted_at is not None


def test_viewer_cannot_reach_the_page(demo_db):
    at = make_app("tamu")
    at.run()
    with pytest.raises(ValueError):
        at.switch_page("app_pages/cohorts.py").run()
