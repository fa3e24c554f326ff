"""Spreadsheet imports: read an uploaded XLSX or CSV, check every row (dry run), then upsert.

Reading never guesses types that lose information: CSV cells stay text, XLSX cells keep the value
the workbook stored (a 13-digit NIB typed as a number comes back as that number and is read by
services.validation as the NIB). Formulas are never evaluated: the workbook is opened with
`data_only=False`, so a formula cell yields its formula text, and any cell starting with "=" is
rejected with `imp.formula` (its cached value is never used). A text that an export neutralised
("'=…", "'+…", "'-…", "'@…") gets its apostrophe removed again.

The rules of each field are those of services.ikm.clean_ikm and services.products.clean_product;
this module adds what only a file has: headers, sheets, example rows, duplicate keys inside the
file, the regency scope per row, and the upsert (NIB for IKM; IKM NIB + product name for products;
IKM without NIB are always new). A commit re-runs the whole check in the caller's transaction and
writes in bulk: one IN-query per table to find existing rows, executemany inserts and updates,
one import batch row, one audit row per created or updated record plus one for the batch.

Money is whole rupiah (services.validation.parse_money): "1.500.000,50" is rounded half to even
to 1500000.
"""

import codecs
import contextlib
import copy
import csv
import gc
import hashlib
import io
import json
import logging
import math
import re
import threading
import unicodedata
import zipfile
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from operator import itemgetter
from pathlib import PurePath

import pandas as pd
from sqlalchemy import String, bindparam, cast, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.bulk import insert_rows
from models import (
    AuditLog,
    Certification,
    CertificationType,
    CoachingAction,
    Cohort,
    ExportRecord,
    Ikm,
    IkmFinancials,
    ImportBatch,
    Product,
    ProductCategory,
    Retailer,
    RetailListing,
    utcnow,
)
from services import audit, clock
from services.cohorts import FIELDS as COHORT_FIELDS
from services.cohorts import clean_cohort
from services.errors import ServiceError
from services.exporter import (
    EXAMPLE_MARK,
    EXAMPLE_NIB,
    SHEET_HELP,
    SHEET_LISTS,
    Layout,
    header,
    message,
)
from services.exporter import (
    LAYOUTS as ALL_LAYOUTS,
)
from services.ikm import IKM_COLUMNS, CellError, clean_ikm
from services.permissions import Actor, require
from services.products import PRODUCT_COLUMNS, clean_product
from services.records import (
    CERT_COLUMNS,
    COACHING_COLUMNS,
    EXPORT_COLUMNS,
    FINANCIAL_COLUMNS,
    LISTING_COLUMNS,
    CertTypeInfo,
    ProductInfo,
    clean_certification,
    clean_coaching,
    clean_export,
    clean_financials,
    clean_listing,
)
from services.regions import Regions, _key, load_regions
from services.validation import Errors, Invalid, blank, clean_text, parse_nib

log = logging.getLogger(__name__)

# --- limits and errors -------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    # What one upload may hold; each limit is answered with its own message.
    max_bytes: int = 5 * 1024 * 1024  # the uploaded file
    max_unpacked: int = 100 * 1024 * 1024  # an XLSX's members once unzipped (zip bombs)
    max_rows: int = 20_000  # data rows per sheet
    max_columns: int = 100
    max_cell: int = 2_000  # characters in one cell


LIMITS = Limits()


class ImportRefused(ServiceError):
    """The file as a whole cannot be imported (or committed); `key`/`params` say why.

    `report` carries the dry-run report when the refusal is about rejected rows."""

    def __init__(self, key: str, *, report: "ImportReport | None" = None, **params):
        super().__init__(key, **params)
        self.report = report


@dataclass
class ImportCellError(CellError):
    # A rejected (or, in `warnings`, doubtful) cell of an upload: the sheet too.
    sheet: str = ""


@dataclass
class SheetReport:
    # Counts of one sheet of an upload.
    sheet: str
    kind: str  # "ikm" or "product"
    total: int = 0  # data rows (blank rows are not counted)
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0  # the template's example row


@dataclass
class ImportReport:
    # What a dry run found (or a commit did): per sheet counts and every rejected cell.
    filename: str
    sheets: list[SheetReport] = field(default_factory=list)
    errors: list[ImportCellError] = field(default_factory=list)
    warnings: list[ImportCellError] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)
    committed: bool = False
    batch_id: int | None = None

    def _sum(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.sheets)

    @property
    def total(self) -> int:
        return self._sum("total")

    @property
    def new(self) -> int:
        return self._sum("new")

    @property
    def updated(self) -> int:
        return self._sum("updated")

    @property
    def unchanged(self) -> int:
        return self._sum("unchanged")

    @property
    def rejected(self) -> int:
        return self._sum("rejected")

    @property
    def skipped(self) -> int:
        return self._sum("skipped")

    @property
    def ok(self) -> int:
        return self.new + self.updated + self.unchanged

    def sheet(self, kind: str) -> SheetReport | None:
        return next((s for s in self.sheets if s.kind == kind), None)


# --- reading -----------------------------------------------------------------------------------

XLSX_EXT = (".xlsx", ".xlsm")
TEXT_EXT = (".csv", ".txt", ".tsv")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXCEL_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                "#CALC!", "#GETTING_DATA"}
_ESCAPED = re.compile(r"^'[=+\-@\t\r]")  # text an export neutralised


@dataclass
class _Sheet:
    # One table of an upload: header texts, then (spreadsheet row number, values) per row.
    name: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list]]
    problems: list[ImportCellError] = field(default_factory=list)


def _refuse(key: str, **params):
    raise ImportRefused(key, **params)


def _clean_header(value) -> str:
    if value is None:
        return ""
    return re.sub(r"\s+", " ", str(value)).strip()


def _cell(value):
    """An XLSX value as the validators expect it: integral floats become ints (an NIB or phone
    typed as a number), times become text, everything else is kept."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)  # "inf" from a crafted file: refused by the rules as text
        if value.is_integer() and abs(value) < 1e18:
            return int(value)
    if isinstance(value, time):
        return value.isoformat()
    return value


_CONVERTED = frozenset({float, time})  # the value types _cell changes


def _check_cell(value, sheet: str, row: int, column: str, limits: Limits) -> None:
    if isinstance(value, str) and len(value) > limits.max_cell:  # str subclasses too
        _refuse("imp.cell_too_long", sheet=sheet, row=row, column=column, max=limits.max_cell)


def _column_name(header_row: list[str], index: int) -> str:
    from openpyxl.utils import get_column_letter

    name = header_row[index] if index < len(header_row) else ""
    return name or get_column_letter(index + 1)


def _table(name: str, records, limits: Limits) -> _Sheet:
    """Header (the first non-blank row) and data rows from (row number, values) records."""
    head: list[str] | None = None
    header_row = 0
    rows: list[tuple[int, list]] = []
    max_cell = limits.max_cell
    for number, values in records:
        end = len(values)
        while end and blank(values[end - 1]):
            end -= 1
        if not end:
            continue
        if end > limits.max_columns:
            _refuse("imp.too_many_columns", sheet=name, max=limits.max_columns)
        # trailing blanks go, but a data row keeps the header's width (no padding later)
        keep = end if head is None else max(end, len(head))
        if keep < len(values):
            values = values[:keep]
        is_header = head is None
        if is_header:
            head = [_clean_header(v) for v in values]
            header_row = number
        elif len(rows) >= limits.max_rows:
            _refuse("imp.too_many_rows", sheet=name, max=limits.max_rows)
        if [v for v in values if isinstance(v, str) and len(v) > max_cell]:
            for i, v in enumerate(values):
                _check_cell(v, name, number, _column_name(head, i), limits)
        if not is_header:
            rows.append((number, values if values.__class__ is list else list(values)))
    return _Sheet(name, head or [], header_row, rows)


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError:
            _refuse("imp.encoding")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            _refuse("imp.encoding")
    if b"\x00" in data:
        head = data[:400]
        # UTF-16 without a byte order mark: every other byte is zero
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            _refuse("imp.encoding")
        _refuse("imp.binary")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        _refuse("imp.encoding")
    raise AssertionError("unreachable")  # pragma: no cover


def _sniff(line: str) -> str:
    """The delimiter of a header line: whichever of ; , tab splits it into most fields."""
    best, count = ",", 0
    for delimiter in (";", ",", "\t"):
        try:
            fields = next(csv.reader([line], delimiter=delimiter))
        except (csv.Error, StopIteration):
            continue
        if len(fields) > count:
            best, count = delimiter, len(fields)
    return best


def _read_text(name: str, data: bytes, limits: Limits) -> list[_Sheet]:
    text = _decode(data)
    if not text.strip():
        _refuse("imp.empty")
    controls = sum(1 for ch in text[:4000] if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > max(8, len(text[:4000]) // 50):
        _refuse("imp.binary")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = _sniff(first)
    others = [d for d in (";", ",", "\t") if d != delimiter]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems: list[ImportCellError] = []
    records = []
    width = None
    try:
        for number, values in enumerate(reader, start=1):
            if len(values) == 1 and blank(values[0]):
                values = []
            if values and width is None:
                width = len(values)
            elif values and width:
                extra = [v for v in values[width:] if not blank(v)]
                squeezed = width > 1 and len(values) == 1 and any(d in values[0] for d in others)
                if extra or squeezed:
                    problems.append(ImportCellError(
                        row=number, column="", value=delimiter.join(values)[:200],
                        key="imp.row_fields", params={"found": len(values), "expected": width},
                        sheet=name))
                    records.append((number, ["\0row_fields"]))  # kept as a rejected row
                    continue
            records.append((number, values))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            _refuse("imp.cell_too_long", sheet=name, row=reader.line_num, column="",
                    max=limits.max_cell)
        _refuse("imp.csv_broken", line=reader.line_num)
    sheet = _table(name, records, limits)
    sheet.problems = problems
    return [sheet]


def _zip_check(data: bytes, limits: Limits) -> bool:
    """Refuse what is no sound XLSX; True when the workbook needs openpyxl (see below)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                if "mimetype" in names and b"opendocument" in zf.read("mimetype"):
                    _refuse("imp.ods")
                _refuse("imp.not_xlsx")
            if sum(i.file_size for i in zf.infolist()) > limits.max_unpacked:
                _refuse("imp.too_big_unpacked", max=limits.max_unpacked // (1024 * 1024))
            # every member read whole once: its checksum is verified, and the worksheets are
            # searched for formulas and error cells (which need openpyxl)
            slow = False
            for name in zf.namelist():
                content = zf.read(name)
                if not slow and name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    slow = _has_formula_or_error(content)
            return slow
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            zlib.error):
        _refuse("imp.not_xlsx")


