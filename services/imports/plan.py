"""The plan: what a dry run finds and a commit writes, checked against the rules and the
database."""

import contextlib
import copy
import gc
import hashlib
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import PurePath

from sqlalchemy import literal, select
from sqlmodel import Session

from models import (
    AuditLog,
    Certification,
    CertificationType,
    CoachingAction,
    Cohort,
    ExportRecord,
    Ikm,
    IkmFinancials,
    Product,
    ProductCategory,
    Retailer,
    RetailListing,
)
from services import clock
from services.cohorts import FIELDS as COHORT_FIELDS
from services.cohorts import clean_cohort
from services.errors import ServiceError
from services.exporter import (
    EXAMPLE_MARK,
    EXAMPLE_NIB,
    Layout,
    header,
)
from services.ikm import IKM_COLUMNS, clean_ikm
from services.imports.columns import LAYOUTS, _map_columns, select_sheets
from services.imports.detect import (
    date_column,
    date_evidence,
    file_date_order,
    file_number_format,
    number_column,
    number_evidence,
)
from services.imports.read import (
    _ESCAPED,
    EXCEL_ERRORS,
    _norm,
    _refuse,
    _Sheet,
    read_tables,
)
from services.imports.report import (
    LIMITS,
    ImportCellError,
    ImportChange,
    ImportConflict,
    ImportNote,
    ImportReport,
    Limits,
    SheetReport,
)
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
from services.validation import Errors, Invalid, blank, clean_text, parse_int, parse_nib

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
    cohort_labels: dict[int, str]  # id -> name
    finished: dict[int, date]  # cohorts whose training ended (their members count as trained)
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
    labels: dict[int, str] = {}
    finished: dict[int, date] = {}
    today = clock.today()
    for cid, name, kab, end in session.execute(
            select(Cohort.id, Cohort.name, Cohort.kabupaten_code, Cohort.end_on)
            .where(Cohort.deleted_at.is_(None)).order_by(Cohort.id)):
        cohorts[cid] = kab
        labels[cid] = name
        names.setdefault(_key(name), []).append((cid, kab))
        if end is not None and end <= today:
            finished[cid] = end
    cats = session.execute(select(ProductCategory.code, ProductCategory.name_id,
                                  ProductCategory.name_en, ProductCategory.is_food,
                                  ProductCategory.is_wood)).all()
    cert_types = {t.code: CertTypeInfo(t.name, t.scope, t.applies_to, t.validity_months)
                  for (t,) in session.execute(select(CertificationType))}
    return _Lookups(regions, cohorts, names, labels, finished, {c.code: c.name_id for c in cats},
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
    record_id: int | None = None  # the record named by the row's ID cell (exports carry it)
    file_version: int | None = None  # the record's version when the file was exported
    cleared: set = field(default_factory=set)  # fields emptied by the clear marker
    conflict: dict | None = None  # changed by someone else since the export: who, when, what

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
_KEY_FIELDS = frozenset({"ikm_nib"})  # what finds a record's IKM cannot be emptied


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
    elif "#" in value and value.strip().upper() in CLEAR_MARKS:
        if name in _KEY_FIELDS:
            row.fail(name, "imp.clear_key", value)
        row.raw[name] = _CLEAR
    elif "#" in value and value.strip() in EXCEL_ERRORS:
        row.fail(name, "imp.excel_error", value, value=value.strip())
        row.raw[name] = None
    elif name in _CODE_FIELDS and _SCI.match(value.strip()):
        row.fail(name, "imp.sci_notation", value)
        row.raw[name] = None


def _in_scope(actor: Actor, kabupaten_code: str | None) -> bool:
    return kabupaten_code is None or actor.kabupaten_code in (None, kabupaten_code)


def _parse_key_nib(row: _Row, name: str) -> None:
    value = row.raw.get(name)
    if value == _CLEAR:
        return
    try:
        row.nib = parse_nib(value)
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


# What a cell holds to empty a field on update (a blank cell leaves it as it is).
CLEAR_MARKS = frozenset({"#KOSONG", "#CLEAR"})
_CLEAR = "\0clear"  # a cell holding a clear mark, once read
SYSTEM_FIELDS = ("id", "version")


def _system_cells(rows: list[_Row]) -> None:
    """The record id and version of rows that carry them (a re-uploaded export)."""
    for row in rows:
        raw = row.raw
        if "id" not in raw and "version" not in raw:
            continue
        rid, version = raw.pop("id", None), raw.pop("version", None)
        try:
            row.record_id = parse_int(rid, 1, INT32)
        except Invalid:
            row.fail("id", "imp.bad_id", rid)
        try:
            row.file_version = parse_int(version, 1, INT32)
        except Invalid:
            row.fail("version", "imp.bad_version", version)
        if row.file_version is not None and row.record_id is None and not row.errors:
            row.fail("id", "imp.version_without_id", version)


def _provided(row: _Row, stored: dict | None, skip: tuple[str, ...] = ()) -> dict:
    """The row's values to check: for an update, a blank cell leaves the stored value and the
    clear mark empties it (noted in `row.cleared`); for a new record both mean empty."""
    out = {}
    for name, value in row.raw.items():
        if name in row.errors or name in skip:
            continue
        if value == _CLEAR:
            out[name] = None
            if stored is not None:
                row.cleared.add(name)
        elif stored is None or not blank(value):
            out[name] = value
    return out


def _stored_by_id(session: Session, model, columns: list, rows: list[_Row],
                  lock: bool) -> dict[int, dict]:
    """The stored records the rows name by id; a row naming no record of this kind (deleted
    for good, or from another database) is refused."""
    wanted = sorted({r.record_id for r in rows if r.record_id is not None})
    found: dict[int, dict] = {}
    for part in _chunks(wanted):
        query = select(*columns).where(model.id.in_(part))
        if lock:
            query = query.with_for_update()
        for r in session.execute(query):
            found[r.id] = dict(r._mapping)
    for row in rows:
        if row.record_id is not None and row.record_id not in found:
            row.fail("id", "imp.unknown_id", row.record_id, id=row.record_id)
    return found


def _check_version(row: _Row, overwrite: dict) -> None:
    """Refuse an update from a row older than its record (someone changed the record after
    the export), unless the user saw that conflict and chose to overwrite that version."""
    stored = row.existing
    if row.file_version is None or not stored or stored.get("version") is None:
        return
    if row.file_version > stored["version"]:
        row.fail("version", "imp.bad_version", row.file_version)
    elif row.file_version < stored["version"] and row.changed:
        row.conflict = {"version": stored["version"]}
        if overwrite.get((row.sheet, row.number)) != stored["version"]:
            row.fail("version", "imp.changed_since_export", row.file_version)


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


def _cohort_raw(row: _Row, lk: _Lookups, stored_kabupaten: str | None = None) -> None:
    """Cohort by name (preferring one of the row's regency) -> id for clean_ikm. A number
    typed in the cell is a name too, never an internal id ("2" is no cohort's name; the
    cohorts of the row's regency with that number in their name are suggested)."""
    value = row.raw.get("cohort_id")
    if blank(value) or value == _CLEAR:
        return
    text = str(value).strip()
    kab = stored_kabupaten  # an update that leaves the regency blank keeps the stored one
    with contextlib.suppress(Invalid):
        kab = lk.regions.match_kabupaten(row.raw.get("kabupaten_code") or "") or kab
    fresh = lk.new_cohorts.get(_key(text))
    if fresh:
        # a cohort new in this upload: its id is known only once it is written
        row.cohort_ref = next((ref for ref, k in fresh if k == kab), fresh[0][0])
        row.raw["cohort_id"] = None
        return
    candidates = lk.cohort_names.get(_key(text))
    if candidates:
        row.raw["cohort_id"] = next((cid for cid, k in candidates if k == kab), candidates[0][0])
        return
    row.raw["cohort_id"] = None
    names = [lk.cohort_labels[cid] for cid, k in lk.cohorts.items() if kab is None or k == kab]
    numbers = set(re.findall(r"\d+", text))
    if numbers:  # "2": the regency's cohorts with that number in their name
        near = [n for n in names if numbers <= set(re.findall(r"\d+", n))]
    else:
        from difflib import get_close_matches

        folded = {n.casefold(): n for n in names}
        near = [folded[m] for m in get_close_matches(text.casefold(), folded, n=3, cutoff=0.7)]
    if near:
        row.fail("cohort_id", "imp.unknown_cohort_suggest", value, name=text,
                 suggestions=", ".join(f"'{n}'" for n in near[:3]))
    else:
        row.fail("cohort_id", "imp.unknown_cohort", value, name=text)


def _plan_ikm(session: Session, actor: Actor, rows: list[_Row], lk: _Lookups,
              lock: bool, overwrite: dict) -> None:
    live = [r for r in rows if r.status not in ("skipped", "rejected")]
    _system_cells(live)
    for row in live:
        _parse_key_nib(row, "nib")
    _mark_duplicates(live, lambda r: r.nib, "nib", "imp.duplicate_nib")
    _mark_duplicates(live, lambda r: r.record_id, "id", "imp.duplicate_id")
    columns = [Ikm.id, Ikm.version, Ikm.deleted_at, *[getattr(Ikm, f) for f in IKM_FIELDS]]
    by_id = _stored_by_id(session, Ikm, columns, live, lock)
    existing = _existing_ikm(session, [r.nib for r in live if r.nib], lock)
    for row in live:
        if row.record_id is not None:  # an export's row: its record by id, the NIB a field
            stored = by_id.get(row.record_id)
            holder = existing.get(row.nib) if row.nib else None
            if stored and holder and holder["id"] != stored["id"]:
                row.fail("nib", "v.nib_taken")
            if stored and stored["deleted_at"] is not None:
                row.fail("id", "imp.in_trash")
                stored = None
        else:
            stored = existing.get(row.nib) if row.nib else None
            if stored and stored["deleted_at"] is not None:
                row.fail("nib", "imp.nib_in_trash")
                stored = None
        _cohort_raw(row, lk, stored["kabupaten_code"] if stored else None)
        provided = _provided(row, stored)
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
            _check_version(row, overwrite)
            was = stored["cohort_id"]
            if "cohort_id" in row.changed and was in lk.finished:
                # trained there: a move lowers "dilatih", so it is asked about on the Angkatan
                # page or the IKM's detail, never done silently by a file
                row.fail("cohort_id", "imp.moves_trained", cohort=lk.cohort_labels[was],
                         end=lk.finished[was].strftime("%d-%m-%Y"))
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
                   lk: _Lookups, lock: bool, overwrite: dict) -> None:
    live = [r for r in rows if r.status not in ("skipped", "rejected")]
    _system_cells(live)
    _resolve_ikm(session, live, ikm_rows)  # the IKM of each product: in this file, else stored

    def product_key(r: _Row):
        try:
            name = clean_text(r.raw.get("name"))
        except Invalid:
            return None
        return (r.nib, name.casefold()) if r.nib and name else None

    _mark_duplicates(live, product_key, "name", "imp.duplicate_product")
    _mark_duplicates(live, lambda r: r.record_id, "id", "imp.duplicate_id")
    columns = [Product.id, Product.version, Product.ikm_id, Product.deleted_at,
               *[getattr(Product, f) for f in PRODUCT_FIELDS]]
    by_id = _stored_by_id(session, Product, columns, live, lock)
    ids = sorted({r.ikm_ref for r in live if isinstance(r.ikm_ref, int)})
    existing: dict[tuple[int, str], dict] = {}
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
        if row.record_id is not None:
            stored_row = by_id.get(row.record_id)
            if stored_row and stored_row["deleted_at"] is not None:
                row.fail("id", "imp.in_trash")
                stored_row = None
            elif stored_row and stored_row["ikm_id"] != row.ikm_ref:
                row.fail("ikm_nib", "imp.id_other_ikm")
                stored_row = None
        else:
            stored_row = existing.get((row.ikm_ref, key[1])) \
                if key and isinstance(row.ikm_ref, int) else None
        base = {f: stored_row[f] for f in PRODUCT_FIELDS} if stored_row else {}
        provided = _provided(row, stored_row, skip=("ikm_nib",))
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
            _check_version(row, overwrite)
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
                  lock: bool, overwrite: dict) -> None:
    """Cohorts by id or by regency + name: new ones get a placeholder id the IKM sheet can
    refer to."""
    live = [r for r in rows if r.status not in ("skipped", "rejected")]
    _system_cells(live)
    _mark_duplicates(live, lambda r: r.record_id, "id", "imp.duplicate_id")
    kabupaten = lk.regions.kabupaten
    columns = [Cohort.id, Cohort.version, Cohort.deleted_at,
               *[getattr(Cohort, f) for f in COHORT_FIELDS]]
    by_id = _stored_by_id(session, Cohort, columns, live, lock)
    existing: dict[tuple[str, str], dict] = {}
    query = select(*columns).where(Cohort.deleted_at.is_(None)).order_by(Cohort.id)
    if lock:
        query = query.with_for_update()
    for r in session.execute(query):
        existing.setdefault((r.kabupaten_code, r.name.casefold()), dict(r._mapping))
    for row in live:
        stored = None
        if row.record_id is not None:
            stored = by_id.get(row.record_id)
            if stored and stored["deleted_at"] is not None:
                row.fail("id", "imp.in_trash")
                stored = None
        else:
            with contextlib.suppress(Invalid):
                name = clean_text(row.raw.get("name"))
                kab = lk.regions.match_kabupaten(row.raw.get("kabupaten_code") or "")
                stored = existing.get((kab, name.casefold())) if name else None
        base = {f: stored[f] for f in COHORT_FIELDS} if stored else {}
        clean, errors = clean_cohort({**base, **_provided(row, stored)}, kabupaten=kabupaten)
        for name, (key, params) in errors.items.items():
            row.fail(name, key, **params)
        row.clean = clean
        if stored:
            row.existing = stored
            row.changed = {k: v for k, v in clean.items() if stored.get(k) != v}
            _check_version(row, overwrite)
        if (not stored or row.changed or row.errors) and clean.get("kabupaten_code") \
                and not _in_scope(actor, clean["kabupaten_code"]):
            row.fail("kabupaten_code", "imp.out_of_scope")
        if stored and (row.changed or row.errors) and not _in_scope(actor,
                                                                    stored["kabupaten_code"]):
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


