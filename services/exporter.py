"""Spreadsheet exports: the import template, filtered lists and safe XLSX/CSV bytes.

The template and every export share one column layout per sheet (`LAYOUTS`: cohorts, IKM,
products, certificates, retail listings, exports, coaching actions, financials), so a file
downloaded here can be edited and uploaded again (services.imports reads the same layouts).

Cells that a spreadsheet program would run as a formula (text beginning with `=`, `+`, `-`, `@`,
tab or carriage return) are written with a leading apostrophe; the importer takes that apostrophe
off again, so an export -> re-import round trip gives back the stored text. A CSV quotes every
field, and inside a field puts an apostrophe where a reader splitting at another separator would
start a cell with a formula (neutralise_csv).

Every export takes an optional `actor`: given one without "personal.read" (a viewer, an
assessor), the owners' phone numbers, NIBs (the "NIB IKM" link columns too) and addresses are
masked in the frame itself, before any bytes are written (services.privacy). Without an actor
nothing is masked: that is for callers that checked the reader already (the Import/Export page
is for staff and admins) and for the command line.
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
from sqlalchemy import case, literal, or_, select
from sqlmodel import Session

from models import (
    Certification,
    CertificationType,
    CoachingAction,
    Cohort,
    Desa,
    ExportRecord,
    Ikm,
    IkmFinancials,
    Kabupaten,
    Kecamatan,
    Product,
    ProductCategory,
    Retailer,
    RetailListing,
)
from services import clock
from services.cohorts import COHORT_COLUMNS
from services.ikm import IKM_COLUMNS, LEGAL_FORMS, STATUSES, Column, IkmFilter, _filtered
from services.permissions import Actor
from services.privacy import NIB_CERT_TYPE, mask_frame, mask_nib_certificates, sees_personal
from services.products import PRODUCT_COLUMNS, UNITS
from services.records import (
    CERT_COLUMNS,
    CERT_STATUSES,
    COACHING_COLUMNS,
    COUNTRIES,
    EXPORT_COLUMNS,
    EXPORT_ROUTES,
    FINANCIAL_COLUMNS,
    LISTING_COLUMNS,
    LISTING_STATUSES,
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

# The template's example rows, which the importer skips (and counts as skipped), so forgetting
# to delete them does no harm: a row is an example when one of its text cells starts with
# EXAMPLE_MARK (the IKM's, product's and cohort's name do) or when its "NIB IKM" is EXAMPLE_NIB
# (the example IKM's NIB, which every example record of the other sheets points at).
EXAMPLE_MARK = "CONTOH – hapus baris ini"
EXAMPLE_NIB = "9999999999999"

# The product sheet's link to its IKM (the upsert key of products is this NIB + product name).
IKM_LINK = Column("ikm_nib", "NIB IKM", "IKM business ID", required=True)

TEMPLATE_ROWS = 20_000  # rows that carry the dropdown lists and text formats in the template
DATE_FORMAT = "DD/MM/YYYY"  # how an Indonesian-locale spreadsheet shows dates
TEXT_FIELDS = {"nib", "phone", "ikm_nib", "gtin", "hs_code", "number"}  # digits kept as text


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


# The record's own id and version, last on every sheet. An export names each row's record, so
# re-importing it updates that very record (the first upsert key, before NIB or name), and a row
# older than its record (changed by someone after the export) is caught. Blank for new records.
ID_COLUMN = Column("id", "ID", "ID")
VERSION_COLUMN = Column("version", "Versi", "Version")
SYSTEM_COLUMNS = (ID_COLUMN, VERSION_COLUMN)

IKM_LAYOUT = Layout(SHEET_IKM, "ikm", (*IKM_COLUMNS, *SYSTEM_COLUMNS))
PRODUCT_LAYOUT = Layout(SHEET_PRODUCT, "product", (IKM_LINK, *PRODUCT_COLUMNS, *SYSTEM_COLUMNS))
# The other kinds of record. Upsert keys (services.imports): a cohort by regency + name; a
# certificate by IKM + type + product (blank for an enterprise certificate); a retail listing
# by IKM + product + retailer; a shipment by IKM + product + date + country; a coaching action
# by IKM + text + product + due date; financials by IKM + year. Products, retailers,
# certificate types and countries are given by name (codes are accepted too).
COHORT_LAYOUT = Layout(SHEET_COHORT, "cohort", (*COHORT_COLUMNS, *SYSTEM_COLUMNS))
CERT_LAYOUT = Layout(SHEET_CERT, "certification", (IKM_LINK, *CERT_COLUMNS, *SYSTEM_COLUMNS))
LISTING_LAYOUT = Layout(SHEET_LISTING, "listing", (IKM_LINK, *LISTING_COLUMNS, *SYSTEM_COLUMNS))
EXPORT_LAYOUT = Layout(SHEET_EXPORT, "export", (IKM_LINK, *EXPORT_COLUMNS, *SYSTEM_COLUMNS))
COACHING_LAYOUT = Layout(SHEET_COACHING, "coaching",
                         (IKM_LINK, *COACHING_COLUMNS, *SYSTEM_COLUMNS))
FINANCIAL_LAYOUT = Layout(SHEET_FINANCIAL, "financials",
                          (IKM_LINK, *FINANCIAL_COLUMNS, *SYSTEM_COLUMNS))
# Every sheet in the order of the template, of exports and of an import's writes (a cohort
# before the IKM in it, an IKM before its products, a product before its certificates...).
LAYOUTS: tuple[Layout, ...] = (COHORT_LAYOUT, IKM_LAYOUT, PRODUCT_LAYOUT, CERT_LAYOUT,
                               LISTING_LAYOUT, EXPORT_LAYOUT, COACHING_LAYOUT, FINANCIAL_LAYOUT)
# Every date column (all are named *_on): formatted DD/MM/YYYY in the template.
DATE_FIELDS = frozenset(c.name for layout in LAYOUTS for c in layout.columns
                        if c.name.endswith("_on"))


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


# Where a program reading a CSV with another separator than ours starts a cell inside one of
# our fields (English-locale Excel splits a `;` file at commas), keyed by our separator.
_SPLITS = {sep: "".join(c for c in ",;\t" if c != sep) + "\r\n" for sep in (",", ";", "\t")}
# A formula start right after such a split (a quote may stand between: `,"=` opens a quoted cell
# there), and any apostrophes before it, so that removing one apostrophe undoes it exactly.
_INNER_FORMULA = {sep: re.compile(f"(?<=[{re.escape(splits)}])(?='*\"?[=+\\-@\t\r])")
                  for sep, splits in _SPLITS.items()}


def neutralise_csv(text: str, sep: str = ";") -> str:
    """Text for a field of a CSV separated by `sep`: neutralised at its start (neutralise), and
    after every other separator or line break inside it where a formula would start, an
    apostrophe (`Toko A,=2+5` -> `Toko A,'=2+5`): a reader that splits the field there never
    sees a cell starting with a formula. The importer removes the leading apostrophe only."""
    return neutralise(_INNER_FORMULA[sep].sub("'", text))


def _csv_text(value, sep: str) -> str:
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
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        if re.fullmatch(r"-?[1-9]\d{0,2}\.\d{3}", text):
            text += "0"  # 1.125 would read as one thousand one hundred twenty-five
        return text.replace(".", ",") if sep != "," else text
    if isinstance(value, int):
        return str(value)
    return neutralise_csv(str(value), sep)


def to_csv(df: pd.DataFrame, *, sep: str = ";") -> bytes:
    """CSV bytes that Excel opens directly: UTF-8 with BOM, `;` by default (Indonesian Excel),
    decimal comma when the separator is `;`, ISO dates, formula-like text neutralised
    (neutralise_csv), and every field quoted, so separators, quotes and line breaks inside a
    field stay inside it. Lines end in LF, not CRLF: a reader with another separator can run
    past a field's end into the line end, and its cell then starts with LF, never with CR (a
    formula start to some spreadsheets)."""
    if sep not in _SPLITS:
        raise ValueError(f"unsupported CSV separator {sep!r}")
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow([_csv_text(c, sep) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        writer.writerow([_csv_text(v, sep) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# --- the template -----------------------------------------------------------------------------

_WORD_KEYS = ("imp.order.", "imp.format.")


def message(key: str, params: dict | None = None, *, lang: str = "id") -> str:
    """The text of a message key in a language (the same catalogue the pages use); Bahasa
    Indonesia when the language lacks it, the key itself when no language has it."""
    texts = CATALOGUE.get(lang) or CATALOGUE["id"]
    text = texts.get(key) or CATALOGUE["id"].get(key) or key
    # a parameter may itself name a word of the catalogue ("imp.order.mdy"): in this language
    params = {k: texts.get(v, v) if isinstance(v, str) and v.startswith(_WORD_KEYS) else v
              for k, v in (params or {}).items()}
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def _text(lang: str, key: str, **params) -> str:
    return message(key, params, lang=lang)


def _choice_lists(session: Session) -> dict[str, list[str]]:
    """The values offered by the template's dropdowns, by list name (see _LIST_OF)."""
    regions = load_regions(session)
    kecamatan = sorted({n for _k, n in regions.kecamatan.values()}, key=str.lower)
    categories = [n for (n,) in session.execute(
        select(ProductCategory.name_id).order_by(ProductCategory.code))]
    cohorts = sorted({n for (n,) in session.execute(
        select(Cohort.name).where(Cohort.deleted_at.is_(None)))}, key=str.lower)
    cert_types = sorted(session.execute(select(CertificationType.name)).scalars(),
                        key=str.lower)
    retailers = sorted(session.execute(select(Retailer.name)).scalars(), key=str.lower)
    return {
        "kabupaten_code": [regions.kabupaten[c] for c in sorted(regions.kabupaten)],
        "kecamatan_code": kecamatan,
        "legal_form": list(LEGAL_FORMS),
        "owner_gender": ["L", "P"],
        "status": list(STATUSES),
        "category_code": categories,
        "unit": list(UNITS),
        "cohort_id": cohorts,
        "cert_type_code": cert_types,
        "certification.status": list(CERT_STATUSES),
        "retailer_id": retailers,
        "listing.status": list(LISTING_STATUSES),
        "country": sorted((names[0] for names in COUNTRIES.values()), key=str.lower),
        "route": list(EXPORT_ROUTES),
    }