def _aux_sheet(title: str) -> bool:
    return _norm(title) in {_norm(SHEET_HELP), _norm(SHEET_LISTS), "instructions", "lists",
                            "petunjuk pengisian"}


# Formulas and error cells need openpyxl (calamine reads neither: it gives cached values and
# blanks); every other workbook takes the fast path.
def _has_formula_or_error(xml: bytes) -> bool:
    """Whether a worksheet's XML holds a formula (<f>, <f …>, <f/>, or with a namespace prefix
    <x:f>) or an error cell (t="e"). A false alarm only costs the slower reader."""
    if b't="e"' in xml:
        return True
    if re.match(rb'\s*(<\?xml[^>]*>\s*)?<\w+:worksheet', xml[:1000]) \
            and (b":f>" in xml or b":f " in xml or b":f/" in xml):
        return True  # a workbook written with a namespace prefix
    at = xml.find(b"<f")
    while at != -1:
        if xml[at + 2:at + 3] in (b">", b" ", b"/"):
            return True
        at = xml.find(b"<f", at + 2)
    return False


def _read_xlsx_fast(data: bytes, limits: Limits) -> list[_Sheet]:
    """The same sheets as _read_xlsx, read by calamine (Rust) about ten times faster."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    visible = [m.name for m in wb.sheets_metadata
               if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet
               and not _aux_sheet(m.name)]
    named = {name for name in visible if _norm(name) in _SHEET_KINDS}
    sheets: list[_Sheet] = []
    for name in visible:
        if named and name not in named:
            sheets.append(_Sheet(name, [], 0, []))
            continue
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        records = ((number, [None if v == "" else _cell(v) if v.__class__ in _CONVERTED else v
                             for v in row])
                   for number, row in enumerate(rows, start=1))
        sheets.append(_table(name, records, limits))
    return sheets


def _read_xlsx(data: bytes, limits: Limits) -> list[_Sheet]:
    """The visible data sheets of a workbook; when some are named like the template's ("IKM",
    "Produk"), only those are read and the others are listed as ignored (with no rows)."""
    import openpyxl

    if not _zip_check(data, limits):
        try:
            return _read_xlsx_fast(data, limits)
        except ImportRefused:
            raise
        except Exception as exc:  # noqa: BLE001  (openpyxl decides what is wrong with it)
            log.info("fast reader failed, using openpyxl: %r", exc)
    sheets: list[_Sheet] = []
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        log.info("unreadable workbook: %r", exc)
        _refuse("imp.not_xlsx")
    try:
        visible = [ws for ws in wb.worksheets
                   if getattr(ws, "sheet_state", "visible") == "visible"
                   and not _aux_sheet(ws.title)]
        named = {ws.title for ws in visible if _norm(ws.title) in _SHEET_KINDS}
        for ws in visible:
            if named and ws.title not in named:
                sheets.append(_Sheet(ws.title, [], 0, []))
                continue
            ws.reset_dimensions()  # some programs write wrong dimensions: read every row
            records = ((number, [_cell(v) for v in row])
                       for number, row in enumerate(ws.iter_rows(values_only=True), start=1))
            sheets.append(_table(ws.title, records, limits))
    except ImportRefused:
        raise
    except Exception as exc:
        log.info("unreadable worksheet: %r", exc)
        _refuse("imp.not_xlsx")
    finally:
        wb.close()
    return sheets


def _read(filename: str, data: bytes, limits: Limits) -> list[_Sheet]:
    """Every table of an upload (refusing what cannot be read, with a message)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        _refuse("imp.unreadable")
    data = bytes(data)
    name = PurePath(str(filename or "upload")).name
    ext = PurePath(name.lower()).suffix
    if len(data) > limits.max_bytes:
        _refuse("imp.too_big", size=f"{len(data) / 1024 / 1024:.1f}",
                max=f"{limits.max_bytes / 1024 / 1024:g}")
    if not data.strip():
        _refuse("imp.empty")
    if data.startswith(OLE_MAGIC):
        _refuse("imp.old_xls")
    if data.startswith(b"PK"):
        return _read_xlsx(data, limits)
    head = data[:512].lstrip(codecs.BOM_UTF8).lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) \
            or b"<html" in head or b"<table" in head:
        _refuse("imp.html_file")
    if ext in XLSX_EXT or ext == ".xls":
        _refuse("imp.not_xlsx")
    if ext and ext not in TEXT_EXT:
        _refuse("imp.bad_type", ext=ext)
    return _read_text(name, data, limits)


def read_upload(filename: str, data: bytes, *, limits: Limits = LIMITS) -> dict[str, pd.DataFrame]:
    """The tables of an uploaded XLSX or CSV: sheet name (the file name for a CSV) -> frame.

    Columns are the header texts of the first non-blank row; the index is the row number as a
    spreadsheet shows it; cells are text (CSV) or the workbook's stored values, never guessed
    numbers. `frame.attrs["problems"]` lists rows that were misshapen (CSV field counts).
    Raises ImportRefused for anything that is not a readable table."""
    frames = {}
    for sheet in _read(filename, data, limits):
        width = max([len(sheet.header), *(len(v) for _n, v in sheet.rows)], default=0)
        columns = [_column_name(sheet.header, i) for i in range(width)]
        frame = pd.DataFrame([v + [None] * (width - len(v)) for _n, v in sheet.rows],
                             columns=columns, index=[n for n, _v in sheet.rows], dtype=object)
        frame.index.name = "row"
        frame.attrs["problems"] = sheet.problems
        frame.attrs["header_row"] = sheet.header_row
        frames[sheet.name] = frame
    return frames


# --- headers and kinds ------------------------------------------------------------------------

def _norm(text) -> str:
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