def _children_by_id(session: Session, spec: _ChildSpec, rows: list[_Row],
                    lock: bool) -> dict[int, dict]:
    """The stored records of a linked kind that rows name by id, with their IKM (`_ikm`)."""
    table = spec.model.__table__
    columns = [table.c.id, *[table.c[f] for f in spec.fields], table.c.updated_at]
    if "version" in table.c:
        columns.append(table.c.version)
    if spec.via_product:
        columns += [Product.ikm_id.label("_ikm"), Product.deleted_at.label("_gone")]
        base = select(*columns).join(Product, Product.id == table.c.product_id)
    else:
        columns += [table.c.ikm_id.label("_ikm"), literal(None).label("_gone")]
        base = select(*columns)
    wanted = sorted({r.record_id for r in rows if r.record_id is not None})
    found: dict[int, dict] = {}
    for part in _chunks(wanted):
        query = base.where(table.c.id.in_(part))
        if lock:
            query = query.with_for_update()
        for r in session.execute(query):
            found[r.id] = dict(r._mapping)
    for row in rows:
        if row.record_id is not None and row.record_id not in found:
            row.fail("id", "imp.unknown_id", row.record_id, id=row.record_id)
    return found


def _plan_children(session: Session, actor: Actor, kind: str, rows: list[_Row], plan: "_Plan",
                   lk: _Lookups, lock: bool, overwrite: dict) -> None:
    """Certificates, listings, exports, coaching actions or financials of IKM (by NIB), their
    product by name among the IKM's stored products and those of this upload; a row with an
    id updates that record."""
    spec = CHILD_SPECS[kind]
    live = [r for r in rows if r.status not in ("skipped", "rejected")]
    _system_cells(live)
    _mark_duplicates(live, lambda r: r.record_id, "id", "imp.duplicate_id")
    _resolve_ikm(session, live, plan.ikm)
    refs = {r.ikm_ref for r in live if r.ikm_ref is not None and not r.errors}
    products, rejected = _products_by_ikm(session, refs, plan.products, lk)
    existing = _existing_children(session, spec, sorted(r for r in refs if isinstance(r, int)),
                                  lock)
    by_id = _children_by_id(session, spec, live, lock)
    for row in live:
        if row.ikm_ref is None or row.errors:
            continue
        own = products.get(row.ikm_ref, {})
        stored = None
        if row.record_id is not None:
            stored = dict(by_id[row.record_id])
            ikm_id, gone = stored.pop("_ikm"), stored.pop("_gone")
            if gone is not None:
                row.fail("product_id", "imp.product_in_trash")
                continue
            if ikm_id != row.ikm_ref:
                row.fail("ikm_nib", "imp.id_other_ikm")
                continue
        provided = _provided(row, stored, skip=("ikm_nib",))
        product = provided.get("product_id")
        if isinstance(product, str) and product.strip().casefold() in rejected.get(
                row.ikm_ref, {}):
            row.fail("product_id", "imp.product_rejected",
                     row=rejected[row.ikm_ref][product.strip().casefold()])
            continue
        if stored is None:
            clean, errors = spec.clean(provided, own, lk)
            for name, (key, params) in errors.items.items():
                row.fail(name, key, **params)
            if errors:
                row.clean = clean
                continue
            key = (row.ikm_ref, *[_fold(clean.get(f)) for f in spec.key])
            stored = existing.get(key) if isinstance(row.ikm_ref, int) else None
            if stored:  # found by its key: a blank cell leaves the stored value after all
                provided = _provided(row, stored, skip=("ikm_nib",))
        if stored:
            base = {f: stored[f] for f in spec.fields}
            clean, errors = spec.clean({**base, **provided}, own, lk)
            for name, (k, params) in errors.items.items():
                row.fail(name, k, **params)
            row.existing = stored
            row.changed = {k: v for k, v in clean.items() if stored.get(k) != v}
            _check_version(row, overwrite)
        row.clean = clean
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
    # the name too: a CSV's sheet is named after its file, and the page shows that name
    return (digest, PurePath(str(filename or "upload")).name, limits)