# The dropdown list of each (sheet kind, field). Keyed by kind because equal field names can
# mean different things: the IKM, certificate and listing "status" columns have their own lists.
_LIST_OF: dict[tuple[str, str], str] = {
    ("cohort", "kabupaten_code"): "kabupaten_code",
    ("ikm", "kabupaten_code"): "kabupaten_code",
    ("ikm", "kecamatan_code"): "kecamatan_code",
    ("ikm", "legal_form"): "legal_form",
    ("ikm", "owner_gender"): "owner_gender",
    ("ikm", "status"): "status",
    ("ikm", "cohort_id"): "cohort_id",
    ("product", "category_code"): "category_code",
    ("product", "unit"): "unit",
    ("certification", "cert_type_code"): "cert_type_code",
    ("certification", "status"): "certification.status",
    ("listing", "retailer_id"): "retailer_id",
    ("listing", "status"): "listing.status",
    ("export", "country"): "country",
    ("export", "route"): "route",
}
# Dropdowns that refuse other values (closed sets); the others only warn, because the importer
# also accepts codes and spelling variants (and tells which values it cannot match).
_STRICT_LISTS = {"legal_form", "owner_gender", "status", "unit", "certification.status",
                 "listing.status", "route"}
# Open lists short enough to spell out in the instructions (closed sets are, from col.choices).
_LISTS_IN_HELP = {"kabupaten_code", "category_code", "cert_type_code", "retailer_id"}


