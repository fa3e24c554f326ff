"""Imports: reading, the malformed-file corpus, dry run, commit, upsert, scope, audit."""

import io
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from db.demo import seed_demo
from models import AuditLog, Cohort, Ikm, ImportBatch, Product
from models.enums import Role
from services import audit, exporter
from services import imports as importer
from services.errors import PermissionDenied, ServiceError
from services.ikm import create_ikm
from services.imports import LIMITS, ImportRefused, Limits, commit, dry_run, read_upload
from services.imports import plan as import_plan
from services.permissions import Actor
from ui.catalogue import CATALOGUE

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "imports"

REFUSED = {
    "empty.csv": ("imp.empty", None),
    "blank_lines.csv": ("imp.empty", None),
    "headers_only.csv": ("imp.no_rows", None),
    "empty.xlsx": ("imp.no_rows", None),
    "binary.xlsx": ("imp.not_xlsx", None),
    "binary.csv": ("imp.binary", None),
    "not_xlsx.zip": ("imp.not_xlsx", None),
    "truncated.xlsx": ("imp.not_xlsx", None),
    "html_disguised.xlsx": ("imp.html_file", None),
    "old_format.xls": ("imp.old_xls", None),
    "wrong_headers.csv": ("imp.bad_headers", None),
    "duplicate_headers.csv": ("imp.duplicate_header", None),
    "missing_sheet.xlsx": ("imp.missing_sheet", None),
    "wrong_encoding_utf16.csv": ("imp.encoding", None),
    "huge_cell.csv": ("imp.cell_too_long", None),
    "too_many_rows.csv": ("imp.too_many_rows", Limits(max_rows=25)),
    "too_big.csv": ("imp.too_big", Limits(max_bytes=1024)),
    "zip_bomb.xlsx": ("imp.too_big_unpacked", Limits(max_unpacked=1024 * 1024)),
}
ROW_ERRORS = {
    "mixed_delimiters.csv": {"imp.row_fields"},
    "formulas.xlsx": {"imp.formula"},
    "formulas.csv": {"imp.formula"},
    "excel_errors.xlsx": {"imp.excel_error"},
    "duplicate_keys.csv": {"imp.duplicate_nib"},
    "bad_values.xlsx": {"v.nib_lost_zero", "v.phone", "v.unknown_kecamatan_suggest",
                        "v.female_gt_total"},
    "scientific_nib.csv": {"imp.sci_notation"},
    "control_chars.csv": {"v.control_chars"},
    "products_unknown_ikm.csv": {"imp.unknown_ikm"},
}
VALID = {"bom_utf8.csv", "windows1252.csv", "semicolon_decimal_comma.csv", "unicode_text.txt",
         "excel_like.xlsx"}

STAFF_SUMENEP = Actor("staf", Role.staff, "35.29")


def counts(session) -> dict[str, int]:
    return {m.__name__: session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Ikm, Product, ImportBatch, AuditLog)}


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def ikm_by_nib(session, nib: str) -> Ikm:
    session.expire_all()
    return session.execute(select(Ikm).where(Ikm.nib == nib)).scalar_one()


IKM_HEAD = ["NIB", "Nama usaha", "Nama pemilik", "Telepon", "Kabupaten", "Kecamatan",
            "Jumlah pekerja", "Pekerja perempuan"]


