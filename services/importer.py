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
import csv
import hashlib
import io
import json
import logging
import math
import re
import threading
import unicodedata
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePath

import pandas as pd
from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session

from models import AuditLog, Cohort, Ikm, ImportBatch, Product, ProductCategory, utcnow
from services import audit
from services.errors import ServiceError
from services.exporter import (
    EXAMPLE_MARK,
    IKM_LAYOUT,
    PRODUCT_LAYOUT,
    SHEET_HELP,
    SHEET_LISTS,
    Layout,
    header,
)
from services.ikm import IKM_COLUMNS, CellError, clean_ikm
from services.permissions import Actor, require
from services.products import PRODUCT_COLUMNS, clean_product
from services.regions import Regions, _key, load_regions
from services.validation import Invalid, blank, clean_text, parse_nib
from ui.catalogue import CATALOGUE

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


def _check_cell(value, sheet: str, row: int, column: str, limits: Limits) -> None:
    if isinstance(value, str) and len(value) > limits.max_cell:
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
    for number, values in records:
        while values and blank(values[-1]):
            values = values[:-1]
        if not values:
            continue
        if len(values) > limits.max_columns:
            _refuse("imp.too_many_columns", sheet=name, max=limits.max_columns)
        if head is None:
            head = [_clean_header(v) for v in values]
            header_row = number
            for i, v in enumerate(values):
                _check_cell(v, name, number, _column_name(head, i), limits)
            continue
        if len(rows) >= limits.max_rows:
            _refuse("imp.too_many_rows", sheet=name, max=limits.max_rows)
        for i, v in enumerate(values):
            _check_cell(v, name, number, _column_name(head, i), limits)
        rows.append((number, list(values)))
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