def _example_rows(session: Session, lists: dict[str, list[str]]) -> dict[str, dict]:
    """One example row per sheet kind: the example IKM (EXAMPLE_NIB, named EXAMPLE_MARK), its
    product (named EXAMPLE_MARK), a cohort named EXAMPLE_MARK and records of that IKM/product."""
    regions = load_regions(session)
    kab = next((c for c, n in regions.kabupaten.items() if n == "Sumenep"),
               sorted(regions.kabupaten)[0] if regions.kabupaten else None)
    kec_code, kec_name, desa_name = None, None, None
    if kab:
        kecs = regions.kecamatan_of(kab)
        kec_code = next((c for c, n in kecs.items() if n == "Guluk-Guluk"), next(iter(kecs), None))
        kec_name = kecs.get(kec_code)
        desa_name = next(iter(regions.desa_of(kec_code).values()), None) if kec_code else None
    nib = EXAMPLE_NIB
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
    cohort = {"name": EXAMPLE_MARK, "kabupaten_code": regions.kabupaten.get(kab), "year": 2024,
              "start_on": date(2024, 3, 4), "end_on": date(2024, 11, 29),
              "partners": "Disperindag, BPWS", "target_participants": 120}
    cert_type = next((n for n in lists["cert_type_code"] if "halal" in n.lower()),
                     (lists["cert_type_code"] or [None])[0])
    cert = {"ikm_nib": nib, "cert_type_code": cert_type, "product_id": EXAMPLE_MARK,
            "number": "ID35110000123450124", "status": "terbit", "filed_on": date(2024, 2, 5),
            "issued_on": date(2024, 5, 20)}
    retailer = next((n for n in lists["retailer_id"] if n.lower() == "indomaret"),
                    (lists["retailer_id"] or [None])[0])
    listing = {"ikm_nib": nib, "product_id": EXAMPLE_MARK, "retailer_id": retailer,
               "status": "listing", "listed_on": date(2024, 8, 1), "repeat_orders": 3}
    export = {"ikm_nib": nib, "product_id": EXAMPLE_MARK, "shipped_on": date(2025, 2, 10),
              "country": COUNTRIES["MY"][0], "buyer": "Kedai Madura Sdn Bhd", "volume": 200,
              "unit": "karton", "value_usd": 1250.5, "route": "aggregator"}
    coaching = {"ikm_nib": nib, "text": "Perbaiki label: cantumkan tanggal kedaluwarsa",
                "product_id": EXAMPLE_MARK, "owner": "Pendamping Sumenep",
                "due_on": date(2025, 1, 31)}
    financials = {"ikm_nib": nib, "year": 2024, "capital_rp": 25_000_000,
                  "revenue_rp": 180_000_000, "export_revenue_rp": 15_000_000}
    return {"cohort": cohort, "ikm": ikm, "product": product, "certification": cert,
            "listing": listing, "export": export, "coaching": coaching,
            "financials": financials}


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
        elif col.name in DATE_FIELDS:
            ex.number_format = DATE_FORMAT
        list_name = _LIST_OF.get((layout.kind, col.name))
        if list_name in list_ranges:
            strict = list_name in _STRICT_LISTS
            dv = DataValidation(type="list", formula1=list_ranges[list_name], allow_blank=True,
                                errorStyle="stop" if strict else "warning",
                                showErrorMessage=True,
                                error=_text(lang, "imp.tpl.pick_from_list"),
                                errorTitle=layout.sheet)
            dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            ws.add_data_validation(dv)
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "A2"