def ikm_csv(*rows, head=IKM_HEAD, sep=",") -> bytes:
    lines = [sep.join(head)] + [sep.join("" if v is None else str(v) for v in r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def sumenep(nib, name, phone="081234567890", kec="Guluk-Guluk", emp=4, fem=2):
    return [nib, name, "Siti", phone, "Sumenep", kec, emp, fem]


# --- the corpus ----------------------------------------------------------------------------------

# One file per class of result that used to be silently wrong (test_import_no_guessing.py).
NEVER_GUESSED = {
    "dates_month_first.csv", "dates_mixed_order.csv", "dates_default_order.csv",
    "phone_trunk_prefix.csv", "usd_ambiguous.csv", "usd_english.csv", "update_one_field.xlsx",
    "mac_roman.csv", "encoding_unsure.csv", "stale_export.csv", "nibless_export.csv",
    "invisible_chars.csv", "title_rows.xlsx", "title_rows.csv", "two_level_header.xlsx",
    "renamed_sheet.xlsx", "sep_line.csv", "cohort_number.csv", "nib_twelve_digits.csv",
    "category_case.csv"}


def test_every_corpus_file_is_classified_and_listed_in_the_readme():
    files = {p.name for p in CORPUS.iterdir() if p.suffix != ".py" and p.name != "README.md"}
    assert files == set(REFUSED) | set(ROW_ERRORS) | VALID | NEVER_GUESSED
    assert len(set(REFUSED) | set(ROW_ERRORS)) >= 15
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files), "README.md must list every file"


@pytest.mark.db
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files_get_a_message_and_write_nothing(session, admin_actor, name):
    key, limits = REFUSED[name]
    limits = limits or LIMITS
    before = counts(session)
    with pytest.raises(ImportRefused) as exc:
        dry_run(session, actor=admin_actor, filename=name, data=corpus(name), limits=limits)
    assert exc.value.key == key
    assert key in CATALOGUE["id"] and key in CATALOGUE["en"]
    importer.message(key, exc.value.params, lang="en").format()  # every placeholder filled
    with pytest.raises(ImportRefused):
        commit(session, actor=admin_actor, filename=name, data=corpus(name), limits=limits)
    assert counts(session) == before


@pytest.mark.db
@pytest.mark.parametrize("name", sorted(ROW_ERRORS))
def test_files_with_bad_rows_list_every_error_and_write_nothing(session, admin_actor, name):
    before = counts(session)
    report = dry_run(session, actor=admin_actor, filename=name, data=corpus(name))
    assert report.rejected >= 1
    assert ROW_ERRORS[name] <= {e.key for e in report.errors}
    for error in report.errors:
        assert error.row >= 2 and error.sheet
        text = importer.message(error.key, error.params, lang="id")
        assert "{" not in text, text
    with pytest.raises(ImportRefused) as exc:
        commit(session, actor=admin_actor, filename=name, data=corpus(name))
    assert exc.value.key == "imp.has_rejected"
    assert exc.value.report.rejected == report.rejected
    assert counts(session) == before


@pytest.mark.db
def test_bad_values_report_rows_columns_values_and_suggestion(session, admin_actor):
    report = dry_run(session, actor=admin_actor, filename="bad_values.xlsx",
                     data=corpus("bad_values.xlsx"))
    found = {(e.row, e.column, e.key): e for e in report.errors}
    assert (2, "Business ID (NIB)", "v.nib_lost_zero") in found
    assert found[(2, "Business ID (NIB)", "v.nib_lost_zero")].value == "352909000001"
    assert (3, "Phone", "v.phone") in found
    kec = found[(4, "District", "v.unknown_kecamatan_suggest")]
    assert kec.params["suggestion"] == "Guluk-Guluk" and kec.value == "Gulok-Guluk"
    assert (5, "Female employees", "v.female_gt_total") in found
    assert (report.new, report.rejected) == (1, 4)
    frame = importer.error_frame(report, lang="en")
    assert list(frame.columns) == ["Sheet", "Row", "Column", "Value", "Reason"]
    assert "Did you mean 'Guluk-Guluk'?" in " ".join(frame["Reason"])


@pytest.mark.db
def test_formula_cells_are_never_evaluated(session, admin_actor):
    report = dry_run(session, actor=admin_actor, filename="formulas.xlsx",
                     data=corpus("formulas.xlsx"))
    values = {e.value for e in report.errors if e.key == "imp.formula"}
    assert '=HYPERLINK("http://example.com/x","klik")' in values and "=1+1" in values
    assert report.new == 1  # the row without a formula


# --- valid files as people save them -------------------------------------------------------------

@pytest.mark.db
def test_utf8_bom_csv_matches_kecamatan_spelt_without_hyphen(session, admin_actor):
    report = commit(session, actor=admin_actor, filename="bom_utf8.csv",
                    data=corpus("bom_utf8.csv"))
    assert (report.new, report.rejected) == (1, 0)
    row = ikm_by_nib(session, "3529090000001")
    assert row.kecamatan_code == "35.29.09" and row.kabupaten_code == "35.29"
    assert row.phone == "081234567890"


@pytest.mark.db
def test_windows1252_semicolon_csv_keeps_accents(session, admin_actor):
    report = commit(session, actor=admin_actor, filename="windows1252.csv",
                    data=corpus("windows1252.csv"))
    assert (report.new, report.rejected) == (2, 0)
    row = ikm_by_nib(session, "3528010000001")
    assert (row.name, row.owner_name, row.kabupaten_code) == ("Kopi Andé", "José Ramlé", "35.28")
    assert row.phone == "087712345678"
    assert ikm_by_nib(session, "3528010000002").name == "Batik Café Señora"


@pytest.mark.db
def test_semicolon_csv_with_indonesian_numbers(session, admin_actor):
    commit(session, actor=admin_actor, filename="windows1252.csv",
           data=corpus("windows1252.csv"))
    report = commit(session, actor=admin_actor, filename="semicolon_decimal_comma.csv",
                    data=corpus("semicolon_decimal_comma.csv"))
    assert (report.new, report.rejected) == (2, 0)
    products = {p.name: p for p in session.execute(select(Product)).scalars()}
    bubuk, sachet = products["Kopi bubuk"], products["Kopi sachet"]
    assert bubuk.price_rp == 1_500_000  # "Rp 1.500.000"
    assert bubuk.cost_rp == 1_500_001  # "1.500.000,50": whole rupiah, half up
    assert (bubuk.net_content, bubuk.capacity_per_month) == (2.5, 1200)
    assert bubuk.baseline_sales_rp == 12_000_000 and bubuk.category_code == "lainnya"
    assert (sachet.price_rp, sachet.cost_rp, sachet.net_content) == (15_000, 9_500, 0.25)


@pytest.mark.db
def test_utf16_unicode_text_export_of_excel(session, admin_actor):
    report = commit(session, actor=admin_actor, filename="unicode_text.txt",
                    data=corpus("unicode_text.txt"))
    assert report.new == 1
    assert ikm_by_nib(session, "3527010000001").kabupaten_code == "35.27"


@pytest.mark.db
def test_workbook_saved_by_a_spreadsheet_program(session, admin_actor):
    frames = read_upload("excel_like.xlsx", corpus("excel_like.xlsx"))
    assert frames["IKM"].iloc[0, 0] == 3529090000011  # typed as a number: not text, not lost
    report = commit(session, actor=admin_actor, filename="excel_like.xlsx",
                    data=corpus("excel_like.xlsx"))
    assert (report.new, report.rejected) == (3, 0)
    ani = ikm_by_nib(session, "3529090000011")
    assert ani.phone == "081234567890"  # the leading zero the spreadsheet dropped
    assert ani.export_commitment_on == date(2024, 3, 15)
    assert ikm_by_nib(session, "3526010000012").founded_year == 1998
    product = session.execute(select(Product)).scalar_one()
    assert product.ikm_id == ani.id and product.packaging_upgraded_on == date(2024, 5, 2)
    assert (product.price_rp, product.cost_rp) == (25_000, 14_001)  # 14000.5 rounds half up


# --- reading ---------------------------------------------------------------------------------

def test_read_upload_keeps_leading_zeros_and_row_numbers():
    data = b"NIB;Telepon;Nama usaha\r\n0123456789012;0812;A\r\n\r\n;;\r\n0000000000001;08;B\r\n"
    frame = read_upload("x.csv", data)["x.csv"]
    assert list(frame.index) == [2, 5]  # as a spreadsheet shows them (blank rows skipped)
    assert frame.loc[2, "NIB"] == "0123456789012" and frame.loc[5, "Telepon"] == "08"


@pytest.mark.parametrize("data", [b"a,b\r\n1,2\r\n", b"a;b\r\n1;2\r\n", b"a\tb\r\n1\t2\r\n"])
def test_delimiters_are_sniffed(data):
    frame = read_upload("x.csv", data)["x.csv"]
    assert list(frame.columns) == ["a", "b"] and frame.iloc[0].tolist() == ["1", "2"]


def test_quoted_cells_with_delimiters_and_newlines():
    data = b'Nama usaha;Alamat\r\n"UD ""Sinar""; Jaya";"Jl. A\nRT 1"\r\nB;C\r\n'
    frame = read_upload("x.csv", data)["x.csv"]
    assert frame.loc[2, "Nama usaha"] == 'UD "Sinar"; Jaya'
    assert frame.loc[3, "Alamat"] == "C"


@pytest.mark.db
def test_headers_in_any_language_and_case(session, admin_actor):
    head = ["business id (nib)", "NAMA USAHA", "Owner", "Telepon (Phone)", "  Regency ",
            "kecamatan", "Employees", "Pekerja Perempuan"]
    report = dry_run(session, actor=admin_actor, filename="x.csv",
                     data=ikm_csv(sumenep("3529090000001", "A"), head=head))
    assert (report.new, report.rejected) == (1, 0)


@pytest.mark.db
def test_example_row_of_the_template_is_skipped(session, admin_actor):
    data = ikm_csv(sumenep("9999999999999", exporter.EXAMPLE_MARK),
                   sumenep("3529090000001", "Usaha nyata"))
    report = dry_run(session, actor=admin_actor, filename="x.csv", data=data)
    assert (report.new, report.skipped) == (1, 1)


@pytest.mark.db
def test_odd_typed_cells_of_a_workbook_are_row_errors(session, admin_actor):
    from datetime import datetime, time

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "IKM"
    ws.append(IKM_HEAD)
    odd = [float("inf"), 10**30, datetime(2024, 1, 1), True, time(8, 30), -0.0, 1e-300]
    for i, value in enumerate(odd):
        ws.append([f"35290900000{i:02d}", value, value, value, "Sumenep", "Guluk-Guluk", value,
                   value])
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl writes infinity as an empty value; a crafted file can hold "1e999"
    patched = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(patched, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b"<v />" in content
                content = content.replace(b"<v />", b"<v>1e999</v>")
            dst.writestr(info, content)
    assert read_upload("x.xlsx", patched.getvalue())["IKM"].iloc[0, 1] == "inf"
    report = dry_run(session, actor=admin_actor, filename="x.xlsx", data=patched.getvalue())
    assert report.total == len(odd) and report.rejected >= 5


# --- dry run and commit ---------------------------------------------------------------------

@pytest.mark.db
def test_dry_run_writes_nothing(session, admin_actor):
    before, version = counts(session), audit.data_version(session)
    report = dry_run(session, actor=admin_actor, filename="x.csv",
                     data=ikm_csv(sumenep("3529090000001", "A"), sumenep(None, "B")))
    assert report.new == 2
    assert counts(session) == before and audit.data_version(session) == version
    assert not session.new and not session.dirty


@pytest.mark.db
def test_commit_refuses_rejected_rows_unless_partial_is_chosen(session, admin_actor):
    data = ikm_csv(sumenep("3529090000001", "A"), sumenep("3529090000002", "B", phone="12"),
                   sumenep(None, "C"))
    before = counts(session)
    with pytest.raises(ImportRefused) as exc:
        commit(session, actor=admin_actor, filename="x.csv", data=data)
    assert exc.value.key == "imp.has_rejected" and exc.value.params["count"] == 1
    assert counts(session) == before
    report = commit(session, actor=admin_actor, filename="x.csv", data=data, allow_partial=True)
    assert (report.new, report.rejected, report.committed) == (2, 1, True)
    session.commit()
    names = set(session.execute(select(Ikm.name)).scalars())
    assert names == {"A", "C"}
    batch = session.get(ImportBatch, report.batch_id)
    assert (batch.rows_total, batch.rows_ok, batch.rows_failed, batch.committed) == (3, 2, 1, True)
    assert batch.username == "admin" and batch.filename == "x.csv" and batch.kind == "ikm"


@pytest.mark.db
def test_upsert_updates_by_nib_and_counts_unchanged(session, admin_actor):
    rows = [sumenep(f"352909000000{i}", f"Usaha {i}") for i in range(1, 4)]
    commit(session, actor=admin_actor, filename="a.csv", data=ikm_csv(*rows))
    session.commit()
    first = ikm_by_nib(session, "3529090000002")
    first_id, first_version = first.id, first.version
    rows[1] = sumenep("3529090000002", "Usaha 2", phone="+62 877 1111 2222")
    rows.append(sumenep(None, "Tanpa NIB"))
    report = dry_run(session, actor=admin_actor, filename="b.csv", data=ikm_csv(*rows))
    assert (report.new, report.updated, report.unchanged) == (1, 1, 2)
    report = commit(session, actor=admin_actor, filename="b.csv", data=ikm_csv(*rows))
    session.commit()
    row = ikm_by_nib(session, "3529090000002")
    assert row.id == first_id and row.phone == "087711112222" and row.version == first_version + 1
    assert row.updated_by == "admin"
    history = audit.history(session, table="ikm", row_id=row.id)
    assert [h.action for h in history] == ["import", "import"]
    assert history[0].before == {"phone": "081234567890"}
    assert history[0].after == {"phone": "087711112222", "import_batch": report.batch_id}
    assert history[1].after == {"import_batch": report.batch_id - 1}  # created by the first
    assert session.execute(select(func.count()).select_from(Ikm)).scalar_one() == 4


@pytest.mark.db
def test_omitted_columns_keep_their_stored_values(session, admin_actor):
    commit(session, actor=admin_actor, filename="a.csv",
           data=ikm_csv(sumenep("3529090000001", "A")))
    data = ikm_csv(["3529090000001", "A baru", "Sumenep", "Guluk-Guluk"],
                   head=["NIB", "Nama usaha", "Kabupaten", "Kecamatan"])
    report = commit(session, actor=admin_actor, filename="b.csv", data=data)
    assert report.updated == 1
    row = ikm_by_nib(session, "3529090000001")
    assert (row.name, row.phone, row.employees) == ("A baru", "081234567890", 4)


@pytest.mark.db
def test_duplicate_nib_inside_the_file_rejects_both_rows(session, admin_actor):
    data = ikm_csv(sumenep("3529090000001", "A"), sumenep("3529-0900-00001", "B"))
    report = dry_run(session, actor=admin_actor, filename="x.csv", data=data)
    assert report.rejected == 2
    assert {(e.row, e.params["rows"]) for e in report.errors} == {(2, "3"), (3, "2")}


@pytest.mark.db
def test_nib_of_an_ikm_in_the_trash_is_refused(session, admin_actor):
    from services.ikm import delete_ikm

    row = create_ikm(session, actor=admin_actor, data={
        "name": "A", "nib": "3529090000001", "kabupaten_code": "35.29",
        "kecamatan_code": "35.29.09"})
    delete_ikm(session, actor=admin_actor, ikm_id=row.id, expected_version=row.version)
    report = dry_run(session, actor=admin_actor, filename="x.csv",
                     data=ikm_csv(sumenep("3529090000001", "A")))
    assert [e.key for e in report.errors] == ["imp.nib_in_trash"]


@pytest.mark.db
def test_staff_scoped_to_sumenep_cannot_import_bangkalan_rows(session, admin_actor):
    create_ikm(session, actor=admin_actor, data={
        "name": "Bangkalan lama", "nib": "3526010000009", "kabupaten_code": "35.26",
        "kecamatan_code": "35.26.02"})
    data = ikm_csv(sumenep("3529090000001", "Sumenep"),
                   ["3526010000001", "Bangkalan", "Ali", "", "Bangkalan", "Socah", 1, 0],
                   # an existing Bangkalan IKM moved into Sumenep: also outside the scope
                   sumenep("3526010000009", "Bangkalan lama"))
    before = counts(session)
    report = dry_run(session, actor=STAFF_SUMENEP, filename="x.csv", data=data)
    assert (report.new, report.rejected) == (1, 2)
    assert {(e.row, e.key) for e in report.errors} == {(3, "imp.out_of_scope"),
                                                        (4, "imp.out_of_scope")}
    with pytest.raises(ImportRefused):
        commit(session, actor=STAFF_SUMENEP, filename="x.csv", data=data)
    assert counts(session) == before
    report = commit(session, actor=STAFF_SUMENEP, filename="x.csv", data=data,
                    allow_partial=True)
    assert report.new == 1
    assert ikm_by_nib(session, "3529090000001").created_by == "staf"


@pytest.mark.db
def test_scoped_staff_may_reupload_other_regencies_unchanged(session, admin_actor):
    create_ikm(session, actor=admin_actor, data={
        "name": "Bangkalan", "nib": "3526010000009", "kabupaten_code": "35.26",
        "kecamatan_code": "35.26.02"})
    data = exporter.to_csv(exporter.export_ikm(session))
    report = dry_run(session, actor=STAFF_SUMENEP, filename="x.csv", data=data)
    assert (report.unchanged, report.rejected) == (1, 0)
    changed = data.replace(b'"Bangkalan";', b'"Bangkalan baru";', 1)  # every field quoted
    report = dry_run(session, actor=STAFF_SUMENEP, filename="x.csv", data=changed)
    assert [e.key for e in report.errors] == ["imp.out_of_scope"]


@pytest.mark.db
@pytest.mark.parametrize("role", [Role.head, Role.assessor, Role.viewer])
def test_roles_without_write_permission_are_refused(session, role):
    data = ikm_csv(sumenep("3529090000001", "A"))
    for fn in (dry_run, commit):
        with pytest.raises(PermissionDenied):
            fn(session, actor=Actor("x", role), filename="x.csv", data=data)


@pytest.mark.db
def test_cohort_by_name_and_of_the_same_regency(session, admin_actor):
    session.add(Cohort(name="Angkatan 1 Sumenep", kabupaten_code="35.29", year=2024))
    session.add(Cohort(name="Angkatan 1 Bangkalan", kabupaten_code="35.26", year=2024))
    session.flush()
    head = [*IKM_HEAD, "Angkatan"]
    data = ikm_csv([*sumenep("3529090000001", "A"), "angkatan 1 sumenep"],
                   [*sumenep("3529090000002", "B"), "Angkatan 1 Bangkalan"],
                   [*sumenep("3529090000003", "C"), "Angkatan 9"], head=head)
    report = dry_run(session, actor=admin_actor, filename="x.csv", data=data)
    assert {(e.row, e.key) for e in report.errors} == {(3, "v.cohort_other_regency"),
                                                        (4, "imp.unknown_cohort")}


@pytest.mark.db
def test_products_sheet_links_to_ikm_of_the_same_file_and_upserts_by_name(session, admin_actor):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "IKM"
    ws.append(IKM_HEAD)
    ws.append(sumenep("3529090000001", "A"))
    wp = wb.create_sheet("Produk")
    wp.append(["NIB", "Nama produk", "Kategori", "Harga (Rp)"])
    wp.append(["3529090000001", "Keripik Singkong", "Olahan pangan: keripik", "Rp 10.000"])
    wp.append(["3529090000001", "Petis", "Processed food: petis paste", 20000])
    wp.append(["3529090000001", "keripik singkong", "keripik", 1])  # same product again
    buf = io.BytesIO()
    wb.save(buf)
    report = dry_run(session, actor=admin_actor, filename="x.xlsx", data=buf.getvalue())
    assert report.sheet("product").rejected == 2
    assert {e.key for e in report.errors} == {"imp.duplicate_product"}
    wp.delete_rows(4)
    buf = io.BytesIO()
    wb.save(buf)
    report = commit(session, actor=admin_actor, filename="x.xlsx", data=buf.getvalue())
    assert (report.sheet("ikm").new, report.sheet("product").new) == (1, 2)
    wp["D2"] = 12500
    wp["A3"] = 3529090000001.0
    buf = io.BytesIO()
    wb.save(buf)
    report = commit(session, actor=admin_actor, filename="x.xlsx", data=buf.getvalue())
    assert (report.sheet("product").updated, report.sheet("product").unchanged) == (1, 1)
    assert report.sheet("ikm").unchanged == 1
    session.expire_all()
    prices = dict(session.execute(select(Product.name, Product.price_rp)).all())
    assert prices == {"Keripik Singkong": 12500, "Petis": 20000}


@pytest.mark.db
def test_a_product_whose_ikm_row_is_rejected_is_rejected_too(session, admin_actor):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "IKM"
    ws.append(IKM_HEAD)
    ws.append(sumenep("3529090000001", "A", phone="1"))
    wp = wb.create_sheet("Produk")
    wp.append(["NIB IKM", "Nama produk", "Kategori"])
    wp.append(["3529090000001", "Petis", "petis"])
    buf = io.BytesIO()
    wb.save(buf)
    report = dry_run(session, actor=admin_actor, filename="x.xlsx", data=buf.getvalue())
    product_errors = [e for e in report.errors if e.sheet == "Produk"]
    assert [(e.key, e.params) for e in product_errors] == [
        ("imp.ikm_rejected", {"row": 2, "sheet": "IKM"})]


@pytest.mark.db
def test_commit_records_batch_and_one_audit_row_per_record(session, admin_actor):
    data = ikm_csv(*[sumenep(f"35290900000{i:02d}", f"Usaha {i}") for i in range(10)])
    version = audit.data_version(session)
    report = commit(session, actor=admin_actor, filename="x.csv", data=data)
    session.commit()
    logs = session.execute(select(AuditLog).where(AuditLog.action == "import")).scalars().all()
    per_record = [a for a in logs if a.table_name == "ikm"]
    assert len(per_record) == 10
    summary = [a for a in logs if a.table_name == "importbatch"]
    assert len(summary) == 1 and summary[0].row_id == str(report.batch_id)
    assert summary[0].after["new"] == 10
    one = ikm_by_nib(session, "3529090000003")
    (entry,) = audit.history(session, table="ikm", row_id=one.id)
    # the record's audit row names its batch: the file, the user and the time
    assert entry.after == {"import_batch": report.batch_id} and entry.username == "admin"
    batch = session.get(ImportBatch, report.batch_id)
    assert (batch.filename, batch.at) == ("x.csv", one.created_at)
    assert audit.data_version(session) == version + 1


@pytest.mark.db
def test_progress_is_reported_up_to_done(session, admin_actor):
    seen = []
    commit(session, actor=admin_actor, filename="x.csv",
           data=ikm_csv(sumenep("3529090000001", "A")),
           progress=lambda f, label: seen.append((f, label)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and seen[-1] == (1.0, "imp.progress.done")
    assert all(label in CATALOGUE["en"] for _, label in seen)


@pytest.mark.db
def test_stale_versions_refuse_the_commit(session, admin_actor, monkeypatch):
    commit(session, actor=admin_actor, filename="a.csv",
           data=ikm_csv(sumenep("3529090000001", "A")))
    original = import_plan._existing_ikm

    def old_versions(*args, **kwargs):
        found = original(*args, **kwargs)
        return {k: {**v, "version": v["version"] - 1} for k, v in found.items()}

    monkeypatch.setattr(import_plan, "_existing_ikm", old_versions)
    with pytest.raises(ImportRefused) as exc:
        commit(session, actor=admin_actor, filename="b.csv",
               data=ikm_csv(sumenep("3529090000001", "A changed")))
    assert exc.value.key == "imp.stale"


@pytest.mark.db
def test_no_per_row_queries(session, admin_actor, engine):
    """The number of statements of a dry run + commit does not grow with the rows."""
    def statements(n: int, offset: int) -> int:
        rows = [sumenep(f"3529{offset + i:09d}", f"Usaha {offset + i}",
                        kec=["Guluk-Guluk", "Ganding", "Lenteng"][i % 3]) for i in range(n)]
        calls = []

        def count(*_args, **_kwargs):
            calls.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            data = ikm_csv(*rows)
            dry_run(session, actor=admin_actor, filename="x.csv", data=data)
            commit(session, actor=admin_actor, filename="x.csv", data=data)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(calls)

    statements(1, 5000)  # the first write of a database also creates its data version row
    assert statements(300, 0) == statements(10, 1000)


# --- round trips ---------------------------------------------------------------------------------

def fill_template(template: bytes) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb["IKM"]
    headers = [c.value for c in ws[1]]
    values = {"NIB (Business ID)": "3529090000001", "Nama usaha (Business name)": "Keripik Ani",
              "Nama pemilik (Owner)": "Ani", "Jenis kelamin pemilik (Owner gender) (L/P)": "P",
              "Telepon (Phone)": 81234567890, "Bentuk usaha (Legal form)": "UD",
              "Kabupaten (Regency)": "Sumenep", "Kecamatan (District)": "Guluk-Guluk",
              "Tahun berdiri (Year founded)": 2010, "Jumlah pekerja (Employees)": 3,
              "Pekerja perempuan (Female employees)": 2, "Status": "aktif"}
    ws.append([values.get(h) for h in headers])
    ws.append([{"Nama usaha (Business name)": "Tanpa NIB", "Kabupaten (Regency)": "Sampang",
                "Kecamatan (District)": "Omben"}.get(h) for h in headers])
    wp = wb["Produk"]
    headers = [c.value for c in wp[1]]
    product = {"NIB IKM (IKM business ID)": "3529090000001",
               "Nama produk (Product name)": "Keripik tempe",
               "Kategori (Category)": "Olahan pangan: keripik", "Satuan (Unit)": "g",
               "Isi bersih (Net content)": 200, "Harga (Price) (Rp)": "Rp 12.500"}
    assert set(product) <= set(headers)
    wp.append([product.get(h) for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.db
def test_template_round_trip(session, admin_actor):
    data = fill_template(exporter.template_workbook(session))
    report = dry_run(session, actor=admin_actor, filename="isi.xlsx", data=data)
    assert report.errors == []
    assert (report.sheet("ikm").new, report.sheet("ikm").skipped) == (2, 1)
    assert (report.sheet("product").new, report.sheet("product").skipped) == (1, 1)
    report = commit(session, actor=admin_actor, filename="isi.xlsx", data=data)
    session.commit()
    ani = ikm_by_nib(session, "3529090000001")
    assert ani.phone == "081234567890" and ani.kecamatan_code == "35.29.09"
    product = session.execute(select(Product)).scalar_one()
    assert (product.ikm_id, product.price_rp, product.net_content) == (ani.id, 12500, 200.0)
    again = exporter.export_workbook(session)
    report = dry_run(session, actor=admin_actor, filename="export.xlsx", data=again)
    # the export names each record by its ID: the IKM without an NIB is matched too
    assert (report.sheet("ikm").unchanged, report.sheet("ikm").new) == (2, 0)
    assert report.sheet("product").unchanged == 1 and report.rejected == 0
    assert report.warnings == [] and report.changes == []


@pytest.mark.db
def test_export_of_demo_data_reimports_unchanged(session, admin_actor):
    seed_demo(session, ikm_per_kabupaten=5)
    session.commit()
    live = session.execute(select(func.count()).select_from(Ikm).where(
        Ikm.deleted_at.is_(None))).scalar_one()
    frame = exporter.export_ikm(session)
    for name, data in (("ikm.xlsx", exporter.to_xlsx(frame, sheet="IKM")),
                       ("ikm.csv", exporter.to_csv(frame))):
        report = dry_run(session, actor=admin_actor, filename=name, data=data)
        assert report.errors == [], (name, report.errors[:3])
        # every IKM comes back unchanged, those without an NIB too (matched by their ID)
        assert (report.new, report.updated, report.unchanged) == (0, 0, live), name
    # Products: the demo keeps product names unique per IKM (the upsert key) and HS codes as
    # digits, so the whole workbook comes back unchanged.
    stored = session.execute(select(func.count()).select_from(Product)
                             .join(Ikm, Ikm.id == Product.ikm_id)
                             .where(Ikm.nib.is_not(None), Product.deleted_at.is_(None))
                             ).scalar_one()
    report = dry_run(session, actor=admin_actor, filename="all.xlsx",
                     data=exporter.export_workbook(session))
    products = report.sheet("product")
    assert report.errors == []
    assert (products.rejected, products.updated, products.unchanged) == (0, 0, stored)


@pytest.mark.db
def test_neutralised_text_comes_back_as_stored(session, admin_actor):
    create_ikm(session, actor=admin_actor, data={
        "name": '=HYPERLINK("http://evil","klik")', "nib": "3529090000001",
        "owner_name": "-", "kabupaten_code": "35.29", "kecamatan_code": "35.29.09"})
    frame = exporter.export_ikm(session)
    for name, data in (("e.xlsx", exporter.to_xlsx(frame, sheet="IKM")),
                       ("e.csv", exporter.to_csv(frame))):
        report = dry_run(session, actor=admin_actor, filename=name, data=data)
        assert (report.unchanged, report.rejected) == (1, 0), name


# --- property: anything in the cells -------------------------------------------------------------

cell = st.one_of(st.text(max_size=30), st.integers(-10**16, 10**16).map(str),
                 st.sampled_from(["", "Rp 1.500.000", "1.500.000,50", "=1+1", "'=2", "#N/A",
                                  "Guluk Guluk", "L", "P", "aktif", "keluar", "3529090000001",
                                  "1,23457E+12", "+62 812", "31/02/2024", "\x00", "\u202e"]))


@pytest.mark.db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.lists(cell, min_size=8, max_size=8), min_size=1, max_size=4),
       sep=st.sampled_from([",", ";"]))
def test_random_cells_never_crash_and_never_write_part_of_a_batch(session, admin_actor, rows,
                                                                   sep):
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep)
    writer.writerow(IKM_HEAD)
    writer.writerows(rows)
    data = buf.getvalue().encode("utf-8", "surrogatepass")
    before = counts(session)
    try:
        try:
            report = dry_run(session, actor=admin_actor, filename="x.csv", data=data)
        except ServiceError as exc:
            assert exc.key in CATALOGUE["en"]
            return
        assert counts(session) == before
        try:
            done = commit(session, actor=admin_actor, filename="x.csv", data=data)
        except ImportRefused as exc:
            assert report.rejected > 0 or exc.key == "imp.nothing_valid"
            assert counts(session) == before
            return
        assert done.rejected == 0
        after = counts(session)
        assert after["Ikm"] == before["Ikm"] + done.new
        assert after["ImportBatch"] == before["ImportBatch"] + 1
    finally:
        session.rollback()