def _parsed(filename: str, data: bytes, limits: Limits) -> list[_Sheet]:
    if not isinstance(data, bytes | bytearray | memoryview):
        return read_tables(filename, data, limits)
    key = _digest(filename, data, limits)
    with _CACHE_LOCK:
        if key in _PARSED:
            _PARSED.move_to_end(key)
            return _PARSED[key]
    sheets = read_tables(filename, data, limits)
    with _CACHE_LOCK:
        _PARSED[key] = sheets
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return sheets


def _plan_key(session: Session, actor: Actor, filename: str, data: bytes, kind: str,
              limits: Limits) -> tuple:
    return (*_digest(filename, data, limits), kind, actor.username, str(actor.role),
            actor.kabupaten_code, session.get_bind().url.render_as_string(hide_password=True))


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

    Read at the start of a commit it is final: writers hold the write lock from BEGIN IMMEDIATE
    on SQLite, and the data-version row from the start of their transaction on PostgreSQL
    (db.engine.write_session), so nobody writes between this reading and the import's writes.
    The version-guarded updates and the unique NIB stay as a second line ("imp.stale")."""
    from models import AppState

    version = session.execute(select(AppState.value)
                              .where(AppState.key == "data_version")).scalar()
    newest = session.execute(select(AuditLog.id, AuditLog.at)
                             .order_by(AuditLog.id.desc()).limit(1)).first()
    return (int(version) if version else 0, *(tuple(newest) if newest else (None, None)))


def _plan(session: Session, actor: Actor, filename: str, data: bytes, kind: str,
          limits: Limits, lock: bool = False,
          progress: Callable[[float, str], None] | None = None,
          overwrite: dict | None = None) -> _Plan:
    require(actor, "programme.write")
    if kind != "auto" and kind not in LAYOUTS:
        raise ServiceError("imp.bad_kind")
    name = PurePath(str(filename or "upload")).name
    report = ImportReport(filename=name)
    sheets = _parsed(filename, data, limits)
    _tick(progress, 0.1, "imp.progress.checking")
    csv_file = bytes(data[:2]) != b"PK"
    selected = select_sheets(sheets, kind, report, csv_file)
    if all(not s.rows for s, _l in selected):
        _refuse("imp.no_rows")
    plan = _Plan(report)
    lk = _lookups(session)
    prepared = []
    for sheet, layout in selected:
        mapping = _map_columns(sheet, layout)
        rows = _prepare(sheet, mapping, layout)
        prepared.append((sheet.name, rows, layout))
        plan.rows(layout.kind).extend(rows)
        plan.kinds.append(layout.kind)
        _note_reading(report, sheet)
    _read_conventions(prepared, report)
    overwrite = overwrite or {}
    _plan_cohorts(session, actor, plan.cohorts, lk, lock, overwrite)
    _plan_ikm(session, actor, plan.ikm, lk, lock, overwrite)
    _tick(progress, 0.3, "imp.progress.checking")
    _plan_products(session, actor, plan.products, plan.ikm, lk, lock, overwrite)
    for child in CHILD_SPECS:
        if child in plan.kinds:
            _plan_children(session, actor, child, plan.rows(child), plan, lk, lock, overwrite)
    _tick(progress, 0.4, "imp.progress.checking")
    layouts = {layout.kind: layout for _s, layout in selected}
    shown = _Shown(session, lk)
    _explain_conflicts(session, plan, layouts, shown)
    _list_changes(plan, layouts, shown)
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


_MODELS = {"cohort": Cohort, "ikm": Ikm, "product": Product}


def _label(row: _Row, kind: str) -> str:
    """How a row's record is named in the lists of changes and conflicts."""
    values = row.clean or {}
    name = values.get("name") or values.get("text") or (row.existing or {}).get("name")
    if name:
        return str(name)
    parts = [row.nib] + [str(values[f]) for f in (CHILD_SPECS[kind].key if kind in CHILD_SPECS
                                                 else ()) if values.get(f) is not None]
    return " · ".join(p for p in parts if p) or f"#{(row.existing or {}).get('id', '')}"


