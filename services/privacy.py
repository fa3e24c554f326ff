"""Owners' personal data on a need-to-know basis (issue 9).

Who sees it: an actor whose role has the action "personal.read" (services.permissions: admin,
head, staff) sees the owners' phone numbers, NIBs (business IDs) and addresses in full. Everyone
else (viewer, assessor: assessors judge products, they do not contact owners) gets them masked,
in the IKM list, in the detail view and its history, and in every export they can reach. A
missing actor (None) sees them masked.

Where it happens: here, on the server, before a value is drawn, cached for that reader or
written into a file. A masked reader's page and files never carry the full value (it is not
hidden by CSS or by a column the browser could show again), and the table's own CSV download
in the browser can only download what was sent.

How a value is masked (None and empty text stay as they are: "nothing recorded" is no secret):

- phone: eight bullets and the last three digits, ``"••••••••789"``, whatever the number's
  length (so the length is not told either); a number with fewer than 7 digits is all bullets.
- NIB (also the "NIB IKM" link column of the export sheets, and the number of an IKM's NIB
  certificate, which is its NIB): eleven bullets and the last two digits, ``"•••••••••••12"``
  (13 characters, like an NIB); fewer than 8 digits: all bullets.
- address: withheld entirely. On screen (lists, detail, history) it reads ``"•••"``, so a viewer
  can tell "hidden" from "not recorded" ("—"); in a file (mask_frame) the cell is empty.

Why an empty cell in files: exports are re-importable, and on import a blank cell leaves the
stored value, while any text would replace it. A masked phone or NIB is refused by the import
rules (services.validation: not a phone number, not 13 digits), so a viewer's file uploaded by
someone who may write can overwrite none of the three.
"""

from collections.abc import Iterable, Mapping

import pandas as pd

from services.permissions import Actor, can

DOT = "•"
HIDDEN = DOT * 3  # an address (or anything withheld) on screen
PHONE_SHOWN, PHONE_MIN = 3, 7  # last digits shown, digits needed before any is shown
NIB_SHOWN, NIB_MIN = 2, 8


def sees_personal(actor: Actor | None) -> bool:
    """Whether the actor may see owners' phone numbers, NIBs and addresses in full."""
    return actor is not None and can(actor, "personal.read")