def _hint(lang: str, layout: Layout, col: Column, lists: dict[str, list[str]]) -> str:
    """A column's note in the instructions: its hint (of this sheet, else of the field, else
    the date format), then the values it takes when there are few."""
    key = next((k for k in (f"imp.hint.{layout.kind}.{col.name}", f"imp.hint.{col.name}")
                if k in CATALOGUE["id"]), None)
    hint = _text(lang, key) if key else \
        _text(lang, "imp.hint.date") if col.name in DATE_FIELDS else ""
    list_name = _LIST_OF.get((layout.kind, col.name))
    choices = col.choices or (tuple(lists.get(list_name, ())) if list_name in _LISTS_IN_HELP
                              else ())
    if choices:
        hint = (hint + " " if hint else "") + _text(
            lang, "imp.tpl.choices", choices=", ".join(map(str, choices)))
    return hint


def _help_sheet(wb: Workbook, lang: str, lists: dict[str, list[str]]) -> None:
    ws = wb.create_sheet(SHEET_HELP, 0)
    ws.column_dimensions["A"].width = 46
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 90

    def line(text: str, height: float = 30) -> None:
        ws.append([text])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=3)
        ws.cell(row=ws.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[ws.max_row].height = height

    ws.append([_text(lang, "imp.tpl.title")])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    n = 1
    while f"imp.tpl.step{n}" in CATALOGUE["id"]:
        line(_text(lang, f"imp.tpl.step{n}", example=EXAMPLE_MARK, nib=EXAMPLE_NIB))
        n += 1
    for layout in LAYOUTS:
        ws.append([])
        ws.append([_text(lang, "imp.tpl.sheet", sheet=layout.sheet)])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, size=12)
        line(_text(lang, f"imp.tpl.key.{layout.kind}") + " "
             + _text(lang, "imp.tpl.sheet_optional"))
        ws.append([_text(lang, "imp.tpl.col_header"), _text(lang, "imp.tpl.col_required"),
                   _text(lang, "imp.tpl.col_hint")])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for col in layout.columns:
            ws.append([header(col), _text(lang, "imp.tpl.yes") if col.required else "",
                       _hint(lang, layout, col, lists)])
            ws.cell(row=ws.max_row, column=3).alignment = Alignment(wrap_text=True)


