"""Cohorts (angkatan): create, edit and soft-delete them, add members by choice or by pasting a
column of names/NIBs from Excel, and their progress against the target, counted in SQL.

Writes follow services/ikm.py: keyword-only, role and regency scope checked, validated whole, in
the caller's transaction, audited, version-checked.
"""

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlmodel import Session

from models import Cohort, Ikm, Kabupaten, utcnow
from services import audit, clock
from services.errors import ServiceError, StaleRecord, ValidationFailed
from services.ikm import Column
from services.overview import finished_cohorts, in_funnel, trained
from services.permissions import Actor, require
from services.records import guarded
from services.regions import Regions
from services.validation import (
    Errors,
    blank,
    clean_text,
    parse_date,
    parse_int,
    parse_nib,
)
from services.writes import MAX_ID, apply_changes, as_id, flush, raise_errors

DEFAULT_TARGET = 120
MAX_PASTE_LINES = 5000
HEADER_WORDS = {"nama", "nama usaha", "nama ikm", "name", "business name", "nib", "no nib",
                "nomor nib", "nama nib", "nama atau nib", "nama/nib"}

COHORT_COLUMNS: tuple[Column, ...] = (
    Column("name", "Nama angkatan", "Cohort name", required=True),
    Column("kabupaten_code", "Kabupaten", "Regency", required=True),
    Column("year", "Tahun", "Year", required=True),
    Column("start_on", "Tanggal mulai", "Start date", kind="date"),
    Column("end_on", "Tanggal selesai", "End date", kind="date"),
    Column("partners", "Mitra", "Partners"),
    Column("target_participants", "Target peserta", "Target participants"),
    Column("notes", "Catatan", "Notes"),
)
FIELDS = tuple(c.name for c in COHORT_COLUMNS)


def clean_cohort(raw: Mapping, *, kabupaten: Mapping[str, str],
                 today: date | None = None) -> tuple[dict, Errors]:
    """Validate a whole cohort; `kabupaten` maps code -> name (names are matched too)."""
    today = today or clock.today()
    regions = Regions(kabupaten=dict(kabupaten), kecamatan={}, desa={})
    e = Errors()
    out: dict = {}
    out["name"] = e.check("name", clean_text, raw.get("name"), max_len=120)
    if out["name"] is None and "name" not in e.items:
        e.add("name", "v.required")
    kab = raw.get("kabupaten_code")
    out["kabupaten_code"] = None
    if blank(kab):
        e.add("kabupaten_code", "v.required")
    else:
        out["kabupaten_code"] = e.check("kabupaten_code", regions.match_kabupaten, kab)
    out["start_on"] = e.check("start_on", parse_date, raw.get("start_on"))
    out["end_on"] = e.check("end_on", parse_date, raw.get("end_on"))
    if out["start_on"] and out["end_on"] and out["end_on"] < out["start_on"]:
        e.add("end_on", "v.date_order", other=out["start_on"].isoformat())
    year = raw.get("year")
    if blank(year) and out["start_on"]:
        year = out["start_on"].year
    out["year"] = e.check("year", parse_int, year, minimum=2000, maximum=today.year + 1)
    if out["year"] is None and "year" not in e.items:
        e.add("year", "v.required")
    out["partners"] = e.check("partners", clean_text, raw.get("partners"), max_len=200)
    target = raw.get("target_participants")
    out["target_participants"] = e.check("target_participants", parse_int,
                                         DEFAULT_TARGET if blank(target) else target,
                                         minimum=1, maximum=1000)
    out["notes"] = e.check("notes", clean_text, raw.get("notes"), max_len=2000)
    return out, e


def _kabupaten(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Kabupaten.code, Kabupaten.name)).all())


def _name_taken(session: Session, name: str | None, kabupaten_code: str | None,
                exclude_id: int | None) -> bool:
    if not name or not kabupaten_code:
        return False
    query = select(Cohort.name).where(Cohort.kabupaten_code == kabupaten_code,
                                      Cohort.deleted_at.is_(None))
    if exclude_id is not None:
        query = query.where(Cohort.id != exclude_id)
    return name.casefold() in {n.casefold() for n in session.execute(query).scalars()}


def _member_count(session: Session, cohort_id: int) -> int:
    return session.execute(select(func.count(Ikm.id)).where(
        Ikm.cohort_id == cohort_id, Ikm.deleted_at.is_(None))).scalar_one()


