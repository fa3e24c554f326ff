"""Import history: the batches, what each one did, and the undo of a batch (admins).

Every record an import creates or updates has one audit row ("import") naming its batch in
`auditlog.batch_id` (services/imports/write.py); a created record's row has no `before`, an
updated record's row holds the fields it changed, before and after. The batch's own summary
row (table "importbatch") counts what the import reported.

An undo takes the batch back only when that is safe, all in the caller's transaction:

- refused when any record of the batch changed since (a later audit row of the record, from
  anyone, another import included; a record gone from its table or trashed; a created record
  no longer at version 1; an updated record no longer holding what the import wrote), or
  when a record someone added since hangs on a record the batch created (a product of a
  created IKM, an IKM put in a created cohort, a listing of a created product, an assessment
  of a created product ...). The refusal lists those records: kind, name, who, when;
- refused when the batch was undone before, or when its audit rows do not add up to what it
  reported (a batch written before the audit rows named it: nothing can tell what it did);
- otherwise created records are removed (IKM, products and cohorts to the trash, as their
  delete does; certificates, listings, exports, coaching actions and financials deleted) and
  updated records get their before-values back, each guarded by the version it was checked at
  (rows are locked first on PostgreSQL; SQLite writers hold the write lock), with one audit row
  "undo" per record and one for the batch, all carrying the batch id, and the batch marked
  undone (once: the mark is a guarded update too).
"""

from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session

from db.bulk import insert_rows
from models import (
    Assessment,
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
    Retailer,
    RetailListing,
    ShortlistDecision,
    User,
    utcnow,
)
from services import audit, clock
from services.errors import ServiceError
from services.imports.columns import LAYOUTS
from services.permissions import Actor, require
from services.writes import as_id

KIND_MODELS: dict[str, type] = {
    "cohort": Cohort, "ikm": Ikm, "product": Product, "certification": Certification,
    "listing": RetailListing, "export": ExportRecord, "coaching": CoachingAction,
    "financials": IkmFinancials,
}
TABLE_KINDS = {model.__tablename__: kind for kind, model in KIND_MODELS.items()}
SOFT_KINDS = frozenset({"cohort", "ikm", "product"})  # removed to the trash (deleted_at)
BATCH_TABLE = ImportBatch.__tablename__
_CHUNK = 2000


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


class UndoRefused(ServiceError):
    """An undo that would take back someone's later work: `changed` lists those records
    (kind, id, name, username, at, reason "changed" / "gone" / "linked")."""

    def __init__(self, key: str, changed: list[dict], **params):
        super().__init__(key, count=len(changed), **params)
        self.changed = changed


def _wib(value: datetime | None) -> str:
    if value is None:
        return "?"
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(clock.WIB).strftime("%d-%m-%Y %H:%M WIB")


# --- the list of batches -----------------------------------------------------------------------

def batches(session: Session, *, actor: Actor, limit: int = 200) -> list[dict]:
    """The newest import batches, newest first: id, at, username, display_name, filename,
    kind, new, updated, unchanged, rejected (new and updated counted from the batch's audit
    rows in SQL), undone_at, undone_by. Staff and admins (read-only for staff)."""
    require(actor, "programme.write")
    recent = select(ImportBatch.id).order_by(ImportBatch.id.desc()).limit(max(1, int(limit)))
    counts = (select(AuditLog.batch_id.label("batch_id"),
                     func.sum(case((AuditLog.before.is_(None), 1), else_=0)).label("new"),
                     func.sum(case((AuditLog.before.is_(None), 0), else_=1)).label("updated"))
              .where(AuditLog.batch_id.in_(recent), AuditLog.action == "import",
                     AuditLog.table_name != BATCH_TABLE)
              .group_by(AuditLog.batch_id).subquery())
    query = (select(ImportBatch, User.display_name, counts.c.new, counts.c.updated)
             .outerjoin(counts, counts.c.batch_id == ImportBatch.id)
             .outerjoin(User, User.username == ImportBatch.username)
             .where(ImportBatch.id.in_(recent)).order_by(ImportBatch.id.desc()))
    out = []
    for batch, display_name, new, updated in session.execute(query):
        new, updated = int(new or 0), int(updated or 0)
        out.append({"id": batch.id, "at": batch.at, "username": batch.username,
                    "display_name": display_name or batch.username, "filename": batch.filename,
                    "kind": batch.kind, "new": new, "updated": updated,
                    "unchanged": max(0, batch.rows_ok - new - updated),
                    "rejected": batch.rows_failed, "undone_at": batch.undone_at,
                    "undone_by": batch.undone_by})
    return out