def _lists_sheet(wb: Workbook, lists: dict[str, list[str]]) -> dict[str, str]:
    ws = wb.create_sheet(SHEET_LISTS)
    ws.sheet_state = "hidden"
    ranges: dict[str, str] = {}
    for i, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(i)
        ws.cell(row=1, column=i, value=name)
        for r, value in enumerate(values, start=2):
            # names typed by users (retailers, cohorts) must not become formulas here
            ws.cell(row=r, column=i, value=neutralise(value))
        if values:
            ranges[name] = (f"{quote_sheetname(SHEET_LISTS)}!${letter}$2:"
                            f"${letter}${len(values) + 1}")
    return ranges


def template_workbook(session: Session, *, lang: str = "id") -> bytes:
    """The import template (XLSX): instructions ("Petunjuk"), one sheet per layout in LAYOUTS
    order with bilingual headers and one example row each (skipped by the importer), and the
    dropdown lists on a hidden "Daftar" sheet, last."""
    lists = _choice_lists(session)
    wb = Workbook()
    wb.remove(wb.active)
    _help_sheet(wb, lang, lists)
    ranges = _lists_sheet(wb, lists)
    examples = _example_rows(session, lists)
    for layout in LAYOUTS:
        _data_sheet(wb, layout, examples[layout.kind], ranges, lang)
    # keep the hidden list sheet last, the instructions first and active
    wb.move_sheet(SHEET_LISTS, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(SHEET_LISTS))
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- exports of filtered lists ----------------------------------------------------------------

def _ikm_query(filters: IkmFilter, as_of: date):
    fields = []
    for col in IKM_LAYOUT.columns:
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


def _private(frame: pd.DataFrame, layout: Layout, actor: Actor | None) -> pd.DataFrame:
    """The frame as `actor` may read it: personal columns masked for an actor without
    "personal.read" (services.privacy.mask_frame); unchanged without an actor."""
    if actor is None:
        return frame
    return mask_frame(frame, actor, {header(c): c.name for c in layout.columns})


def export_ikm(session: Session, *, filters: IkmFilter = IkmFilter(),
               as_of: date | None = None, actor: Actor | None = None) -> pd.DataFrame:
    """The filtered IKM list in the template's layout and headers (regions and cohort by name),
    ready for to_xlsx/to_csv and for editing and uploading again. One query. With an `actor`
    who may not read personal data, phone and NIB are masked and the address left empty."""
    rows = session.execute(_ikm_query(filters, as_of or clock.today())).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=IKM_LAYOUT.headers, dtype=object)
    return _private(frame, IKM_LAYOUT, actor)


def export_products(session: Session, *, filters: IkmFilter = IkmFilter(),
                    as_of: date | None = None, actor: Actor | None = None) -> pd.DataFrame:
    """The live products of the filtered IKM in the template's "Produk" layout (the IKM's NIB
    first, category by name). Products of IKM without an NIB cannot be re-imported and are left
    out. One query."""
    ikm_ids = _filtered(select(Ikm.id), filters, as_of or clock.today())
    fields = [Ikm.nib.label("ikm_nib")]
    for col in PRODUCT_LAYOUT.columns[1:]:
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
    frame = pd.DataFrame([tuple(r) for r in rows], columns=PRODUCT_LAYOUT.headers, dtype=object)
    return _private(frame, PRODUCT_LAYOUT, actor)