def live_cohort(session: Session, cohort_id) -> Cohort:
    """A cohort that exists and is not in the trash."""
    row = session.get(Cohort, as_id(cohort_id))
    if row is None or row.deleted_at is not None:
        raise ServiceError("err.not_found")
    return row


def cohort_values(row: Cohort) -> dict:
    """The editable values of a cohort, keyed like COHORT_COLUMNS."""
    return {f: getattr(row, f) for f in FIELDS}


def create_cohort(session: Session, *, actor: Actor, data: dict) -> Cohort:
    """Add a cohort in a regency the actor may write to; audited."""
    kabupaten = _kabupaten(session)
    clean, errors = guarded(lambda r: clean_cohort(r, kabupaten=kabupaten), dict(data or {}))
    require(actor, "programme.write", clean["kabupaten_code"])
    if _name_taken(session, clean["name"], clean["kabupaten_code"], None):
        errors.add("name", "coh.name_exists")
    raise_errors(errors)
    row = Cohort(**clean, created_by=actor.username)
    session.add(row)
    flush(session)
    audit.record(session, username=actor.username, action="create", table=Cohort.__tablename__,
                 row_id=row.id, after=audit.snapshot(row))
    return row


def update_cohort(session: Session, *, actor: Actor, cohort_id: int, expected_version: int,
                  changes: dict) -> Cohort:
    """Change a cohort; validated whole; stale versions refused. Its regency can change only
    while it has no members (members must belong to the cohort's regency)."""
    row = live_cohort(session, cohort_id)
    require(actor, "programme.write", row.kabupaten_code)
    if row.version != expected_version:
        raise StaleRecord()
    changes = dict(changes or {})
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValidationFailed("err.validation",
                               errors={str(f): ["rec.not_editable"] for f in unknown})
    before = cohort_values(row)
    kabupaten = _kabupaten(session)
    clean, errors = guarded(lambda r: clean_cohort(r, kabupaten=kabupaten), {**before, **changes})
    if clean["kabupaten_code"] and clean["kabupaten_code"] != row.kabupaten_code:
        require(actor, "programme.write", clean["kabupaten_code"])
        if _member_count(session, row.id):
            errors.add("kabupaten_code", "coh.move_has_members")
    if _name_taken(session, clean["name"], clean["kabupaten_code"], row.id):
        errors.add("name", "coh.name_exists")
    raise_errors(errors)
    return apply_changes(session, actor=actor, row=row, table=Cohort.__tablename__, before=before,
                         clean=clean)


def delete_cohort(session: Session, *, actor: Actor, cohort_id: int,
                  expected_version: int) -> None:
    """Move an empty cohort to the trash. A cohort with members is refused: the IKM would point
    at a cohort no form offers any more (remove or move the members first)."""
    row = live_cohort(session, cohort_id)
    require(actor, "programme.write", row.kabupaten_code)
    if row.version != expected_version:
        raise StaleRecord()
    members = _member_count(session, row.id)
    if members:
        raise ValidationFailed("coh.has_members", errors={"cohort_id": ["coh.has_members"]},
                               count=members)
    now = utcnow()
    row.deleted_at, row.updated_at, row.updated_by = now, now, actor.username
    session.add(row)
    flush(session)
    audit.record(session, username=actor.username, action="delete", table=Cohort.__tablename__,
                 row_id=row.id, before={"name": row.name, "deleted_at": None})


# --- members ------------------------------------------------------------------------------------

@dataclass
class MembersResult:
    # What add_members did with each line or id. Entries are dicts: line (1-based, None for ids
    # chosen in a list), value (as typed), and for found IKM their id, name and nib.
    matched: list[dict] = field(default_factory=list)  # joined now (from_cohort_id if moved)
    already: list[dict] = field(default_factory=list)  # were members already
    not_found: list[dict] = field(default_factory=list)  # no live IKM of the cohort's regency
    ambiguous: list[dict] = field(default_factory=list)  # several IKM have that name
    other_regency: list[dict] = field(default_factory=list)  # the NIB/id is of another regency
    duplicates: list[dict] = field(default_factory=list)  # the same IKM on an earlier line
    kept: list[dict] = field(default_factory=list)  # trained elsewhere, left there (keep_trained)
    members: int = 0  # the cohort's live members afterwards
    target: int | None = None  # the cohort's target number of participants

    @property
    def added(self) -> int:
        return len(self.matched)

    @property
    def over_target(self) -> bool:
        """Whether this addition took the cohort past its target (worth a warning)."""
        return bool(self.matched) and self.target is not None and self.members > self.target


