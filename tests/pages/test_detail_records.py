"""Changing and deleting an IKM's records in its detail view (Data IKM -> Detail), as staff of
Sumenep: prefilled forms, per-field messages, saves checked against the version the user
opened, deletes only after a confirmation; and the grid's refusal naming the IKM."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from db.engine import get_engine
from models import (
    AuditLog,
    Certification,
    CoachingAction,
    Cohort,
    ExportRecord,
    Ikm,
    IkmFinancials,
    Product,
)
from models.enums import Role
from services import records
from services.permissions import Actor
from tests.pages.conftest import make_app, shown
from tests.pages.ikm_page import open_tab

SUMENEP = "35.29"
OTHER = Actor("kepala2", Role.admin)  # someone else, saving in another browser
SAVE = "Simpan perubahan"


def open_detail(username: str = "staf"):
    """Data IKM -> Detail on a listed Sumenep IKM with a product, an issued certificate and at
    least two certificates (chosen from the data, which depends on the day it was generated);
    returns the app and that IKM's id."""
    at = make_app(username)
    at.run()
    at.switch_page("app_pages/data_ikm.py").run()
    at.selectbox(key="ikm_f_kab").set_value(SUMENEP).run()
    open_tab(at, "detail")
    assert not at.exception, at.exception
    picker = at.selectbox(key="ikm_detail_pick")
    with Session(get_engine()) as s:
        certs = dict(s.exec(select(Certification.ikm_id, func.count())
                            .group_by(Certification.ikm_id)).all())
        issued = set(s.exec(select(Certification.ikm_id)
                            .where(Certification.issued_on.is_not(None))).all())
        with_products = set(s.exec(select(Product.ikm_id)
                                   .where(Product.deleted_at.is_(None))).all())
    listed = [int(re.search(r"#(\d+)\)$", label).group(1)) for label in picker.options]
    suitable = [i for i in listed if certs.get(i, 0) >= 2 and i in issued and i in with_products]
    assert suitable, "no listed Sumenep IKM has a product and two certificates"
    if picker.value != suitable[0]:
        picker.set_value(suitable[0]).run()
        assert not at.exception, at.exception
    return at, at.selectbox(key="ikm_detail_pick").value


def issued_certificate(ikm_id: int) -> Certification:
    """A certificate of the IKM with an issue date (the demo data has some on every IKM)."""
    with Session(get_engine()) as s:
        found = s.exec(select(Certification).where(Certification.ikm_id == ikm_id,
                                                   Certification.issued_on.is_not(None))
                       .order_by(Certification.id)).first()
    assert found is not None, "the demo IKM should have an issued certificate"
    return found


def cert(cert_id: int) -> Certification:
    with Session(get_engine()) as s:
        return s.get(Certification, cert_id)


def pick(at, index: int, ikm_id: int, record_id: int) -> str:
    """Choose a record in a tab's 'Ubah atau hapus' picker; return its form key."""
    at.selectbox(key=f"det_rec_{index}_{ikm_id}_pick").set_value(record_id).run()
    assert not at.exception, at.exception
    return form_of(at, f"det_rec_{index}_{ikm_id}")


def form_of(at, slot: str) -> str:
    """The key of the edit form drawn now for a slot: a new one for every snapshot of the record
    (after a save, a reload, a visit elsewhere), so the browser shows the stored values."""
    return at.session_state[slot]["form"]


def save(at, form: str):
    return at.button(key=f"FormSubmitter:{form}-{SAVE}").click().run()


def captions(at) -> str:
    return " ".join(shown(c.value) for c in at.caption)


