"""The Data IKM page as staff use it: filter, page, edit in the grid, add with the form."""

from sqlmodel import Session, func, select

from db import write_session
from db.engine import get_engine
from models import AuditLog, Ikm
from models.enums import Role
from services.ikm import create_ikm, update_ikm
from services.permissions import Actor
from tests.pages.conftest import make_app
from tests.pages.ikm_page import open_tab

OTHER = Actor("kepala2", Role.admin)  # someone else, saving in another browser


def cell_report(at):
    """The table of rejected cells the page shows after a refused grid save."""
    return next(d.value for d in at.dataframe if "Alasan" in d.value.columns)


def new_form(at) -> str:
    """The key prefix of the add form drawn now (opening its tab first): its widget keys carry
    its submission token."""
    if at.session_state["ikm_tab_id"] != "add":
        open_tab(at, "add")
    return f"ikm_new_{at.session_state['form_tokens']['ikm_new']}"


def editor(at):
    """The editable grid (st.data_editor), or None when the page shows none."""
    return next((d for d in at.dataframe if d.proto.editing_mode), None)


def read_only_tables(at) -> list:
    """The read-only tables of IKM (not the grid), as DataFrames."""
    return [d.value for d in at.dataframe
            if not d.proto.editing_mode and "kabupaten" in d.value.columns]


def edit_grid(at, edited_rows: dict):
    """Put cell edits into the grid as the browser would, and rerun."""
    at.session_state[at.session_state["ikm_grid_key"]] = {
        "edited_rows": edited_rows, "added_rows": [], "deleted_rows": []}
    return at.run()


def owner_of(ikm_id: int) -> str | None:
    with Session(get_engine()) as s:
        return s.get(Ikm, ikm_id).owner_name


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
    assert [tab.label for tab in at.tabs][:2] == ["Daftar", "Detail"]  # nothing to edit
    assert "Tambah IKM" not in [tab.label for tab in at.tabs]


def test_staff_adds_an_ikm_in_one_form_and_keeps_the_place_for_the_next(demo_db):
    before = ikm_count()
    at = open_page("staf")
    form = new_form(at)
    offered = at.selectbox(key=f"{form}_kecamatan_code").options[1:]
    assert offered and all(o.endswith(" — Sumenep") for o in offered)  # scoped: own regency
    at.selectbox(key=f"{form}_kecamatan_code").select_index(2)
    at.text_input(key=f"{form}_name").input("Petis Udang Bu Rahma")
    at.text_input(key=f"{form}_nib").input("3529999988877")
    at.text_input(key=f"{form}_phone").input("0812-3344-5566")
    at.button(key=f"{form}_save_again").click().run()
    assert not at.exception
    assert ikm_count() == before + 1
    assert "Petis Udang Bu Rahma" in at.success[0].value
    again = new_form(at)
    assert again != form  # a fresh token: the next form has widgets the browser has not seen
    assert at.text_input(key=f"{again}_name").value == ""  # cleared for the next record
    assert at.text_input(key=f"{again}_nib").value == ""
    assert at.selectbox(key=f"{again}_kecamatan_code").index == 2  # the place is kept
    at.text_input(key=f"{again}_name").input("Petis Udang Pak Rahmat")
    at.button(key=f"{again}_save").click().run()  # plain "Simpan": the place is not kept
    assert ikm_count() == before + 2
    assert at.selectbox(key=f"{new_form(at)}_kecamatan_code").value is None
    with Session(get_engine()) as s:
        row = s.exec(select(Ikm).where(Ikm.nib == "3529999988877")).one()
        assert (row.kabupaten_code, row.phone) == ("35.29", "081233445566")
        assert s.exec(select(AuditLog).where(AuditLog.table_name == "ikm",
                                             AuditLog.row_id == str(row.id))).one()


