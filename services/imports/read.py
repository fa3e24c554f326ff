"""Reading an upload: the tables of an XLSX or CSV as header and rows, refusing what cannot
be read, with a message. Pure (no database), so it can run in a worker process (sandbox.py)."""

import codecs
import csv
import functools
import html
import io
import logging
import math
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import time
from pathlib import PurePath

import pandas as pd

from services.exporter import (
    SHEET_HELP,
    SHEET_LISTS,
)
from services.faults import server_side
from services.imports.encoding import decode
from services.imports.report import LIMITS, ImportCellError, ImportRefused, Limits
from services.validation import blank

log = logging.getLogger(__name__)


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
    encoding: str | None = None  # a text file's encoding, as people name it
    samples: tuple[str, ...] = ()  # texts whose letters depended on that encoding
    title_rows: list[int] = field(default_factory=list)  # rows above the header, set aside


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


_SEP_LINE = re.compile(r"^\ufeff?\s*sep=(.)\s*$", re.IGNORECASE)
_HEAD_ROWS = 10  # the header is looked for among the first non-blank rows (title rows above)


def _read_text(name: str, data: bytes, limits: Limits) -> list[_Sheet]:
    decoded = decode(data)
    text = decoded.text
    if not text.strip():
        _refuse("imp.empty")
    controls = sum(1 for ch in text[:4000] if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > max(8, len(text[:4000]) // 50):
        _refuse("imp.binary")
    lines = text.splitlines()
    first_at = next((i for i, ln in enumerate(lines) if ln.strip()), 0)
    declared = _SEP_LINE.match(lines[first_at]) if lines else None
    skip = 0
    if declared:  # Excel's "sep=;" line names the delimiter; it is no row of the table
        delimiter, skip = declared.group(1), first_at + 1
    else:
        candidates = [ln for ln in lines if ln.strip()][:_HEAD_ROWS]
        delimiter = _sniff(max(candidates, key=lambda ln: len(_fields(ln)), default=""))
    others = [d for d in (";", ",", "\t") if d != delimiter]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = [(n, v) for n, v in enumerate(reader, start=1) if n > skip]
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            _refuse("imp.cell_too_long", sheet=name, row=reader.line_num, column="",
                    max=limits.max_cell)
        _refuse("imp.csv_broken", line=reader.line_num)
    # the table's width: its widest row among the first ones (title rows above the header
    # are narrower); a later row with values beyond it lost its quotes or its delimiter
    filled = [v for _n, v in rows if not (len(v) == 1 and blank(v[0])) and v][:_HEAD_ROWS]
    width = max((len(_trimmed(v)) for v in filled), default=0)
    problems: list[ImportCellError] = []
    records = []
    for number, values in rows:
        if len(values) == 1 and blank(values[0]):
            values = []
        if values and width:
            extra = [v for v in values[width:] if not blank(v)]
            squeezed = width > 1 and len(values) == 1 and any(d in values[0] for d in others) \
                and number > _header_number(rows, width)
            if extra or squeezed:
                problems.append(ImportCellError(
                    row=number, column="", value=delimiter.join(values)[:200],
                    key="imp.row_fields", params={"found": len(values), "expected": width},
                    sheet=name))
                records.append((number, ["\0row_fields"]))  # kept as a rejected row
                continue
        records.append((number, values))
    inner = _INNER_ESCAPE.get(delimiter)
    if inner is not None:
        records = [(n, [inner.sub("", v) if v.__class__ is str and "'" in v else v
                        for v in values]) for n, values in records]
    sheet = _table(name, records, limits)
    sheet.problems = problems
    sheet.encoding, sheet.samples = decoded.encoding, decoded.samples
    return [sheet]


# An export's CSV puts an apostrophe after every other separator or line break inside a field
# where a formula would start (services.exporter.neutralise_csv): one is taken off again, so a
# round trip gives back the stored text.
_INNER_ESCAPE = {sep: re.compile("(?<=[" + re.escape("".join(c for c in ",;\t" if c != sep))
                                 + "\r\n])'(?='*\"?[=+\\-@\t\r])")
                 for sep in (",", ";", "\t")}


def _fields(line: str) -> list[str]:
    return max((line.split(d) for d in (";", ",", "\t")), key=len)


def _trimmed(values: list) -> list:
    end = len(values)
    while end and blank(values[end - 1]):
        end -= 1
    return values[:end]


def _header_number(rows: list[tuple[int, list]], width: int) -> int:
    """The line of the first row as wide as the table (the header; title rows come before)."""
    return next((n for n, v in rows if len(_trimmed(v)) == width), 0)


_CHUNK = 1 << 20  # bytes decompressed per step: what one step of a zip bomb can cost


def _unpack(data: bytes, limits: Limits) -> tuple[bytes, bool]:
    """Refuse what is no sound XLSX; else the same workbook re-packed without compression from
    the bytes actually read, and whether it needs openpyxl (formulas or error cells).

    Sizes a zip declares are never trusted: each member is decompressed a megabyte at a time
    and the bytes actually produced are counted against `max_unpacked` (a member that yields
    more than it declares is cut off there, and its checksum then fails). Worksheets are
    checked for cells beyond the limits before any reader builds a grid (_check_extent); the
    readers then see only the re-packed bytes."""
    members: list[tuple[zipfile.ZipInfo, bytes]] = []
    total = 0
    slow = False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                if "mimetype" in names and b"opendocument" in zf.read("mimetype")[:100]:
                    _refuse("imp.ods")
                _refuse("imp.not_xlsx")
            for info in infos:
                parts = []
                with zf.open(info) as member:  # checks the checksum at the end
                    while chunk := member.read(_CHUNK):
                        total += len(chunk)
                        if total > limits.max_unpacked:
                            _refuse("imp.too_big_unpacked",
                                    max=limits.max_unpacked // (1024 * 1024))
                        parts.append(chunk)
                content = b"".join(parts)
                members.append((info, content))
            titles = _sheet_titles(dict((i.filename, c) for i, c in members))
            for info, content in members:
                name = info.filename
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    _check_extent(content, titles.get(name, PurePath(name).stem), limits)
                    slow = slow or _has_formula_or_error(content)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            zlib.error, NotImplementedError, RuntimeError):
        _refuse("imp.not_xlsx")  # damaged, encrypted, or an unknown compression
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as packed:
        for info, content in members:
            packed.writestr(zipfile.ZipInfo(info.filename, date_time=info.date_time), content)
    return out.getvalue(), slow


_SHEET_ENTRY = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?>')
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')


def _sheet_titles(members: dict[str, bytes]) -> dict[str, str]:
    """Worksheet member name -> the sheet's title (for messages); empty when unclear."""
    try:
        rels = {}
        for rel in re.findall(rb"<(?:\w+:)?Relationship\b[^>]*>",
                              members.get("xl/_rels/workbook.xml.rels", b"")):
            attrs = dict(_ATTR.findall(rel))
            target = attrs.get(b"Target", b"").decode().lstrip("/")
            rels[attrs.get(b"Id", b"")] = target if target.startswith("xl/") else "xl/" + target
        titles = {}
        for entry in _SHEET_ENTRY.findall(members.get("xl/workbook.xml", b"")[:1_000_000]):
            attrs = dict(_ATTR.findall(entry))
            rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
            if rid in rels and b"name" in attrs:
                titles[rels[rid]] = html.unescape(attrs[b"name"].decode("utf-8", "replace"))
        return titles
    except (UnicodeDecodeError, ValueError):
        return {}


def _greater(limit: str, digits: str) -> str:
    """A regular expression for the strings over `digits` (in their order) that stand for a
    number greater than `limit` (same alphabet, no leading zero): longer strings, or of the
    same length and greater at the first difference."""
    alternatives = [f"[{digits[1]}-{digits[-1]}][{digits[0]}-{digits[-1]}]{{{len(limit)},}}"
                    if digits[0] == "0" else f"[{digits[0]}-{digits[-1]}]{{{len(limit) + 1},}}"]
    for i, ch in enumerate(limit):
        higher = digits[digits.index(ch) + 1:]
        if higher:
            rest = len(limit) - i - 1
            tail = f"[{digits[0]}-{digits[-1]}]{{{rest}}}" if rest else ""
            alternatives.append(re.escape(limit[:i]) + f"[{higher[0]}-{higher[-1]}]" + tail)
    return "(?:" + "|".join(alternatives) + ")"


@functools.lru_cache(maxsize=8)
def _far_cells(max_columns: int, max_row: int) -> tuple[re.Pattern, ...]:
    """Patterns for a cell beyond the last allowed column, a cell beyond the last allowed row,
    and a row beyond it (a row's cells may leave out their references)."""
    from openpyxl.utils import get_column_letter

    column = _greater(get_column_letter(max_columns), "ABCDEFGHIJKLMNOPQRSTUVWXYZ").encode()
    row = _greater(str(max_row), "0123456789").encode()
    return (re.compile(rb'\br="' + column + rb"\d"),
            re.compile(rb'\br="[A-Z]{1,3}' + row + rb'"'),
            re.compile(rb'<(?:\w+:)?row [^>]*?\br="' + row + rb'"'))


_SLACK_ROWS = 1000  # title rows and blank rows a sheet may hold besides its data rows


def _check_extent(xml: bytes, sheet: str, limits: Limits) -> None:
    """Refuse a worksheet with any cell (or row) beyond the allowed columns and rows, before a
    reader builds a grid from the first to the last cell: one cell in A1 and one in XFD1048576
    would make it allocate hundreds of gigabytes. Only the cells count, not the dimension a
    sheet declares: the readers never size a grid by it (calamine sizes it by the cells,
    openpyxl's dimensions are reset before reading), and some programs declare too much."""
    max_row = limits.max_rows + _SLACK_ROWS
    for pattern in _far_cells(limits.max_columns, max_row):
        hit = pattern.search(xml)
        if hit:
            found = re.search(rb'\br="([A-Z]{0,3})(\d{1,9})"', xml[hit.start():hit.end() + 12])
            cell = (found.group(1) or b"A").decode() + found.group(2).decode() if found else "?"
            _refuse("imp.too_far", sheet=sheet, cell=cell, max=limits.max_columns, rows=max_row)


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
    sheets: list[_Sheet] = []
    for name in visible:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        records = ((number, [None if v == "" else _cell(v) if v.__class__ in _CONVERTED else v
                             for v in row])
                   for number, row in enumerate(rows, start=1))
        sheets.append(_table(name, records, limits))
    return sheets


def _read_xlsx(data: bytes, limits: Limits) -> list[_Sheet]:
    """The visible data sheets of a workbook (not the template's instructions and lists)."""
    import openpyxl

    data, slow = _unpack(data, limits)
    if not slow:
        try:
            return _read_xlsx_fast(data, limits)
        except ImportRefused:
            raise
        except Exception as exc:  # noqa: BLE001  (openpyxl decides what is wrong with it)
            if server_side(exc):
                raise
            log.info("fast reader failed, using openpyxl: %r", exc)
    sheets: list[_Sheet] = []
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except OSError as exc:
        if server_side(exc):
            raise
        log.info("unreadable workbook: %r", exc)
        _refuse("imp.not_xlsx")
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        log.info("unreadable workbook: %r", exc)
        _refuse("imp.not_xlsx")
    try:
        visible = [ws for ws in wb.worksheets
                   if getattr(ws, "sheet_state", "visible") == "visible"
                   and not _aux_sheet(ws.title)]
        for ws in visible:
            ws.reset_dimensions()  # some programs write wrong dimensions: read every row
            records = ((number, [_cell(v) for v in row])
                       for number, row in enumerate(ws.iter_rows(values_only=True), start=1))
            sheets.append(_table(ws.title, records, limits))
    except ImportRefused:
        raise
    except Exception as exc:
        if server_side(exc):
            raise
        log.info("unreadable worksheet: %r", exc)
        _refuse("imp.not_xlsx")
    finally:
        wb.close()
    return sheets


def read_tables(filename: str, data: bytes, limits: Limits = LIMITS) -> list[_Sheet]:
    """Every table of an upload, read in a worker process under memory and CPU limits
    (sandbox.py); refuses what cannot be read, with a message."""
    from services.imports.sandbox import run_limited

    if not isinstance(data, bytes | bytearray | memoryview):
        _refuse("imp.unreadable")
    return run_limited(_read, str(filename or "upload"), bytes(data), limits)


def _read(filename: str, data: bytes, limits: Limits) -> list[_Sheet]:
    """Every table of an upload, in this process (the worker's part of read_tables)."""
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
    for sheet in read_tables(filename, data, limits):
        width = max([len(sheet.header), *(len(v) for _n, v in sheet.rows)], default=0)
        columns = [_column_name(sheet.header, i) for i in range(width)]
        frame = pd.DataFrame([v + [None] * (width - len(v)) for _n, v in sheet.rows],
                             columns=columns, index=[n for n, _v in sheet.rows], dtype=object)
        frame.index.name = "row"
        frame.attrs["problems"] = sheet.problems
        frame.attrs["header_row"] = sheet.header_row
        frames[sheet.name] = frame
    return frames



# --- sheet names ----------------------------------------------------------------------------

def _norm(text) -> str:
    text = unicodedata.normalize("NFKC", str(text)).lower()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


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