def _fields(model, layout: Layout, names: dict) -> list:
    # The columns of a layout selected from `model`, those given by name taken from `names`.
    return [(names[c.name] if c.name in names else getattr(model, c.name)).label(c.name)
            for c in layout.columns]


def _frame(session: Session, query, layout: Layout, actor: Actor | None) -> pd.DataFrame:
    rows = session.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=layout.headers, dtype=object)
    return _private(frame, layout, actor)


def export_cohorts(session: Session, *, filters: IkmFilter = IkmFilter(),
                   as_of: date | None = None, actor: Actor | None = None) -> pd.DataFrame:
    """The live cohorts the filtered IKM belong to, in the template's "Angkatan" layout (regency
    by name). One query."""
    cohort_ids = _filtered(select(Ikm.cohort_id), filters, as_of or clock.today())
    query = (select(*_fields(Cohort, COHORT_LAYOUT, {"kabupaten_code": Kabupaten.name}))
             .join(Kabupaten, Kabupaten.code == Cohort.kabupaten_code)
             .where(Cohort.deleted_at.is_(None), Cohort.id.in_(cohort_ids))
             .order_by(Cohort.kabupaten_code, Cohort.year, Cohort.id))
    return _frame(session, query, COHORT_LAYOUT, actor)


def export_certifications(session: Session, *, filters: IkmFilter = IkmFilter(),
                          as_of: date | None = None, actor: Actor | None = None) -> pd.DataFrame:
    """The certificates of the filtered IKM that have an NIB, in the "Sertifikat" layout (type
    and product by name; enterprise certificates with a blank product). Certificates of
    deleted products are left out. One query."""
    ikm_ids = _filtered(select(Ikm.id), filters, as_of or clock.today())
    names = {"ikm_nib": Ikm.nib, "cert_type_code": CertificationType.name,
             "product_id": Product.name}
    query = (select(*_fields(Certification, CERT_LAYOUT, names))
             .join(Ikm, Ikm.id == Certification.ikm_id)
             .join(CertificationType, CertificationType.code == Certification.cert_type_code)
             .outerjoin(Product, Product.id == Certification.product_id)
             .where(Ikm.nib.is_not(None), Certification.ikm_id.in_(ikm_ids),
                    or_(Certification.product_id.is_(None), Product.deleted_at.is_(None)))
             .order_by(Ikm.id, Certification.id))
    frame = _frame(session, query, CERT_LAYOUT, actor)
    if actor is None or sees_personal(actor):
        return frame
    # an NIB certificate is numbered with the IKM's NIB: masked like it
    nib_types = {NIB_CERT_TYPE, *session.execute(select(CertificationType.name).where(
        CertificationType.code == NIB_CERT_TYPE)).scalars()}
    columns = dict(zip((c.name for c in CERT_LAYOUT.columns), CERT_LAYOUT.headers, strict=True))
    return mask_nib_certificates(frame, actor, type_column=columns["cert_type_code"],
                                 number_column=columns["number"], nib_types=nib_types)


def export_listings(session: Session, *, filters: IkmFilter = IkmFilter(),
                    as_of: date | None = None, actor: Actor | None = None) -> pd.DataFrame:
    """The retail listings of the live products of the filtered IKM that have an NIB, in the
    "Ritel" layout (product and retailer by name). One query."""
    ikm_ids = _filtered(select(Ikm.id), filters, as_of or clock.today())
    names = {"ikm_nib": Ikm.nib, "product_id": Product.name, "retailer_id": Retailer.name}
    query = (select(*_fields(RetailListing, LISTING_LAYOUT, names))
             .join(Product, Product.id == RetailListing.product_id)
             .join(Ikm, Ikm.id == Product.ikm_id)
             .join(Retailer, Retailer.id == RetailListing.retailer_id)
             .where(Ikm.nib.is_not(None), Product.deleted_at.is_(None),
                    Product.ikm_id.in_(ikm_ids))
             .order_by(Ikm.id, Product.id, RetailListing.id))
    return _frame(session, query, LISTING_LAYOUT, actor)