class MoveNeedsConfirmation(ServiceError):
    """Adding these IKM would move them out of a cohort whose training ended, so they would stop
    counting as trained there; nothing was written. `ikm` lists each with its current cohort
    (id, name, nib, from_cohort_id, from_cohort, from_end_on); add them again with their ids in
    `move_trained`, or with `keep_trained=True` to leave them where they are."""

    def __init__(self, ikm: list[dict]):
        super().__init__("coh.confirm_move", count=len(ikm))
        self.ikm = ikm


def _norm_name(text: str) -> str:
    # "UD. Barokah  Jaya" = "ud barokah jaya"; accents and case ignored
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _first_cell(line: str) -> str:
    cell = re.split(r"[\t;]", line, maxsplit=1)[0]
    cell = "".join(ch for ch in cell if unicodedata.category(ch)[0] != "C")
    return cell.strip().strip('"').strip("'").strip()


def _as_nib(cell: str) -> str | None:
    text = re.sub(r"\.0+$", "", cell) if re.fullmatch(r"\d{13}\.0+", cell) else cell
    try:
        return parse_nib(text)
    except ValueError:
        return None


def _pasted_entries(pasted: str) -> list[tuple[int, str, str | None]]:
    """(line number, first cell, NIB or None) for each non-empty line; a header line is skipped."""
    lines = pasted.splitlines()
    if len(lines) > MAX_PASTE_LINES:
        raise ValidationFailed("err.validation", errors={"pasted": ["coh.paste_too_long"]},
                               details={"pasted": ("coh.paste_too_long",
                                                   {"max": MAX_PASTE_LINES})})
    entries = []
    for number, line in enumerate(lines, start=1):
        cell = _first_cell(line)
        if not cell:
            continue
        if not entries and _norm_name(cell) in {_norm_name(w) for w in HEADER_WORDS}:
            continue
        entries.append((number, cell[:200], _as_nib(cell)))
    return entries


def _ikm_brief(row) -> dict:
    return {"id": row.id, "name": row.name, "nib": row.nib}


