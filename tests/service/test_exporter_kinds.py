"""The template and the export workbook for all eight sheets: cohorts, IKM, products,
certificates, retail listings, exports, coaching actions and financials."""

import io
from datetime import date

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, range_boundaries
from sqlalchemy import event, func, or_, select

from db.demo import seed_demo
from models import (
    Certification,
    CertificationType,
    CoachingAction,
    Cohort,
    ExportRecord,
    Ikm,
    IkmFinancials,
    Kabupaten,
    Product,
    ProductCategory,
    Retailer,
    RetailListing,
    utcnow,
)
from services import exporter
from services.cohorts import clean_cohort
from services.ikm import IkmFilter
from services.records import (
    CERT_STATUSES,
    EXPORT_ROUTES,
    LISTING_STATUSES,
    CertTypeInfo,
    ProductInfo,
    clean_certification,
    clean_coaching,
    clean_export,
    clean_financials,
    clean_listing,
)

SHEETS = ["Petunjuk", "Angkatan", "IKM", "Produk", "Sertifikat", "Ritel", "Ekspor", "Pembinaan",
          "Keuangan", "Daftar"]
CHILD_LAYOUTS = (exporter.CERT_LAYOUT, exporter.LISTING_LAYOUT, exporter.EXPORT_LAYOUT,
                 exporter.COACHING_LAYOUT, exporter.FINANCIAL_LAYOUT)


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def dropdowns(wb: openpyxl.Workbook, layout: exporter.Layout) -> dict[str, tuple[list, str]]:
    """Header -> (the values its dropdown offers, read from the Daftar sheet; error style)."""
    ws, lists = wb[layout.sheet], wb["Daftar"]
    headers = [c.value for c in ws[1]]
    out = {}
    for dv in ws.data_validations.dataValidation:
        first = str(dv.sqref).split(":")[0]
        column = headers[column_index_from_string(first.rstrip("0123456789")) - 1]
        assert first.endswith("2"), (layout.sheet, column)  # from the first data row on
        min_col, min_row, _max_col, max_row = range_boundaries(
            dv.formula1.split("!")[1].replace("$", ""))
        values = [lists.cell(row=r, column=min_col).value for r in range(min_row, max_row + 1)]
        out[column] = (values, dv.errorStyle)
    return out


def example(wb: openpyxl.Workbook, layout: exporter.Layout) -> dict:
    """The template's example row of a sheet, by field name."""
    row = [c.value for c in wb[layout.sheet][2]]
    return {col.name: value for col, value in zip(layout.columns, row, strict=False)}


def head(layout: exporter.Layout, name: str) -> str:
    return next(exporter.header(c) for c in layout.columns if c.name == name)


@pytest.fixture
def template(session):
    session.add(Retailer(name="Toko Oleh-oleh Madura", kind="toko"))
    session.flush()
    return load(exporter.template_workbook(session, lang="id"))


@pytest.mark.db
def test_template_has_every_sheet_in_order_with_bilingual_headers(template):
    assert template.sheetnames == SHEETS
    assert [layout.sheet for layout in exporter.LAYOUTS] == SHEETS[1:-1]
    assert template["Daftar"].sheet_state == "hidden" and template.active.title == "Petunjuk"
    for layout in exporter.LAYOUTS:
        ws = template[layout.sheet]
        assert [c.value for c in ws[1]] == layout.headers, layout.sheet
        assert ws.freeze_panes == "A2"
        required = [c.value for c in ws[1] if c.fill.fgColor.rgb.endswith("FCE4D6")]
        assert required == [exporter.header(c) for c in layout.columns if c.required]
    assert head(exporter.EXPORT_LAYOUT, "country") == "Negara tujuan (Destination country)"
    assert template["Sertifikat"]["A1"].value == "NIB IKM (IKM business ID)"


