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
from tests.pages.conftest import make_app
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
    assert [tab.label for tab in at.tabs] == ["Impor dari Excel/CSV", "Ekspor daftar IKM"]
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
    success = at.success[0].value
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