def test_staff_changes_a_certificate_from_a_prefilled_form(demo_db):
    at, ikm_id = open_detail()
    before = issued_certificate(ikm_id)
    form = pick(at, 1, ikm_id, before.id)
    # prefilled with the record's values, dates as dates
    assert at.date_input(key=f"{form}_issued_on").value == before.issued_on
    assert at.text_input(key=f"{form}_number").value == (before.number or "")
    assert at.selectbox(key=f"{form}_status").value == before.status
    at.text_input(key=f"{form}_number").input("HALAL-ID-0042")
    save(at, form)
    assert not at.exception and not at.error
    after = cert(before.id)
    assert after.number == "HALAL-ID-0042" and after.version == before.version + 1
    assert after.updated_by == "staf"
    assert "Perubahan disimpan." in [s.value for s in at.success]
    with Session(get_engine()) as s:
        assert s.exec(select(AuditLog).where(AuditLog.table_name == "certification",
                                             AuditLog.row_id == str(before.id),
                                             AuditLog.action == "update")).one()
    # the history says it in words: "diubah", "Sertifikat", before -> after
    history = next(d.value for d in at.dataframe if "Sebelum → sesudah" in d.value.columns)
    top = history.iloc[0]
    assert (top["Aksi"], top["Oleh"]) == ("diubah", "staf")
    assert top["Data"].startswith("Sertifikat")
    assert "HALAL-ID-0042" in top["Sebelum → sesudah"]
    # the form is drawn afresh (new keys) from the saved record, so a second change is not stale
    assert form_of(at, f"det_rec_1_{ikm_id}") != form
    form = form_of(at, f"det_rec_1_{ikm_id}")
    assert at.text_input(key=f"{form}_number").value == "HALAL-ID-0042"
    at.text_input(key=f"{form}_note").input("diperbarui")
    save(at, form)
    assert not at.error and cert(before.id).note == "diperbarui"


def test_expiry_before_issue_is_refused_with_a_message_and_nothing_written(demo_db):
    at, ikm_id = open_detail()
    before = issued_certificate(ikm_id)
    form = pick(at, 1, ikm_id, before.id)
    at.text_input(key=f"{form}_number").input("TIDAK-TERSIMPAN")
    at.date_input(key=f"{form}_expires_on").set_value(before.issued_on - timedelta(days=1))
    save(at, form)
    assert at.error
    expected = f"Berlaku sampai**: Tanggal harus sesudah {before.issued_on.isoformat()}."
    assert expected in captions(at), captions(at)
    after = cert(before.id)
    assert (after.number, after.expires_on, after.version) == \
        (before.number, before.expires_on, before.version)
    # the user's input stays in the form to be corrected
    assert at.text_input(key=f"{form}_number").value == "TIDAK-TERSIMPAN"


def test_a_save_after_someone_elses_change_is_refused_and_reload_shows_theirs(demo_db):
    at, ikm_id = open_detail()
    before = issued_certificate(ikm_id)
    form = pick(at, 1, ikm_id, before.id)  # the user opens the record ...
    with Session(get_engine()) as s:  # ... someone else saves it meanwhile ...
        records.update_certification(s, actor=OTHER, certification_id=before.id,
                                     expected_version=before.version,
                                     changes={"number": "ORANG-LAIN"})
        s.commit()
    at.text_input(key=f"{form}_number").input("SAYA")  # ... and the user saves on top
    save(at, form)
    assert any("diubah oleh orang lain" in e.value for e in at.error)
    assert cert(before.id).number == "ORANG-LAIN"
    # the refusal stays on screen with a reload button until the user reloads
    at.run()
    assert any("diubah oleh orang lain" in e.value for e in at.error)
    at.button(key=f"det_rec_1_{ikm_id}_reload").click().run()
    assert not at.error
    reloaded = form_of(at, f"det_rec_1_{ikm_id}")
    assert reloaded != form  # new keys: the browser drops what was typed into the old form
    stored = cert(before.id)
    assert at.text_input(key=f"{reloaded}_number").value == "ORANG-LAIN"
    assert at.text_input(key=f"{reloaded}_note").value == (stored.note or "")
    assert at.date_input(key=f"{reloaded}_issued_on").value == stored.issued_on
    assert at.selectbox(key=f"{reloaded}_status").value == stored.status
    at.text_input(key=f"{reloaded}_note").input("catatan saya")  # a change of another field
    save(at, reloaded)
    assert not at.error
    assert (cert(before.id).number, cert(before.id).note) == ("ORANG-LAIN", "catatan saya")


