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


def new_form(at) -> str:
    """The key prefix of the new-cohort form drawn now (its keys carry its submission token)."""
    return f"coh_new_{at.session_state['form_tokens']['coh_new']}"


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
    assert at.selectbox(key=f"{new_form(at)}_kab").options == ["Sumenep"]
    assert all("Sumenep" in o for o in at.selectbox(key="coh_e_pick").options)
    bangkalan = first_cohort(BANGKALAN)
    at.selectbox(key="coh_m_pick").set_value(bangkalan.id).run()
    assert "di luar wilayah Anda" in " ".join(c.value for c in at.caption)
    assert not [b for b in at.button if b.label == "Cocokkan dan tambahkan"]


def test_staff_creates_a_cohort_in_sumenep_with_an_audit_row(demo_db):
    before = live_cohorts()
    at = open_page("staf")
    assert at.text_input(key=f"{new_form(at)}_partners").value == "BPWS, INOPAK, GIZ"
    assert at.number_input(key=f"{new_form(at)}_target").value == 120
    year = clock.today().year + 1  # next year's cohort, whatever the day
    name = f"Angkatan 4 Sumenep {year}"
    at.text_input(key=f"{new_form(at)}_name").input(name)
    at.date_input(key=f"{new_form(at)}_start").set_value(date(year, 2, 1))
    at.date_input(key=f"{new_form(at)}_end").set_value(date(year, 6, 30))
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
    assert at.text_input(key=f"{new_form(at)}_name").value == ""  # the form is fresh again


def test_bad_input_gets_a_message_per_field_and_writes_nothing(demo_db):
    before = live_cohorts()
    at = open_page("staf")
    at.date_input(key=f"{new_form(at)}_start").set_value(date(2027, 6, 1))
    at.date_input(key=f"{new_form(at)}_end").set_value(date(2027, 3, 1))
    click(at, "Buat angkatan")
    assert "Periksa isian yang ditandai." in at.error[0].value
    captions = [shown(c.value) for c in at.caption]
    assert "**Nama angkatan**: Wajib diisi." in captions
    assert "**Tanggal selesai**: Tanggal harus sesudah 2027-06-01." in captions
    assert live_cohorts() == before and not at.success


def test_pasted_column_reports_matched_not_found_and_other_regency(demo_db):
    target = newest_cohort(SUMENEP)
    sumenep = new_ikm("Kerupuk Tambahan Bu Ani", "3529888877700")  # in no cohort yet
    bangkalan = ikm_with_nib(BANGKALAN, not_in=target.id)
    before = members(target.id)
    at = open_page("staf")
    at.selectbox(key="coh_m_pick").set_value(target.id).run()
    at.text_area(key=f"coh_m_paste_{target.id}").input(
        f"{sumenep.nib}\nUsaha Yang Tidak Ada\n{bangkalan.nib}")
    click(at, "Cocokkan dan tambahkan")
    assert at.success[0].value == "1 IKM ditambahkan ke angkatan."
    warnings = [w.value for w in at.warning]
    assert any("2 isian tidak ditambahkan: 1 tidak ditemukan · 1 di kabupaten lain" in w
               for w in warnings), warnings
    if before + 1 > target.target_participants:  # the demo fills its cohorts to the target
        assert f"Angkatan ini kini punya {before + 1} anggota, melebihi targetnya " \
               f"({target.target_participants})." in warnings
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
    other = new_ikm("Batik Tambahan Bu Nur", "3529888877701")  # in no cohort yet
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
    at.text_input(key=f"{new_form(at)}_name").input("Angkatan Coba")
    at.number_input(key=f"{new_form(at)}_year").set_value(clock.today().year)
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


# --- issue 8: membership moves that ask first, the target, one count of "trained" -----------

def finished_member(kabupaten: str, *, not_in: int) -> tuple[Ikm, Cohort]:
    """A member with an NIB of a cohort of the regency whose training has ended (by the day the
    services see), outside cohort `not_in`."""
    with Session(get_engine()) as s:
        found = s.exec(select(Ikm, Cohort).join(Cohort, Cohort.id == Ikm.cohort_id).where(
            Cohort.kabupaten_code == kabupaten, Cohort.end_on <= clock.today(),
            Cohort.id != not_in, Cohort.deleted_at.is_(None), Ikm.nib.is_not(None),
            Ikm.deleted_at.is_(None)).order_by(Ikm.id)).first()
    assert found is not None, "the demo data should have a finished cohort with members"
    return found


