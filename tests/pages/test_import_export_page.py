"""The Import / Export page as staff use it: template, upload and dry run, commit, exports."""

import csv
import io
from pathlib import PurePosixPath

import openpyxl
import pytest
import streamlit.testing.v1.app_test as app_test_module
from sqlmodel import Session, func, select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTestError

from db import write_session
from db.engine import get_engine
from models import AuditLog, Cohort, Ikm, ImportBatch, Product, Retailer, RetailListing
from models.enums import Role
from services import exporter, imports
from services.audit import data_version
from services.permissions import Actor
from tests.pages.conftest import make_app, shown
from tests.workbooks import type_under_example

PAGE = "app_pages/import_export.py"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Columns of the template's IKM sheet filled by these tests (the others stay empty).
COLUMNS = ("nib", "name", "owner_name", "owner_gender", "phone", "legal_form", "kabupaten_code",
           "kecamatan_code", "address", "founded_year", "employees", "employees_female")


def sumenep(nib: str, name: str, employees=4) -> dict:
    return {"nib": nib, "name": name, "owner_name": "Siti", "owner_gender": "P",
            "phone": "081234567890", "legal_form": "perorangan", "kabupaten_code": "Sumenep",
            "kecamatan_code": "Guluk-Guluk", "address": "Jl. Raya", "founded_year": 2018,
            "employees": employees, "employees_female": 2}


VALID_ROWS = [sumenep("3529000000001", "Keripik Tette Bu Ani"),
              sumenep("3529000000002", "Dodol Pak Budi")]
BAD_ROW = sumenep("3529000000003", "Batik Bu Citra", employees="dua")


def filled_template(rows: list[dict]) -> bytes:
    """The page's own template (built by the exporter) with rows typed under the example row."""
    with Session(get_engine()) as s:
        return type_under_example(exporter.template_workbook(s, lang="id"), rows)


def stored() -> dict[str, int]:
    with Session(get_engine()) as s:
        out = {m.__name__: s.exec(select(func.count()).select_from(m)).one()
               for m in (Ikm, ImportBatch, AuditLog)}
        out["version"] = data_version(s)
    return out


def open_page(username: str, lang: str = "id"):
    at = make_app(username, lang=lang)
    at.session_state["_lang_touched"] = True  # keep `lang` over the account's saved language
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def upload(at, name: str, data: bytes, mime: str = XLSX_MIME):
    at.file_uploader[0].set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def error_table(at):
    return next(d.value for d in at.dataframe if "Alasan" in d.value.columns)