def test_delete_needs_the_confirmation_then_removes_the_certificate(demo_db):
    at, ikm_id = open_detail()
    target = issued_certificate(ikm_id)
    labels = at.selectbox(key=f"det_rec_1_{ikm_id}_pick").options
    form = pick(at, 1, ikm_id, target.id)
    assert at.button(key=f"{form}_del").disabled
    at.checkbox(key=f"{form}_del_ok").check().run()
    assert not at.button(key=f"{form}_del").disabled
    at.button(key=f"{form}_del").click().run()
    assert not at.exception and not at.error
    assert cert(target.id) is None
    assert "Data dihapus." in [s.value for s in at.success]
    picker = at.selectbox(key=f"det_rec_1_{ikm_id}_pick")
    assert picker.value is None and len(picker.options) == len(labels) - 1


def test_deleting_a_product_moves_it_to_the_trash(demo_db):
    at, ikm_id = open_detail()
    with Session(get_engine()) as s:
        product = s.exec(select(Product).where(Product.ikm_id == ikm_id,
                                               Product.deleted_at.is_(None))).first()
    form = pick(at, 0, ikm_id, product.id)
    assert at.text_input(key=f"{form}_name").value == product.name
    assert at.button(key=f"{form}_del").disabled  # not before the confirmation
    at.checkbox(key=f"{form}_del_ok").check().run()
    at.button(key=f"{form}_del").click().run()
    assert not at.error
    with Session(get_engine()) as s:
        row = s.get(Product, product.id)
        assert row is not None and row.deleted_at is not None  # soft: an admin can restore it
    assert any(product.name in s.value and "tempat sampah" in s.value for s in at.success)


def test_a_year_of_figures_is_changed_and_checked_against_what_was_opened(demo_db):
    at, ikm_id = open_detail()
    with Session(get_engine()) as s:
        year = s.exec(select(IkmFinancials).where(IkmFinancials.ikm_id == ikm_id)
                      .order_by(IkmFinancials.year.desc())).first()
    if year is None:
        pytest.skip("the demo IKM has no financials")
    form = pick(at, 5, ikm_id, year.id)
    shown = f"{year.revenue_rp:,}".replace(",", ".") if year.revenue_rp is not None else ""
    assert at.text_input(key=f"{form}_revenue_rp").value == shown  # rupiah grouped: 1.500.000
    at.text_input(key=f"{form}_revenue_rp").input("Rp 987.654.321")
    at.text_input(key=f"{form}_export_revenue_rp").input("")
    save(at, form)
    assert not at.error, [e.value for e in at.error]
    with Session(get_engine()) as s:
        assert s.get(IkmFinancials, year.id).revenue_rp == 987_654_321
    form = form_of(at, f"det_rec_5_{ikm_id}")  # drawn afresh from the saved year
    # someone else changes the year; the open form's save is refused
    with Session(get_engine()) as s:
        records.upsert_financials(s, actor=OTHER, ikm_id=ikm_id,
                                  data={"year": year.year, "revenue_rp": 5})
        s.commit()
    at.text_input(key=f"{form}_revenue_rp").input("6")
    save(at, form)
    assert any("diubah oleh orang lain" in e.value for e in at.error)
    with Session(get_engine()) as s:
        assert s.get(IkmFinancials, year.id).revenue_rp == 5


def test_viewer_and_other_regency_get_no_edit_pickers(demo_db):
    at, _ = open_detail("tamu")
    assert not [b for b in at.selectbox if str(b.key).startswith("det_rec_")]
    at, _ = open_detail("staf")
    at.selectbox(key="ikm_f_kab").set_value("35.26").run()  # Bangkalan: not staf's regency
    picker = at.selectbox(key="ikm_detail_pick")  # the IKM open stays first; then Bangkalan's
    picker.set_value(picker.options and int(re.search(r"#(\d+)\)$", picker.options[1])
                                             .group(1))).run()
    assert not [b for b in at.selectbox if str(b.key).startswith("det_rec_")]