def add_members(session: Session, *, actor: Actor, cohort_id: int,
                ikm_ids: list[int] | None = None, pasted: str | None = None,
                move_trained: Collection[int] = (), keep_trained: bool = False,
                today: date | None = None) -> MembersResult:
    """Put IKM into a cohort, chosen by id or pasted as a column of names and/or NIBs (one per
    line; a tab or semicolon ends the first cell). NIBs match exactly, names case-insensitively
    among live IKM of the cohort's regency; only those may join. An IKM in another cohort moves
    (one cohort per IKM), but one whose cohort has finished its training (already trained
    there) moves only when its id is in `move_trained` (the user confirmed it); with
    `keep_trained` such IKM stay where they are (reported in `kept`), otherwise the whole
    addition is refused with MoveNeedsConfirmation listing them. Each change is version-bumped
    and audited; the result reports every line, and the members against the target."""
    today = today or clock.today()
    cohort = live_cohort(session, cohort_id)
    require(actor, "programme.write", cohort.kabupaten_code)
    ids = list(ikm_ids or [])
    if len(ids) > MAX_PASTE_LINES:
        raise ValidationFailed("err.validation", errors={"ikm_ids": ["coh.paste_too_long"]},
                               details={"ikm_ids": ("coh.paste_too_long",
                                                    {"max": MAX_PASTE_LINES})})
    entries = _pasted_entries(pasted) if isinstance(pasted, str) else []
    result = MembersResult()
    cols = (Ikm.id, Ikm.name, Ikm.nib, Ikm.kabupaten_code, Ikm.cohort_id)
    live = Ikm.deleted_at.is_(None)

    # candidates: (line, value, row) where row came from one of three lookups
    found: list[tuple[int | None, str, object]] = []
    good_ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)
                and 0 < i < MAX_ID]
    by_id = {}
    for start in range(0, len(good_ids), 500):
        chunk = good_ids[start:start + 500]
        by_id |= {r.id: r for r in session.execute(select(*cols).where(Ikm.id.in_(chunk), live))}
    for value in ids:
        row = by_id.get(value) if value in good_ids else None
        if row is None:
            result.not_found.append({"line": None, "value": str(value)[:200]})
        else:
            found.append((None, str(value), row))

    nibs = sorted({nib for _, _, nib in entries if nib})
    by_nib = {}
    for start in range(0, len(nibs), 500):
        chunk = nibs[start:start + 500]
        by_nib |= {r.nib: r for r in session.execute(select(*cols).where(Ikm.nib.in_(chunk),
                                                                          live))}
    by_name: dict[str, list] = {}
    if any(nib is None for _, _, nib in entries):
        for r in session.execute(select(*cols).where(Ikm.kabupaten_code == cohort.kabupaten_code,
                                                     live)):
            by_name.setdefault(_norm_name(r.name), []).append(r)
    for line, cell, nib in entries:
        if nib is not None:
            row = by_nib.get(nib)
            if row is None:
                result.not_found.append({"line": line, "value": cell})
            else:
                found.append((line, cell, row))
            continue
        rows = by_name.get(_norm_name(cell), [])
        if not rows:
            result.not_found.append({"line": line, "value": cell})
        elif len(rows) > 1:
            result.ambiguous.append({"line": line, "value": cell,
                                     "candidates": [_ikm_brief(r) for r in rows]})
        else:
            found.append((line, cell, rows[0]))

    to_add: dict[int, dict] = {}
    seen: set[int] = set()
    for line, value, row in found:
        entry = {"line": line, "value": value, **_ikm_brief(row)}
        if row.id in seen:
            result.duplicates.append(entry)
            continue
        seen.add(row.id)
        if row.kabupaten_code != cohort.kabupaten_code:
            result.other_regency.append({**entry, "kabupaten_code": row.kabupaten_code})
        elif row.cohort_id == cohort.id:
            result.already.append(entry)
        else:
            to_add[row.id] = {**entry, "from_cohort_id": row.cohort_id}

    _hold_back_trained(session, to_add, result, today=today, move_trained=move_trained,
                       keep_trained=keep_trained)
    if to_add:
        now = utcnow()
        rows = session.execute(select(Ikm).where(Ikm.id.in_(list(to_add)))).scalars().all()
        for ikm in rows:
            previous = ikm.cohort_id
            ikm.cohort_id, ikm.updated_at, ikm.updated_by = cohort.id, now, actor.username
            session.add(ikm)
            to_add[ikm.id]["from_cohort_id"] = previous
        flush(session)
        for ikm in rows:
            audit.record(session, username=actor.username, action="update",
                         table=Ikm.__tablename__, row_id=ikm.id,
                         before={"cohort_id": to_add[ikm.id]["from_cohort_id"]},
                         after={"cohort_id": cohort.id})
        result.matched.extend(to_add.values())
    result.members, result.target = _member_count(session, cohort.id), cohort.target_participants
    return result


def _hold_back_trained(session: Session, to_add: dict[int, dict], result: MembersResult, *,
                       today: date, move_trained: Collection[int], keep_trained: bool) -> None:
    """Take out of `to_add` the IKM whose current cohort has finished (they were trained there)
    unless the caller confirmed moving them: kept where they are with `keep_trained`, else a
    refusal naming them and their cohorts (nothing written yet)."""
    leaving = {e["from_cohort_id"] for e in to_add.values() if e["from_cohort_id"]}
    if not leaving:
        return
    finished = {r.id: r for r in session.execute(
        select(Cohort.id, Cohort.name, Cohort.end_on).where(
            Cohort.id.in_(finished_cohorts(today)), Cohort.id.in_(leaving)))}
    confirmed = {i for i in move_trained if isinstance(i, int)}
    trained_there = [{**e, "from_cohort": finished[e["from_cohort_id"]].name,
                      "from_end_on": finished[e["from_cohort_id"]].end_on}
                     for e in to_add.values()
                     if e["from_cohort_id"] in finished and e["id"] not in confirmed]
    if not trained_there:
        return
    if not keep_trained:
        raise MoveNeedsConfirmation(trained_there)
    for entry in trained_there:
        del to_add[entry["id"]]
    result.kept.extend(trained_there)