@pytest.mark.db
def test_template_dates_show_day_first_and_codes_stay_text(template):
    for layout in exporter.LAYOUTS:
        ws = template[layout.sheet]
        for i, col in enumerate(layout.columns, start=1):
            cell = ws.cell(row=2, column=i)
            if col.name.endswith("_on"):
                assert ws.column_dimensions[cell.column_letter].number_format == "DD/MM/YYYY"
                if cell.value is not None:
                    assert cell.is_date and cell.number_format == "DD/MM/YYYY", col.name
            if col.name in ("ikm_nib", "number"):
                assert cell.data_type == "s" and cell.number_format == "@", col.name
    assert template["Ekspor"]["C2"].is_date  # the example shipment has a date


@pytest.mark.db
def test_template_dropdowns_per_sheet(session, template):
    cert = dropdowns(template, exporter.CERT_LAYOUT)
    names = set(session.execute(select(CertificationType.name)).scalars())
    assert set(cert["Jenis sertifikat (Certificate type)"][0]) == names
    assert cert["Jenis sertifikat (Certificate type)"][1] == "warning"  # codes are accepted
    assert cert["Status"] == (list(CERT_STATUSES), "stop")

    listing = dropdowns(template, exporter.LISTING_LAYOUT)
    retailers, style = listing["Ritel (Retailer)"]
    assert "Toko Oleh-oleh Madura" in retailers and "Indomaret" in retailers
    assert style == "warning"
    assert listing["Status"] == (list(LISTING_STATUSES), "stop")
    assert "Produk (Product)" not in listing  # products are this IKM's own: typed

    export = dropdowns(template, exporter.EXPORT_LAYOUT)
    countries, style = export["Negara tujuan (Destination country)"]
    assert {"Malaysia", "Arab Saudi", "Jepang", "Singapura"} <= set(countries)
    assert "MY" not in countries and style == "warning"
    assert export["Jalur (Route)"] == (list(EXPORT_ROUTES), "stop")
    assert "Satuan (Unit)" not in export  # the shipped unit is free text

    # three sheets have a "Status" column, each with its own choices
    ikm = dropdowns(template, exporter.IKM_LAYOUT)
    assert ikm["Status"] == (["aktif", "keluar"], "stop")
    cohort = dropdowns(template, exporter.COHORT_LAYOUT)
    assert cohort["Kabupaten (Regency)"][0] == ["Bangkalan", "Sampang", "Pamekasan", "Sumenep"]
    assert dropdowns(template, exporter.COACHING_LAYOUT) == {}
    assert dropdowns(template, exporter.FINANCIAL_LAYOUT) == {}


def is_example(row: dict) -> bool:
    """The importer's rule for the template's example rows."""
    return row.get("ikm_nib") == exporter.EXAMPLE_NIB or any(
        isinstance(v, str) and v.startswith(exporter.EXAMPLE_MARK) for v in row.values())


@pytest.mark.db
def test_every_example_row_is_marked_and_points_at_the_example_ikm(template):
    assert example(template, exporter.IKM_LAYOUT)["nib"] == exporter.EXAMPLE_NIB
    for layout in exporter.LAYOUTS:
        row = example(template, layout)
        assert is_example(row), layout.sheet
        assert template[layout.sheet].max_row == 2, layout.sheet  # one example, nothing else
    assert example(template, exporter.COHORT_LAYOUT)["name"].startswith(exporter.EXAMPLE_MARK)
    for layout in CHILD_LAYOUTS:
        row = example(template, layout)
        assert row["ikm_nib"] == exporter.EXAMPLE_NIB, layout.sheet
        if "product_id" in row:
            assert row["product_id"] == exporter.EXAMPLE_MARK, layout.sheet


