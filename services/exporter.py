"""Spreadsheet exports: the import template, filtered lists and safe XLSX/CSV bytes.

The template and every export share one column layout (`IKM_LAYOUT`, `PRODUCT_LAYOUT`), so a
file downloaded here can be edited and uploaded again (services.importer reads the same layout).

Cells that a spreadsheet program would run as a formula (text beginning with `=`, `+`, `-`, `@`,
tab or carriage return) are written with a leading apostrophe; the importer takes that apostrophe
off again, so an export -> re-import round trip gives back the stored text.
"""

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlmodel import Session

from models import Cohort, Desa, Ikm, Kabupaten, Kecamatan, Product, ProductCategory
from services.ikm import IKM_COLUMNS, LEGAL_FORMS, STATUSES, Column, IkmFilter, _filtered
from services.cohorts import COHORT_COLUMNS
from services.products import PRODUCT_COLUMNS, UNITS
from services.records import (
    CERT_COLUMNS,
    COACHING_COLUMNS,
    EXPORT_COLUMNS,
    FINANCIAL_COLUMNS,
    LISTING_COLUMNS,
)
from services.regions import load_regions
from ui.catalogue import CATALOGUE

# --- the shared layout ------------------------------------------------------------------------

SHEET_HELP = "Petunjuk"
SHEET_IKM = "IKM"
SHEET_PRODUCT = "Produk"
SHEET_COHORT = "Angkatan"
SHEET_CERT = "Sertifikat"
SHEET_LISTING = "Ritel"
SHEET_EXPORT = "Ekspor"
SHEET_COACHING = "Pembinaan"
SHEET_FINANCIAL = "Keuangan"
SHEET_LISTS = "Daftar"

# A row whose name (IKM or product) starts with this text is the template's example row: the
# importer skips it (and counts it as skipped), so forgetting to delete it does no harm.
EXAMPLE_MARK = "CONTOH – hapus baris ini"

# The product sheet's link to its IKM (the upsert key of products is this NIB + product name).
IKM_LINK = Column("ikm_nib", "NIB IKM", "IKM business ID", required=True)

TEMPLATE_ROWS = 20_000  # rows that carry the dropdown lists and text formats in the template
DATE_FORMAT = "DD/MM/YYYY"  # how an Indonesian-locale spreadsheet shows dates
TEXT_FIELDS = {"nib", "phone", "ikm_nib", "gtin", "hs_code"}  # digits kept as text
DATE_FIELDS = {"export_commitment_on", "left_on", "packaging_upgraded_on"}


def header(col: Column) -> str:
    """The bilingual header of a column: "Nama usaha (Business name)".

    Identical texts appear once ("Status"); a Bahasa term repeated in the English text is not
    doubled ("NIB (Business ID)"); a shared unit goes last ("Harga (Price) (Rp)").
    """
    hid, hen = col.header_id, col.header_en
    if hid.lower() == hen.lower():
        return hid
    hen = hen.removesuffix(f" ({hid})")
    unit = re.search(r" \([^()]*\)$", hid)
    if unit and hen.endswith(unit.group()) and hen != unit.group().strip():
        return f"{hid[:unit.start()]} ({hen[:-len(unit.group())]}){unit.group()}"
    return f"{hid} ({hen})"


@dataclass(frozen=True)
class Layout:
    # The columns of one sheet, in order, and their headers in the template.
    sheet: str
    kind: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [header(c) for c in self.columns]


IKM_LAYOUT = Layout(SHEET_IKM, "ikm", IKM_COLUMNS)
PRODUCT_LAYOUT = Layout(SHEET_PRODUCT, "product", (IKM_LINK, *PRODUCT_COLUMNS))
# The other kinds of record. Upsert keys (services.importer): a cohort by regency + name; a
# certificate by IKM + type + product (blank for an enterprise certificate); a retail listing
# by IKM + product + retailer; a shipment by IKM + product + date + country; a coaching action
# by IKM + text; financials by IKM + year. Products, retailers, certificate types and
# countries are given by name (codes are accepted too).
COHORT_LAYOUT = Layout(SHEET_COHORT, "cohort", COHORT_COLUMNS)
CERT_LAYOUT = Layout(SHEET_CERT, "certification", (IKM_LINK, *CERT_COLUMNS))
LISTING_LAYOUT = Layout(SHEET_LISTING, "listing", (IKM_LINK, *LISTING_COLUMNS))
EXPORT_LAYOUT = Layout(SHEET_EXPORT, "export", (IKM_LINK, *EXPORT_COLUMNS))
COACHING_LAYOUT = Layout(SHEET_COACHING, "coaching", (IKM_LINK, *COACHING_COLUMNS))
FINANCIAL_LAYOUT = Layout(SHEET_FINANCIAL, "financials", (IKM_LINK, *FINANCIAL_COLUMNS))
# Every sheet in the order of the template, of exports and of an import's writes (a cohort
# before the IKM in it, an IKM before its products, a product before its certificates...).
LAYOUTS: tuple[Layout, ...] = (COHORT_LAYOUT, IKM_LAYOUT, PRODUCT_LAYOUT, CERT_LAYOUT,
                               LISTING_LAYOUT, EXPORT_LAYOUT, COACHING_LAYOUT, FINANCIAL_LAYOUT)


