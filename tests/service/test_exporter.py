"""Exports: formula neutralising, XLSX/CSV bytes, the import template, filtered IKM lists."""

import csv
import io
from datetime import date

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event

from db.demo import seed_demo
from models import Cohort
from services import exporter
from services.exporter import neutralise, template_workbook, to_csv, to_xlsx
from services.ikm import IKM_COLUMNS, IkmFilter, create_ikm
from services.imports import ALIASES
from services.products import PRODUCT_COLUMNS


@pytest.mark.parametrize("text", ["=1+1", "+62812", "-5", "@SUM(A1)", "\tx", "\rx",
                                  '=HYPERLINK("http://x","y")'])
def test_formula_like_text_is_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -2.5, 0, 3, 1.5, None, "", "Keripik", "a=b", " =1",
                                   date(2024, 1, 2)])
def test_numbers_and_plain_text_are_left_alone(value):
    assert neutralise(value) == value


@given(st.text())
def test_neutralised_text_never_starts_a_formula(text):
    out = neutralise(text)
    assert not out.startswith(exporter.FORMULA_STARTS)
    assert out.removeprefix("'") == text or out == text


FRAME = pd.DataFrame({"Nama": ['=HYPERLINK("http://evil","klik")', "Biasa", "-"],
                      "Angka": [-5, 2, None], "Isi": [2.5, None, 1.0],
                      "Tanggal": [date(2024, 3, 15), None, None],
                      "NIB": ["0123456789012", None, None]}, dtype=object)


def test_xlsx_neutralises_and_keeps_types():
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(FRAME, sheet="Data IKM")))
    ws = wb["Data IKM"]
    assert [c.value for c in ws[1]] == list(FRAME.columns)
    assert ws["A2"].value == '\'=HYPERLINK("http://evil","klik")' and ws["A2"].data_type == "s"
    assert ws["A4"].value == "'-"
    assert ws["B2"].value == -5 and ws["C2"].value == 2.5
    assert ws["D2"].value.date() == date(2024, 3, 15) and ws["D2"].is_date
    assert ws["E2"].value == "0123456789012"
    assert ws.freeze_panes == "A2" and ws["A1"].font.b


def test_csv_has_bom_semicolons_decimal_comma_and_neutralised_cells():
    data = to_csv(FRAME)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == list(FRAME.columns)
    assert rows[1] == ['\'=HYPERLINK("http://evil","klik")', "-5", "2,5", "2024-03-15",
                       "0123456789012"]
    assert rows[3][:3] == ["'-", "", "1"]
    comma = list(csv.reader(io.StringIO(to_csv(FRAME, sep=",").decode("utf-8-sig"))))
    assert comma[1][2] == "2.5"


def test_headers_are_bilingual_and_all_recognised_by_the_importer():
    assert exporter.header(IKM_COLUMNS[1]) == "Nama usaha (Business name)"
    assert exporter.header(IKM_COLUMNS[0]) == "NIB (Business ID)"
    assert exporter.header(next(c for c in PRODUCT_COLUMNS if c.name == "price_rp")) \
        == "Harga (Price) (Rp)"
    for layout in (exporter.IKM_LAYOUT, exporter.PRODUCT_LAYOUT):
        aliases = ALIASES[layout.kind]
        for col, text in zip(layout.columns, layout.headers, strict=True):
            for variant in (text, col.header_id, col.header_en, text.upper()):
                assert aliases[" ".join(variant.lower().replace("(", " ").replace(")", " ")
                                        .replace("/", " ").split())] == col.name