def new_ikm(name: str, nib: str, kabupaten: str = SUMENEP) -> Ikm:
    """An IKM of the regency in no cohort yet."""
    from services.ikm import create_ikm

    with write_session(get_engine()) as s:
        made = create_ikm(s, actor=Actor("admin", Role.admin), data={
            "name": name, "nib": nib, "kabupaten_code": kabupaten,
            "kecamatan_code": f"{kabupaten}.01"})
        return s.get(Ikm, made.id)


def cohort_id_of(ikm_id: int) -> int | None:
    with Session(get_engine()) as s:
        return s.get(Ikm, ikm_id).cohort_id


def paste_and_add(at, cid: int, text: str):
    at.selectbox(key="coh_m_pick").set_value(cid).run()
    at.text_area(key=f"coh_m_paste_{cid}").input(text)
    return click(at, "Cocokkan dan tambahkan")


def test_moving_a_trained_ikm_asks_first_and_moves_only_on_confirmation(demo_db):
    target = newest_cohort(SUMENEP)
    trained, old_cohort = finished_member(SUMENEP, not_in=target.id)
    fresh = new_ikm("Kerupuk Baru Bu Rina", "3529888877771")
    at = paste_and_add(open_page("staf"), target.id, f"{trained.nib}\n{fresh.nib}")
    warning = " ".join(shown(w.value) for w in at.warning)
    assert "1 IKM sudah dilatih di angkatan yang telah selesai" in warning
    assert "Belum ada yang disimpan." in warning
    listed = next(d.value for d in at.dataframe if "Angkatan sekarang" in d.value.columns)
    assert list(listed["Nama usaha"]) == [trained.name]
    assert list(listed["Angkatan sekarang"]) == [old_cohort.name]
    assert (cohort_id_of(trained.id), cohort_id_of(fresh.id)) == (old_cohort.id, None)
    click(at, "Ya, pindahkan 1 IKM ini juga")
    assert at.success[0].value == "2 IKM ditambahkan ke angkatan."
    assert (cohort_id_of(trained.id), cohort_id_of(fresh.id)) == (target.id, target.id)
    assert not [b for b in at.button if b.label == "Ya, pindahkan 1 IKM ini juga"]


def test_adding_without_the_trained_ikm_leaves_them_in_their_cohort(demo_db):
    target = newest_cohort(SUMENEP)
    trained, old_cohort = finished_member(SUMENEP, not_in=target.id)
    fresh = new_ikm("Petis Baru Pak Dul", "3529888877772")
    at = paste_and_add(open_page("staf"), target.id, f"{trained.nib}\n{fresh.nib}")
    click(at, "Tambahkan tanpa mereka")
    assert at.success[0].value == "1 IKM ditambahkan ke angkatan."
    assert any("1 IKM yang sudah dilatih tetap di angkatannya" in shown(i.value)
               for i in at.info)
    assert (cohort_id_of(trained.id), cohort_id_of(fresh.id)) == (old_cohort.id, target.id)


def test_cancelling_the_confirmation_writes_nothing(demo_db):
    target = newest_cohort(SUMENEP)
    trained, old_cohort = finished_member(SUMENEP, not_in=target.id)
    with Session(get_engine()) as s:
        audit_before = s.exec(select(func.count()).select_from(AuditLog)).one()
    at = paste_and_add(open_page("staf"), target.id, trained.nib)
    click(at, "Batal")
    assert not at.warning and cohort_id_of(trained.id) == old_cohort.id
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(AuditLog)).one() == audit_before


def test_the_member_lists_offer_no_select_all(demo_db):
    target = newest_cohort(SUMENEP)
    at = open_page("staf")
    at.selectbox(key="coh_m_pick").set_value(target.id).run()
    for key in (f"coh_m_choose_{target.id}", f"coh_m_remove_{target.id}"):
        assert at.multiselect(key=key).proto.select_all == 0  # Streamlit's default is 1000
    trained, _ = finished_member(SUMENEP, not_in=target.id)
    labels = at.multiselect(key=f"coh_m_choose_{target.id}").options
    assert any(trained.name in label and "sudah dilatih di" in label for label in labels)