def test_grid_refusal_names_the_ikm(demo_db):
    at = make_app("staf")
    at.run()
    at.switch_page("app_pages/data_ikm.py").run()
    at.selectbox(key="ikm_f_kab").set_value(SUMENEP).run()
    key = at.session_state["ikm_grid_key"]
    second = list(at.session_state[f"{key}_versions"])[1]
    with Session(get_engine()) as s:
        listed = s.get(Ikm, second)
    at.session_state[key] = {"edited_rows": {"1": {"phone": "12"}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="ikm_grid_save").click().run()
    report = next(d.value for d in at.dataframe if "Alasan" in d.value.columns)
    assert list(report["Baris"]) == [2]
    assert list(report["IKM"]) == [listed.name]
    assert "Nomor telepon tidak valid" in report.iloc[0]["Alasan"]
    with Session(get_engine()) as s:
        assert s.get(Ikm, second).version == listed.version


def test_money_and_dates_prefill_so_an_unchanged_save_changes_nothing(demo_db):
    at, ikm_id = open_detail()
    with Session(get_engine()) as s:
        product = s.exec(select(Product).where(Product.ikm_id == ikm_id,
                                               Product.deleted_at.is_(None))).first()
    form = pick(at, 0, ikm_id, product.id)
    save(at, form)
    assert not at.error, captions(at)
    with Session(get_engine()) as s:
        again = s.get(Product, product.id)
    assert again.version == product.version  # nothing differed, nothing written
    form = form_of(at, f"det_rec_0_{ikm_id}")
    assert isinstance(at.date_input(key=f"{form}_packaging_upgraded_on").value,
                      date | type(None))


def test_the_ikm_edit_offers_a_working_reload_after_a_stale_save(demo_db):
    """Issue 8: after a refused stale save, "Muat ulang data terbaru" showed the colleague's
    value in the header while the field kept the user's text, and the next save overwrote the
    colleague's change. After a reload every field shows what is stored."""
    at, ikm_id = open_detail()
    with Session(get_engine()) as s:  # someone else saves the IKM after the form was drawn
        from services.ikm import update_ikm

        row = s.get(Ikm, ikm_id)
        update_ikm(s, actor=OTHER, ikm_id=ikm_id, expected_version=row.version,
                   changes={"owner_name": "Orang Lain", "address": "Jl. Orang Lain 1"})
        s.commit()
    form = form_of(at, f"det_ikm_{ikm_id}")
    at.text_input(key=f"{form}_owner_name").input("Saya")
    at.text_input(key=f"{form}_address").input("Jl. Saya 2")
    save(at, form)
    assert any("diubah oleh orang lain" in e.value for e in at.error)
    at.button(key=f"det_ikm_{ikm_id}_reload").click().run()
    assert not at.error
    reloaded = form_of(at, f"det_ikm_{ikm_id}")
    assert reloaded != form  # new keys: the browser cannot keep the typed text
    with Session(get_engine()) as s:
        stored = s.get(Ikm, ikm_id)
    for name in ("name", "owner_name", "phone", "address", "founded_year", "employees"):
        value = getattr(stored, name)
        assert at.text_input(key=f"{reloaded}_{name}").value == \
            ("" if value is None else str(value)), name
    at.text_input(key=f"{reloaded}_phone").input("081234000111")  # change another field only
    save(at, reloaded)
    assert not at.error
    with Session(get_engine()) as s:
        after = s.get(Ikm, ikm_id)
    assert (after.owner_name, after.address, after.phone) == \
        ("Orang Lain", "Jl. Orang Lain 1", "081234000111")


def test_reopening_a_record_shows_its_current_values_and_saves(demo_db):
    at, ikm_id = open_detail()
    first, second = [c.id for c in _certificates(ikm_id)[:2]]
    form = pick(at, 1, ikm_id, first)
    with Session(get_engine()) as s:  # changed by someone else while the user looks ...
        row = s.get(Certification, first)
        records.update_certification(s, actor=OTHER, certification_id=first,
                                     expected_version=row.version, changes={"note": "baru"})
        s.commit()
    pick(at, 1, ikm_id, second)  # ... who then looks at another record and comes back:
    again = pick(at, 1, ikm_id, first)  # the form is drawn afresh, so it is not stale
    assert again != form
    form = again
    assert at.text_input(key=f"{form}_note").value == "baru"
    at.text_input(key=f"{form}_note").input("lebih baru")
    save(at, form)
    assert not at.error and cert(first).note == "lebih baru"


def _certificates(ikm_id: int) -> list[Certification]:
    with Session(get_engine()) as s:
        return list(s.exec(select(Certification).where(Certification.ikm_id == ikm_id)
                           .order_by(Certification.id)))


def test_an_add_form_writes_once_and_is_drawn_again_empty(demo_db):
    """Every add form of the detail view carries a submission token: after a save it is drawn
    under a new one (empty), and a second submit of the saved form writes nothing."""
    at, ikm_id = open_detail()
    slot = f"det_add_4_{ikm_id}"  # coaching: no field needs a choice
    token = at.session_state["form_tokens"][slot]

    def coaching_count() -> int:
        with Session(get_engine()) as s:
            return s.exec(select(func.count()).select_from(CoachingAction)
                          .where(CoachingAction.ikm_id == ikm_id)).one()

    def fill_and_submit(form: str) -> None:
        at.text_input(key=f"{form}_text").input("Perbaiki label gizi kemasan")
        at.text_input(key=f"{form}_owner").input("Bu Laila")
        at.button(key=f"FormSubmitter:{form}-Simpan").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]

    before = coaching_count()
    fill_and_submit(f"{slot}_{token}")
    assert coaching_count() == before + 1
    assert "Data ditambahkan." in [x.value for x in at.success]
    fresh = at.session_state["form_tokens"][slot]
    assert fresh != token and at.text_input(key=f"{slot}_{fresh}_text").value == ""
    # the second rerun of a double click, still carrying the saved form's token
    at.session_state["form_tokens"] = {**at.session_state["form_tokens"], slot: token}
    at.run()
    fill_and_submit(f"{slot}_{token}")
    assert coaching_count() == before + 1
    assert "Data ditambahkan." in [x.value for x in at.success]


