"""The Data IKM page as staff use it: filter, page, edit in the grid, add with the form."""

from sqlmodel import Session, func, select

from db.engine import get_engine
from models import AuditLog, Ikm
from tests.pages.conftest import make_app


def cell_report(at):
    """The table of rejected cells the page shows after a refused grid save."""
    return next(d.value for d in at.dataframe if "Alasan" in d.value.columns)


def open_page(username: str):
    at = make_app(username)
    at.run()
    at.switch_page("app_pages/data_ikm.py").run()
    assert not at.exception, at.exception
    return at


def ikm_count() -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count()).select_from(Ikm).where(Ikm.deleted_at.is_(None))).one()


def test_list_pages_and_filters_on_the_server(demo_db):
    at = open_page("tamu")
    assert "480 IKM · halaman 1 dari 10" in at.caption[0].value
    at.selectbox(key="ikm_f_kab").set_value("35.29").run()
    assert "120 IKM" in at.caption[0].value
    at.button(key="ikm_next").click().run()
    assert "halaman 2 dari 3" in at.caption[0].value
    at.text_input(key="ikm_search").input("zzzz-no-such-ikm").run()
    assert "0 IKM" in at.caption[0].value


def test_viewer_gets_no_edit_controls(demo_db):
    at = open_page("tamu")
    assert not [b for b in at.button if b.key == "ikm_grid_save"]
    assert [tab.label for tab in at.tabs][:2] == ["Daftar dan ubah", "Detail"]
    assert "Tambah IKM" not in [tab.label for tab in at.tabs]


def test_staff_adds_an_ikm_with_cascading_location_and_keeps_location_for_the_next(demo_db):
    before = ikm_count()
    at = open_page("staf")
    assert at.selectbox(key="ikm_new_kab").options == ["Sumenep"]  # scoped staff: own regency
    at.text_input(key="ikm_new_name").input("Petis Udang Bu Rahma")
    at.text_input(key="ikm_new_nib").input("3529999988877")
    at.text_input(key="ikm_new_phone").input("0812-3344-5566")
    at.button(key="ikm_new_save_again").click().run()
    assert not at.exception
    assert ikm_count() == before + 1
    assert "Petis Udang Bu Rahma" in at.success[0].value
    assert at.text_input(key="ikm_new_name").value == ""  # cleared for the next record
    with Session(get_engine()) as s:
        row = s.exec(select(Ikm).where(Ikm.nib == "3529999988877")).one()
        assert (row.kabupaten_code, row.phone) == ("35.29", "081233445566")
        assert s.exec(select(AuditLog).where(AuditLog.table_name == "ikm",
                                             AuditLog.row_id == str(row.id))).one()


def test_bad_form_input_gets_messages_and_writes_nothing(demo_db):
    before = ikm_count()
    at = open_page("staf")
    at.text_input(key="ikm_new_nib").input("12345")
    at.text_input(key="ikm_new_emp").input("dua")
    at.button(key="ikm_new_save").click().run()
    assert at.error and ikm_count() == before
    captions = " ".join(c.value for c in at.caption)
    assert "NIB harus 13 digit angka." in captions and "Bukan angka." in captions
    assert "Wajib diisi." in captions


def test_grid_edit_saves_valid_rows_and_lists_rejected_cells(demo_db):
    with Session(get_engine()) as s:  # a head count no IKM has (the demo data depends on the day)
        taken = set(s.exec(select(Ikm.employees).where(Ikm.employees.is_not(None))).all())
    unused = next(n for n in range(77, 10_000) if n not in taken)
    at = open_page("admin")
    key = at.session_state["ikm_grid_key"]
    at.session_state[key] = {"edited_rows": {"0": {"employees": unused}, "1": {"phone": "12"}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="ikm_grid_save").click().run()
    assert "1 isian ditolak; tidak ada yang disimpan." in at.error[0].value
    report = cell_report(at)
    assert list(report["Kolom"]) == ["Telepon"] and list(report["Baris"]) == [2]
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Ikm)
                      .where(Ikm.employees == unused)).one() == 0
    at.session_state[key] = {"edited_rows": {"0": {"employees": unused}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    at.button(key="ikm_grid_save").click().run()
    assert not at.exception
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Ikm)
                      .where(Ikm.employees == unused)).one() == 1