def _empty(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and value != value:  # NaN
        return True
    return isinstance(value, str) and not value.strip()


def _tail(value, bullets: int, shown: int, minimum: int) -> str:
    digits = "".join(c for c in str(value) if c.isdigit())
    return DOT * bullets + (digits[-shown:] if len(digits) >= minimum else DOT * shown)


def mask_phone(value):
    """ "081234567890" -> "••••••••890"; None and "" unchanged."""
    return value if _empty(value) else _tail(value, 8, PHONE_SHOWN, PHONE_MIN)


def mask_nib(value):
    """ "3529010000012" -> "•••••••••••12"; None and "" unchanged."""
    return value if _empty(value) else _tail(value, 11, NIB_SHOWN, NIB_MIN)


def mask_address(value):
    """Any address -> "•••" (on screen); None and "" unchanged."""
    return value if _empty(value) else HIDDEN


NIB_CERT_TYPE = "NIB"  # a certificate of this type is numbered with the IKM's NIB (reference data)

# The personal fields by the names services use for them (an export sheet's link to its IKM is
# "ikm_nib"), and how each is masked on screen.
MASKS = {"phone": mask_phone, "nib": mask_nib, "ikm_nib": mask_nib, "address": mask_address}
PERSONAL_FIELDS = frozenset(MASKS)


def mask_value(field: str, value):
    """A field's value as a reader without "personal.read" sees it (other fields unchanged)."""
    mask = MASKS.get(field)
    return mask(value) if mask else value


def mask_row(row: Mapping, actor: Actor | None) -> dict:
    """A copy of one row dict with its personal fields masked for the actor."""
    if sees_personal(actor):
        return dict(row)
    return {k: mask_value(k, v) for k, v in row.items()}


def _nib_certificate(row: Mapping) -> bool:
    return row.get("cert_type_code") == NIB_CERT_TYPE


def mask_certificates(rows: Iterable[Mapping], actor: Actor | None) -> list[dict]:
    """Copies of certificate rows with the number of an NIB certificate (the NIB) masked."""
    if sees_personal(actor):
        return [dict(r) for r in rows]
    return [{**r, "number": mask_nib(r.get("number"))} if _nib_certificate(r) else dict(r)
            for r in rows]


def mask_rows(rows: Iterable[Mapping], actor: Actor | None) -> list[dict]:
    """Copies of row dicts (e.g. services.ikm.list_ikm's) with phone, NIB and address masked
    for an actor without "personal.read"; for one with it, plain copies. Never changes `rows`
    (they may be a cache's)."""
    return [mask_row(r, actor) for r in rows]


def _mask_change(change: Mapping) -> dict:
    field = change.get("field")
    return {**change, "before": mask_value(field, change.get("before")),
            "after": mask_value(field, change.get("after"))}


def mask_history(entries: Iterable[Mapping], actor: Actor | None,
                 nib_certificates: Iterable = ()) -> list[dict]:
    """History entries (services.records: audit rows with `table`, `row_id`, `before`, `after`
    and `changes`) with every personal value masked: the history says a phone changed, not
    what it was. A certificate's number is masked in every entry of an NIB certificate: those
    whose before or after names the type, and (an update records the changed fields only)
    every entry of the same certificate, or of one listed in `nib_certificates` (ids)."""
    entries = list(entries)
    if sees_personal(actor):
        return [dict(e) for e in entries]
    nib_ids = {str(i) for i in nib_certificates}
    for e in entries:
        if e.get("table") == "certification" and any(
                isinstance(e.get(side), Mapping) and _nib_certificate(e[side])
                for side in ("before", "after")):
            nib_ids.add(str(e.get("row_id")))
    out = []
    for e in entries:
        masked = dict(e)
        nib_cert = e.get("table") == "certification" and str(e.get("row_id")) in nib_ids
        for side in ("before", "after"):
            if isinstance(e.get(side), Mapping):
                masked[side] = mask_row(e[side], None)
                if nib_cert and "number" in e[side]:
                    masked[side]["number"] = mask_nib(e[side]["number"])
        masked["changes"] = [
            {**c, "before": mask_nib(c.get("before")), "after": mask_nib(c.get("after"))}
            if nib_cert and c.get("field") == "number" else _mask_change(c)
            for c in e.get("changes") or ()]
        out.append(masked)
    return out


def mask_detail(detail: Mapping, actor: Actor | None) -> dict:
    """An IKM's detail (services.records.ikm_detail) as the actor may see it: the IKM's phone,
    NIB and address, its NIB certificate's number and every personal value in its history
    masked."""
    if sees_personal(actor):
        return dict(detail)
    return {**detail, "ikm": mask_row(detail["ikm"], None),
            "certifications": mask_certificates(detail.get("certifications") or (), None),
            "history": mask_history(detail.get("history") or (), None, nib_certificates=[
                c["id"] for c in detail.get("certifications") or () if _nib_certificate(c)])}


def mask_frame(frame: pd.DataFrame, actor: Actor | None,
               fields: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of a DataFrame (an export) with its personal columns masked for an actor without
    "personal.read": phone and NIB as on screen, the address emptied (see the module's note).

    `fields` maps a column of the frame to the field it holds (an export's bilingual header ->
    "phone"); without it, columns named like a field ("phone", "nib", "ikm_nib", "address")
    are masked. For an actor with "personal.read" the frame is returned unchanged."""
    if sees_personal(actor):
        return frame
    fields = dict(fields) if fields is not None else {c: c for c in frame.columns}
    out = frame.copy()
    for column, field in fields.items():
        if column not in out.columns or field not in PERSONAL_FIELDS:
            continue
        if field == "address":
            values = [v if _empty(v) else None for v in out[column]]
        else:
            values = [mask_value(field, v) for v in out[column]]
        out[column] = pd.Series(values, index=out.index, dtype=object)
    return out


def mask_nib_certificates(frame: pd.DataFrame, actor: Actor | None, *, type_column: str,
                          number_column: str, nib_types: Iterable[str]) -> pd.DataFrame:
    """A copy of a certificate export with the number of each NIB certificate (a row whose
    `type_column` is one of `nib_types`: the type's code or name) masked like an NIB."""
    if sees_personal(actor) or type_column not in frame.columns:
        return frame
    nib_types = set(nib_types)
    out = frame.copy()
    out[number_column] = pd.Series(
        [mask_nib(n) if t in nib_types else n
         for t, n in zip(out[type_column], out[number_column], strict=True)],
        index=out.index, dtype=object)
    return out