_LINK_ALIASES = {"ikm_nib": ("nib", "business id nib", "business id", "nib ikm", "nib usaha")}
_EXTRA_ALIASES = {
    "cohort": {"name": ("angkatan", "nama", "cohort"), "kabupaten_code": ("kab", "kabupaten kota"),
               "target_participants": ("target", "jumlah target")},
    "certification": {**_LINK_ALIASES, "cert_type_code": ("sertifikat", "jenis", "certificate")},
    "listing": {**_LINK_ALIASES, "retailer_id": ("retailer", "toko ritel", "ritel modern")},
    "export": {**_LINK_ALIASES, "country": ("negara", "country", "tujuan")},
    "coaching": {**_LINK_ALIASES, "text": ("tindakan", "pembinaan", "action")},
    "financials": {**_LINK_ALIASES, "capital_rp": ("modal",), "revenue_rp": ("omzet",)},
    "ikm": {"name": ("nama ikm", "nama"), "owner_name": ("pemilik", "nama pemilik usaha"),
            "owner_gender": ("jenis kelamin", "gender", "l p"),
            "phone": ("no hp", "hp", "nomor telepon", "no telp", "telp", "whatsapp", "wa",
                      "nomor hp"),
            "kabupaten_code": ("kab", "kabupaten kota"), "kecamatan_code": ("kec",),
            "desa_code": ("desa", "kelurahan"), "cohort_id": ("cohort name", "nama angkatan")},
    "product": {"ikm_nib": ("nib", "business id nib", "business id", "nib ikm"),
                "name": ("produk", "nama"), "category_code": ("kategori produk",)},
}


def _aliases(layout: Layout) -> dict[str, str]:
    out: dict[str, str] = {}
    for col in layout.columns:
        texts = [col.header_id, col.header_en, f"{col.header_id} ({col.header_en})",
                 header(col), col.name, *_EXTRA_ALIASES[layout.kind].get(col.name, ())]
        for text in texts:
            out.setdefault(_norm(text), col.name)
    return out


LAYOUTS = {layout.kind: layout for layout in ALL_LAYOUTS}  # in the order of writing
KINDS = tuple(LAYOUTS)
ALIASES = {kind: _aliases(layout) for kind, layout in LAYOUTS.items()}
_SHEET_KINDS = {"ikm": "ikm", "data ikm": "ikm", "produk": "product", "product": "product",
                "products": "product", "data produk": "product",
                "angkatan": "cohort", "cohort": "cohort", "cohorts": "cohort",
                "sertifikat": "certification", "sertifikasi": "certification",
                "certificates": "certification", "certification": "certification",
                "ritel": "listing", "ritel modern": "listing", "retail": "listing",
                "retail listings": "listing", "listing": "listing",
                "ekspor": "export", "exports": "export", "export": "export",
                "pembinaan": "coaching", "coaching": "coaching",
                "keuangan": "financials", "financials": "financials"}


def _kind_of(headers: list, wanted: str) -> str | None:
    """The kind of a table judged by its headers: the one matching most columns, provided two
    of its required columns are among them (a sheet with only "Status" or "Tahun" is no IKM or
    cohort sheet)."""
    scores = {}
    for kind in ALIASES:
        if wanted not in ("auto", kind):
            continue
        matched = {ALIASES[kind][_norm(h)] for h in headers if _norm(h) in ALIASES[kind]}
        required = {c.name for c in LAYOUTS[kind].columns if c.required}
        enough = len(matched & required) >= min(2, len(required))
        scores[kind] = len(matched) if enough or wanted == kind else 0
    best = max(scores, key=lambda k: scores[k], default=None)
    return best if best and scores[best] else None


# Required fields whose column may be left out of a file: the rules give a default ("belum",
# "listing").
_DEFAULTED = {"certification": {"status"}, "listing": {"status"}}


def _map_columns(sheet: _Sheet, layout: Layout) -> dict[int, str]:
    """Column index -> field name, refusing missing, unknown and doubled headers."""
    aliases = ALIASES[layout.kind]
    mapping: dict[int, str] = {}
    unknown, seen = [], {}
    for i, text in enumerate(sheet.header):
        if not text:
            if any(i < len(v) and not blank(v[i]) for _n, v in sheet.rows):
                _refuse("imp.blank_header", sheet=sheet.name, column=_column_name([], i))
            continue
        name = aliases.get(_norm(text))
        if name is None:
            unknown.append(text)
        elif name in seen:
            _refuse("imp.duplicate_header", sheet=sheet.name, header=text)
        else:
            seen[name] = text
            mapping[i] = name
    missing = [header(c) for c in layout.columns if c.required and c.name not in seen
               and c.name not in _DEFAULTED.get(layout.kind, ())]
    if missing or unknown:
        from difflib import get_close_matches

        known = {_norm(h): h for h in layout.headers}
        hints = []
        for text in unknown:
            close = get_close_matches(_norm(text), list(known), n=1, cutoff=0.6)
            hints.append(f"'{text}' → '{known[close[0]]}'" if close else f"'{text}'")
        _refuse("imp.bad_headers", sheet=sheet.name, missing=", ".join(missing) or "–",
                unknown=", ".join(hints) or "–")
    return mapping


# --- lookups -----------------------------------------------------------------------------------

def _chunks(items: list, size: int = 2000):  # bound parameters per IN (SQLite allows 32,766)
    for i in range(0, len(items), size):
        yield items[i:i + size]


IKM_FIELDS = tuple(c.name for c in IKM_COLUMNS)
PRODUCT_FIELDS = tuple(c.name for c in PRODUCT_COLUMNS)
INT32 = 2_147_483_647


@dataclass
class _Lookups:
    regions: Regions
    cohorts: dict[int, str]  # id -> kabupaten code
    cohort_names: dict[str, list[tuple[int, str]]]  # name key -> [(id, kabupaten code)]
    categories: dict[str, str]  # code -> Bahasa name
    category_en: dict[str, str]  # English name (lower) -> code
    category_flags: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # is_food, wood
    cert_types: dict[str, CertTypeInfo] = field(default_factory=dict)
    retailers: dict[int, str] = field(default_factory=dict)
    # cohorts new in this upload: name key -> [(placeholder, kabupaten code)]
    new_cohorts: dict[str, list[tuple[tuple, str]]] = field(default_factory=dict)


def _lookups(session: Session) -> _Lookups:
    regions = load_regions(session)  # builds its per-parent lookups once
    cohorts: dict[int, str] = {}
    names: dict[str, list[tuple[int, str]]] = {}
    for cid, name, kab in session.execute(select(Cohort.id, Cohort.name, Cohort.kabupaten_code)
                                          .where(Cohort.deleted_at.is_(None))
                                          .order_by(Cohort.id)):
        cohorts[cid] = kab
        names.setdefault(_key(name), []).append((cid, kab))
    cats = session.execute(select(ProductCategory.code, ProductCategory.name_id,
                                  ProductCategory.name_en, ProductCategory.is_food,
                                  ProductCategory.is_wood)).all()
    cert_types = {t.code: CertTypeInfo(t.name, t.scope, t.applies_to, t.validity_months)
                  for (t,) in session.execute(select(CertificationType))}
    return _Lookups(regions, cohorts, names, {c.code: c.name_id for c in cats},
                    {c.name_en.strip().lower(): c.code for c in cats},
                    {c.code: (bool(c.is_food), bool(c.is_wood)) for c in cats}, cert_types,
                    dict(session.execute(select(Retailer.id, Retailer.name)).all()))


# --- the plan: what a dry run finds and a commit writes ----------------------------------------

@dataclass(slots=True)
class _Row:
    sheet: str
    number: int
    headers: dict[str, str]  # field -> header text in the file
    raw: dict  # field -> value as uploaded (provided columns only)
    errors: dict[str, tuple[str, dict, object]] = field(default_factory=dict)
    clean: dict = field(default_factory=dict)
    status: str = "new"  # new / updated / unchanged / rejected / skipped
    existing: dict | None = None  # the stored values (with id, version) for an update
    changed: dict = field(default_factory=dict)
    nib: str | None = None
    ikm_ref: object = None  # products: the IKM id, or ("new", NIB) of an IKM new in this file
    warning: tuple[str, dict] | None = None
    scope: str | None = None  # products: the regency of their IKM
    ref: tuple | None = None  # a new cohort or product: its placeholder id until it is written
    cohort_ref: tuple | None = None  # an IKM: the placeholder of its cohort new in this upload

    def fail(self, name: str, key: str, shown=None, /, **params) -> None:
        """Reject the row for this field (the first reason per field is kept)."""
        if name not in self.errors:
            self.errors[name] = (key, params, shown if shown is not None else self.raw.get(name))


@dataclass
class _Plan:
    report: ImportReport
    ikm: list[_Row] = field(default_factory=list)
    products: list[_Row] = field(default_factory=list)
    cohorts: list[_Row] = field(default_factory=list)
    children: dict[str, list[_Row]] = field(default_factory=dict)  # certification, listing...
    kinds: list[str] = field(default_factory=list)

    def rows(self, kind: str) -> list[_Row]:
        if kind == "ikm":
            return self.ikm
        if kind == "product":
            return self.products
        if kind == "cohort":
            return self.cohorts
        return self.children.setdefault(kind, [])