def remove_members(session: Session, *, actor: Actor, cohort_id: int,
                   ikm_ids: list[int], confirm_trained: bool = False,
                   today: date | None = None) -> int:
    """Take IKM out of a cohort (they keep no cohort); returns how many left it. Audited. Out
    of a cohort whose training ended they would stop counting as trained: that is refused with
    MoveNeedsConfirmation (nothing written) unless `confirm_trained`."""
    from services.overview import finished_cohort_of

    cohort = live_cohort(session, cohort_id)
    require(actor, "programme.write", cohort.kabupaten_code)
    good = [i for i in ikm_ids or [] if isinstance(i, int) and not isinstance(i, bool)
            and 0 < i < MAX_ID][:MAX_PASTE_LINES]
    if not good:
        return 0
    rows = session.execute(select(Ikm).where(Ikm.id.in_(good), Ikm.cohort_id == cohort.id,
                                             Ikm.deleted_at.is_(None))).scalars().all()
    done = finished_cohort_of(session, cohort.id, today or clock.today())
    if done and rows and not confirm_trained:
        raise MoveNeedsConfirmation([{**_ikm_brief(r), "from_cohort_id": cohort.id,
                                      "from_cohort": done["name"],
                                      "from_end_on": done["end_on"]} for r in rows])
    now = utcnow()
    for ikm in rows:
        ikm.cohort_id, ikm.updated_at, ikm.updated_by = None, now, actor.username
        session.add(ikm)
    flush(session)
    for ikm in rows:
        audit.record(session, username=actor.username, action="update", table=Ikm.__tablename__,
                     row_id=ikm.id, before={"cohort_id": cohort.id}, after={"cohort_id": None})
    return len(rows)


# --- reading ------------------------------------------------------------------------------------

def cohort_progress(session: Session, *, kabupaten_code: str | None = None,
                    today: date | None = None) -> list[dict]:
    """Per live cohort: members (live IKM), trained (services.overview.trained: members still
    in the programme once end_on has passed, the same count as the overview's), left (members
    who left the programme by today), target and percentages, counted in SQL with GROUP BY."""
    today = today or clock.today()
    members = func.count(Ikm.id)
    done = func.coalesce(func.sum(case((and_(Ikm.id.is_not(None), trained(today)), 1),
                                       else_=0)), 0)
    left = func.coalesce(func.sum(case((and_(Ikm.id.is_not(None), ~in_funnel(today)), 1),
                                       else_=0)), 0)
    query = (select(Cohort.id, Cohort.name, Cohort.kabupaten_code,
                    Kabupaten.name.label("kabupaten"), Cohort.year, Cohort.start_on,
                    Cohort.end_on, Cohort.target_participants.label("target"),
                    members.label("members"), done.label("trained"), left.label("left"))
             .join(Kabupaten, Kabupaten.code == Cohort.kabupaten_code)
             .outerjoin(Ikm, and_(Ikm.cohort_id == Cohort.id, Ikm.deleted_at.is_(None)))
             .where(Cohort.deleted_at.is_(None))
             .group_by(Cohort.id, Kabupaten.code, Kabupaten.name)
             .order_by(Cohort.kabupaten_code, Cohort.year.desc(), Cohort.start_on.desc(),
                       Cohort.name))
    if kabupaten_code:
        query = query.where(Cohort.kabupaten_code == kabupaten_code)
    out = []
    for r in session.execute(query):
        row = dict(r._mapping)
        target = row["target"] or 0
        row["trained"], row["left"] = int(row["trained"]), int(row["left"])
        row["percent"] = round(100 * row["members"] / target, 1) if target else None
        row["trained_percent"] = round(100 * row["trained"] / target, 1) if target else None
        row["finished"] = bool(row["end_on"] and row["end_on"] <= today)
        out.append(row)
    return out


def list_cohorts(session: Session, *, kabupaten_code: str | None = None,
                 include_deleted: bool = False) -> list[dict]:
    """Cohorts (newest year first) with their regency name and live member count."""
    members = (select(func.count(Ikm.id)).where(Ikm.cohort_id == Cohort.id,
                                                Ikm.deleted_at.is_(None))
               .correlate(Cohort).scalar_subquery())
    query = (select(Cohort.id, Cohort.version, *[getattr(Cohort, f) for f in FIELDS],
                    Kabupaten.name.label("kabupaten"), Cohort.deleted_at,
                    members.label("members"))
             .join(Kabupaten, Kabupaten.code == Cohort.kabupaten_code)
             .order_by(Cohort.year.desc(), Cohort.name, Cohort.id))
    if kabupaten_code:
        query = query.where(Cohort.kabupaten_code == kabupaten_code)
    if not include_deleted:
        query = query.where(Cohort.deleted_at.is_(None))
    return [dict(r._mapping) for r in session.execute(query)]