def test_bad_form_input_gets_messages_and_writes_nothing(demo_db):
    before = ikm_count()
    at = open_page("staf")
    form = new_form(at)
    at.text_input(key=f"{form}_nib").input("12345")
    at.text_input(key=f"{form}_employees").input("dua")
    at.button(key=f"{form}_save").click().run()
    assert at.error and ikm_count() == before
    summary = at.error[0].value  # at the top of the form, every field named
    assert "4 isian perlu diperbaiki" in summary
    assert all(f in summary for f in ("Nama usaha", "Kecamatan", "NIB", "Pekerja"))
    marks = " ".join(h.proto.body for h in at.get("html"))  # and each field marked under it
    assert marks.count('class="ikm-field-error"') == 4
    assert "NIB harus 13 digit angka." in marks and "Bukan angka." in marks
    assert marks.count("Wajib diisi.") == 2  # the name and the kecamatan
    # nothing was saved: the same form (and token) stays, with the input to correct
    assert new_form(at) == form and at.text_input(key=f"{form}_nib").value == "12345"


def test_a_saved_form_is_drawn_empty_and_its_second_submit_writes_nothing(demo_db):
    """Issue 8: a second press of Simpan (a double click) created a second, identical IKM."""
    before = ikm_count()
    at = open_page("staf")
    form = new_form(at)
    token = at.session_state["form_tokens"]["ikm_new"]
    typed = {"name": "Rengginang Lorjuk Bu Sri", "owner_name": "Sri Wahyuni",
             "phone": "081299887766", "employees": "4"}
    for name, value in typed.items():
        at.text_input(key=f"{form}_{name}").input(value)
    at.selectbox(key=f"{form}_kecamatan_code").select_index(1)
    at.button(key=f"{form}_save").click().run()
    assert not at.exception and not at.error
    assert ikm_count() == before + 1
    saved = "IKM «Rengginang Lorjuk Bu Sri» disimpan."
    assert saved in [shown.value for shown in at.success]
    fresh = new_form(at)
    assert fresh != form
    assert all(at.text_input(key=f"{fresh}_{name}").value == "" for name in typed)
    # The second rerun of a double click still carries the saved form (its token): drawn
    # again with the same values and submitted, it writes nothing and shows the first result.
    at.session_state["form_tokens"] = {**at.session_state["form_tokens"], "ikm_new": token}
    at.run()
    for name, value in typed.items():
        at.text_input(key=f"{form}_{name}").input(value)
    at.selectbox(key=f"{form}_kecamatan_code").select_index(1)
    at.button(key=f"{form}_save").click().run()
    assert not at.exception and not at.error
    assert ikm_count() == before + 1
    assert saved in [shown.value for shown in at.success]
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Ikm)
                      .where(Ikm.name == "Rengginang Lorjuk Bu Sri")).one() == 1


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