_SCI = re.compile(r"^\d[.,]\d+E\+?\d+$", re.IGNORECASE)
_CODE_FIELDS = frozenset({"nib", "ikm_nib", "phone", "gtin"})


def _prepare(sheet: _Sheet, mapping: dict[int, str], layout: Layout) -> list[_Row]:
    """Rows with their raw values by field; cell-level problems a file can have (formulas,
    spreadsheet error values, numbers Excel turned into 1,23457E+12, misshapen CSV rows)."""
    headers = {name: sheet.header[i] for i, name in mapping.items()}
    shaped = {p.row: p for p in sheet.problems}
    mark = _norm(EXAMPLE_MARK)
    names = list(mapping.values())
    width = max(mapping, default=-1) + 1
    pick = itemgetter(*mapping) if len(mapping) > 1 else (lambda v: (v[next(iter(mapping))],))
    codes = [name for name in names if name in _CODE_FIELDS]
    pad = [None] * width
    rows = []
    for number, values in sheet.rows:
        if number in shaped:
            p = shaped[number]
            row = _Row(sheet.name, number, headers, {})
            row.errors[""] = (p.key, p.params, p.value)
            row.status = "rejected"
            rows.append(row)
            continue
        if len(values) < width:
            values = values + pad[len(values):]
        raw = dict(zip(names, pick(values), strict=True))
        # the cells that need a closer look: text starting with ' or = (or, for the example
        # row's mark, C or a space), holding a #, or a code with an E (scientific notation)
        odd = [name for name, v in raw.items()
               if v.__class__ is str and v and (v[0] in _LOOK_CLOSER or "#" in v)]
        for name in codes:
            v = raw[name]
            if v.__class__ is str and ("E" in v or "e" in v) and name not in odd:
                odd.append(name)
        row = _Row(sheet.name, number, headers, raw)
        example = False
        for name in odd:
            value = raw[name]
            example = example or (value.startswith(_MARK_FIRST) and _is_mark(value, mark))
            _odd_cell(row, name)
        if not row.errors and all(v is None or blank(v) for v in raw.values()):
            continue
        link = raw.get("ikm_nib")
        if example or (link is not None and str(link).strip() == EXAMPLE_NIB):
            row.status = "skipped"
        rows.append(row)
    return rows


_LOOK_CLOSER = "'=Cc "  # first characters worth a closer look
_MARK_FIRST = ("C", "c", " ")


def _is_mark(value: str, mark: str) -> bool:
    return value.lstrip()[:6].upper() == "CONTOH" and _norm(value).startswith(mark)


def _odd_cell(row: _Row, name: str) -> None:
    """A text cell a spreadsheet made: an escaped text, a formula, an error value, or a code
    shown in scientific notation (which lost its digits)."""
    value = row.raw[name]
    if not value or value.isspace():
        return
    first = value[0]
    if first == "'" and _ESCAPED.match(value):
        row.raw[name] = value[1:]
    elif first == "=":
        row.fail(name, "imp.formula", value)
        row.raw[name] = None
    elif "#" in value and value.strip() in EXCEL_ERRORS:
        row.fail(name, "imp.excel_error", value, value=value.strip())
        row.raw[name] = None
    elif name in _CODE_FIELDS and _SCI.match(value.strip()):
        row.fail(name, "imp.sci_notation", value)
        row.raw[name] = None


def _in_scope(actor: Actor, kabupaten_code: str | None) -> bool:
    return kabupaten_code is None or actor.kabupaten_code in (None, kabupaten_code)


def _parse_key_nib(row: _Row, name: str) -> None:
    try:
        row.nib = parse_nib(row.raw.get(name))
    except Invalid as exc:
        row.fail(name, exc.key, **exc.params)


def _mark_duplicates(rows: list[_Row], key_of, field_name: str, message: str) -> None:
    keys = [key_of(r) for r in rows]
    counts = Counter(k for k in keys if k is not None)
    for row, k in zip(rows, keys, strict=True):
        if k is not None and counts[k] > 1:
            others = ", ".join(str(r.number) for r, k2 in zip(rows, keys, strict=True)
                               if k2 == k and r is not row)
            row.fail(field_name, message, rows=others)


def _existing_ikm(session: Session, nibs: list[str], lock: bool) -> dict[str, dict]:
    found: dict[str, dict] = {}
    columns = [Ikm.id, Ikm.version, Ikm.deleted_at, *[getattr(Ikm, f) for f in IKM_FIELDS]]
    for part in _chunks(sorted(set(nibs))):
        query = select(*columns).where(Ikm.nib.in_(part))
        if lock:
            query = query.with_for_update()
        for r in session.execute(query):
            found[r.nib] = dict(r._mapping)
    return found


def _cohort_raw(row: _Row, lk: _Lookups) -> None:
    """Cohort by name (preferring one of the row's regency) -> id for clean_ikm."""
    value = row.raw.get("cohort_id")
    if blank(value) or isinstance(value, int):
        return
    fresh = lk.new_cohorts.get(_key(value))
    if fresh:
        # a cohort new in this upload: its id is known only once it is written
        kab = None
        with contextlib.suppress(Invalid):
            kab = lk.regions.match_kabupaten(row.raw.get("kabupaten_code") or "")
        row.cohort_ref = next((ref for ref, k in fresh if k == kab), fresh[0][0])
        row.raw["cohort_id"] = None
        return
    candidates = lk.cohort_names.get(_key(value))
    if candidates:
        kab = None
        with contextlib.suppress(Invalid):
            kab = lk.regions.match_kabupaten(row.raw.get("kabupaten_code") or "")
        chosen = next((cid for cid, k in candidates if k == kab), candidates[0][0])
        row.raw["cohort_id"] = chosen
    elif not re.fullmatch(r"\s*\d+\s*", str(value)):
        row.fail("cohort_id", "imp.unknown_cohort", value, name=str(value))
        row.raw["cohort_id"] = None


def _plan_ikm(session: Session, actor: Actor, rows: list[_Row], lk: _Lookups,
              lock: bool) -> None:
    live = [r for r in rows if r.status not in ("skipped", "rejected")]
    for row in live:
        _parse_key_nib(row, "nib")
    _mark_duplicates(live, lambda r: r.nib, "nib", "imp.duplicate_nib")
    existing = _existing_ikm(session, [r.nib for r in live if r.nib], lock)
    for row in live:
        cohort = row.raw.get("cohort_id")
        if cohort is not None and cohort.__class__ is not int:
            _cohort_raw(row, lk)
        stored = existing.get(row.nib) if row.nib else None
        if stored and stored["deleted_at"] is not None:
            row.fail("nib", "imp.nib_in_trash")
            stored = None
        provided = row.raw if not row.errors else {
            k: v for k, v in row.raw.items() if k not in row.errors}
        if stored:
            provided = {**{f: stored[f] for f in IKM_FIELDS}, **provided}
        clean, errors = clean_ikm(provided, regions=lk.regions, cohorts=lk.cohorts)
        for name, (key, params) in errors.items.items():
            row.fail(name, key, **params)
        if row.cohort_ref is not None:  # a cohort new in this upload
            kab = next(k for fresh in lk.new_cohorts.values() for ref, k in fresh
                       if ref == row.cohort_ref)
            if clean.get("kabupaten_code") and kab != clean["kabupaten_code"]:
                row.fail("cohort_id", "v.cohort_other_regency")
            clean["cohort_id"] = row.cohort_ref
        row.clean = clean
        if stored:
            row.existing = stored
            row.changed = {k: v for k, v in clean.items() if stored.get(k) != v}
        # the regency scope guards writes: an unchanged row of another regency (a re-uploaded
        # export of every regency) writes nothing and is not refused
        if not stored or row.changed or row.errors:
            if stored and not _in_scope(actor, stored["kabupaten_code"]):
                row.fail("kabupaten_code", "imp.out_of_scope")
            if clean.get("kabupaten_code") and not _in_scope(actor, clean["kabupaten_code"]):
                row.fail("kabupaten_code", "imp.out_of_scope")
        if row.errors:
            continue
        if stored:
            row.status = "updated" if row.changed else "unchanged"
    for row in rows:
        if row.errors:
            row.status = "rejected"
    _warn_possible_duplicates(session, [r for r in rows if r.status == "new" and not r.nib])