def _as_wib(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(clock.WIB)


class _Shown:
    """Stored values as people read them in the lists of changes: names, not codes or ids."""

    def __init__(self, session: Session, lk: _Lookups):
        self.session, self.lk = session, lk
        self.products: dict[int, str] = {}

    def products_of(self, ids: set[int]) -> None:
        wanted = sorted(i for i in ids if isinstance(i, int) and i not in self.products)
        for part in _chunks(wanted):
            self.products.update(self.session.execute(
                select(Product.id, Product.name).where(Product.id.in_(part))).all())

    def __call__(self, name: str, value):
        lk = self.lk
        if value is None or isinstance(value, tuple):  # empty, or a record new in this upload
            return value
        if name == "kabupaten_code":
            return lk.regions.kabupaten.get(value, value)
        if name in ("kecamatan_code", "desa_code"):
            table = lk.regions.kecamatan if name == "kecamatan_code" else lk.regions.desa
            return table.get(value, (None, value))[1]
        return {"cohort_id": lk.cohort_labels, "category_code": lk.categories,
                "retailer_id": lk.retailers, "product_id": self.products,
                "cert_type_code": {c: t.name for c, t in lk.cert_types.items()}
                }.get(name, {}).get(value, value)


def _explain_conflicts(session: Session, plan: _Plan, layouts: dict[str, Layout],
                       shown: _Shown) -> None:
    """For every row older than its record: who changed the record since the export, when,
    and which fields (from the audit trail), and what the import would put back."""
    for kind, layout in layouts.items():
        stale = [r for r in plan.rows(kind) if r.conflict and r.existing]
        if not stale:
            continue
        model = _MODELS.get(kind) or CHILD_SPECS[kind].model
        since: dict[str, list] = {}
        for part in _chunks([str(r.existing["id"]) for r in stale]):
            for entry in session.execute(
                    select(AuditLog.row_id, AuditLog.username, AuditLog.at, AuditLog.after)
                    .where(AuditLog.table_name == model.__tablename__,
                           AuditLog.row_id.in_(part),
                           AuditLog.action.in_(("update", "restore", "import", "undo")))
                    .order_by(AuditLog.id.desc())):
                since.setdefault(entry.row_id, []).append(entry)
        shown.products_of({r.existing.get("product_id") for r in stale}
                           | {r.clean.get("product_id") for r in stale})
        for row in stale:
            entries = since.get(str(row.existing["id"]), [])
            entries = entries[:max(1, row.existing["version"] - row.file_version)]
            fields = []
            for entry in entries:
                fields += [f for f in (entry.after or {}) if f not in fields
                           and f not in ("import_batch", "updated_at", "updated_by")]
            header = {f: row.headers.get(f) or _template_header(layout, f) for f in
                      {*fields, *row.changed}}
            conflict = ImportConflict(
                sheet=row.sheet, row=row.number, record=_label(row, kind),
                version=row.existing["version"],
                changed_by=entries[0].username if entries else "?",
                changed_at=entries[0].at if entries else None,
                columns=[header[f] for f in fields],
                overwrites=[(header[f], shown(f, row.existing.get(f)), shown(f, v))
                            for f, v in row.changed.items()])
            plan.report.conflicts.append(conflict)
            refusal = row.errors.get("version")
            if refusal and refusal[0] == "imp.changed_since_export":
                at = conflict.changed_at
                row.errors["version"] = (refusal[0], {
                    "by": conflict.changed_by, "columns": ", ".join(conflict.columns) or "–",
                    "at": _as_wib(at).strftime("%d-%m-%Y %H:%M WIB") if at else "?"},
                    refusal[2])


def _list_changes(plan: _Plan, layouts: dict[str, Layout], shown: _Shown) -> None:
    """Every field each update changes (before -> after), the cleared ones marked."""
    for kind, layout in layouts.items():
        updated = [r for r in plan.rows(kind) if r.status == "updated"]
        if "product_id" in {c.name for c in layout.columns}:
            shown.products_of({r.existing.get("product_id") for r in updated}
                              | {r.clean.get("product_id") for r in updated})
        for row in updated:
            label = _label(row, kind)
            for name, after in row.changed.items():
                plan.report.changes.append(ImportChange(
                    sheet=row.sheet, row=row.number, record=label,
                    column=row.headers.get(name) or _template_header(layout, name),
                    before=shown(name, row.existing.get(name)), after=shown(name, after),
                    cleared=name in row.cleared))


def _read_conventions(prepared: list[tuple[str, list[_Row], Layout]],
                      report: ImportReport) -> None:
    """Read the text cells of each date and number column by the order or format the whole
    column shows, else the rest of the file shows (services.imports.detect), and note how."""
    columns = []
    for sheet, rows, layout in prepared:
        for col in layout.columns:
            if col.kind not in ("date", "money", "number"):
                continue
            cells = [(i, r.raw[col.name]) for i, r in enumerate(rows)
                     if r.status != "skipped" and r.raw.get(col.name).__class__ is str]
            if cells:
                shown = next((r.headers.get(col.name) for r in rows if r.headers), None) \
                    or _template_header(layout, col.name)
                columns.append((sheet, rows, col, cells, shown))
    dates = file_date_order([(shown, date_evidence(cells)) for _s, _r, col, cells, shown
                             in columns if col.kind == "date"])
    numbers = file_number_format([(shown, number_evidence(cells)) for _s, _r, col, cells, shown
                                  in columns if col.kind != "date"])
    for sheet, rows, col, cells, shown in columns:
        found = date_column(cells, dates) if col.kind == "date" \
            else number_column(cells, rupiah=col.kind == "money", file_format=numbers)
        for i, value in found.values.items():
            rows[i].raw[col.name] = value
        for i, (key, params) in found.refused.items():
            rows[i].fail(col.name, key, **params)
        if found.note:
            report.notes.append(ImportNote(sheet, found.note[0], {**found.note[1],
                                                                  "column": shown}))


def _note_reading(report: ImportReport, sheet: _Sheet) -> None:
    """Say how a sheet was read where it was not obvious: its text encoding with sample
    texts, and the title rows set aside above its header."""
    if sheet.samples or sheet.encoding not in (None, "UTF-8"):
        report.notes.append(ImportNote(sheet.name, "imp.note.encoding", {
            "encoding": sheet.encoding, "samples": ", ".join(f"'{s}'" for s in sheet.samples)
            or "–"}))
    if sheet.title_rows:
        first, last = sheet.title_rows[0], sheet.title_rows[-1]
        report.notes.append(ImportNote(sheet.name, "imp.note.title_rows", {
            "rows": str(first) if first == last else f"{first}–{last}",
            "header": sheet.header_row}))


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