@pytest.mark.db
def test_example_rows_are_valid_records(session, template):
    # A user copies the examples' forms, so each must pass its own cleaner.
    kabupaten = dict(session.execute(select(Kabupaten.code, Kabupaten.name)).all())
    product = example(template, exporter.PRODUCT_LAYOUT)
    category = session.execute(select(ProductCategory).where(
        ProductCategory.name_id == product["category_code"])).scalar_one()
    products = {1: ProductInfo(product["name"], category.code, category.is_food,
                               category.is_wood)}
    cert_types = {t.code: CertTypeInfo(t.name, t.scope, t.applies_to, t.validity_months)
                  for t in session.execute(select(CertificationType)).scalars()}
    retailers = dict(session.execute(select(Retailer.id, Retailer.name)).all())
    today = date(2026, 1, 1)
    checks = {
        "cohort": lambda raw: clean_cohort(raw, kabupaten=kabupaten, today=today),
        "certification": lambda raw: clean_certification(raw, cert_types=cert_types,
                                                         products=products, today=today),
        "listing": lambda raw: clean_listing(raw, retailers=retailers, products=products,
                                             today=today),
        "export": lambda raw: clean_export(raw, products=products, today=today),
        "coaching": lambda raw: clean_coaching(raw, products=products, today=today),
        "financials": lambda raw: clean_financials(raw, today=today),
    }
    for layout in (exporter.COHORT_LAYOUT, *CHILD_LAYOUTS):
        clean, errors = checks[layout.kind](example(template, layout))
        assert errors.items == {}, (layout.sheet, errors.items)
    assert clean_export(example(template, exporter.EXPORT_LAYOUT), products=products,
                        today=today)[0]["country"] == "MY"


@pytest.mark.db
@pytest.mark.parametrize("lang", ["id", "en"])
def test_instructions_describe_every_sheet_and_its_key(session, lang):
    wb = load(exporter.template_workbook(session, lang=lang))
    column_a = [r[0] for r in wb["Petunjuk"].iter_rows(values_only=True)]
    text = " ".join(str(c.value) for row in wb["Petunjuk"].iter_rows() for c in row if c.value)
    word = "Sheet" if lang == "en" else "Lembar"
    for layout in exporter.LAYOUTS:
        at = column_a.index(f"{word} {layout.sheet}")
        key_line = column_a[at + 1]
        assert key_line.startswith("Key:" if lang == "en" else "Kunci:"), layout.sheet
        assert ("left empty or deleted" if lang == "en" else "kosong atau dihapus") in key_line
        assert column_a[at + 3:at + 3 + len(layout.headers)] == layout.headers, layout.sheet
    keys = {"en": ["regency + cohort name", "certificate type + product",
                   "product + retailer", "shipping date + destination country",
                   "action text + product + due date", "IKM NIB + year"],
            "id": ["kabupaten + nama angkatan", "jenis sertifikat + produk",
                   "produk + ritel", "tanggal kirim + negara tujuan",
                   "teks tindakan + produk + tenggat", "NIB IKM + tahun"]}[lang]
    for key in keys:
        assert key in text, key
    assert exporter.EXAMPLE_NIB in text and exporter.EXAMPLE_MARK in text
    assert "Pembinaan" in text.split(word + " Angkatan")[0]  # step 1 names the new sheets


# --- the export workbook ----------------------------------------------------------------------

def rows_of(wb: openpyxl.Workbook, layout: exporter.Layout) -> list[dict]:
    ws = wb[layout.sheet]
    assert [c.value for c in ws[1]] == layout.headers, layout.sheet
    return [dict(zip([c.name for c in layout.columns], r, strict=True))
            for r in ws.iter_rows(min_row=2, values_only=True)]


