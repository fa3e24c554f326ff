"""Headers and kinds: which sheet holds which kind of record, where its header row is, and
which column is which field."""

import dataclasses

from services.exporter import (
    LAYOUTS as ALL_LAYOUTS,
)
from services.exporter import (
    Layout,
    header,
)
from services.imports.read import (
    _HEAD_ROWS,
    _SHEET_KINDS,
    _clean_header,
    _column_name,
    _norm,
    _refuse,
    _Sheet,
)
from services.imports.report import ImportReport
from services.validation import blank

# --- headers and kinds ------------------------------------------------------------------------

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


# --- where the header is, and which sheet is which ------------------------------------------

def _matches(headers: list[str], kind: str) -> int:
    """How many of these texts name a field of the kind."""
    return len({ALIASES[kind][_norm(h)] for h in headers if h and _norm(h) in ALIASES[kind]})


def find_header(sheet: _Sheet, kinds: tuple[str, ...]) -> _Sheet:
    """The sheet with its header row found among its first rows: the row naming most fields
    of the kinds (title rows above it are set aside in `title_rows`). In a two-level header
    the row above fills the columns the header row leaves blank, where it names a field (a
    cell merged over both rows keeps its text in the upper one)."""
    candidates = [(sheet.header_row, sheet.header)] + [
        (number, [_clean_header(v) for v in values]) for number, values in sheet.rows[:_HEAD_ROWS]]
    scores = [max((_matches(h, k) for k in kinds), default=0) for _n, h in candidates]
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:
        return sheet
    header = list(candidates[best][1])
    if best > 0:
        above = candidates[best - 1][1]
        filled = [i for i, text in enumerate(above) if text
                  and (i >= len(header) or not header[i])
                  and any(_norm(text) in ALIASES[k] for k in kinds)]
        for i in filled:
            header.extend([""] * (i + 1 - len(header)))
            header[i] = above[i]
    if best == 0 and header == sheet.header:
        return sheet
    return dataclasses.replace(
        sheet, header=header, header_row=candidates[best][0], rows=sheet.rows[best:],
        title_rows=[n for n, _h in candidates[:best]])


def select_sheets(sheets: list[_Sheet], kind: str, report: ImportReport,
                  csv_file: bool) -> list[tuple[_Sheet, Layout]]:
    """The sheets to import with their layouts, in the order of writing: a sheet named like a
    kind ("IKM", "Produk") is that kind; any other sheet whose header names the fields of a
    kind not yet taken is that kind (a renamed "Data IKM Sumenep" is still the IKM sheet).
    Refuses, naming the sheets found and the ones expected, when none fits."""
    kinds = KINDS if kind == "auto" else (kind,)
    chosen: dict[str, tuple[_Sheet, Layout]] = {}
    others = []
    for sheet in sheets:
        by_name = _SHEET_KINDS.get(_norm(sheet.name)) if not csv_file else None
        if by_name and by_name in kinds and by_name not in chosen:
            chosen[by_name] = (find_header(sheet, (by_name,)), LAYOUTS[by_name])
        else:
            others.append(sheet)
    for sheet in others:
        found = find_header(sheet, kinds)
        k = _kind_of(found.header, kind)
        if k and k not in chosen:
            chosen[k] = (found, LAYOUTS[k])
    if not chosen:
        tables = [s for s in sheets if s.header]
        if len(tables) == 1 and (csv_file or len(sheets) == 1):
            # one table we cannot place: say which headers are missing for the likeliest kind
            likeliest = kind if kind in LAYOUTS else max(
                KINDS, key=lambda k: _matches(find_header(tables[0], (k,)).header, k))
            _map_columns(find_header(tables[0], (likeliest,)), LAYOUTS[likeliest])
    used = {s.name for s, _l in chosen.values()}
    report.ignored_sheets = [s.name for s in sheets if s.name not in used]
    if not chosen:
        expected = ", ".join(LAYOUTS[k].sheet for k in kinds)
        _refuse("imp.missing_sheet", expected=expected,
                found=", ".join(f"'{s.name}'" for s in sheets) or "–")
    return [chosen[k] for k in KINDS if k in chosen]