def _warn_possible_duplicates(session: Session, rows: list[_Row]) -> None:
    """New IKM without NIB whose name is already used in their kecamatan: likely the same
    business (rows without NIB are always added), so the dry run warns about them."""
    if not rows:
        return
    names: dict[tuple[str, str], int] = {}
    kecs = sorted({r.clean["kecamatan_code"] for r in rows if r.clean.get("kecamatan_code")})
    for part in _chunks(kecs):
        for name, kec, ikm_id in session.execute(
                select(Ikm.name, Ikm.kecamatan_code, Ikm.id)
                .where(Ikm.deleted_at.is_(None), Ikm.kecamatan_code.in_(part))):
            names.setdefault((kec, _key(name)), ikm_id)
    for row in rows:
        match = names.get((row.clean.get("kecamatan_code"), _key(row.clean.get("name") or "")))
        if match is not None:
            row.warning = ("imp.possible_duplicate", {"id": match})


def _plan_products(session: Session, actor: Actor, rows: list[_Row], ikm_rows: list[_Row],
                   lk: _Lookups, lock: bool) -> None:
    live = [r for r in rows if r.status not in ("skipped", "rejected")]
    _resolve_ikm(session, live, ikm_rows)  # the IKM of each product: in this file, else stored

    def product_key(r: _Row):
        try:
            name = clean_text(r.raw.get("name"))
        except Invalid:
            return None
        return (r.nib, name.casefold()) if r.nib and name else None

    _mark_duplicates(live, product_key, "name", "imp.duplicate_product")
    ids = sorted({r.ikm_ref for r in live if isinstance(r.ikm_ref, int)})
    existing: dict[tuple[int, str], dict] = {}
    columns = [Product.id, Product.version, Product.ikm_id,
               *[getattr(Product, f) for f in PRODUCT_FIELDS]]
    for part in _chunks(ids):
        query = (select(*columns).where(Product.ikm_id.in_(part), Product.deleted_at.is_(None))
                 .order_by(Product.id))
        if lock:
            query = query.with_for_update()
        for r in session.execute(query):
            existing.setdefault((r.ikm_id, r.name.casefold()), dict(r._mapping))
    for row in live:
        category = row.raw.get("category_code")
        if isinstance(category, str) and category.strip().lower() in lk.category_en:
            row.raw["category_code"] = lk.category_en[category.strip().lower()]
        key = product_key(row)
        stored_row = existing.get((row.ikm_ref, key[1])) \
            if key and isinstance(row.ikm_ref, int) else None
        base = {f: stored_row[f] for f in PRODUCT_FIELDS} if stored_row else {}
        provided = {k: v for k, v in row.raw.items() if k != "ikm_nib" and k not in row.errors}
        clean, errors = clean_product({**base, **provided}, categories=lk.categories)
        for name, (k, params) in errors.items.items():
            row.fail(name, k, **params)
        # database bounds the shared rules do not state
        if clean.get("capacity_per_month") and clean["capacity_per_month"] > INT32:
            row.fail("capacity_per_month", "v.too_large", max=INT32)
        if clean.get("net_content") and not clean["net_content"] <= 1e9:
            row.fail("net_content", "v.too_large", max="10⁹")
        row.clean = clean
        if stored_row:
            row.existing = stored_row
            row.changed = {k: v for k, v in clean.items() if stored_row.get(k) != v}
        if (not stored_row or row.changed or row.errors) and not _in_scope(actor, row.scope):
            row.fail("ikm_nib", "imp.out_of_scope")
        if row.errors:
            continue
        if stored_row:
            row.status = "updated" if row.changed else "unchanged"
    for row in rows:
        if row.errors:
            row.status = "rejected"


def _plan_cohorts(session: Session, actor: Actor, rows: list[_Row], lk: _Lookups,
                  lock: bool) -> None:
    """Cohorts by regency + name: new ones get a placeholder id the IKM sheet can refer to."""
    live = [r for r in rows if r.status not in ("skipped", "rejected")]
    kabupaten = lk.regions.kabupaten
    existing: dict[tuple[str, str], dict] = {}
    query = (select(Cohort.id, Cohort.version, *[getattr(Cohort, f) for f in COHORT_FIELDS])
             .where(Cohort.deleted_at.is_(None)).order_by(Cohort.id))
    if lock:
        query = query.with_for_update()
    for r in session.execute(query):
        existing.setdefault((r.kabupaten_code, r.name.casefold()), dict(r._mapping))
    for row in live:
        stored = None
        with contextlib.suppress(Invalid):
            name = clean_text(row.raw.get("name"))
            kab = lk.regions.match_kabupaten(row.raw.get("kabupaten_code") or "")
            stored = existing.get((kab, name.casefold())) if name else None
        base = {f: stored[f] for f in COHORT_FIELDS} if stored else {}
        provided = {k: v for k, v in row.raw.items() if k not in row.errors}
        clean, errors = clean_cohort({**base, **provided}, kabupaten=kabupaten)
        for name, (key, params) in errors.items.items():
            row.fail(name, key, **params)
        row.clean = clean
        if stored:
            row.existing = stored
            row.changed = {k: v for k, v in clean.items() if stored.get(k) != v}
        if (not stored or row.changed or row.errors) and clean.get("kabupaten_code") \
                and not _in_scope(actor, clean["kabupaten_code"]):
            row.fail("kabupaten_code", "imp.out_of_scope")
    _mark_duplicates(live, lambda r: (r.clean.get("kabupaten_code"), r.clean["name"].casefold())
                     if r.clean.get("name") and r.clean.get("kabupaten_code") else None,
                     "name", "imp.duplicate_row")
    for index, row in enumerate(rows):
        if row.errors:
            row.status = "rejected"
        elif row.existing:
            row.status = "updated" if row.changed else "unchanged"
            if row.status == "updated":
                lk.cohorts[row.existing["id"]] = row.clean["kabupaten_code"]
        elif row.status == "new":
            row.ref = ("cohort", index)
            lk.new_cohorts.setdefault(_key(row.clean["name"]), []).append(
                (row.ref, row.clean["kabupaten_code"]))


@dataclass(frozen=True)
class _ChildSpec:
    # A kind of record linked to its IKM by the "NIB IKM" column.
    model: type
    fields: tuple[str, ...]  # what the cleaner gives and the table stores
    key: tuple[str, ...]  # besides the IKM: the upsert key (text compared case-insensitively)
    clean: Callable[[dict, dict, _Lookups], tuple[dict, Errors]]  # raw, products, lookups
    via_product: bool = False  # no ikm_id column: tied to its IKM through the product


def _names(columns) -> tuple[str, ...]:
    return tuple(c.name for c in columns)


CHILD_SPECS: dict[str, _ChildSpec] = {
    "certification": _ChildSpec(
        Certification, _names(CERT_COLUMNS), ("cert_type_code", "product_id"),
        lambda raw, products, lk: clean_certification(raw, cert_types=lk.cert_types,
                                                      products=products)),
    "listing": _ChildSpec(
        RetailListing, _names(LISTING_COLUMNS), ("product_id", "retailer_id"),
        lambda raw, products, lk: clean_listing(raw, retailers=lk.retailers, products=products),
        via_product=True),
    "export": _ChildSpec(
        ExportRecord, _names(EXPORT_COLUMNS), ("product_id", "shipped_on", "country"),
        lambda raw, products, lk: clean_export(raw, products=products), via_product=True),
    "coaching": _ChildSpec(
        CoachingAction, _names(COACHING_COLUMNS), ("text", "product_id", "due_on"),
        lambda raw, products, lk: clean_coaching(raw, products=products)),
    "financials": _ChildSpec(
        IkmFinancials, _names(FINANCIAL_COLUMNS), ("year",),
        lambda raw, products, lk: clean_financials(raw)),
}


def _fold(value):
    return value.casefold() if isinstance(value, str) else value