def _zip_check(data: bytes, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                if "mimetype" in names and b"opendocument" in zf.read("mimetype"):
                    _refuse("imp.ods")
                _refuse("imp.not_xlsx")
            if sum(i.file_size for i in zf.infolist()) > limits.max_unpacked:
                _refuse("imp.too_big_unpacked", max=limits.max_unpacked // (1024 * 1024))
            if zf.testzip() is not None:
                _refuse("imp.not_xlsx")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        _refuse("imp.not_xlsx")


def _aux_sheet(title: str) -> bool:
    return _norm(title) in {_norm(SHEET_HELP), _norm(SHEET_LISTS), "instructions", "lists",
                            "petunjuk pengisian"}


# Formulas and error cells need openpyxl (calamine reads neither: it gives cached values and
# blanks); every other workbook takes the fast path.
_SLOW_MARKERS = re.compile(rb'<f[ >/]|t="e"')


def _needs_openpyxl(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(_SLOW_MARKERS.search(archive.read(name))
                       for name in archive.namelist()
                       if name.startswith("xl/worksheets/") and name.endswith(".xml"))
    except Exception:  # noqa: BLE001  (openpyxl will give the precise refusal)
        return True


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
        records = ((number, [None if v == "" else _cell(v) for v in row])
                   for number, row in enumerate(rows, start=1))
        sheets.append(_table(name, records, limits))
    return sheets


def _read_xlsx(data: bytes, limits: Limits) -> list[_Sheet]:
    """The visible data sheets of a workbook; when some are named like the template's ("IKM",
    "Produk"), only those are read and the others are listed as ignored (with no rows)."""
    import openpyxl

    _zip_check(data, limits)
    if not _needs_openpyxl(data):
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


_EXTRA_ALIASES = {
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


ALIASES = {IKM_LAYOUT.kind: _aliases(IKM_LAYOUT), PRODUCT_LAYOUT.kind: _aliases(PRODUCT_LAYOUT)}
LAYOUTS = {IKM_LAYOUT.kind: IKM_LAYOUT, PRODUCT_LAYOUT.kind: PRODUCT_LAYOUT}
_SHEET_KINDS = {"ikm": "ikm", "data ikm": "ikm", "produk": "product", "product": "product",
                "products": "product", "data produk": "product"}


def _kind_of(headers: list, wanted: str) -> str | None:
    """The kind of a table judged by its headers: the one matching most columns, provided a
    required column of it is among them (a sheet with only "Status" is no IKM sheet)."""
    scores = {}
    for kind in ALIASES:
        if wanted not in ("auto", kind):
            continue
        matched = {ALIASES[kind][_norm(h)] for h in headers if _norm(h) in ALIASES[kind]}
        required = {c.name for c in LAYOUTS[kind].columns if c.required}
        scores[kind] = len(matched) if matched & required else 0
    best = max(scores, key=lambda k: scores[k], default=None)
    return best if best and scores[best] else None


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
    missing = [header(c) for c in layout.columns if c.required and c.name not in seen]
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

def _chunks(items: list, size: int = 500):
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
                                  ProductCategory.name_en)).all()
    return _Lookups(regions, cohorts, names, {c: n for c, n, _e in cats},
                    {e.strip().lower(): c for c, _n, e in cats})


# --- the plan: what a dry run finds and a commit writes ----------------------------------------

@dataclass
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

    def fail(self, name: str, key: str, shown=None, /, **params) -> None:
        """Reject the row for this field (the first reason per field is kept)."""
        if name not in self.errors:
            self.errors[name] = (key, params, shown if shown is not None else self.raw.get(name))


@dataclass
class _Plan:
    report: ImportReport
    ikm: list[_Row] = field(default_factory=list)
    products: list[_Row] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)


_SCI = re.compile(r"^\d[.,]\d+E\+?\d+$", re.IGNORECASE)
_CODE_FIELDS = frozenset({"nib", "ikm_nib", "phone", "gtin"})


def _prepare(sheet: _Sheet, mapping: dict[int, str], layout: Layout) -> list[_Row]:
    """Rows with their raw values by field; cell-level problems a file can have (formulas,
    spreadsheet error values, numbers Excel turned into 1,23457E+12, misshapen CSV rows)."""
    headers = {name: sheet.header[i] for i, name in mapping.items()}
    shaped = {p.row: p for p in sheet.problems}
    mark = _norm(EXAMPLE_MARK)
    items = list(mapping.items())
    rows = []
    for number, values in sheet.rows:
        raw = {}
        row = _Row(sheet.name, number, headers, raw)
        if number in shaped:
            p = shaped[number]
            row.errors[""] = (p.key, p.params, p.value)
            row.status = "rejected"
            rows.append(row)
            continue
        width = len(values)
        for i, name in items:
            value = values[i] if i < width else None
            if value.__class__ is str and value:
                first = value[0]
                if first == "'" and _ESCAPED.match(value):
                    value = value[1:]
                elif first == "=":
                    row.fail(name, "imp.formula", value)
                    value = None
                elif "#" in value and value.strip() in EXCEL_ERRORS:
                    row.fail(name, "imp.excel_error", value, value=value.strip())
                    value = None
                elif name in _CODE_FIELDS and _SCI.match(value.strip()):
                    row.fail(name, "imp.sci_notation", value)
                    value = None
            raw[name] = value
        if not row.errors and all(blank(v) for v in raw.values()):
            continue
        name_value = raw.get("name")
        if isinstance(name_value, str) and name_value.lstrip()[:6].upper() == "CONTOH" \
                and _norm(name_value).startswith(mark):
            row.status = "skipped"
        rows.append(row)
    return rows


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
        _cohort_raw(row, lk)
        stored = existing.get(row.nib) if row.nib else None
        if stored and stored["deleted_at"] is not None:
            row.fail("nib", "imp.nib_in_trash")
            stored = None
        base = {f: stored[f] for f in IKM_FIELDS} if stored else {}
        provided = {k: v for k, v in row.raw.items() if k not in row.errors}
        clean, errors = clean_ikm({**base, **provided}, regions=lk.regions, cohorts=lk.cohorts)
        for name, (key, params) in errors.items.items():
            row.fail(name, key, **params)
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
    in_file = {r.nib: r for r in ikm_rows if r.nib and r.status != "skipped"}
    for row in live:
        if blank(row.raw.get("ikm_nib")):
            row.fail("ikm_nib", "imp.ikm_nib_required")
        else:
            _parse_key_nib(row, "ikm_nib")
    # the IKM of each product: in this file, else stored
    wanted = sorted({r.nib for r in live if r.nib and r.nib not in in_file})
    stored: dict[str, tuple[int, str, object]] = {}
    for part in _chunks(wanted):
        for nib, ikm_id, kab, deleted in session.execute(
                select(Ikm.nib, Ikm.id, Ikm.kabupaten_code, Ikm.deleted_at)
                .where(Ikm.nib.in_(part))):
            stored[nib] = (ikm_id, kab, deleted)
    for row in live:
        if not row.nib:
            continue
        if row.nib in in_file:
            parent = in_file[row.nib]
            if parent.status == "rejected":
                row.fail("ikm_nib", "imp.ikm_rejected", row=parent.number, sheet=parent.sheet)
                continue
            kab = parent.clean.get("kabupaten_code")
            row.ikm_ref = parent.existing["id"] if parent.existing else ("new", row.nib)
        elif row.nib in stored:
            ikm_id, kab, deleted = stored[row.nib]
            if deleted is not None:
                row.fail("ikm_nib", "imp.ikm_in_trash")
                continue
            row.ikm_ref = ikm_id
        else:
            row.fail("ikm_nib", "imp.unknown_ikm", nib=row.nib)
            continue
        row.scope = kab

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
            _map_columns(tables[0], LAYOUTS["product" if kind == "product" else "ikm"])
    used = {id(s) for s, _l in chosen.values()}
    report.ignored_sheets = [s.name for s in sheets if id(s) not in used]
    if not chosen:
        expected = ", ".join(LAYOUTS[k].sheet for k in LAYOUTS if kind in ("auto", k))
        _refuse("imp.missing_sheet", expected=expected,
                found=", ".join(s.name for s in sheets) or "–")
    return [chosen[k] for k in ("ikm", "product") if k in chosen]


# A parsed upload is kept (by content hash) for the commit that usually follows its dry run:
# parsing is a pure function of the bytes, while every check against the database is re-run.
_PARSED: OrderedDict[tuple, list[_Sheet]] = OrderedDict()
_PARSED_MAX = 4
_PARSED_LOCK = threading.Lock()


def _parsed(filename: str, data: bytes, limits: Limits) -> list[_Sheet]:
    if not isinstance(data, bytes | bytearray | memoryview):
        return _read(filename, data, limits)
    key = (hashlib.sha256(bytes(data)).hexdigest(), PurePath(str(filename)).suffix.lower(),
           limits)
    with _PARSED_LOCK:
        if key in _PARSED:
            _PARSED.move_to_end(key)
            return _PARSED[key]
    sheets = _read(filename, data, limits)
    with _PARSED_LOCK:
        _PARSED[key] = sheets
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return sheets


def _plan(session: Session, actor: Actor, filename: str, data: bytes, kind: str,
          limits: Limits, lock: bool = False,
          progress: Callable[[float, str], None] | None = None) -> _Plan:
    require(actor, "programme.write")
    if kind not in ("auto", "ikm", "product"):
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
        rows = _prepare(sheet, mapping, layout)
        if layout.kind == "ikm":
            plan.ikm = rows
        else:
            plan.products = rows
        plan.kinds.append(layout.kind)
    _plan_ikm(session, actor, plan.ikm, lk, lock)
    _tick(progress, 0.3, "imp.progress.checking")
    _plan_products(session, actor, plan.products, plan.ikm, lk, lock)
    _tick(progress, 0.4, "imp.progress.checking")
    for sheet, layout in selected:
        rows = plan.ikm if layout.kind == "ikm" else plan.products
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

def dry_run(session: Session, *, actor: Actor, filename: str, data: bytes, kind: str = "auto",
            limits: Limits = LIMITS) -> ImportReport:
    """Check an upload against the rules and the database without writing anything.

    Returns counts per sheet (new / updated / unchanged / rejected / skipped) and every rejected
    cell (sheet, row as the spreadsheet shows it, header as in the file, value, message key and
    params). Raises ImportRefused when the file as a whole cannot be read, PermissionDenied
    when the actor may not write programme data."""
    return _plan(session, actor, filename, data, kind, limits).report


def _jsonable(values: dict) -> dict:
    out = {}
    for k, v in values.items():
        if isinstance(v, datetime | date):
            v = v.isoformat()
        elif isinstance(v, Decimal):
            v = float(v)
        out[k] = v
    return out


def commit(session: Session, *, actor: Actor, filename: str, data: bytes,
           allow_partial: bool = False, progress: Callable[[float, str], None] | None = None,
           kind: str = "auto", limits: Limits = LIMITS) -> ImportReport:
    """Check the upload again and write it in the caller's transaction (never commits).

    Refuses (ImportRefused "imp.has_rejected", with the report) when any row is rejected unless
    `allow_partial`, in which case only the valid rows are written. Upserts, records an
    ImportBatch and audit rows ("import"), and calls `progress(fraction, message_key)`."""
    plan = _plan(session, actor, filename, data, kind, limits, lock=True, progress=progress)
    report = plan.report
    if report.rejected and not allow_partial:
        raise ImportRefused("imp.has_rejected", report=report, count=report.rejected)
    if not report.ok:
        raise ImportRefused("imp.nothing_valid", report=report)
    now = utcnow()
    user = actor.username
    audit_rows: list[dict] = []
    touched: dict[type, set[int]] = {Ikm: set(), Product: set()}

    # IKM: inserts (ids back in file order) and updates guarded by the version read above
    new_ikm = [r for r in plan.ikm if r.status == "new"]
    _tick(progress, 0.5, "imp.progress.writing")
    new_ids: dict[str, int] = {}
    if new_ikm:
        values = [{**r.clean, "created_at": now, "created_by": user, "version": 1}
                  for r in new_ikm]
        ids = _insert(session, Ikm, values, IKM_FIELDS)
        for row, new_id in zip(new_ikm, ids, strict=True):
            if row.nib:
                new_ids[row.nib] = new_id
            audit_rows.append({"table_name": "ikm", "row_id": str(new_id), "before": None,
                               "after": _jsonable({"id": new_id, **row.clean})})
    _update(session, Ikm, [r for r in plan.ikm if r.status == "updated"], IKM_FIELDS, now, user,
            audit_rows, touched[Ikm], "ikm")
    _tick(progress, 0.7, "imp.progress.writing")

    new_products = [r for r in plan.products if r.status == "new"]
    if new_products:
        values = []
        for row in new_products:
            ref = row.ikm_ref
            ikm_id = new_ids[ref[1]] if isinstance(ref, tuple) else ref
            values.append({**row.clean, "ikm_id": ikm_id, "created_at": now, "created_by": user,
                           "version": 1})
        ids = _insert(session, Product, values, ("ikm_id", *PRODUCT_FIELDS))
        for value, new_id in zip(values, ids, strict=True):
            audit_rows.append({"table_name": "product", "row_id": str(new_id), "before": None,
                               "after": _jsonable({"id": new_id, **{
                                   k: value[k] for k in ("ikm_id", *PRODUCT_FIELDS)}})})
    _update(session, Product, [r for r in plan.products if r.status == "updated"],
            PRODUCT_FIELDS, now, user, audit_rows, touched[Product], "product")
    _tick(progress, 0.85, "imp.progress.audit")

    batch = ImportBatch(username=user, kind="+".join(plan.kinds)[:24], filename=report.filename[
        :240], rows_total=report.total - report.skipped, rows_ok=report.ok,
        rows_failed=report.rejected, committed=True, at=now)
    session.add(batch)
    session.flush()
    audit.record(session, username=user, action="import", table="importbatch", row_id=batch.id,
                 after={"filename": report.filename, "kind": batch.kind, "new": report.new,
                        "updated": report.updated, "unchanged": report.unchanged,
                        "rejected": report.rejected})
    if audit_rows:
        session.execute(insert(AuditLog.__table__), [
            {"at": now, "username": user, "action": "import", **r} for r in audit_rows])
    _expire(session, touched)
    report.committed, report.batch_id = True, batch.id
    _tick(progress, 1.0, "imp.progress.done")
    return report


def _insert(session: Session, model, values: list[dict], fields: tuple[str, ...]) -> list[int]:
    """Insert rows in bulk and return their new ids in the order of `values`.

    RETURNING gives no row order on SQLite (and SQLAlchemy would fall back to one INSERT per
    row to sort them), so each returned id is matched to its row by the inserted values; rows
    with identical values are interchangeable."""
    table = model.__table__
    columns = [table.c[f] for f in fields]
    ids: dict[tuple, list[int]] = {}
    for part in _chunks(values, 2000):
        for returned in session.execute(insert(table).returning(table.c.id, *columns), part):
            ids.setdefault(tuple(returned[1:]), []).append(returned[0])
    return [ids[tuple(v[f] for f in fields)].pop() for v in values]


def _update(session: Session, model, rows: list[_Row], fields: tuple[str, ...], now, user,
            audit_rows: list[dict], touched: set[int], table_name: str) -> None:
    if not rows:
        return
    table = model.__table__
    statement = (update(table)
                 .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"))
                 .values(**{f: bindparam(f"_v_{f}") for f in fields},
                         version=bindparam("_version") + 1, updated_at=now, updated_by=user))
    params = [{"_id": r.existing["id"], "_version": r.existing["version"],
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
        audit_rows.append({"table_name": table_name, "row_id": str(row.existing["id"]),
                           "before": _jsonable({k: row.existing[k] for k in row.changed}),
                           "after": _jsonable(row.changed)})


def _expire(session: Session, touched: dict[type, set[int]]) -> None:
    """Expire ORM objects of rows changed by the bulk statements (they would show old values)."""
    for obj in list(session.identity_map.values()):
        ids = touched.get(type(obj))
        if ids and getattr(obj, "id", None) in ids:
            session.expire(obj)


# --- the downloadable error report ------------------------------------------------------------

def message(key: str, params: dict | None = None, *, lang: str = "id") -> str:
    """The text of a message key in a language (the same catalogue the pages use)."""
    texts = CATALOGUE.get(lang) or CATALOGUE["id"]
    text = texts.get(key) or CATALOGUE["id"].get(key) or key
    try:
        return text.format(**(params or {}))
    except (KeyError, IndexError, ValueError):
        return text


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