def display_names(session: Session, *, usernames: tuple[str, ...]) -> dict[str, str]:
    """The display names of accounts by username (unknown usernames are left out)."""
    names = sorted({u for u in usernames if u})
    out: dict[str, str] = {}
    for part in _chunks(names):
        out.update(session.execute(select(User.username, User.display_name)
                                   .where(User.username.in_(part))).all())
    return out


# --- what a batch did ---------------------------------------------------------------------------

def _entries(session: Session, batch_id: int) -> list:
    """The batch's audit rows of records: (id, table_name, row_id, before, after)."""
    return list(session.execute(
        select(AuditLog.id, AuditLog.table_name, AuditLog.row_id, AuditLog.before, AuditLog.after)
        .where(AuditLog.batch_id == batch_id, AuditLog.action == "import",
               AuditLog.table_name != BATCH_TABLE)
        .order_by(AuditLog.id)))


def _names(session: Session, kind: str, ids: list[int]) -> dict[int, str]:
    """How people name records of a kind (with their IKM or product where the record alone is
    vague): "Keripik tempe · Keripik Bu Siti", "HALAL · Keripik tempe", ..."""
    ids = sorted({i for i in ids if isinstance(i, int)})
    if not ids:
        return {}
    model = KIND_MODELS[kind]
    if kind in ("cohort", "ikm"):
        query = select(model.id, model.name)
    elif kind == "product":
        query = select(Product.id, Product.name, Ikm.name).join(Ikm, Ikm.id == Product.ikm_id)
    elif kind == "certification":
        query = (select(Certification.id, CertificationType.name,
                        func.coalesce(Product.name, Ikm.name))
                 .join(CertificationType, CertificationType.code == Certification.cert_type_code)
                 .join(Ikm, Ikm.id == Certification.ikm_id)
                 .outerjoin(Product, Product.id == Certification.product_id))
    elif kind == "listing":
        query = (select(RetailListing.id, Product.name, Retailer.name)
                 .join(Product, Product.id == RetailListing.product_id)
                 .join(Retailer, Retailer.id == RetailListing.retailer_id))
    elif kind == "export":
        query = (select(ExportRecord.id, Product.name, ExportRecord.country,
                        ExportRecord.shipped_on)
                 .join(Product, Product.id == ExportRecord.product_id))
    elif kind == "coaching":
        query = (select(CoachingAction.id, CoachingAction.text, Ikm.name)
                 .join(Ikm, Ikm.id == CoachingAction.ikm_id))
    else:  # financials
        query = (select(IkmFinancials.id, Ikm.name, IkmFinancials.year)
                 .join(Ikm, Ikm.id == IkmFinancials.ikm_id))
    out: dict[int, str] = {}
    for part in _chunks(ids):
        for rid, *parts in session.execute(query.where(model.id.in_(part))):
            texts = [p.strftime("%d-%m-%Y") if isinstance(p, date) else str(p)
                     for p in parts if p is not None]
            if kind == "coaching" and texts and len(texts[0]) > 60:
                texts[0] = texts[0][:60] + "…"
            out[rid] = " · ".join(texts)
    return out


def _from_json(column, value):
    """A value as the audit trail keeps it (JSON: dates as ISO text) back in its column's type."""
    if value is None or not isinstance(value, str):
        return value
    try:
        kind = column.type.python_type
    except NotImplementedError:  # pragma: no cover - every import column has a Python type
        return value
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value[:10])
    return value


def _headers(kind: str, lang: str) -> dict[str, str]:
    layout = LAYOUTS.get(kind)
    if layout is None:
        return {}
    return {c.name: c.header_en if lang == "en" else c.header_id for c in layout.columns}