def export_exports(session: Session, *, filters: IkmFilter = IkmFilter(),
                   as_of: date | None = None, actor: Actor | None = None) -> pd.DataFrame:
    """The shipments of the live products of the filtered IKM that have an NIB, in the "Ekspor"
    layout (product by name, country by its Indonesian name). One query."""
    ikm_ids = _filtered(select(Ikm.id), filters, as_of or clock.today())
    country = case({code: names[0] for code, names in COUNTRIES.items()},
                   value=ExportRecord.country, else_=ExportRecord.country)
    names = {"ikm_nib": Ikm.nib, "product_id": Product.name, "country": country}
    query = (select(*_fields(ExportRecord, EXPORT_LAYOUT, names))
             .join(Product, Product.id == ExportRecord.product_id)
             .join(Ikm, Ikm.id == Product.ikm_id)
             .where(Ikm.nib.is_not(None), Product.deleted_at.is_(None),
                    Product.ikm_id.in_(ikm_ids))
             .order_by(Ikm.id, ExportRecord.shipped_on, ExportRecord.id))
    return _frame(session, query, EXPORT_LAYOUT, actor)


def export_coaching(session: Session, *, filters: IkmFilter = IkmFilter(),
                    as_of: date | None = None, actor: Actor | None = None) -> pd.DataFrame:
    """The coaching actions of the filtered IKM that have an NIB, in the "Pembinaan" layout
    (product by name, blank for the IKM as a whole). Actions about deleted products are left
    out. One query."""
    ikm_ids = _filtered(select(Ikm.id), filters, as_of or clock.today())
    names = {"ikm_nib": Ikm.nib, "product_id": Product.name}
    query = (select(*_fields(CoachingAction, COACHING_LAYOUT, names))
             .join(Ikm, Ikm.id == CoachingAction.ikm_id)
             .outerjoin(Product, Product.id == CoachingAction.product_id)
             .where(Ikm.nib.is_not(None), CoachingAction.ikm_id.in_(ikm_ids),
                    or_(CoachingAction.product_id.is_(None), Product.deleted_at.is_(None)))
             .order_by(Ikm.id, CoachingAction.id))
    return _frame(session, query, COACHING_LAYOUT, actor)


def export_financials(session: Session, *, filters: IkmFilter = IkmFilter(),
                      as_of: date | None = None, actor: Actor | None = None) -> pd.DataFrame:
    """The yearly figures of the filtered IKM that have an NIB, in the "Keuangan" layout. One
    query."""
    ikm_ids = _filtered(select(Ikm.id), filters, as_of or clock.today())
    names = {"ikm_nib": Ikm.nib, "version": literal(None)}  # yearly figures have no version
    query = (select(*_fields(IkmFinancials, FINANCIAL_LAYOUT, names))
             .join(Ikm, Ikm.id == IkmFinancials.ikm_id)
             .where(Ikm.nib.is_not(None), IkmFinancials.ikm_id.in_(ikm_ids))
             .order_by(Ikm.id, IkmFinancials.year))
    return _frame(session, query, FINANCIAL_LAYOUT, actor)


# The export of each sheet kind, in the order of LAYOUTS.
EXPORTS = {"cohort": export_cohorts, "ikm": export_ikm, "product": export_products,
           "certification": export_certifications, "listing": export_listings,
           "export": export_exports, "coaching": export_coaching,
           "financials": export_financials}


def export_workbook(session: Session, *, filters: IkmFilter = IkmFilter(),
                    as_of: date | None = None, actor: Actor | None = None) -> bytes:
    """All eight sheets (LAYOUTS) of the filtered IKM in one re-importable workbook: same
    headers as the template, names instead of ids, dates as dates. One query per sheet. With
    an `actor` who may not read personal data, every sheet's phone, NIB and address masked."""
    wb = Workbook(write_only=True)
    for layout in LAYOUTS:
        _write_sheet(wb, EXPORTS[layout.kind](session, filters=filters, as_of=as_of,
                                              actor=actor),
                     layout.sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