@pytest.fixture
def demo(session):
    """Five demo IKM per regency, plus what the small demo lacks or must not be exported: two
    shipments, a deleted product with records, an IKM without an NIB with records, a deleted
    IKM with records, and formula-like text."""
    seed_demo(session, ikm_per_kabupaten=5)
    nib_ikm = session.execute(select(Ikm).where(Ikm.nib.is_not(None)).order_by(Ikm.id)
                              ).scalars().first()
    products = session.execute(select(Product).where(Product.ikm_id == nib_ikm.id,
                                                     Product.deleted_at.is_(None))
                               ).scalars().all()
    kept = products[0]
    session.add_all([
        ExportRecord(product_id=kept.id, shipped_on=date(2025, 3, 1), country="SA",
                     volume=100, unit="karton", value_usd=900.0, route="aggregator"),
        ExportRecord(product_id=kept.id, shipped_on=date(2025, 4, 1), country="MY"),
        CoachingAction(ikm_id=nib_ikm.id, text="=1+1", owner="-"),
    ])
    gone = Product(ikm_id=nib_ikm.id, name="Produk Terhapus", category_code=kept.category_code,
                   deleted_at=utcnow())
    no_nib = Ikm(name="IKM Tanpa NIB", kabupaten_code="35.29", kecamatan_code="35.29.09")
    deleted = Ikm(name="IKM Terhapus", nib="3529099999998", kabupaten_code="35.29",
                  kecamatan_code="35.29.09", deleted_at=utcnow())
    session.add_all([gone, no_nib, deleted])
    session.flush()
    retailer = session.execute(select(Retailer.id)).scalars().first()
    orphan_products = [Product(ikm_id=i.id, name=f"Produk {i.name}",
                               category_code=kept.category_code) for i in (no_nib, deleted)]
    session.add_all(orphan_products)
    session.flush()
    for p in (gone, *orphan_products):
        session.add_all([
            RetailListing(product_id=p.id, retailer_id=retailer, listed_on=date(2024, 1, 5)),
            ExportRecord(product_id=p.id, shipped_on=date(2025, 1, 2), country="JP"),
            Certification(cert_type_code="HALAL", ikm_id=p.ikm_id, product_id=p.id,
                          status="terbit", issued_on=date(2024, 1, 1)),
            CoachingAction(ikm_id=p.ikm_id, product_id=p.id, text="Tentang produk terhapus"),
        ])
    for i in (no_nib, deleted):
        session.add(IkmFinancials(ikm_id=i.id, year=2024, revenue_rp=1_000_000))
    session.flush()
    return {"ikm": nib_ikm, "gone": gone}


def live_counts(session) -> dict[str, int]:
    """What a re-importable export must hold, counted straight from the tables."""
    live_ikm = (Ikm.nib.is_not(None), Ikm.deleted_at.is_(None))

    def count(query) -> int:
        return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()

    product_live = or_(Product.id.is_(None), Product.deleted_at.is_(None))
    return {
        "cohort": count(select(Cohort.id).where(Cohort.deleted_at.is_(None), Cohort.id.in_(
            select(Ikm.cohort_id).where(Ikm.deleted_at.is_(None))))),
        "product": count(select(Product.id).join(Ikm, Ikm.id == Product.ikm_id)
                         .where(*live_ikm, Product.deleted_at.is_(None))),
        "certification": count(select(Certification.id).join(Ikm)
                               .outerjoin(Product, Product.id == Certification.product_id)
                               .where(*live_ikm, product_live)),
        "listing": count(select(RetailListing.id).join(Product).join(Ikm)
                         .where(*live_ikm, Product.deleted_at.is_(None))),
        "export": count(select(ExportRecord.id).join(Product).join(Ikm)
                        .where(*live_ikm, Product.deleted_at.is_(None))),
        "coaching": count(select(CoachingAction.id).join(Ikm)
                          .outerjoin(Product, Product.id == CoachingAction.product_id)
                          .where(*live_ikm, product_live)),
        "financials": count(select(IkmFinancials.id).join(Ikm).where(*live_ikm)),
    }


@pytest.mark.db
def test_export_workbook_holds_every_live_record_of_ikm_with_an_nib(session, demo):
    wb = load(exporter.export_workbook(session))
    assert wb.sheetnames == SHEETS[1:-1]
    expected = live_counts(session)
    for layout in exporter.LAYOUTS:
        if layout.kind in expected:
            assert len(rows_of(wb, layout)) == expected[layout.kind], layout.sheet
            assert expected[layout.kind] > 0, layout.sheet  # each sheet is really exercised
    nibs = {r["nib"] for r in rows_of(wb, exporter.IKM_LAYOUT)} - {None}
    for layout in CHILD_LAYOUTS:
        rows = rows_of(wb, layout)
        assert {r["ikm_nib"] for r in rows} <= nibs, layout.sheet
        assert "3529099999998" not in {r["ikm_nib"] for r in rows}  # the deleted IKM
        if any(c.name == "product_id" for c in layout.columns):
            assert "Produk Terhapus" not in {r["product_id"] for r in rows}, layout.sheet
    assert "Produk Terhapus" not in {r["name"] for r in rows_of(wb, exporter.PRODUCT_LAYOUT)}