def batch_records(session: Session, *, batch_id: int, lang: str = "id") -> list[dict]:
    """What a batch did, record by record in the order it wrote them: kind, id, name, action
    ("created" / "updated"), and for an update its changes [(column, before, after)] with the
    column named as the template names it (in `lang`) and codes and ids shown as names."""
    from services.imports.plan import _lookups, _Shown

    entries = _entries(session, as_id(batch_id))
    ids: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        kind = TABLE_KINDS.get(entry.table_name)
        if kind and entry.row_id and entry.row_id.isdigit():
            ids[kind].append(int(entry.row_id))
    names = {kind: _names(session, kind, found) for kind, found in ids.items()}
    shown = None
    out = []
    for entry in entries:
        kind = TABLE_KINDS.get(entry.table_name, entry.table_name)
        record_id = int(entry.row_id) if entry.row_id and entry.row_id.isdigit() else None
        after = {k: v for k, v in (entry.after or {}).items() if k != "import_batch"}
        changes = []
        if entry.before is not None:
            if shown is None:
                shown = _Shown(session, _lookups(session))
                shown.products_of({v for e in entries if e.before is not None
                                   for k, v in {**(e.before or {}), **(e.after or {})}.items()
                                   if k == "product_id"})
            table = KIND_MODELS[kind].__table__ if kind in KIND_MODELS else None
            headers = _headers(kind, lang)
            for name, value in after.items():
                column = table.c[name] if table is not None and name in table.c else None
                before = entry.before.get(name)
                if column is not None:
                    before, value = _from_json(column, before), _from_json(column, value)
                out_before, out_after = shown(name, before), shown(name, value)
                changes.append((headers.get(name, name), out_before, out_after))
        name = names.get(kind, {}).get(record_id) or after.get("name") \
            or (entry.before or {}).get("name") or f"#{entry.row_id}"
        out.append({"kind": kind, "id": record_id, "name": name,
                    "action": "created" if entry.before is None else "updated",
                    "changes": changes})
    return out


# --- the undo ----------------------------------------------------------------------------------

def _guard_column(table):
    return table.c.version if "version" in table.c else table.c.updated_at


def _current(session: Session, kind: str, ids: list[int]) -> dict[int, dict]:
    """The records as they are now (locked on PostgreSQL): every column."""
    table = KIND_MODELS[kind].__table__
    found: dict[int, dict] = {}
    for part in _chunks(sorted(ids)):
        for row in session.execute(select(table).where(table.c.id.in_(part)).with_for_update()):
            found[row.id] = dict(row._mapping)
    return found


def _changed_since(session: Session, batch_id: int) -> dict[tuple[str, int], dict]:
    """The newest later audit row of each record of the batch (written by anything else)."""
    mine, later = aliased(AuditLog), aliased(AuditLog)
    query = (select(later.table_name, later.row_id, later.username, later.at, later.action,
                    later.before)
             .join(mine, and_(mine.table_name == later.table_name, mine.row_id == later.row_id,
                              later.id > mine.id))
             .where(mine.batch_id == batch_id, mine.action == "import",
                    mine.table_name != BATCH_TABLE,
                    or_(later.batch_id.is_(None), later.batch_id != batch_id))
             .order_by(later.id))
    out: dict[tuple[str, int], dict] = {}
    for row in session.execute(query):
        kind = TABLE_KINDS.get(row.table_name)
        if kind and row.row_id.isdigit():
            out[(kind, int(row.row_id))] = {"username": row.username, "at": row.at,
                                             "action": row.action, "before": row.before}
    return out


# Records that may hang on a record an import created: (kind of the dependant, its model, its
# column naming the parent, the kind of parent). Assessments and shortlist decisions are not
# import kinds; they block the undo of a created product all the same.
_LINKS = (
    ("product", Product, "ikm_id", "ikm"),
    ("certification", Certification, "ikm_id", "ikm"),
    ("coaching", CoachingAction, "ikm_id", "ikm"),
    ("financials", IkmFinancials, "ikm_id", "ikm"),
    ("ikm", Ikm, "cohort_id", "cohort"),
    ("certification", Certification, "product_id", "product"),
    ("listing", RetailListing, "product_id", "product"),
    ("export", ExportRecord, "product_id", "product"),
    ("coaching", CoachingAction, "product_id", "product"),
    ("assessment", Assessment, "product_id", "product"),
    ("decision", ShortlistDecision, "product_id", "product"),
)