def _resolve_ikm(session: Session, rows: list[_Row], ikm_rows: list[_Row]) -> None:
    """The IKM of each row by its "NIB IKM": one of this upload, else a stored one."""
    in_file = {r.nib: r for r in ikm_rows if r.nib and r.status != "skipped"}
    for row in rows:
        if blank(row.raw.get("ikm_nib")):
            row.fail("ikm_nib", "imp.ikm_nib_required")
        else:
            _parse_key_nib(row, "ikm_nib")
    wanted = sorted({r.nib for r in rows if r.nib and r.nib not in in_file})
    stored: dict[str, tuple[int, str, object]] = {}
    for part in _chunks(wanted):
        for nib, ikm_id, kab, deleted in session.execute(
                select(Ikm.nib, Ikm.id, Ikm.kabupaten_code, Ikm.deleted_at)
                .where(Ikm.nib.in_(part))):
            stored[nib] = (ikm_id, kab, deleted)
    for row in rows:
        if not row.nib:
            continue
        if row.nib in in_file:
            parent = in_file[row.nib]
            if parent.status == "rejected":
                row.fail("ikm_nib", "imp.ikm_rejected", row=parent.number, sheet=parent.sheet)
                continue
            row.scope = parent.clean.get("kabupaten_code")
            row.ikm_ref = parent.existing["id"] if parent.existing else ("new", row.nib)
        elif row.nib in stored:
            ikm_id, kab, deleted = stored[row.nib]
            if deleted is not None:
                row.fail("ikm_nib", "imp.ikm_in_trash")
                continue
            row.ikm_ref, row.scope = ikm_id, kab
        else:
            row.fail("ikm_nib", "imp.unknown_ikm", nib=row.nib)


def _products_by_ikm(session: Session, refs: set, product_rows: list[_Row],
                     lk: _Lookups) -> tuple[dict, dict]:
    """The products each IKM has once this upload is written: stored live ones by id, new ones
    of the upload by placeholder. Also the rejected product names of the upload per IKM."""
    products: dict[object, dict[object, ProductInfo]] = {ref: {} for ref in refs}
    ids = sorted(r for r in refs if isinstance(r, int))
    for part in _chunks(ids):
        for r in session.execute(
                select(Product.id, Product.ikm_id, Product.name, Product.category_code,
                       ProductCategory.is_food, ProductCategory.is_wood)
                .join(ProductCategory, ProductCategory.code == Product.category_code)
                .where(Product.ikm_id.in_(part), Product.deleted_at.is_(None))):
            products[r.ikm_id][r.id] = ProductInfo(r.name, r.category_code, bool(r.is_food),
                                                   bool(r.is_wood))
    rejected: dict[object, dict[str, int]] = {}
    for index, row in enumerate(product_rows):
        if row.ikm_ref not in products or row.status == "skipped":
            continue
        if row.status == "rejected":
            name = row.raw.get("name")
            if isinstance(name, str):
                rejected.setdefault(row.ikm_ref, {})[name.strip().casefold()] = row.number
            continue
        food, wood = lk.category_flags.get(row.clean.get("category_code"), (False, False))
        info = ProductInfo(row.clean["name"], row.clean["category_code"], food, wood)
        if row.existing:
            products[row.ikm_ref][row.existing["id"]] = info
        else:
            row.ref = row.ref or ("product", index)
            products[row.ikm_ref][row.ref] = info
    return products, rejected


def _existing_children(session: Session, spec: _ChildSpec, ids: list[int],
                       lock: bool) -> dict[tuple, dict]:
    table = spec.model.__table__
    versioned = "version" in table.c
    columns = [table.c.id, *[table.c[f] for f in spec.fields], table.c.updated_at]
    if versioned:
        columns.append(table.c.version)
    found: dict[tuple, dict] = {}
    for part in _chunks(ids):
        if spec.via_product:
            query = (select(*columns, Product.ikm_id.label("_ikm"))
                     .join(Product, Product.id == table.c.product_id)
                     .where(Product.ikm_id.in_(part), Product.deleted_at.is_(None)))
        else:
            query = select(*columns, table.c.ikm_id.label("_ikm")).where(
                table.c.ikm_id.in_(part))
        if lock:
            query = query.with_for_update()
        for r in session.execute(query.order_by(table.c.id)):
            values = dict(r._mapping)
            ikm_id = values.pop("_ikm")
            key = (ikm_id, *[_fold(values[f]) for f in spec.key])
            found.setdefault(key, values)
    return found


def _plan_children(session: Session, actor: Actor, kind: str, rows: list[_Row], plan: "_Plan",
                   lk: _Lookups, lock: bool) -> None:
    """Certificates, listings, exports, coaching actions or financials of IKM (by NIB), their
    product by name among the IKM's stored products and those of this upload."""
    spec = CHILD_SPECS[kind]
    live = [r for r in rows if r.status not in ("skipped", "rejected")]
    _resolve_ikm(session, live, plan.ikm)
    refs = {r.ikm_ref for r in live if r.ikm_ref is not None and not r.errors}
    products, rejected = _products_by_ikm(session, refs, plan.products, lk)
    existing = _existing_children(session, spec, sorted(r for r in refs if isinstance(r, int)),
                                  lock)
    for row in live:
        if row.ikm_ref is None or row.errors:
            continue
        own = products.get(row.ikm_ref, {})
        provided = {k: v for k, v in row.raw.items() if k != "ikm_nib" and k not in row.errors}
        product = provided.get("product_id")
        if isinstance(product, str) and product.strip().casefold() in rejected.get(
                row.ikm_ref, {}):
            row.fail("product_id", "imp.product_rejected",
                     row=rejected[row.ikm_ref][product.strip().casefold()])
            continue
        clean, errors = spec.clean(provided, own, lk)
        for name, (key, params) in errors.items.items():
            row.fail(name, key, **params)
        row.clean = clean
        if row.errors:
            continue
        key = (row.ikm_ref, *[_fold(clean.get(f)) for f in spec.key])
        stored = existing.get(key) if isinstance(row.ikm_ref, int) else None
        if stored:
            # as for IKM: a column missing from the file keeps what is stored, a blank cell
            # of a present column clears it
            base = {f: stored[f] for f in spec.fields}
            clean, errors = spec.clean({**base, **provided}, own, lk)
            for name, (k, params) in errors.items.items():
                row.fail(name, k, **params)
            row.clean = clean
            row.existing = stored
            row.changed = {k: v for k, v in clean.items() if stored.get(k) != v}
        if (not stored or row.changed or row.errors) and not _in_scope(actor, row.scope):
            row.fail("ikm_nib", "imp.out_of_scope")
    _mark_duplicates(live, lambda r: (r.ikm_ref, *[_fold(r.clean.get(f)) for f in spec.key])
                     if r.clean and r.ikm_ref is not None else None,
                     spec.key[0], "imp.duplicate_row")
    for row in rows:
        if row.errors:
            row.status = "rejected"
        elif row.existing:
            row.status = "updated" if row.changed else "unchanged"


def _select_sheets(sheets: list[_Sheet], kind: str, report: ImportReport,
                   csv_file: bool) -> list[tuple[_Sheet, Layout]]:
    chosen: dict[str, tuple[_Sheet, Layout]] = {}
    unnamed = []
    for sheet in sheets:
        by_name = _SHEET_KINDS.get(_norm(sheet.name)) if not csv_file else None
        if by_name and kind in ("auto", by_name) and by_name not in chosen:
            chosen[by_name] = (sheet, LAYOUTS[by_name])
        else:
            unnamed.append(sheet)
    if not chosen:
        for sheet in unnamed:
            k = _kind_of(sheet.header, kind)
            if k and k not in chosen:
                chosen[k] = (sheet, LAYOUTS[k])
        tables = [s for s in sheets if s.header]
        if not chosen and len(tables) == 1 and (csv_file or len(sheets) == 1):
            # one table we cannot place: say which headers are missing for the likeliest kind
            _map_columns(tables[0], LAYOUTS[kind if kind in LAYOUTS else "ikm"])
    used = {id(s) for s, _l in chosen.values()}
    report.ignored_sheets = [s.name for s in sheets if id(s) not in used]
    if not chosen:
        expected = ", ".join(LAYOUTS[k].sheet for k in LAYOUTS if kind in ("auto", k))
        _refuse("imp.missing_sheet", expected=expected,
                found=", ".join(s.name for s in sheets) or "–")
    return [chosen[k] for k in KINDS if k in chosen]


# A parsed upload is kept (by content hash) for the commit that usually follows its dry run:
# parsing is a pure function of the bytes. So is the dry run's plan, given the database: it is
# kept with the data version it was made at, and a commit reuses it only while that version is
# unchanged (no service wrote anything since) and on the same day; otherwise it checks again.
_PARSED: OrderedDict[tuple, list[_Sheet]] = OrderedDict()
_PARSED_MAX = 4
_PLANS: OrderedDict[tuple, tuple[int, date, "_Plan"]] = OrderedDict()
_PLANS_MAX = 2
_CACHE_LOCK = threading.Lock()


