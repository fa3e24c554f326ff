"""Changing and deleting an IKM's records in its detail view (Data IKM -> Detail), as staff of
Sumenep: prefilled forms, per-field messages, saves checked against the version the user
opened, deletes only after a confirmation; and the grid's refusal naming the IKM."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from db.engine import get_engine
from models import AuditLog, Certification, Ikm, IkmFinancials, Product
from models.enums import Role
from services import records
from services.permissions import Actor
from tests.pages.conftest import make_app

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
    return f"det_rec_{index}_{ikm_id}_r{record_id}"


def save(at, form: str):
    return at.button(key=f"FormSubmitter:{form}-{SAVE}").click().run()


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


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
    # the form is drawn afresh from the saved record, so a second change is not stale
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
    assert at.text_input(key=f"{form}_number").value == "ORANG-LAIN"
    at.text_input(key=f"{form}_number").input("SAYA")
    save(at, form)
    assert not at.error and cert(before.id).number == "SAYA"


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
    assert not [b for b in at.selectbox if str(b.key).startswith("det_rec_")]


def test_grid_refusal_for_another_regency_names_the_ikm(demo_db):
    at = make_app("staf")
    at.run()
    at.switch_page("app_pages/data_ikm.py").run()
    at.selectbox(key="ikm_f_kab").set_value("35.26").run()
    with Session(get_engine()) as s:
        newest = s.exec(select(Ikm).where(Ikm.kabupaten_code == "35.26",
                                          Ikm.deleted_at.is_(None))
                        .order_by(Ikm.id.desc())).first()
    key = at.session_state["ikm_grid_key"]
    at.session_state[key] = {"edited_rows": {"0": {"owner_name": "Direbut"}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="ikm_grid_save").click().run()
    report = next(d.value for d in at.dataframe if "Alasan" in d.value.columns)
    assert list(report["Baris"]) == [1]
    assert list(report["IKM"]) == [newest.name]
    assert "di luar wilayah Anda" in report.iloc[0]["Alasan"]
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Ikm)
                      .where(Ikm.owner_name == "Direbut")).one() == 0


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
    assert isinstance(at.date_input(key=f"{form}_packaging_upgraded_on").value,
                      date | type(None))


def test_the_ikm_edit_offers_a_working_reload_after_a_stale_save(demo_db):
    at, ikm_id = open_detail()
    with Session(get_engine()) as s:  # someone else saves the IKM after the form was drawn
        from services.ikm import update_ikm

        row = s.get(Ikm, ikm_id)
        update_ikm(s, actor=OTHER, ikm_id=ikm_id, expected_version=row.version,
                   changes={"owner_name": "Orang Lain"})
        s.commit()
    form = f"det_edit_{ikm_id}"
    at.text_input(key=f"{form}_owner_name").input("Saya")
    save(at, form)
    assert any("diubah oleh orang lain" in e.value for e in at.error)
    at.button(key=f"det_ikm_{ikm_id}_reload").click().run()
    assert not at.error
    assert at.text_input(key=f"{form}_owner_name").value == "Orang Lain"
    with Session(get_engine()) as s:
        assert s.get(Ikm, ikm_id).owner_name == "Orang Lain"


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
    pick(at, 1, ikm_id, first)  # the form is drawn afresh, so it is not stale
    assert at.text_input(key=f"{form}_note").value == "baru"
    at.text_input(key=f"{form}_note").input("lebih baru")
    save(at, form)
    assert not at.error and cert(first).note == "lebih baru"


def _certificates(ikm_id: int) -> list[Certification]:
    with Session(get_engine()) as s:
        return list(s.exec(select(Certification).where(Certification.ikm_id == ikm_id)
                           .order_by(Certification.id)))