def _dependants(session: Session, created: dict[str, set[int]],
                updated_links: dict[tuple[str, str], set[int]]) -> list[dict]:
    """Live records not of this batch that point at a record the batch created (a product of a
    created IKM, ...): removing the parent would leave them hanging. A record the batch itself
    pointed there is not one (the undo points it back)."""
    out = []
    for kind, model, link, parent in _LINKS:
        parents = sorted(created.get(parent, ()))
        if not parents:
            continue
        table = model.__table__
        who = func.coalesce(table.c.updated_by, table.c.created_by)
        when = func.coalesce(table.c.updated_at, table.c.created_at)
        own = created.get(kind, set()) | updated_links.get((kind, link), set())
        for part in _chunks(parents):
            query = select(table.c.id, who, when).where(table.c[link].in_(part))
            if "deleted_at" in table.c:
                query = query.where(table.c.deleted_at.is_(None))
            for rid, username, at in session.execute(query):
                if rid not in own:
                    out.append({"kind": kind, "id": rid, "username": username, "at": at,
                                "reason": "linked"})
    return out


def _name_refusals(session: Session, changed: list[dict], fallback: dict) -> list[dict]:
    by_kind: dict[str, list[int]] = defaultdict(list)
    for item in changed:
        by_kind[item["kind"]].append(item["id"])
    names = {}
    for kind, ids in by_kind.items():
        if kind in KIND_MODELS:
            names[kind] = _names(session, kind, ids)
        elif kind in ("assessment", "decision"):
            model = Assessment if kind == "assessment" else ShortlistDecision
            names[kind] = dict(session.execute(
                select(model.id, Product.name).join(Product, Product.id == model.product_id)
                .where(model.id.in_(sorted(set(ids))))).all())
    for item in changed:
        item["name"] = names.get(item["kind"], {}).get(item["id"]) \
            or fallback.get((item["kind"], item["id"])) or f"#{item['id']}"
    changed.sort(key=lambda i: _aware(i["at"]), reverse=True)  # newest first
    return changed