_LAST_HASH: list = [None, None]  # the bytes last hashed (kept alive, so `is` is safe), hash


def _digest(filename: str, data: bytes, limits: Limits) -> tuple:
    if data.__class__ is not bytes:  # mutable: hashed every time
        digest = hashlib.sha256(bytes(data)).hexdigest()
    else:
        with _CACHE_LOCK:
            if _LAST_HASH[0] is not data:
                _LAST_HASH[:] = [data, hashlib.sha256(data).hexdigest()]
            digest = _LAST_HASH[1]
    return (digest, PurePath(str(filename)).suffix.lower(), limits)


def _parsed(filename: str, data: bytes, limits: Limits) -> list[_Sheet]:
    if not isinstance(data, bytes | bytearray | memoryview):
        return _read(filename, data, limits)
    key = _digest(filename, data, limits)
    with _CACHE_LOCK:
        if key in _PARSED:
            _PARSED.move_to_end(key)
            return _PARSED[key]
    sheets = _read(filename, data, limits)
    with _CACHE_LOCK:
        _PARSED[key] = sheets
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return sheets


def _plan_key(session: Session, actor: Actor, filename: str, data: bytes, kind: str,
              limits: Limits) -> tuple:
    return (*_digest(filename, data, limits), PurePath(str(filename or "upload")).name, kind,
            actor.username, str(actor.role), actor.kabupaten_code,
            session.get_bind().url.render_as_string(hide_password=True))


def _keep_plan(key: tuple, state: tuple, plan: "_Plan") -> None:
    with _CACHE_LOCK:
        _PLANS[key] = (state, clock.today(), plan)
        while len(_PLANS) > _PLANS_MAX:
            _PLANS.popitem(last=False)


def _kept_plan(key: tuple, state: tuple) -> "_Plan | None":
    """The dry run's plan for this upload if nothing was written since (taken: used once)."""
    with _CACHE_LOCK:
        kept = _PLANS.pop(key, None)
    if kept is None or kept[0] != state or kept[1] != clock.today():
        return None
    if state[1] is None:  # a database never written to: nothing tells it from a new one
        return None
    return kept[2]


def _data_state(session: Session) -> tuple:
    """What changes with every write: the data version and the newest audit row (so a database
    restored from a backup, whose version may come back to the same number, differs too).

    Read at the start of a commit it is final on SQLite, whose writers hold the write lock from
    BEGIN IMMEDIATE. On PostgreSQL a writer may still commit between this read and the import's
    writes: the version-guarded updates and the unique NIB then refuse the import ("imp.stale").
    The version row is deliberately not locked (FOR UPDATE): writers bump it after changing
    their rows, so holding it while updating those rows could deadlock with them."""
    from models import AppState

    version = session.execute(select(AppState.value)
                              .where(AppState.key == "data_version")).scalar()
    newest = session.execute(select(AuditLog.id, AuditLog.at)
                             .order_by(AuditLog.id.desc()).limit(1)).first()
    return (int(version) if version else 0, *(tuple(newest) if newest else (None, None)))


def _plan(session: Session, actor: Actor, filename: str, data: bytes, kind: str,
          limits: Limits, lock: bool = False,
          progress: Callable[[float, str], None] | None = None) -> _Plan:
    require(actor, "programme.write")
    if kind != "auto" and kind not in LAYOUTS:
        raise ServiceError("imp.bad_kind")
    name = PurePath(str(filename or "upload")).name
    report = ImportReport(filename=name)
    sheets = _parsed(filename, data, limits)
    _tick(progress, 0.1, "imp.progress.checking")
    csv_file = bytes(data[:2]) != b"PK"
    selected = _select_sheets(sheets, kind, report, csv_file)
    if all(not s.rows for s, _l in selected):
        _refuse("imp.no_rows")
    plan = _Plan(report)
    lk = _lookups(session)
    for sheet, layout in selected:
        mapping = _map_columns(sheet, layout)
        plan.rows(layout.kind).extend(_prepare(sheet, mapping, layout))
        plan.kinds.append(layout.kind)
    _plan_cohorts(session, actor, plan.cohorts, lk, lock)
    _plan_ikm(session, actor, plan.ikm, lk, lock)
    _tick(progress, 0.3, "imp.progress.checking")
    _plan_products(session, actor, plan.products, plan.ikm, lk, lock)
    for child in CHILD_SPECS:
        if child in plan.kinds:
            _plan_children(session, actor, child, plan.rows(child), plan, lk, lock)
    _tick(progress, 0.4, "imp.progress.checking")
    for sheet, layout in selected:
        rows = plan.rows(layout.kind)
        counts = Counter(r.status for r in rows)
        report.sheets.append(SheetReport(
            sheet=sheet.name, kind=layout.kind, total=len(rows), new=counts["new"],
            updated=counts["updated"], unchanged=counts["unchanged"],
            rejected=counts["rejected"], skipped=counts["skipped"]))
        for row in rows:
            for name, (key, params, value) in row.errors.items():
                report.errors.append(ImportCellError(
                    row=row.number, column=row.headers.get(name) or _template_header(layout, name),
                    value=_show(value), key=key, params=params, sheet=row.sheet))
            warning = row.warning if row.status == "new" else None
            if warning:
                report.warnings.append(ImportCellError(
                    row=row.number, column=row.headers.get("name", ""),
                    value=row.clean.get("name"), key=warning[0], params=warning[1],
                    sheet=row.sheet))
    order = {sheet.name: i for i, (sheet, _l) in enumerate(selected)}
    report.errors.sort(key=lambda e: (order.get(e.sheet, 0), e.row))
    if not report.ok and not report.rejected:
        _refuse("imp.no_rows")
    return plan


def _template_header(layout: Layout, name: str) -> str:
    col = next((c for c in layout.columns if c.name == name), None)
    return header(col) if col else ""


def _show(value):
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value


def _tick(progress, fraction: float, label: str) -> None:
    if progress is not None:
        progress(fraction, label)


# --- public entry points ----------------------------------------------------------------------