@pytest.mark.db
@pytest.mark.parametrize("lang", ["id", "en"])
def test_template_workbook(session, lang):
    session.add(Cohort(name="Angkatan 1 Sumenep", kabupaten_code="35.29", year=2024))
    session.flush()
    wb = openpyxl.load_workbook(io.BytesIO(template_workbook(session, lang=lang)))
    assert wb.sheetnames == ["Petunjuk", "Angkatan", "IKM", "Produk", "Sertifikat", "Ritel",
                             "Ekspor", "Pembinaan", "Keuangan", "Daftar"]
    assert wb["Daftar"].sheet_state == "hidden" and wb.active.title == "Petunjuk"
    help_text = " ".join(str(c.value) for row in wb["Petunjuk"].iter_rows() for c in row
                         if c.value)
    assert ("Orange columns are required" if lang == "en" else "wajib diisi") in help_text
    ikm, product = wb["IKM"], wb["Produk"]
    assert [c.value for c in ikm[1]] == exporter.IKM_LAYOUT.headers
    assert [c.value for c in product[1]][0] == "NIB IKM (IKM business ID)"
    assert ikm.freeze_panes == product.freeze_panes == "A2"
    assert ikm["B2"].value == exporter.EXAMPLE_MARK == product["B2"].value
    assert ikm.column_dimensions["B"].width >= 20
    lists = {c.value: [r[0].value for r in wb["Daftar"].iter_rows(
        min_row=2, min_col=c.column, max_col=c.column) if r[0].value]
        for c in wb["Daftar"][1]}
    assert lists["kabupaten_code"] == ["Bangkalan", "Sampang", "Pamekasan", "Sumenep"]
    assert "Guluk-Guluk" in lists["kecamatan_code"]
    assert len(lists["kecamatan_code"]) == len(set(lists["kecamatan_code"])) == 71  # Galis ×2
    assert lists["cohort_id"] == ["Angkatan 1 Sumenep"]
    validations = {str(dv.sqref).split(":")[0]: dv.formula1
                   for dv in ikm.data_validations.dataValidation}
    letter = {h: openpyxl.utils.get_column_letter(i)
              for i, h in enumerate(exporter.IKM_LAYOUT.headers, start=1)}
    for name in ("Kabupaten (Regency)", "Kecamatan (District)", "Bentuk usaha (Legal form)",
                 "Jenis kelamin pemilik (Owner gender) (L/P)", "Status", "Angkatan (Cohort)"):
        assert validations[f"{letter[name]}2"].startswith("'Daftar'!$"), name
    product_lists = {dv.formula1 for dv in product.data_validations.dataValidation}
    assert len(product_lists) == 2  # category and unit


@pytest.mark.db
def test_export_ikm_uses_names_filters_and_one_query(session, admin_actor, engine):
    seed_demo(session, ikm_per_kabupaten=5)
    cohort = Cohort(name="Angkatan X", kabupaten_code="35.29", year=2024)
    session.add(cohort)
    session.flush()
    create_ikm(session, actor=admin_actor, data={
        "name": "Keripik Bu Ani", "nib": "3529090000001", "kabupaten_code": "Sumenep",
        "kecamatan_code": "Guluk-Guluk", "cohort_id": cohort.id})
    statements = []

    def count(*_args, **_kwargs):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    frame = exporter.export_ikm(session, filters=IkmFilter(kabupaten_code="35.29"))
    event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert list(frame.columns) == exporter.IKM_LAYOUT.headers
    assert set(frame["Kabupaten (Regency)"]) == {"Sumenep"}
    ani = frame[frame["NIB (Business ID)"] == "3529090000001"].iloc[0]
    assert (ani["Kecamatan (District)"], ani["Angkatan (Cohort)"]) == ("Guluk-Guluk", "Angkatan X")
    searched = exporter.export_ikm(session, filters=IkmFilter(search="bu ani"))
    assert list(searched["Nama usaha (Business name)"]) == ["Keripik Bu Ani"]


@pytest.mark.db
def test_export_products_in_template_layout(session):
    seed_demo(session, ikm_per_kabupaten=2)
    frame = exporter.export_products(session)
    assert list(frame.columns) == exporter.PRODUCT_LAYOUT.headers
    assert len(frame) > 0 and frame["NIB IKM (IKM business ID)"].notna().all()