def test_scoped_staff_cannot_edit_another_regency_in_the_grid(demo_db):
    at = open_page("staf")
    at.selectbox(key="ikm_f_kab").set_value("35.26").run()
    key = at.session_state["ikm_grid_key"]
    at.session_state[key] = {"edited_rows": {"0": {"owner_name": "Direbut"}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="ikm_grid_save").click().run()
    assert "di luar wilayah Anda" in cell_report(at).iloc[0]["Alasan"]
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Ikm)
                      .where(Ikm.owner_name == "Direbut")).one() == 0


def test_detail_view_shows_products_certificates_and_history(demo_db):
    at = open_page("kepala")
    chosen = at.selectbox(key="ikm_detail_pick")
    assert chosen.value is not None
    labels = [tab.label for tab in at.tabs]
    assert {"Produk", "Sertifikat", "Riwayat", "Keuangan"} <= set(labels)
    assert "Skala usaha" in [m.label for m in at.metric]


def test_detail_edit_is_version_checked_and_add_product_validates(demo_db):
    at = open_page("admin")
    ikm_id = at.selectbox(key="ikm_detail_pick").value
    with Session(get_engine()) as s:
        row = s.get(Ikm, ikm_id)
        employees = row.employees
    form = f"det_edit_{ikm_id}"
    at.text_input(key=f"{form}_employees").input("41")
    at.button(key=f"FormSubmitter:{form}-Simpan perubahan").click().run()
    assert not at.exception
    with Session(get_engine()) as s:
        assert s.get(Ikm, ikm_id).employees == 41 != employees
    # a product with a price but no name is refused with a message and nothing written
    products = f"det_add_0_{ikm_id}"
    at.text_input(key=f"{products}_price_rp").input("Rp 25.000")
    at.button(key=f"FormSubmitter:{products}-Simpan").click().run()
    assert at.error and any("Wajib diisi." in c.value for c in at.caption)


def test_filtered_list_downloads_as_xlsx_and_csv(demo_db):
    import io

    import openpyxl

    at = open_page("kepala")
    at.selectbox(key="ikm_f_kab").set_value("35.27").run()
    at.button(key="ikm_export_prepare").click().run()
    assert not at.exception
    downloads = at.get("download_button")
    assert len(downloads) == 2
    _, xlsx, csv_bytes = at.session_state["ikm_export"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet.max_row == 121  # a header and Sampang's 120 IKM
    assert csv_bytes.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8


def test_someone_elses_save_in_between_is_not_overwritten(demo_db):
    from models.enums import Role
    from services.ikm import update_ikm
    from services.permissions import Actor

    at = open_page("admin")
    key = at.session_state["ikm_grid_key"]
    first = at.session_state[f"{key}_versions"]
    ikm_id = max(first)  # the list is newest first: row 0
    with Session(get_engine()) as s:  # another browser saves the same IKM meanwhile
        row = s.get(Ikm, ikm_id)
        update_ikm(s, actor=Actor("kepala2", Role.admin), ikm_id=ikm_id,
                   expected_version=row.version, changes={"owner_name": "Orang Lain"})
        s.commit()
    at.session_state[key] = {"edited_rows": {"0": {"owner_name": "Saya"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    at.button(key="ikm_grid_save").click().run()
    assert "diubah oleh orang lain" in cell_report(at).iloc[0]["Alasan"]
    with Session(get_engine()) as s:
        assert s.get(Ikm, ikm_id).owner_name == "Orang Lain"