def test_scoped_staff_sees_other_regencies_read_only_not_in_the_grid(demo_db):
    """Rows outside a scoped staff member's regency are never offered for editing: they are
    listed in a read-only table, and the grid holds only the regency's own rows."""
    at = open_page("staf")
    at.selectbox(key="ikm_f_kab").set_value("35.26").run()  # Bangkalan only: nothing to edit
    assert editor(at) is None
    assert not [b for b in at.button if b.key == "ikm_grid_save"]
    tables = read_only_tables(at)
    assert len(tables) == 1 and len(tables[0]) == 50 and set(tables[0]["kabupaten"]) == \
        {"Bangkalan"}
    assert any("di luar wilayah Anda (Bangkalan)" in c.value for c in at.caption)
    # a page that mixes regencies: Sumenep rows in the grid, the others read-only below it
    with Session(get_engine()) as s:  # the list is newest first
        listed = s.exec(select(Ikm.kabupaten_code).where(Ikm.deleted_at.is_(None))
                        .order_by(Ikm.id.desc())).all()
    mixed = next(n for n in range(len(listed) // 100 + 1)
                 if "35.29" in listed[n * 100:n * 100 + 100]
                 and set(listed[n * 100:n * 100 + 100]) != {"35.29"})
    at.selectbox(key="ikm_f_kab").set_value(None).run()
    at.selectbox(key="ikm_page_size").set_value(100).run()
    for _ in range(mixed):
        at.button(key="ikm_next").click().run()
    grid = editor(at).value
    others = read_only_tables(at)[0]
    assert set(grid["kabupaten"]) == {"Sumenep"} and len(grid) + len(others) == 100
    assert "Sumenep" not in set(others["kabupaten"])
    edit_grid(at, {"0": {"owner_name": "Pemilik Baru Sumenep"}})
    at.button(key="ikm_grid_save").click().run()
    assert not at.error and "1 baris disimpan." in [x.value for x in at.success]
    with Session(get_engine()) as s:
        row = s.exec(select(Ikm).where(Ikm.owner_name == "Pemilik Baru Sumenep")).one()
        assert row.kabupaten_code == "35.29"


def test_grid_after_a_save_in_the_detail_form_is_not_stale(demo_db):
    """Issue 8: after the user's own save elsewhere, the grid refused the next edit as changed
    by someone else; any write now gives the grid fresh rows and versions."""
    at = open_page("admin")
    key = at.session_state["ikm_grid_key"]
    open_tab(at, "detail")
    ikm_id = at.selectbox(key="ikm_detail_pick").value
    row = list(at.session_state[f"{key}_versions"]).index(ikm_id)
    form = at.session_state[f"det_ikm_{ikm_id}"]["form"]
    at.text_input(key=f"{form}_employees").input("17")
    at.button(key=f"FormSubmitter:{form}-Simpan perubahan").click().run()
    assert not at.error
    key = at.session_state["ikm_grid_key"]
    with Session(get_engine()) as s:
        assert at.session_state[f"{key}_versions"][ikm_id] == s.get(Ikm, ikm_id).version
    edit_grid(at, {str(row): {"owner_name": "Pemilik Sesudah Detail"}})
    at.button(key="ikm_grid_save").click().run()
    assert not at.error, [e.value for e in at.error]
    with Session(get_engine()) as s:
        saved = s.get(Ikm, ikm_id)
        assert (saved.employees, saved.owner_name) == (17, "Pemilik Sesudah Detail")


def test_grid_after_an_add_form_save_is_not_stale(demo_db):
    at = open_page("staf")
    form = new_form(at)
    at.text_input(key=f"{form}_name").input("Keripik Tette Bu Ani")
    at.selectbox(key=f"{form}_kecamatan_code").select_index(1)
    at.button(key=f"{form}_save").click().run()
    assert not at.error
    first = editor(at).value.iloc[0]
    assert first["name"] == "Keripik Tette Bu Ani"  # the new IKM is listed at once
    edit_grid(at, {"0": {"owner_name": "Ani"}, "1": {"owner_name": "Pemilik Kedua"}})
    at.button(key="ikm_grid_save").click().run()
    assert not at.error and "2 baris disimpan." in [x.value for x in at.success]


def test_pending_grid_edits_keep_their_rows_and_reload_drops_them(demo_db):
    at = open_page("admin")
    key = at.session_state["ikm_grid_key"]
    shown = list(at.session_state[f"{key}_versions"])  # the ids of rows 0, 1, ...
    edit_grid(at, {"0": {"owner_name": "Pemilik Baris Satu"}})
    with write_session(get_engine()) as s:  # meanwhile someone adds an IKM (the newest: row 0)
        newest = create_ikm(s, actor=OTHER, data={"name": "IKM Orang Lain",
                                                   "kabupaten_code": "35.26",
                                                   "kecamatan_code": "35.26.01"}).id
    at.run()
    assert any("Data telah berubah" in i.value for i in at.info)
    assert at.session_state["ikm_grid_key"] == key  # the edits keep the rows they were made on
    at.button(key="ikm_grid_save").click().run()
    assert not at.error
    assert owner_of(shown[0]) == "Pemilik Baris Satu" and owner_of(newest) is None
    # a reload drops pending edits and shows the rows and versions stored now
    edit_grid(at, {"0": {"owner_name": "Tidak Disimpan"}})
    at.button(key="ikm_grid_reload").click().run()
    fresh = at.session_state["ikm_grid_key"]
    assert fresh != key
    assert list(at.session_state[f"{fresh}_versions"])[0] == newest
    assert at.button(key="ikm_grid_save").disabled
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Ikm)
                      .where(Ikm.owner_name == "Tidak Disimpan")).one() == 0


def test_detail_view_shows_products_certificates_and_history(demo_db):
    at = open_tab(open_page("kepala"), "detail")
    chosen = at.selectbox(key="ikm_detail_pick")
    assert chosen.value is not None
    labels = [tab.label for tab in at.tabs]
    assert {"Produk", "Sertifikat", "Riwayat", "Keuangan"} <= set(labels)
    assert "Skala usaha" in [m.label for m in at.metric]