def test_going_over_the_target_warns(demo_db):
    at = open_page("staf")
    form = new_form(at)
    at.text_input(key=f"{form}_name").input("Angkatan Kecil")
    at.number_input(key=f"{form}_year").set_value(clock.today().year)
    at.number_input(key=f"{form}_target").set_value(1)
    click(at, "Buat angkatan")
    small = cohort_of("Angkatan Kecil")
    first, second = (new_ikm("Garam Satu", "3529888877773"),
                     new_ikm("Garam Dua", "3529888877774"))
    paste_and_add(at, small.id, first.nib)
    assert not at.warning
    paste_and_add(at, small.id, second.nib)
    assert members(small.id) == 2  # added, and said so
    assert "Angkatan ini kini punya 2 anggota, melebihi targetnya (1)." in \
        [w.value for w in at.warning]


def test_a_double_submit_of_the_new_cohort_form_creates_one_cohort(demo_db):
    before = live_cohorts()
    at = open_page("staf")
    form = new_form(at)
    token = at.session_state["form_tokens"]["coh_new"]
    at.text_input(key=f"{form}_name").input("Angkatan Sekali")
    at.number_input(key=f"{form}_year").set_value(clock.today().year)
    click(at, "Buat angkatan")
    assert live_cohorts() == before + 1 and new_form(at) != form
    at.session_state["form_tokens"] = {**at.session_state["form_tokens"], "coh_new": token}
    at.run()  # the second rerun of a double click: the saved form again, with its token
    at.text_input(key=f"{form}_name").input("Angkatan Sekali")
    at.number_input(key=f"{form}_year").set_value(clock.today().year)
    click(at, "Buat angkatan")
    assert live_cohorts() == before + 1 and not at.error
    assert "Angkatan 'Angkatan Sekali' dibuat." in shown(at.success[0].value)


def test_trained_is_the_same_on_the_overview_and_the_cohort_page(demo_db):
    """Issue 8: the overview said 311 trained and the Angkatan page 320 (leavers were counted
    differently). Both now show services.overview.trained."""
    from services.overview import trained_count

    with Session(get_engine()) as s:
        expected = trained_count(s, as_of=clock.today())
        leavers = s.exec(select(func.count()).select_from(Ikm).where(
            Ikm.status == "keluar", Ikm.cohort_id.is_not(None),
            Ikm.deleted_at.is_(None))).one()
    assert leavers, "the demo data should have members who left"
    at = make_app("admin")
    at.run()
    overview = next(m.value for m in at.metric if m.label == "IKM dilatih")
    at.switch_page("app_pages/cohorts.py").run()
    cohort_page = next(m.value for m in at.metric if m.label == "Dilatih (angkatan selesai)")
    assert overview == cohort_page == f"{expected:,}".replace(",", ".")
    assert progress_table(at)["left"].sum() > 0  # the leavers are shown, apart


def test_taking_trained_members_out_of_a_finished_cohort_asks_first(demo_db):
    """Issue 8: taking members out of a finished cohort lowers the trained count: the page asks
    first and writes nothing until the user says yes."""
    row = first_cohort(SUMENEP)  # the demo's first cohorts ended long before the pinned day
    before = members(row.id)
    with Session(get_engine()) as s:
        member = s.exec(select(Ikm).where(Ikm.cohort_id == row.id)).first()
    at = open_page("staf")
    at.selectbox(key="coh_m_pick").set_value(row.id).run()
    at.multiselect(key=f"coh_m_remove_{row.id}").set_value([member.id]).run()
    at.button(key=f"coh_m_remove_go_{row.id}").click().run()
    assert not at.exception
    assert any("sudah selesai" in shown(w.value) for w in at.warning)
    assert members(row.id) == before  # asked, nothing written
    at.button(key=f"coh_m_remove_yes_{row.id}").click().run()
    assert members(row.id) == before - 1
    with Session(get_engine()) as s:
        assert s.get(Ikm, member.id).cohort_id is None