@pytest.fixture
def downloads(monkeypatch):
    """The bytes behind a download button (static or built on click) of the latest run.

    AppTest gives each run a fresh in-memory media store and drops it afterwards; this keeps
    the latest one so a test can read what a browser would download."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, storage):
            super().__init__(storage)
            managers.append(self)

    monkeypatch.setattr(app_test_module, "MediaFileManager", Recording)

    def read(button) -> bytes:
        manager = managers[-1]
        url = button.proto.url or manager.execute_deferred(button.proto.deferred_file_id)
        return manager.read_file(PurePosixPath(url).stem).content

    return read


def button(at, key: str):
    return next(b for b in at.get("download_button") if b.key == key)


# --- opening ---------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["admin", "staf"])
def test_staff_and_admin_open_the_page_and_get_the_template(demo_db, downloads, username):
    at = open_page(username)
    assert at.title[0].value == "Impor dan ekspor data"
    assert [tab.label for tab in at.tabs] == ["Impor dari Excel/CSV", "Ekspor daftar IKM",
                                             "Riwayat impor"]
    assert "Maksimal 5 MB dan 20.000 baris data per lembar" in " ".join(c.value
                                                                       for c in at.caption)
    template = button(at, "imp_template")
    assert template.label == "Unduh templat (XLSX)"
    wb = openpyxl.load_workbook(io.BytesIO(downloads(template)))
    assert {"Petunjuk", "IKM", "Produk"} <= set(wb.sheetnames)


@pytest.mark.parametrize("username", ["kepala", "penilai", "tamu"])
def test_other_roles_cannot_reach_the_page(demo_db, username):
    at = make_app(username)
    at.run()
    with pytest.raises(ValueError):
        at.switch_page(PAGE)


# --- dry run and commit ----------------------------------------------------------------------

def test_dry_run_counts_rows_lists_every_bad_cell_and_writes_nothing(demo_db, downloads):
    before = stored()
    at = open_page("staf")
    upload(at, "isian.xlsx", filled_template([*VALID_ROWS, BAD_ROW]))
    shown = metrics(at)
    assert (shown["Baru"], shown["Ditolak"], shown["Diperbarui"]) == ("2", "1", "0")
    assert shown["Dilewati (contoh)"] == "1"  # the template's example row
    (only_examples,) = [c.value for c in at.caption if c.value.startswith("Hanya baris contoh")]
    assert "Produk" in only_examples and "IKM" not in only_examples.split(":")[1]
    assert "1 baris ditolak karena 1 isian bermasalah." in at.error[0].value
    table = error_table(at)
    assert table.to_dict("records") == [{"Lembar": "IKM", "Baris": 5,
                                         "Kolom": "Jumlah pekerja (Employees)", "Isian": "dua",
                                         "Alasan": "Bukan angka."}]
    assert stored() == before  # the dry run wrote nothing, not even the data version

    report = openpyxl.load_workbook(io.BytesIO(downloads(button(at, "imp_report_xlsx"))))
    rows = list(report.active.iter_rows(values_only=True))
    assert rows[0] == ("Lembar", "Baris", "Kolom", "Isian", "Alasan")
    assert rows[1][-1] == "Bukan angka."
    text = downloads(button(at, "imp_report_csv")).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text), delimiter=";"))[1][-1] == "Bukan angka."


def test_commit_with_rejected_rows_needs_the_explicit_choice(demo_db):
    before = stored()
    at = open_page("staf")
    upload(at, "isian.xlsx", filled_template([*VALID_ROWS, BAD_ROW]))
    save = at.button(key="imp_commit")
    assert save.label == "Simpan 2 baris" and save.disabled
    with pytest.raises(AppTestError):
        save.click()
    assert stored() == before

    choice = next(c for c in at.checkbox if c.key.startswith("imp_partial_"))
    assert choice.label.startswith("Simpan hanya baris yang valid (2 baris)")
    choice.check().run()
    assert not at.button(key="imp_commit").disabled
    at.button(key="imp_commit").click().run()
    assert not at.exception, at.exception

    after = stored()
    assert after["Ikm"] == before["Ikm"] + 2 and after["ImportBatch"] == before["ImportBatch"] + 1
    with Session(get_engine()) as s:
        names = set(s.exec(select(Ikm.name).where(Ikm.nib.in_(
            ["3529000000001", "3529000000002", "3529000000003"]))).all())
        batch = s.exec(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert names == {"Keripik Tette Bu Ani", "Dodol Pak Budi"}
    assert (batch.username, batch.rows_ok, batch.rows_failed, batch.committed) == \
        ("staf", 2, 1, True)
    success = shown(at.success[0].value)
    assert f"Impor #{batch.id} dari isian.xlsx tersimpan: 2 baru" in success
    assert "1 ditolak (tidak disimpan)" in success
    assert "IKM terdaftar di Ringkasan: 480 → 482." in at.info[0].value
    # the upload is cleared: a fresh uploader without a file, no checked file kept
    assert at.file_uploader[0].value is None and "imp_check" not in at.session_state
    assert not [b for b in at.button if b.key == "imp_commit"]


def test_a_valid_file_commits_without_the_choice_and_overview_counts_it(demo_db):
    at = open_page("admin")
    upload(at, "isian.xlsx", filled_template(VALID_ROWS))
    assert "Semua baris valid." in at.success[0].value
    assert not at.checkbox  # nothing rejected: no partial choice to make
    at.button(key="imp_commit").click().run()
    assert "IKM terdaftar di Ringkasan: 480 → 482." in at.info[0].value
    at.switch_page("app_pages/overview.py").run()
    assert {m.label: m.value for m in at.metric}["IKM terdaftar"] == "482"


def test_a_workbook_of_several_sheets_shows_a_line_per_sheet_and_commits_them(demo_db):
    with Session(get_engine()) as s:
        retailer = s.exec(select(Retailer.name).order_by(Retailer.id)).first()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in {
        "Angkatan": [["Nama angkatan", "Kabupaten", "Tahun"], ["Angkatan Impor", "Sumenep", 2026]],
        "IKM": [["NIB", "Nama usaha", "Kabupaten", "Kecamatan", "Angkatan"],
                ["3529000000001", "Keripik Tette Bu Ani", "Sumenep", "Guluk-Guluk",
                 "Angkatan Impor"]],
        "Produk": [["NIB IKM", "Nama produk", "Kategori"],
                   ["3529000000001", "Keripik tette", "Olahan pangan: keripik"]],
        "Ritel": [["NIB IKM", "Produk", "Ritel", "Tanggal listing"],
                  ["3529000000001", "Keripik tette", retailer, "01/03/2025"]],
    }.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    at = open_page("staf")
    upload(at, "beberapa.xlsx", buf.getvalue())
    assert metrics(at)["Baru"] == "4"
    lines = next(d.value for d in at.dataframe if "Jenis data" in d.value.columns)
    assert lines[["Lembar", "Jenis data", "Baru"]].values.tolist() == [
        ["Angkatan", "Angkatan", 1], ["IKM", "IKM", 1], ["Produk", "Produk", 1],
        ["Ritel", "Ritel modern", 1]]
    at.button(key="imp_commit").click().run()
    assert not at.exception
    with Session(get_engine()) as s:
        ikm = s.exec(select(Ikm).where(Ikm.nib == "3529000000001")).one()
        assert s.get(Cohort, ikm.cohort_id).name == "Angkatan Impor"
        assert s.exec(select(func.count()).select_from(RetailListing).join(
            Product, Product.id == RetailListing.product_id).where(
            Product.ikm_id == ikm.id)).one() == 1


def test_uploading_the_same_rows_again_shows_them_unchanged(demo_db):
    at = open_page("admin")
    upload(at, "isian.xlsx", filled_template(VALID_ROWS))
    at.button(key="imp_commit").click().run()
    upload(at, "isian-lagi.xlsx", filled_template(VALID_ROWS))
    shown = metrics(at)
    assert (shown["Baru"], shown["Tidak berubah"]) == ("0", "2")
    assert "Tidak ada yang perlu disimpan" in at.info[0].value
    assert not [b for b in at.button if b.key == "imp_commit"]


def test_a_save_by_someone_else_between_check_and_commit_is_shown_before_writing(demo_db):
    at = open_page("admin")
    upload(at, "isian.xlsx", filled_template(VALID_ROWS))
    assert metrics(at)["Baru"] == "2"
    # meanwhile another user imports one of these NIB under another name
    with write_session(get_engine()) as s:
        imports.commit(s, actor=Actor("staf", Role.staff, "35.29"), filename="lain.xlsx",
                        data=filled_template([sumenep("3529000000001", "Nama Lain")]))
    before = stored()
    at.button(key="imp_commit").click().run()
    assert "diubah oleh orang lain sejak pemeriksaan" in at.warning[0].value
    assert stored() == before  # the click wrote nothing: the user sees the new outcome first
    shown = metrics(at)
    assert (shown["Baru"], shown["Diperbarui"]) == ("1", "1")
    at.button(key="imp_commit").click().run()
    assert stored()["Ikm"] == before["Ikm"] + 1
    with Session(get_engine()) as s:
        assert s.exec(select(Ikm.name).where(Ikm.nib == "3529000000001")).one() == \
            "Keripik Tette Bu Ani"


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("data.xlsx", bytes(range(256)) * 8, "bukan workbook Excel (.xlsx) yang utuh"),
    ("data.csv", b"\x00\x01\x02\x03binary\xff\xfe\x00" * 64, "bukan tabel teks (CSV)"),
    ("kosong.csv", b"", "File kosong."),
    ("lama.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "file Excel lama (.xls)"),
])
def test_unreadable_files_get_a_message_not_a_traceback(demo_db, name, data, expected):
    before = stored()
    at = open_page("staf")
    upload(at, name, data, "application/octet-stream")
    assert expected in at.error[0].value
    assert not at.metric and not [b for b in at.button if b.key == "imp_commit"]
    assert stored() == before


def test_scoped_staff_cannot_import_a_row_of_another_regency(demo_db):
    before = stored()
    bangkalan = {**sumenep("3526000000009", "Batik Tanjung Bumi"),
                 "kabupaten_code": "Bangkalan", "kecamatan_code": "Tanjung Bumi"}
    at = open_page("staf")  # staf is scoped to Sumenep
    upload(at, "bangkalan.xlsx", filled_template([bangkalan]))
    assert metrics(at)["Ditolak"] == "1"
    row = error_table(at).iloc[0]
    assert (row["Kolom"], row["Alasan"]) == ("Kabupaten (Regency)", "Di luar kabupaten Anda.")
    assert "Tidak ada baris valid untuk disimpan." in at.info[0].value
    assert stored() == before


def test_english_texts_follow_the_language(demo_db):
    at = open_page("admin", lang="en")
    upload(at, "rows.xlsx", filled_template([*VALID_ROWS, BAD_ROW]))
    assert {"New", "Rejected"} <= set(metrics(at))
    table = next(d.value for d in at.dataframe if "Reason" in d.value.columns)
    assert table.iloc[0]["Reason"] == "Not a number."


# --- exports ---------------------------------------------------------------------------------

def test_exports_of_the_filtered_list_produce_xlsx_and_csv(demo_db, downloads):
    at = open_page("staf")
    at.selectbox(key="imp_x_kab").set_value("35.29").run()
    assert "120 IKM sesuai filter." in [m.value for m in at.markdown]
    xlsx = downloads(button(at, "imp_x_xlsx"))
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert wb.sheetnames == [layout.sheet for layout in exporter.LAYOUTS]
    ikm_rows = list(wb["IKM"].iter_rows(values_only=True))
    assert len(ikm_rows) == 121 and ikm_rows[0][:2] == ("NIB (Business ID)",
                                                         "Nama usaha (Business name)")
    assert {r[6] for r in ikm_rows[1:]} == {"Sumenep"}
    text = downloads(button(at, "imp_x_csv")).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text), delimiter=";"))) == 121

    at.selectbox(key="imp_x_status").set_value("keluar").run()
    count = next(m.value for m in at.markdown if "sesuai filter" in m.value)
    assert int(count.split()[0]) < 120


# --- the dry run shows how the file was read, what changes, and conflicts ----------------------

RINA = Actor("rina", Role.staff, "35.29")


def add_colleague() -> None:
    """Rina, a colleague of staf in Sumenep (display name Rina Wati)."""
    from models import User

    with write_session(get_engine()) as s:
        s.add(User(username="rina", display_name="Rina Wati", role="staff",
                   kabupaten_code="35.29", password_hash="x"))


def sumenep_ikm(count: int = 1) -> list[Ikm]:
    """Demo IKM of Sumenep with an NIB, a phone and an address (the data decides which)."""
    with Session(get_engine()) as s:
        return list(s.exec(select(Ikm).where(
            Ikm.kabupaten_code == "35.29", Ikm.deleted_at.is_(None), Ikm.nib.is_not(None),
            Ikm.phone.is_not(None), Ikm.address.is_not(None)).order_by(Ikm.id).limit(count)))


def old_export(ikm: Ikm) -> bytes:
    """The IKM sheet of an export of one IKM as it is now (with its ID and version)."""
    from services.ikm import IkmFilter

    with Session(get_engine()) as s:
        frame = exporter.export_ikm(s, filters=IkmFilter(search=ikm.nib))
    assert len(frame) == 1
    return exporter.to_csv(frame)


def colleague_changes_owner(ikm_id: int, owner: str) -> None:
    from services.ikm import update_ikm

    with write_session(get_engine()) as s:
        row = s.get(Ikm, ikm_id)
        update_ikm(s, actor=RINA, ikm_id=ikm_id, expected_version=row.version,
                   changes={"owner_name": owner})


def texts(at) -> str:
    return shown(" ".join(m.value for m in [*at.markdown, *at.caption, *at.warning]))


def changes_table(at):
    return next(d.value for d in at.dataframe if "Keterangan" in d.value.columns)


def test_the_dry_run_says_how_the_file_was_read(demo_db):
    data = ("NIB;Nama usaha;Nama pemilik;Kabupaten;Kecamatan;Tanggal komitmen ekspor\r\n"
            "3529000000011;Kopi Andé;José;Sumenep;Guluk-Guluk;03/04/2025\r\n").encode("cp1252")
    at = open_page("staf")
    upload(at, "kopi.csv", data, "text/csv")
    with Session(get_engine()) as s:  # what the importer itself notes about this file
        report = imports.dry_run(s, actor=Actor("staf", Role.staff, "35.29"),
                                 filename="kopi.csv", data=data)
    expected = [imports.message(n.key, {k: imports.message(v) if str(v).startswith("imp.")
                                        else v for k, v in n.params.items()})
                for n in report.notes]
    assert len(expected) == 2  # the encoding with its samples, and the order of the dates
    shown_text = texts(at)
    assert "Cara file dibaca" in shown_text
    for note in expected:
        assert note in shown_text, note
    assert "'Kopi Andé'" in shown_text


def test_changes_are_listed_with_emptied_fields_marked(demo_db, downloads):
    [ikm] = sumenep_ikm()
    # blank cells (Kabupaten, Kecamatan) leave the stored values
    data = ("NIB;Nama usaha;Kabupaten;Kecamatan;Telepon;Alamat\r\n"
            f"{ikm.nib};{ikm.name};;;081900001111;#KOSONG\r\n").encode()
    at = open_page("staf")
    upload(at, "koreksi.csv", data, "text/csv")
    assert metrics(at)["Diperbarui"] == "1"
    table = changes_table(at)
    rows = {r["Kolom"]: r for r in table.to_dict("records")}
    assert set(rows) == {"Telepon", "Alamat"}
    assert (rows["Telepon"]["Sebelum"], rows["Telepon"]["Sesudah"],
            rows["Telepon"]["Keterangan"]) == (ikm.phone, "081900001111", "")
    assert (rows["Alamat"]["Sebelum"], rows["Alamat"]["Sesudah"],
            rows["Alamat"]["Keterangan"]) == (ikm.address, "(kosong)", "dikosongkan")
    assert {r["Data"] for r in rows.values()} == {ikm.name}
    assert "2 isian pada 1 data akan diubah. 1 isian dikosongkan" in texts(at)
    whole = openpyxl.load_workbook(io.BytesIO(downloads(button(at, "imp_changes_xlsx"))))
    assert len(list(whole.active.iter_rows(values_only=True))) == 3  # header + 2 changes
    at.button(key="imp_commit").click().run()
    with Session(get_engine()) as s:
        stored = s.get(Ikm, ikm.id)
        assert (stored.phone, stored.address) == ("081900001111", None)


def test_a_long_list_of_changes_shows_its_first_rows_and_offers_the_whole(demo_db, downloads):
    with Session(get_engine()) as s:
        people = s.exec(select(Ikm.nib, Ikm.name).where(
            Ikm.deleted_at.is_(None), Ikm.nib.is_not(None)).order_by(Ikm.id).limit(320)).all()
    assert len(people) == 320
    lines = ["NIB;Nama usaha;Kabupaten;Kecamatan;Telepon"] + [
        f"{nib};{name};;;08190000{n:04d}" for n, (nib, name) in enumerate(people)]
    at = open_page("admin")
    upload(at, "banyak.csv", "\r\n".join(lines).encode(), "text/csv")
    assert len(changes_table(at)) == 300  # a table of the first rows, never a widget per row
    assert "Ditampilkan 300 pertama dari 320" in texts(at)
    text = downloads(button(at, "imp_changes_csv")).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text), delimiter=";"))) == 321


def test_a_conflict_is_refused_by_default_and_written_after_the_checkbox(demo_db):
    add_colleague()
    [ikm] = sumenep_ikm()
    data = old_export(ikm)  # staf exported the IKM ...
    colleague_changes_owner(ikm.id, "Bu Rina Baru")  # ... then Rina changed its owner
    before = stored()
    at = open_page("staf")
    upload(at, "ekspor_lama.csv", data, "text/csv")
    page = texts(at)
    assert "Konflik" in page and "Diubah oleh **Rina Wati (rina)** pada" in page
    assert f"baris 2: {ikm.name}" in page and "Nama pemilik" in page
    [overwrites] = [tb.value for tb in at.table]
    assert overwrites.to_dict("records") == [{"Kolom": "Nama pemilik (Owner)",
                                             "Sekarang (tersimpan)": "Bu Rina Baru",
                                             "Dari file (akan disimpan)": ikm.owner_name}]
    # refused by default: nothing to save, no save button
    assert "Tidak ada baris valid untuk disimpan." in at.info[0].value
    assert not [b for b in at.button if b.key == "imp_commit"]
    assert stored() == before
    choice = next(c for c in at.checkbox if c.key.startswith("imp_ow_"))
    assert shown(choice.label).startswith("Timpa perubahan Rina Wati (rina)")
    choice.check().run()
    save = at.button(key="imp_commit")
    assert save.label == "Simpan 1 baris" and not save.disabled
    save.click().run()
    assert not at.exception, at.exception
    with Session(get_engine()) as s:
        assert s.get(Ikm, ikm.id).owner_name == ikm.owner_name
    assert "1 diperbarui" in shown(at.success[0].value)


def test_valid_rows_are_saved_without_the_conflict_unless_it_is_confirmed(demo_db):
    add_colleague()
    first, second = sumenep_ikm(2)
    data = old_export(first)
    colleague_changes_owner(first.id, "Bu Rina Baru")
    text = data.decode("utf-8-sig").rstrip("\r\n") + "\r\n" + ";".join(
        ['"' + str(v) + '"' for v in (second.nib, second.name)]) + "\r\n"
    # a second row that only names another IKM by NIB and changes its phone
    header = text.splitlines()[0].split(";")
    row = ["" for _ in header]
    row[0], row[1] = f'"{second.nib}"', f'"{second.name}"'
    row[header.index('"Telepon (Phone)"')] = '"081977776666"'
    text = "\r\n".join([*text.splitlines()[:2], ";".join(row)]) + "\r\n"
    at = open_page("staf")
    upload(at, "campur.csv", text.encode("utf-8-sig"), "text/csv")
    assert (metrics(at)["Diperbarui"], metrics(at)["Ditolak"]) == ("1", "1")
    save = at.button(key="imp_commit")
    assert save.label == "Simpan 1 baris" and save.disabled
    next(c for c in at.checkbox if c.key.startswith("imp_partial_")).check().run()
    at.button(key="imp_commit").click().run()
    assert not at.exception, at.exception
    with Session(get_engine()) as s:
        assert s.get(Ikm, first.id).owner_name == "Bu Rina Baru"  # the colleague's value kept
        assert s.get(Ikm, second.id).phone == "081977776666"


def test_many_conflicts_are_a_table_with_one_overwrite_all(demo_db):
    from services.ikm import IkmFilter

    add_colleague()
    with Session(get_engine()) as s:
        frame = exporter.export_ikm(s, filters=IkmFilter(kabupaten_code="35.29"))
    frame = frame.head(21)
    data = exporter.to_csv(frame)
    ids = [int(i) for i in frame["ID"]]
    for ikm_id in ids:
        colleague_changes_owner(ikm_id, f"Pemilik baru {ikm_id}")
    at = open_page("staf")
    upload(at, "ekspor_besar.csv", data, "text/csv")
    assert not at.table and not [c for c in at.checkbox if c.key.startswith("imp_ow_")
                                 and not c.key.startswith("imp_ow_all_")]
    listed = next(d.value for d in at.dataframe if "Diubah oleh" in d.value.columns)
    assert len(listed) == 21 and set(listed["Diubah oleh"]) == {"Rina Wati (rina)"}
    assert not [b for b in at.button if b.key == "imp_commit"]
    everything = next(c for c in at.checkbox if c.key.startswith("imp_ow_all_"))
    assert everything.label == "Timpa semua 21 konflik dengan isi file"
    everything.check().run()
    at.button(key="imp_commit").click().run()
    assert not at.exception, at.exception
    with Session(get_engine()) as s:
        owners = dict(s.exec(select(Ikm.id, Ikm.owner_name).where(Ikm.id.in_(ids))).all())
    assert owners == {int(i): (o if o else None) for i, o in zip(
        frame["ID"], frame["Nama pemilik (Owner)"], strict=True)}


# --- import history and undo -------------------------------------------------------------------

def history_table(at):
    return next(d.value for d in at.dataframe if "Status" in d.value.columns
                and "File" in d.value.columns)


def newest_batch() -> ImportBatch:
    with Session(get_engine()) as s:
        return s.exec(select(ImportBatch).order_by(ImportBatch.id.desc())).first()


def test_the_history_lists_batches_and_an_admin_undoes_one(demo_db):
    at = open_page("admin")
    upload(at, "isian.xlsx", filled_template(VALID_ROWS))
    at.button(key="imp_commit").click().run()
    batch = newest_batch()
    table = history_table(at)
    top = table.iloc[0]
    assert (top["No."], top["Oleh"], top["File"], top["Baru"], top["Diperbarui"],
            top["Status"]) == (batch.id, "Admin Demo (admin)", "isian.xlsx", 2, 0, "tersimpan")
    at.selectbox(key="imphist_batch").set_value(batch.id).run()
    records = next(d.value for d in at.dataframe if "Tindakan" in d.value.columns)
    assert sorted(records["Data"]) == sorted(r["name"] for r in VALID_ROWS)
    assert set(records["Tindakan"]) == {"dibuat"} and set(records["Jenis data"]) == {"IKM"}
    undo = at.button(key="imphist_undo")
    assert undo.label == f"Batalkan impor #{batch.id}" and undo.disabled
    at.checkbox(key=f"imphist_confirm_{batch.id}").check().run()
    at.button(key="imphist_undo").click().run()
    assert not at.exception, at.exception
    assert f"Impor #{batch.id} dibatalkan: 2 data baru dihapus" in at.success[0].value
    assert history_table(at).iloc[0]["Status"] == "dibatalkan"
    with Session(get_engine()) as s:
        gone = s.exec(select(Ikm).where(Ikm.nib.in_([r["nib"] for r in VALID_ROWS]))).all()
        assert len(gone) == 2 and all(i.deleted_at is not None for i in gone)
    at.switch_page("app_pages/overview.py").run()
    assert {m.label: m.value for m in at.metric}["IKM terdaftar"] == "480"


def test_staff_see_the_history_but_cannot_undo(demo_db):
    at = open_page("staf")
    upload(at, "isian.xlsx", filled_template(VALID_ROWS))
    at.button(key="imp_commit").click().run()
    batch = newest_batch()
    at.selectbox(key="imphist_batch").set_value(batch.id).run()
    assert not [b for b in at.button if b.key == "imphist_undo"]
    assert "Hanya admin yang dapat membatalkan impor." in [c.value for c in at.caption]


def test_an_undo_is_refused_naming_who_changed_a_record_since(demo_db):
    add_colleague()
    at = open_page("admin")
    upload(at, "isian.xlsx", filled_template(VALID_ROWS))
    at.button(key="imp_commit").click().run()
    batch = newest_batch()
    with Session(get_engine()) as s:
        ikm_id = s.exec(select(Ikm.id).where(Ikm.nib == VALID_ROWS[0]["nib"])).one()
    colleague_changes_owner(ikm_id, "Bu Rina Baru")
    before = stored()
    at.selectbox(key="imphist_batch").set_value(batch.id).run()
    at.checkbox(key=f"imphist_confirm_{batch.id}").check().run()
    at.button(key="imphist_undo").click().run()
    assert f"Impor #{batch.id} tidak dibatalkan: 1 data sudah diubah" in at.error[0].value
    refused = next(d.value for d in at.dataframe if "Keterangan" in d.value.columns)
    assert refused.to_dict("records")[0] | {"Waktu (WIB)": None} == {
        "Jenis data": "IKM", "Data": VALID_ROWS[0]["name"], "Diubah oleh": "Rina Wati (rina)",
        "Waktu (WIB)": None, "Keterangan": "diubah sesudah impor"}
    assert stored() == before