def _copy_name(session: Session, copy: dict) -> str | None:
    """A record's name from the copy a delete audited: its name, else its IKM's name with the
    year, certificate type, country or text that tells it apart."""
    if copy.get("name"):
        return str(copy["name"])
    ikm = session.get(Ikm, copy["ikm_id"]) if isinstance(copy.get("ikm_id"), int) else None
    parts = [ikm.name if ikm else None] + [copy.get(k) for k in
                                           ("year", "cert_type_code", "country", "text")]
    return " · ".join(str(p) for p in parts if p not in (None, "")) or None


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def undo_batch(session: Session, *, actor: Actor, batch_id: int) -> dict:
    """Take an import batch back in the caller's transaction (admins only; see the module's
    docstring for when it is refused). Returns {"batch_id", "removed", "restored"}."""
    require(actor, "import.undo")
    batch_id = as_id(batch_id)
    batch = session.execute(select(ImportBatch.__table__).where(ImportBatch.id == batch_id)
                            .with_for_update()).first()
    if batch is None:
        raise ServiceError("err.not_found")
    if batch.undone_at is not None:
        raise ServiceError("imphist.already_undone", id=batch_id, by=batch.undone_by,
                           at=_wib(batch.undone_at))
    entries = _entries(session, batch_id)
    summary = session.execute(select(AuditLog.after).where(
        AuditLog.batch_id == batch_id, AuditLog.action == "import",
        AuditLog.table_name == BATCH_TABLE)).scalar()
    reported = (summary or {}).get("new", 0) + (summary or {}).get("updated", 0) \
        if isinstance(summary, dict) else None
    if reported is None or reported != len(entries) or any(
            e.table_name not in TABLE_KINDS or not (e.row_id or "").isdigit() for e in entries):
        raise ServiceError("imphist.incomplete", id=batch_id)
    if not entries:
        raise ServiceError("imphist.nothing", id=batch_id)

    created: dict[str, set[int]] = defaultdict(set)
    updated: dict[str, dict[int, object]] = defaultdict(dict)  # kind -> id -> entry
    updated_links: dict[tuple[str, str], set[int]] = defaultdict(set)
    fallback: dict[tuple[str, int], str] = {}
    for entry in entries:
        kind, rid = TABLE_KINDS[entry.table_name], int(entry.row_id)
        if entry.before is None:
            created[kind].add(rid)
        else:
            updated[kind][rid] = entry
            for name in ("cohort_id", "product_id"):
                if name in (entry.after or {}):
                    updated_links[(kind, name)].add(rid)
            fallback[(kind, rid)] = (entry.after or {}).get("name") or entry.before.get("name")

    # lock and read every record, then look for anything that changed since
    current: dict[str, dict[int, dict]] = {}
    for kind in KIND_MODELS:
        ids = created.get(kind, set()) | set(updated.get(kind, {}))
        if ids:
            current[kind] = _current(session, kind, sorted(ids))
    later = _changed_since(session, batch_id)
    changed = []
    for kind in KIND_MODELS:
        ids = created.get(kind, set()) | set(updated.get(kind, {}))
        for rid in sorted(ids):
            row = current[kind].get(rid)
            seen = later.get((kind, rid))
            if seen is not None:
                changed.append({"kind": kind, "id": rid, "username": seen["username"],
                                "at": seen["at"], "reason": "changed"})
                if isinstance(seen["before"], dict):  # a deleted record: its copy names it
                    fallback.setdefault((kind, rid), _copy_name(session, seen["before"]))
            elif row is None or row.get("deleted_at") is not None or _differs(
                    kind, rid, row, created, updated):
                changed.append({"kind": kind, "id": rid,
                                "username": (row or {}).get("updated_by"),
                                "at": (row or {}).get("updated_at"),
                                "reason": "gone" if row is None or row.get("deleted_at")
                                else "changed"})
    changed += _dependants(session, created, updated_links)
    if changed:
        raise UndoRefused("imphist.changed_since", _name_refusals(session, changed, fallback),
                          id=batch_id)

    now, user = utcnow(), actor.username
    marked = session.execute(update(ImportBatch.__table__)
                             .where(ImportBatch.id == batch_id, ImportBatch.undone_at.is_(None))
                             .values(undone_at=now, undone_by=user)).rowcount
    if marked != 1:  # pragma: no cover - the batch row is locked (or SQLite's write lock held)
        raise ServiceError("imphist.already_undone", id=batch_id, by="?", at="?")
    audit_rows: list[dict] = []
    try:
        for kind, entries_of in updated.items():
            _restore(session, kind, entries_of, current[kind], now, user, batch_id, audit_rows)
        for kind, ids in created.items():
            _remove(session, kind, sorted(ids), current[kind], now, user, batch_id, audit_rows)
    except IntegrityError as exc:  # a value given back is taken meanwhile (an IKM's NIB)
        raise ServiceError("imphist.clash", id=batch_id) from exc
    insert_rows(session, AuditLog.__table__, audit_rows,
                ("at", "username", "action", "table_name", "row_id", "before", "after",
                 "batch_id"), want_ids=False)
    removed = sum(len(ids) for ids in created.values())
    restored = sum(len(e) for e in updated.values())
    audit.record(session, username=user, action="undo", table=BATCH_TABLE, row_id=batch_id,
                 after={"filename": batch.filename, "removed": removed, "restored": restored},
                 batch_id=batch_id)
    session.expire_all()  # ORM objects of these rows (if any were loaded) show old values
    return {"batch_id": batch_id, "removed": removed, "restored": restored}


def _differs(kind: str, rid: int, row: dict, created: dict, updated: dict) -> bool:
    """A change the audit trail does not show: a created record past its first version (or,
    without one, changed at all), an updated record no longer holding what the import wrote."""
    if rid in created.get(kind, ()):
        return row["version"] != 1 if "version" in row else row.get("updated_at") is not None
    after = updated[kind][rid].after or {}
    return any(_jsonable(row.get(f)) != v for f, v in after.items()
               if f != "import_batch" and f in row)


