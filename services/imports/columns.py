"""Headers and kinds: which sheet holds which kind of record, and which column is which field."""



from services.exporter import (
    LAYOUTS as ALL_LAYOUTS,
)
from services.exporter import (
    Layout,
    header,
)
from services.imports.read import _column_name, _norm, _refuse, _Sheet
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