@contextlib.contextmanager
def _bulk_work():
    """Pause the cyclic garbage collector while a file's rows are checked or written: they
    create some hundred thousand objects, no cycles, and each collection would walk them all
    (reference counting still frees everything)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dry_run(session: Session, *, actor: Actor, filename: str, data: bytes, kind: str = "auto",
            limits: Limits = LIMITS) -> ImportReport:
    """Check an upload against the rules and the database without writing anything.

    Returns counts per sheet (new / updated / unchanged / rejected / skipped) and every rejected
    cell (sheet, row as the spreadsheet shows it, header as in the file, value, message key and
    params). Raises ImportRefused when the file as a whole cannot be read, PermissionDenied
    when the actor may not write programme data."""
    state = _data_state(session)  # first: a write after it makes the plan stale
    with _bulk_work():
        plan = _plan(session, actor, filename, data, kind, limits)
    if isinstance(data, bytes | bytearray | memoryview):
        _keep_plan(_plan_key(session, actor, filename, data, kind, limits), state, plan)
    return copy.deepcopy(plan.report)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable(values: dict) -> dict:
    out = dict(values)
    for k, v in values.items():
        if v.__class__ in _PLAIN:
            continue
        if isinstance(v, datetime | date):
            out[k] = v.isoformat()
        elif isinstance(v, Decimal):
            out[k] = float(v)
    return out


def commit(session: Session, *, actor: Actor, filename: str, data: bytes,
           allow_partial: bool = False, progress: Callable[[float, str], None] | None = None,
           kind: str = "auto", limits: Limits = LIMITS) -> ImportReport:
    """Write an upload in the caller's transaction (never commits).

    Reuses the dry run's check when nothing was written since (same data version, same day,
    same user and file), else checks again. Refuses (ImportRefused "imp.has_rejected", with the
    report) when any row is rejected unless `allow_partial`, in which case only the valid rows
    are written. Upserts every sheet in order (cohorts, IKM, products, then the records linked
    to them), records an ImportBatch and audit rows ("import"), and calls
    `progress(fraction, message_key)`."""
    require(actor, "programme.write")
    with _bulk_work():
        return _commit(session, actor, filename, data, allow_partial, progress, kind, limits)


def _commit(session: Session, actor: Actor, filename: str, data: bytes, allow_partial: bool,
            progress, kind: str, limits: Limits) -> ImportReport:
    state = _data_state(session)
    plan = None
    if isinstance(data, bytes | bytearray | memoryview):
        plan = _kept_plan(_plan_key(session, actor, filename, data, kind, limits), state)
    if plan is None:
        plan = _plan(session, actor, filename, data, kind, limits, lock=True, progress=progress)
    report = plan.report
    if report.rejected and not allow_partial:
        raise ImportRefused("imp.has_rejected", report=report, count=report.rejected)
    if not report.ok:
        raise ImportRefused("imp.nothing_valid", report=report)
    _tick(progress, 0.5, "imp.progress.writing")
    # the batch first: every record's audit row names it (its file, user and time)
    now, user = utcnow(), actor.username
    batch = ImportBatch(username=user, kind="+".join(plan.kinds)[:24], filename=report.filename[
        :240], rows_total=report.total - report.skipped, rows_ok=report.ok,
        rows_failed=report.rejected, committed=True, at=now)
    session.add(batch)
    session.flush()
    try:
        audit_rows, touched = _write(session, actor, plan, progress, now, batch.id)
    except IntegrityError as exc:  # a concurrent writer took a key (NIB) meanwhile
        log.info("import refused by the database: %r", exc)
        raise ImportRefused("imp.stale") from exc
    audit.record(session, username=user, action="import", table="importbatch", row_id=batch.id,
                 after={"filename": report.filename, "kind": batch.kind, "new": report.new,
                        "updated": report.updated, "unchanged": report.unchanged,
                        "rejected": report.rejected})
    _tick(progress, 0.9, "imp.progress.audit")
    insert_rows(session, AuditLog.__table__, audit_rows,
                ("at", "username", "action", "table_name", "row_id", "before", "after"),
                want_ids=False)
    _expire(session, touched)
    report.committed, report.batch_id = True, batch.id
    _tick(progress, 1.0, "imp.progress.done")
    return report


def _write(session: Session, actor: Actor, plan: _Plan, progress, now,
           batch_id: int) -> tuple[list[dict], dict[type, set[int]]]:
    """Insert and update every valid row of a plan, in the order the links need."""
    user = actor.username
    audit_rows: list[dict] = []
    touched: dict[type, set[int]] = {}
    refs: dict[tuple, int] = {}  # placeholder of a record new in this upload -> its id

    def resolve(value):
        return refs[value] if isinstance(value, tuple) else value

    def write(model, rows: list[_Row], fields: tuple[str, ...], link: str | None = None) -> None:
        new = [r for r in rows if r.status == "new"]
        if new:
            values = []
            for row in new:
                # the plan is used once: its clean dicts become the inserted rows
                value = row.clean
                if refs:
                    for k, v in value.items():
                        if v.__class__ is tuple:
                            value[k] = refs[v]
                if link:
                    value[link] = resolve(row.ikm_ref)
                values.append(value)
            written = (link, *fields) if link else fields
            ids = _insert(session, model, values, written, now, user)
            for row, new_id in zip(new, ids, strict=True):
                if row.ref is not None:
                    refs[row.ref] = new_id
                if model is Ikm and row.nib:
                    refs[("new", row.nib)] = new_id
            _audit_created(session, model, ids, now, user, batch_id)
        updated = [r for r in rows if r.status == "updated"]
        for row in updated:
            row.clean = {k: resolve(v) for k, v in row.clean.items()}
            row.changed = {k: resolve(v) for k, v in row.changed.items()}
        _update(session, model, updated, fields, now, user, audit_rows,
                touched.setdefault(model, set()), model.__tablename__, batch_id)

    write(Cohort, plan.cohorts, COHORT_FIELDS)
    write(Ikm, plan.ikm, IKM_FIELDS)
    _tick(progress, 0.65, "imp.progress.writing")
    write(Product, plan.products, PRODUCT_FIELDS, link="ikm_id")
    _tick(progress, 0.75, "imp.progress.writing")
    for kind, spec in CHILD_SPECS.items():
        if plan.children.get(kind):
            write(spec.model, plan.children[kind], spec.fields,
                  link=None if spec.via_product else "ikm_id")
    return audit_rows, touched


def _id_ranges(ids: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for i in sorted(ids):
        if ranges and ranges[-1][1] == i - 1:
            ranges[-1] = (ranges[-1][0], i)
        else:
            ranges.append((i, i))
    return ranges


def _audit_created(session: Session, model, ids: list[int], now, user: str,
                   batch_id: int) -> None:
    """One audit row per created record, naming its import batch (the file, user and time;
    the values it was created with are the record's own, and every later change is audited
    with before and after). Written by the database (INSERT … SELECT): no per-row work here."""
    table = model.__table__
    log_table = AuditLog.__table__
    build = func.json_object if session.get_bind().dialect.name == "sqlite" \
        else func.json_build_object
    after = build(literal("import_batch"), literal(batch_id))
    for low, high in _id_ranges(ids):
        rows = select(literal(now, log_table.c.at.type), literal(user), literal("import"),
                      literal(model.__tablename__), cast(table.c.id, String),
                      after).where(table.c.id.between(low, high))
        session.execute(insert(log_table).from_select(
            ["at", "username", "action", "table_name", "row_id", "after"], rows))


def _insert(session: Session, model, values: list[dict], fields: tuple[str, ...], now,
            user: str) -> list[int]:
    """Insert rows in bulk (stamped as created now by the user); their ids in order."""
    table = model.__table__
    stamp = {"created_at": now, "created_by": user}
    if "version" in table.c:
        stamp["version"] = 1
    for value in values:  # the caller's own dicts, built for this insert
        value.update(stamp)
    return insert_rows(session, table, values, (*fields, *stamp))


def _update(session: Session, model, rows: list[_Row], fields: tuple[str, ...], now, user,
            audit_rows: list[dict], touched: set[int], table_name: str,
            batch_id: int) -> None:
    """Update rows in bulk, each guarded by the version (or, for a table without one, the
    change time) read by the check: a row changed meanwhile refuses the whole import."""
    if not rows:
        return
    table = model.__table__
    versioned = "version" in table.c
    if versioned:
        guard = table.c.version == bindparam("_version")
        extra = {"version": bindparam("_version") + 1}
    else:
        guard = table.c.updated_at.is_not_distinct_from(bindparam("_version"))
        extra = {}
    statement = (update(table)
                 .where(table.c.id == bindparam("_id"), guard)
                 .values(**{f: bindparam(f"_v_{f}") for f in fields}, **extra,
                         updated_at=now, updated_by=user))
    params = [{"_id": r.existing["id"],
               "_version": r.existing["version" if versioned else "updated_at"],
               **{f"_v_{f}": r.clean[f] for f in fields}} for r in rows]
    result = session.execute(statement, params)
    if session.get_bind().dialect.supports_sane_multi_rowcount:
        stale = result.rowcount != len(rows)
    else:
        ids = [r.existing["id"] for r in rows]
        done = sum(session.execute(select(func.count()).select_from(table).where(
            table.c.id.in_(part), table.c.updated_at == now)).scalar_one() for part in
            _chunks(ids))
        stale = done != len(rows)
    if stale:
        raise ImportRefused("imp.stale")
    for row in rows:
        touched.add(row.existing["id"])
        audit_rows.append({"at": now, "username": user, "action": "import",
                           "table_name": table_name, "row_id": str(row.existing["id"]),
                           "before": _jsonable({k: row.existing[k] for k in row.changed}),
                           "after": {**_jsonable(row.changed), "import_batch": batch_id}})


def _expire(session: Session, touched: dict[type, set[int]]) -> None:
    """Expire ORM objects of rows changed by the bulk statements (they would show old values)."""
    for obj in list(session.identity_map.values()):
        ids = touched.get(type(obj))
        if ids and getattr(obj, "id", None) in ids:
            session.expire(obj)


# --- the downloadable error report ------------------------------------------------------------

def error_frame(report: ImportReport, *, lang: str = "id") -> pd.DataFrame:
    """Every rejected cell of a report as a table for the screen or a download (exporter.to_xlsx
    / to_csv), headers and reasons in the user's language."""
    cols = [message(f"imp.report.{c}", lang=lang)
            for c in ("sheet", "row", "column", "value", "reason")]
    rows = [(e.sheet, e.row, e.column, "" if e.value is None else str(e.value),
             message(e.key, e.params, lang=lang)) for e in report.errors]
    return pd.DataFrame(rows, columns=cols, dtype=object)


def report_json(report: ImportReport) -> str:
    """A report as JSON (for logs and for keeping a dry run in the page's session state)."""
    from dataclasses import asdict

    return json.dumps(asdict(report), default=str, ensure_ascii=False)