def _jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _check_written(session: Session, table, ids: list[int], now, gone: bool) -> None:
    """Every guarded statement hit its row (the version or change time still matched)."""
    for part in _chunks(ids):
        query = select(func.count()).select_from(table).where(table.c.id.in_(part))
        if not gone:
            query = query.where(table.c.updated_at == now)
        done = session.execute(query).scalar_one()
        if done != (0 if gone else len(part)):
            raise ServiceError("imphist.stale")


def _restore(session: Session, kind: str, entries: dict[int, object], current: dict[int, dict],
             now, user: str, batch_id: int, audit_rows: list[dict]) -> None:
    """Give updated records their before-values back, grouped by the fields they changed."""
    table = KIND_MODELS[kind].__table__
    guard_col = _guard_column(table)
    versioned = guard_col.name == "version"
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for rid, entry in entries.items():
        groups[tuple(sorted(entry.before))].append(rid)
    for fields, ids in groups.items():
        fields = tuple(f for f in fields if f in table.c)
        extra = {"version": table.c.version + 1} if versioned else {}
        statement = (update(table)
                     .where(table.c.id == bindparam("_id"),
                            guard_col.is_not_distinct_from(bindparam("_guard")))
                     .values(**{f: bindparam(f"_v_{f}") for f in fields}, **extra,
                             updated_at=now, updated_by=user))
        params = []
        for rid in ids:
            before = entries[rid].before
            params.append({"_id": rid, "_guard": current[rid][guard_col.name],
                           **{f"_v_{f}": _from_json(table.c[f], before.get(f)) for f in fields}})
            audit_rows.append({
                "at": now, "username": user, "action": "undo", "table_name": table.name,
                "row_id": str(rid),
                "before": {f: _jsonable(current[rid][f]) for f in fields},
                "after": {**{f: before.get(f) for f in fields}, "import_batch": batch_id},
                "batch_id": batch_id})
        session.execute(statement, params)
        _check_written(session, table, ids, now, gone=False)


def _remove(session: Session, kind: str, ids: list[int], current: dict[int, dict], now,
            user: str, batch_id: int, audit_rows: list[dict]) -> None:
    """Remove created records: to the trash (IKM, products, cohorts) or deleted for good (the
    audit row keeps a full copy, with its IKM)."""
    table = KIND_MODELS[kind].__table__
    guard_col = _guard_column(table)
    guard = and_(table.c.id == bindparam("_id"), guard_col.is_not_distinct_from(
        bindparam("_guard")))
    params = [{"_id": rid, "_guard": current[rid][guard_col.name]} for rid in ids]
    if kind in SOFT_KINDS:
        session.execute(update(table).where(guard, table.c.deleted_at.is_(None))
                        .values(deleted_at=now, updated_at=now, updated_by=user,
                                version=table.c.version + 1), params)
        _check_written(session, table, ids, now, gone=False)
        for rid in ids:
            audit_rows.append({
                "at": now, "username": user, "action": "undo", "table_name": table.name,
                "row_id": str(rid), "before": {"name": current[rid].get("name"),
                                               "deleted_at": None},
                "after": {"deleted_at": now.isoformat(), "import_batch": batch_id},
                "batch_id": batch_id})
        return
    ikm_of: dict[int, int] = {}
    if "ikm_id" not in table.c:  # listings and exports: their IKM through the product
        product_ids = sorted({current[rid]["product_id"] for rid in ids})
        for part in _chunks(product_ids):
            ikm_of.update(session.execute(select(Product.id, Product.ikm_id)
                                          .where(Product.id.in_(part))).all())
    session.execute(delete(table).where(guard), params)
    _check_written(session, table, ids, now, gone=True)
    for rid in ids:
        row = current[rid]
        copy = {k: _jsonable(v) for k, v in row.items()}
        copy.setdefault("ikm_id", ikm_of.get(row.get("product_id")))
        audit_rows.append({
            "at": now, "username": user, "action": "undo", "table_name": table.name,
            "row_id": str(rid), "before": copy, "after": {"import_batch": batch_id},
            "batch_id": batch_id})