def test_detail_edit_is_version_checked_and_add_product_validates(demo_db):
    at = open_tab(open_page("admin"), "detail")
    ikm_id = at.selectbox(key="ikm_detail_pick").value
    with Session(get_engine()) as s:
        row = s.get(Ikm, ikm_id)
        employees = row.employees
    form = at.session_state[f"det_ikm_{ikm_id}"]["form"]
    at.text_input(key=f"{form}_employees").input("41")
    at.button(key=f"FormSubmitter:{form}-Simpan perubahan").click().run()
    assert not at.exception
    with Session(get_engine()) as s:
        assert s.get(Ikm, ikm_id).employees == 41 != employees
    # a product with a price but no name is refused with a message and nothing written
    products = f"det_add_0_{ikm_id}_{at.session_state['form_tokens'][f'det_add_0_{ikm_id}']}"
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
    at = open_page("admin")
    key = at.session_state["ikm_grid_key"]
    first = at.session_state[f"{key}_versions"]
    ikm_id = max(first)  # the list is newest first: row 0
    with Session(get_engine()) as s:  # another browser saves the same IKM meanwhile
        row = s.get(Ikm, ikm_id)
        update_ikm(s, actor=OTHER, ikm_id=ikm_id,
                   expected_version=row.version, changes={"owner_name": "Orang Lain"})
        s.commit()
    at.session_state[key] = {"edited_rows": {"0": {"owner_name": "Saya"}}, "added_rows": [],
                             "deleted_rows": []}
    at.run()
    at.button(key="ikm_grid_save").click().run()
    assert "diubah oleh orang lain" in cell_report(at).iloc[0]["Alasan"]
    with Session(get_engine()) as s:
        assert s.get(Ikm, ikm_id).owner_name == "Orang Lain"


def test_filters_page_and_tab_survive_leaving_the_page_and_switching_language(demo_db):
    """Issue 9: a search came back empty after a visit elsewhere, and a language switch reset
    the tab and left the filters saying "Semua" in English."""
    at = open_page("admin")
    at.text_input(key="ikm_search").input("a").run()
    at.selectbox(key="ikm_f_kab").set_value("35.27").run()
    at.button(key="ikm_next").click().run()
    counted = at.caption[0].value
    assert "halaman 2 dari" in counted
    at.switch_page("app_pages/overview.py").run()
    at.switch_page("app_pages/data_ikm.py").run()
    assert at.text_input(key="ikm_search").value == "a"
    assert at.selectbox(key="ikm_f_kab").value == "35.27"
    assert at.caption[0].value == counted  # the same rows, the same page
    open_tab(at, "detail")
    at.button_group(key="lang_switch").set_value("en").run()  # the sidebar's language switch
    assert not at.exception
    assert at.session_state["ikm_tab_id"] == "detail"
    assert {"List and edit", "Detail", "Add an IKM"} <= {tab.label for tab in at.tabs}
    kab = at.selectbox(key="ikm_f_kab_en")  # drawn afresh in English, with the same choice
    assert kab.value == "35.27" and kab.options[0] == "All"
    assert at.text_input(key="ikm_search_en").value == "a"
    assert "page 2 of" in at.caption[0].value


def test_add_form_saves_the_first_product_and_reports_its_problems_with_the_ikm(demo_db):
    before = ikm_count()
    at = open_page("staf")
    form = new_form(at)
    at.text_input(key=f"{form}_name").input("Sambal Bu Ida")
    at.text_input(key=f"{form}_product_name").input("Sambal Terasi")
    at.button(key=f"{form}_save").click().run()  # no kecamatan, no category
    assert ikm_count() == before
    assert "2 isian perlu diperbaiki" in at.error[0].value
    assert "Kecamatan" in at.error[0].value and "Kategori produk" in at.error[0].value
    at.selectbox(key=f"{form}_kecamatan_code").select_index(0)
    at.selectbox(key=f"{form}_product_category_code").select_index(0)
    at.button(key=f"{form}_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert ikm_count() == before + 1
    assert "disimpan bersama produk «Sambal Terasi»" in at.success[0].value
    with Session(get_engine()) as s:
        from models import Product

        made = s.exec(select(Ikm).where(Ikm.name == "Sambal Bu Ida")).one()
        assert made.kabupaten_code == "35.29"
        assert s.exec(select(Product.name).where(Product.ikm_id == made.id)).all() == [
            "Sambal Terasi"]