# --- neutralising and writing -----------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell value that no spreadsheet program will run as a formula.

    Text starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading apostrophe;
    numbers (negative ones too), dates and empty cells are returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _plain(value):
    """A pandas/numpy cell as a plain Python value (None for every kind of missing)."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _safe_sheet_name(name: str) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", str(name)).strip() or "Data"
    return name[:31]


def _width(texts) -> float:
    longest = max((len(str(t)) for t in texts if t is not None), default=8)
    return float(min(max(longest + 2, 10), 50))


def _write_sheet(wb: Workbook, df: pd.DataFrame, sheet: str) -> None:
    ws = wb.create_sheet(_safe_sheet_name(sheet))
    ws.freeze_panes = "A2"
    columns = [str(c) for c in df.columns]
    sample = df.head(200)
    for i, name in enumerate(columns, start=1):
        values = [name[:40], *(str(v) for v in map(_plain, sample.iloc[:, i - 1])
                               if v is not None)]
        ws.column_dimensions[get_column_letter(i)].width = _width(values)
    bold = Font(bold=True)
    head = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=neutralise(name))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    for row in df.itertuples(index=False, name=None):
        out = []
        for value in row:
            value = neutralise(_plain(value))
            if isinstance(value, datetime | date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = DATE_FORMAT
                value = cell
            out.append(value)
        ws.append(out)


def to_xlsx(df: pd.DataFrame, *, sheet: str) -> bytes:
    """One sheet of XLSX bytes: bold frozen header, dates as dates, formula-like text
    neutralised, digit codes (NIB, phone, GTIN) kept as text, columns sized to their content."""
    wb = Workbook(write_only=True)
    _write_sheet(wb, df, sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv_text(value, decimal_comma: bool) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        return text.replace(".", ",") if decimal_comma else text
    return str(neutralise(value))


def to_csv(df: pd.DataFrame, *, sep: str = ";") -> bytes:
    """CSV bytes that Excel opens directly: UTF-8 with BOM, `;` by default (Indonesian Excel),
    decimal comma when the separator is `;`, ISO dates, formula-like text neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    decimal_comma = sep != ","
    writer.writerow([_csv_text(c, decimal_comma) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        writer.writerow([_csv_text(v, decimal_comma) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# --- the template -----------------------------------------------------------------------------

def _text(lang: str, key: str, **params) -> str:
    texts = CATALOGUE.get(lang) or CATALOGUE["id"]
    text = texts.get(key) or CATALOGUE["id"].get(key) or key
    return text.format(**params) if params else text


def _choice_lists(session: Session) -> dict[str, list[str]]:
    """The values offered by the template's dropdowns, by field name."""
    regions = load_regions(session)
    kecamatan = sorted({n for _k, n in regions.kecamatan.values()}, key=str.lower)
    categories = [n for (n,) in session.execute(
        select(ProductCategory.name_id).order_by(ProductCategory.code))]
    cohorts = sorted({n for (n,) in session.execute(
        select(Cohort.name).where(Cohort.deleted_at.is_(None)))}, key=str.lower)
    return {
        "kabupaten_code": [regions.kabupaten[c] for c in sorted(regions.kabupaten)],
        "kecamatan_code": kecamatan,
        "legal_form": list(LEGAL_FORMS),
        "owner_gender": ["L", "P"],
        "status": list(STATUSES),
        "category_code": categories,
        "unit": list(UNITS),
        "cohort_id": cohorts,
    }


# Dropdowns that refuse other values (closed sets); the others only warn, because the importer
# also accepts codes and spelling variants (and tells which values it cannot match).
_STRICT_LISTS = {"legal_form", "owner_gender", "status", "unit"}


def _example_rows(session: Session, lists: dict[str, list[str]]) -> tuple[dict, dict]:
    regions = load_regions(session)
    kab = next((c for c, n in regions.kabupaten.items() if n == "Sumenep"),
               sorted(regions.kabupaten)[0] if regions.kabupaten else None)
    kec_code, kec_name, desa_name = None, None, None
    if kab:
        kecs = regions.kecamatan_of(kab)
        kec_code = next((c for c, n in kecs.items() if n == "Guluk-Guluk"), next(iter(kecs), None))
        kec_name = kecs.get(kec_code)
        desa_name = next(iter(regions.desa_of(kec_code).values()), None) if kec_code else None
    nib = "9999999999999"
    ikm = {"nib": nib, "name": EXAMPLE_MARK, "owner_name": "Siti Aminah", "owner_gender": "P",
           "phone": "081234567890", "legal_form": "perorangan",
           "kabupaten_code": regions.kabupaten.get(kab), "kecamatan_code": kec_name,
           "desa_code": desa_name, "address": "Jl. Raya Guluk-Guluk No. 12",
           "founded_year": 2015, "employees": 4, "employees_female": 3, "status": "aktif"}
    category = next((n for n in lists["category_code"] if "keripik" in n.lower()),
                    (lists["category_code"] or [None])[0])
    product = {"ikm_nib": nib, "name": EXAMPLE_MARK, "category_code": category,
               "brand": "Sari Madura", "net_content": 250, "unit": "g", "shelf_life_days": 180,
               "price_rp": 15000, "cost_rp": 9000, "capacity_per_month": 500,
               "hs_code": "200819", "baseline_sales_rp": 3000000}
    return ikm, product


def _data_sheet(wb: Workbook, layout: Layout, example: dict, list_ranges: dict[str, str],
                lang: str) -> None:
    ws = wb.create_sheet(layout.sheet)
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for i, (col, text) in enumerate(zip(layout.columns, layout.headers, strict=True), start=1):
        cell = ws.cell(row=1, column=i, value=text)
        cell.font = Font(bold=True)
        cell.fill = required_fill if col.required else header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = _width([text[:40], example.get(col.name)])
        if col.name in TEXT_FIELDS:
            ws.column_dimensions[letter].number_format = "@"
        elif col.name in DATE_FIELDS:
            ws.column_dimensions[letter].number_format = DATE_FORMAT
        value = example.get(col.name)
        ex = ws.cell(row=2, column=i, value=value)
        ex.font = Font(italic=True, color="808080")
        if col.name in TEXT_FIELDS:
            ex.number_format = "@"
        if col.name in list_ranges:
            strict = col.name in _STRICT_LISTS
            dv = DataValidation(type="list", formula1=list_ranges[col.name], allow_blank=True,
                                errorStyle="stop" if strict else "warning",
                                showErrorMessage=True,
                                error=_text(lang, "imp.tpl.pick_from_list"),
                                errorTitle=layout.sheet)
            dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            ws.add_data_validation(dv)
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "A2"


def _help_sheet(wb: Workbook, lang: str, lists: dict[str, list[str]]) -> None:
    ws = wb.create_sheet(SHEET_HELP, 0)
    ws.column_dimensions["A"].width = 46
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 90
    ws.append([_text(lang, "imp.tpl.title")])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    for n in range(1, 9):
        ws.append([_text(lang, f"imp.tpl.step{n}", example=EXAMPLE_MARK)])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=3)
        ws.cell(row=ws.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[ws.max_row].height = 30
    for layout in (IKM_LAYOUT, PRODUCT_LAYOUT):
        ws.append([])
        ws.append([_text(lang, "imp.tpl.sheet", sheet=layout.sheet)])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=12)
        ws.append([_text(lang, "imp.tpl.col_header"), _text(lang, "imp.tpl.col_required"),
                   _text(lang, "imp.tpl.col_hint")])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for col in layout.columns:
            hint = _text(lang, f"imp.hint.{col.name}") \
                if f"imp.hint.{col.name}" in CATALOGUE["id"] else ""
            choices = col.choices or (tuple(lists.get(col.name, ())) if col.name in
                                      ("kabupaten_code", "category_code") else ())
            if choices:
                hint = (hint + " " if hint else "") + _text(
                    lang, "imp.tpl.choices", choices=", ".join(map(str, choices)))
            ws.append([header(col), _text(lang, "imp.tpl.yes") if col.required else "", hint])
            ws.cell(row=ws.max_row, column=3).alignment = Alignment(wrap_text=True)


def _lists_sheet(wb: Workbook, lists: dict[str, list[str]]) -> dict[str, str]:
    ws = wb.create_sheet(SHEET_LISTS)
    ws.sheet_state = "hidden"
    ranges: dict[str, str] = {}
    for i, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(i)
        ws.cell(row=1, column=i, value=name)
        for r, value in enumerate(values, start=2):
            ws.cell(row=r, column=i, value=value)
        if values:
            ranges[name] = (f"{quote_sheetname(SHEET_LISTS)}!${letter}$2:"
                            f"${letter}${len(values) + 1}")
    return ranges


def template_workbook(session: Session, *, lang: str = "id") -> bytes:
    """The import template (XLSX): instructions ("Petunjuk"), an "IKM" and a "Produk" sheet with
    bilingual headers, dropdown lists kept on a hidden "Daftar" sheet, and one example row per
    sheet whose name starts with EXAMPLE_MARK (the importer skips it)."""
    lists = _choice_lists(session)
    wb = Workbook()
    wb.remove(wb.active)
    _help_sheet(wb, lang, lists)
    ranges = _lists_sheet(wb, lists)
    ikm_example, product_example = _example_rows(session, lists)
    _data_sheet(wb, IKM_LAYOUT, ikm_example, ranges, lang)
    _data_sheet(wb, PRODUCT_LAYOUT, product_example, ranges, lang)
    # keep the hidden list sheet last, the instructions first and active
    wb.move_sheet(SHEET_LISTS, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(SHEET_LISTS))
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- exports of filtered lists ----------------------------------------------------------------

def _ikm_query(filters: IkmFilter, as_of: date):
    fields = []
    for col in IKM_COLUMNS:
        if col.name == "kabupaten_code":
            fields.append(Kabupaten.name.label(col.name))
        elif col.name == "kecamatan_code":
            fields.append(Kecamatan.name.label(col.name))
        elif col.name == "desa_code":
            fields.append(Desa.name.label(col.name))
        elif col.name == "cohort_id":
            fields.append(Cohort.name.label(col.name))
        else:
            fields.append(getattr(Ikm, col.name).label(col.name))
    query = (select(*fields)
             .join(Kabupaten, Kabupaten.code == Ikm.kabupaten_code)
             .join(Kecamatan, Kecamatan.code == Ikm.kecamatan_code)
             .outerjoin(Desa, Desa.code == Ikm.desa_code)
             .outerjoin(Cohort, Cohort.id == Ikm.cohort_id))
    return _filtered(query, filters, as_of).order_by(Ikm.id)


def export_ikm(session: Session, *, filters: IkmFilter = IkmFilter(),
               as_of: date | None = None) -> pd.DataFrame:
    """The filtered IKM list in the template's layout and headers (regions and cohort by name),
    ready for to_xlsx/to_csv and for editing and uploading again. One query."""
    rows = session.execute(_ikm_query(filters, as_of or date.today())).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=IKM_LAYOUT.headers, dtype=object)


def export_products(session: Session, *, filters: IkmFilter = IkmFilter(),
                    as_of: date | None = None) -> pd.DataFrame:
    """The live products of the filtered IKM in the template's "Produk" layout (the IKM's NIB
    first, category by name). Products of IKM without an NIB cannot be re-imported and are left
    out. One query."""
    ikm_ids = _filtered(select(Ikm.id), filters, as_of or date.today())
    fields = [Ikm.nib.label("ikm_nib")]
    for col in PRODUCT_COLUMNS:
        if col.name == "category_code":
            fields.append(ProductCategory.name_id.label(col.name))
        else:
            fields.append(getattr(Product, col.name).label(col.name))
    query = (select(*fields).join(Ikm, Ikm.id == Product.ikm_id)
             .join(ProductCategory, ProductCategory.code == Product.category_code)
             .where(Product.deleted_at.is_(None), Ikm.nib.is_not(None),
                    Product.ikm_id.in_(ikm_ids))
             .order_by(Ikm.id, Product.id))
    rows = session.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=PRODUCT_LAYOUT.headers, dtype=object)


def export_workbook(session: Session, *, filters: IkmFilter = IkmFilter(),
                    as_of: date | None = None) -> bytes:
    """Both sheets ("IKM" and "Produk") of the filtered IKM in one re-importable workbook."""
    frames = {SHEET_IKM: export_ikm(session, filters=filters, as_of=as_of),
              SHEET_PRODUCT: export_products(session, filters=filters, as_of=as_of)}
    wb = Workbook(write_only=True)
    for name, df in frames.items():
        _write_sheet(wb, df, name)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