def test_bad_input_in_an_add_form_keeps_the_form_and_writes_nothing(demo_db):
    at, ikm_id = open_detail()
    slot = f"det_add_3_{ikm_id}"  # exports
    form = f"{slot}_{at.session_state['form_tokens'][slot]}"
    with Session(get_engine()) as s:
        exports = s.exec(select(func.count()).select_from(ExportRecord)).one()
    at.text_input(key=f"{form}_value_usd").input("banyak")
    at.button(key=f"FormSubmitter:{form}-Simpan").click().run()
    assert at.error and "Bukan angka." in captions(at)
    assert f"{slot}_{at.session_state['form_tokens'][slot]}" == form  # the same form stays
    assert at.text_input(key=f"{form}_value_usd").value == "banyak"
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(ExportRecord)).one() == exports


def test_moving_a_trained_ikm_to_another_cohort_asks_first(demo_db):
    """Issue 8: a cohort change must not silently take a trained IKM out of a finished cohort
    (the trained count drops): the save is refused with the cohort named, a confirmation
    appears, and only with it ticked does the IKM move."""
    from services import clock
    from services.overview import finished_cohorts

    at, _ikm_id = open_detail()
    picker = at.selectbox(key="ikm_detail_pick")
    listed = [int(re.search(r"#(\d+)\)$", label).group(1)) for label in picker.options]
    with Session(get_engine()) as s:  # a listed Sumenep IKM trained in a finished cohort
        ikm = s.exec(select(Ikm).where(Ikm.id.in_(listed),
                                       Ikm.cohort_id.in_(finished_cohorts(clock.today())))
                     .order_by(Ikm.id)).first()
        done = s.get(Cohort, ikm.cohort_id)
        other = s.exec(select(Cohort).where(Cohort.kabupaten_code == SUMENEP,
                                            Cohort.id != ikm.cohort_id)).first()
    picker.set_value(ikm.id).run()
    form = form_of(at, f"det_ikm_{ikm.id}")
    at.selectbox(key=f"{form}_cohort_id").set_value(other.id)
    save(at, form)
    assert done.name in captions(at), captions(at)
    with Session(get_engine()) as s:
        assert s.get(Ikm, ikm.id).cohort_id == done.id  # nothing written
    at.checkbox(key=f"{form}_move_trained").check().run()
    save(at, form)
    assert not at.error
    with Session(get_engine()) as s:
        assert s.get(Ikm, ikm.id).cohort_id == other.id