@pytest.mark.db
def test_export_workbook_writes_names_and_dates_not_ids(session, demo):
    wb = load(exporter.export_workbook(session))
    product_names = set(session.execute(select(Product.name)).scalars())
    certs = rows_of(wb, exporter.CERT_LAYOUT)
    assert {r["cert_type_code"] for r in certs} <= set(
        session.execute(select(CertificationType.name)).scalars())
    assert "Nomor Induk Berusaha" in {r["cert_type_code"] for r in certs}
    assert any(r["product_id"] is None for r in certs)  # enterprise certificates
    assert {r["product_id"] for r in certs} - {None} <= product_names
    listings = rows_of(wb, exporter.LISTING_LAYOUT)
    assert {r["retailer_id"] for r in listings} <= set(
        session.execute(select(Retailer.name)).scalars())
    assert all(isinstance(r["listed_on"], date) for r in listings)
    assert wb["Ritel"]["E2"].is_date
    shipments = rows_of(wb, exporter.EXPORT_LAYOUT)
    assert sorted(r["country"] for r in shipments) == ["Arab Saudi", "Malaysia"]
    saudi = next(r for r in shipments if r["country"] == "Arab Saudi")
    assert (saudi["ikm_nib"], saudi["shipped_on"].date(), saudi["volume"], saudi["unit"],
            saudi["route"]) == (demo["ikm"].nib, date(2025, 3, 1), 100, "karton", "aggregator")
    assert saudi["product_id"] in product_names
    cohorts = rows_of(wb, exporter.COHORT_LAYOUT)
    assert {r["kabupaten_code"] for r in cohorts} == {"Bangkalan", "Sampang", "Pamekasan",
                                                       "Sumenep"}
    years = rows_of(wb, exporter.FINANCIAL_LAYOUT)
    assert all(isinstance(r["year"], int) for r in years)


@pytest.mark.db
def test_export_workbook_neutralises_formula_like_text(session, demo):
    coaching = rows_of(load(exporter.export_workbook(session)), exporter.COACHING_LAYOUT)
    mine = [r for r in coaching if r["ikm_nib"] == demo["ikm"].nib]
    assert {"text": "'=1+1", "owner": "'-"}.items() <= next(
        r for r in mine if r["text"].endswith("=1+1")).items()


@pytest.mark.db
def test_export_workbook_follows_the_filters(session, demo):
    sumenep = IkmFilter(kabupaten_code="35.29")
    wb = load(exporter.export_workbook(session, filters=sumenep))
    nibs = set(session.execute(select(Ikm.nib).where(
        Ikm.kabupaten_code == "35.29", Ikm.nib.is_not(None), Ikm.deleted_at.is_(None))).scalars())
    for layout in CHILD_LAYOUTS:
        rows = rows_of(wb, layout)
        assert {r["ikm_nib"] for r in rows} <= nibs, layout.sheet
    assert {r["kabupaten_code"] for r in rows_of(wb, exporter.COHORT_LAYOUT)} == {"Sumenep"}
    assert rows_of(wb, exporter.FINANCIAL_LAYOUT)  # Sumenep has figures
    everything = load(exporter.export_workbook(session))
    assert len(rows_of(everything, exporter.FINANCIAL_LAYOUT)) > len(
        rows_of(wb, exporter.FINANCIAL_LAYOUT))


@pytest.mark.db
def test_export_workbook_runs_one_query_per_sheet(session, demo, engine):
    session.commit()
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        exporter.export_workbook(session)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # (SQLite's engine opens its transaction with an explicit BEGIN)
    assert [s for s in statements if s != "BEGIN"] == ["SELECT"] * len(exporter.LAYOUTS)
