"""How a column writes its dates and numbers, decided from all of its cells, never per cell.

A CSV from Excel on Windows in English holds 3/4/2024 for 4 March and 1,250.50 for one thousand
two hundred fifty; one from Indonesian Windows holds 4/3/2024 and 1.250,50. A single cell such as
"3/4/2024" or "1,250" cannot say which; its column usually can: "08/17/2024" proves month first,
"17/08/2024" day first, "2.50" an English decimal point, "1.500.000" Indonesian grouping.

- Dates: a column with only month-first evidence is read month/day/year; otherwise day/month/
  year (the default when nothing says otherwise). Evidence both ways refuses the column's
  ambiguous cells, naming an example of each.
- Numbers: a column with English evidence reads "1,250" as 1250 and "1.250" as 1.25; otherwise
  "1.250" is 1250 (Indonesian grouping, the default) and "1,250" is refused as ambiguous, or,
  where the column shows Indonesian decimal commas, read as 1,25 (never for rupiah, which has no
  decimals of three digits). Evidence both ways refuses the ambiguous cells.

Cells a spreadsheet stored as real dates and numbers are typed and need none of this. Every
column that held an ambiguous cell gets a note saying how it was read, for the dry run.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

_DATE = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$")
_CURRENCY = re.compile(r"(?i)^\s*(?:rp\.?|idr|usd|us\$|\$)\s*|\s*(?:,-|\.-)\s*$")
_ID_FORMS = (re.compile(r"^\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?$"),  # 1.500.000(,50)
             re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$"),  # 1.500,50
             re.compile(r"^\d+,(?:\d{1,2}|\d{4,})$"))  # 2,5  2,50  2,1234
_EN_FORMS = (re.compile(r"^\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?$"),  # 1,500,000(.50)
             re.compile(r"^\d{1,3}(?:,\d{3})+\.\d+$"),  # 1,500.50
             re.compile(r"^\d+\.(?:\d{1,2}|\d{4,})$"))  # 2.5  2.50  2.1234
_AMBIGUOUS = re.compile(r"^([1-9]\d{0,2})([.,])(\d{3})$")  # 1.250 or 1,250 (not 0,125)


@dataclass
class Finding:
    # What one column's cells said: converted values by row index, refused rows with the
    # reason, and the note for the dry run (message key and parameters).
    values: dict[int, object]
    refused: dict[int, tuple[str, dict]]
    note: tuple[str, dict] | None


def _example(cells: list[tuple[int, str]]) -> str:
    return cells[0][1].strip() if cells else ""


def _date_parts(cells: list[tuple[int, str]]) -> list[tuple[int, str, int, int, int]]:
    parts = []
    for index, text in cells:
        found = _DATE.match(text)
        if found:
            parts.append((index, text, int(found.group(1)), int(found.group(3)),
                          int(found.group(4))))
    return parts


def date_evidence(cells: list[tuple[int, str]]) -> tuple[str, str]:
    """An example cell that proves day first and one that proves month first ("" if none)."""
    parts = _date_parts(cells)
    return (next((t for _i, t, a, b, _y in parts if a > 12 >= b), ""),
            next((t for _i, t, a, b, _y in parts if b > 12 >= a), ""))


def file_date_order(evidence: list[tuple[str, tuple[str, str]]]) -> tuple[str, str, str] | None:
    """The order every date column of a file shows, when they agree: (order, column, example)
    of the first column with evidence; None when none shows one or they disagree."""
    day_first = [(c, d) for c, (d, _m) in evidence if d]
    month_first = [(c, m) for c, (_d, m) in evidence if m]
    if month_first and not day_first:
        return ("mdy", *month_first[0])
    if day_first and not month_first:
        return ("dmy", *day_first[0])
    return None


def date_column(cells: list[tuple[int, str]],
                file_order: tuple[str, str, str] | None = None) -> Finding:
    """Read a date column's text cells (row index, text) with one order for the column: its
    own cells' evidence, else that of the file's other date columns (one program wrote them
    all), else day first."""
    parts = _date_parts(cells)
    if not parts:
        return Finding({}, {}, None)
    day_first = [(i, t) for i, t, a, b, _y in parts if a > 12 >= b]
    month_first = [(i, t) for i, t, a, b, _y in parts if b > 12 >= a]
    values: dict[int, object] = {}
    refused: dict[int, tuple[str, dict]] = {}

    def read(index: int, year: int, month: int, day: int) -> None:
        try:
            values[index] = date(year, month, day)
        except ValueError:
            refused[index] = ("v.bad_date", {})

    if day_first and month_first:
        params = {"dmy": _example(day_first), "mdy": _example(month_first)}
        for index, _text, a, b, year in parts:
            if a <= 12 and b <= 12:
                refused[index] = ("imp.date_order_conflict", params)
            else:  # a cell that reads only one way is read that way
                read(index, year, *((a, b) if a <= 12 else (b, a)))
        return Finding(values, refused, ("imp.note.date_conflict", params))
    if month_first or day_first:
        order, note = ("mdy" if month_first else "dmy"), (
            "imp.note.date_order", {"order": "imp.order." + ("mdy" if month_first else "dmy"),
                                    "example": _example(month_first or day_first)})
    elif file_order:
        order, column, example = file_order
        note = ("imp.note.date_order_file", {"order": "imp.order." + order,
                                             "other": column, "example": example})
    else:
        order, note = "dmy", ("imp.note.date_default", {
            "example": _example([(p[0], p[1]) for p in parts])})
    for index, _text, a, b, year in parts:
        read(index, year, *((a, b) if order == "mdy" else (b, a)))
    if not any(a <= 12 and b <= 12 and a != b for _i, _t, a, b, _y in parts):
        note = None  # no cell could be read both ways: nothing worth saying
    return Finding(values, refused, note)


def _bare(text: str) -> str:
    return _CURRENCY.sub("", text).replace(" ", "").replace("\u00a0", "")


def number_evidence(cells: list[tuple[int, str]]) -> tuple[str, str]:
    """An example cell written the Indonesian way and one written the English way ("" if
    none)."""
    bare = [_bare(t) for _i, t in cells]
    return (next((b for b in bare if any(f.match(b) for f in _ID_FORMS)), ""),
            next((b for b in bare if any(f.match(b) for f in _EN_FORMS)), ""))


def file_number_format(evidence: list[tuple[str, tuple[str, str]]]) -> tuple[str, str, str] | None:
    """The number format every number column of a file shows, when they agree: (format,
    column, example) of the first column with evidence; None otherwise."""
    indonesian = [(c, i) for c, (i, _e) in evidence if i]
    english = [(c, e) for c, (_i, e) in evidence if e]
    if english and not indonesian:
        return ("en", *english[0])
    if indonesian and not english:
        return ("id", *indonesian[0])
    return None


def number_column(cells: list[tuple[int, str]], *, rupiah: bool,
                  file_format: tuple[str, str, str] | None = None) -> Finding:
    """Read a number column's ambiguous text cells (single separator and three digits) with
    the format its other cells show, else the format of the file's other number columns; the
    other cells are left to the field's rule."""
    bare = [(i, _bare(t)) for i, t in cells]
    indonesian = [(i, b) for i, b in bare if any(f.match(b) for f in _ID_FORMS)]
    english = [(i, b) for i, b in bare if any(f.match(b) for f in _EN_FORMS)]
    ambiguous = [(i, b, _AMBIGUOUS.match(b)) for i, b in bare if _AMBIGUOUS.match(b)]
    if not ambiguous:
        return Finding({}, {}, None)
    if indonesian and english:
        params = {"id": _example(indonesian), "en": _example(english)}
        return Finding({}, {i: ("imp.number_conflict", params) for i, _b, _m in ambiguous},
                       ("imp.note.number_conflict", params))
    if english or indonesian:
        fmt = "en" if english else "id"
        note = ("imp.note.number_format", {"format": f"imp.format.{fmt}",
                                           "example": _example(english or indonesian)})
    elif file_format:
        fmt, column, example = file_format
        note = ("imp.note.number_format_file", {"format": f"imp.format.{fmt}", "other": column,
                                                "example": example})
    else:
        fmt, note = None, ("imp.note.number_default", {
            "example": _example([(i, b) for i, b, _m in ambiguous])})
    values: dict[int, object] = {}
    refused: dict[int, tuple[str, dict]] = {}
    for index, text, found in ambiguous:
        whole, sep, rest = found.groups()
        thousands, fraction = Decimal(whole + rest), Decimal(f"{whole}.{rest}")
        if fmt == "en":
            values[index] = thousands if sep == "," else fraction
        elif sep == ".":
            values[index] = thousands  # Indonesian grouping, the default
        elif fmt == "id" and not rupiah:
            values[index] = fraction  # a decimal comma, as the file's other numbers
        else:
            refused[index] = ("v.ambiguous_number", {
                "value": text, "thousands": f"{thousands:,}".replace(",", "."),
                "fraction": str(fraction).replace(".", ",")})
    return Finding(values, refused, note)
