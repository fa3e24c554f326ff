"""The commit: upsert a checked plan in one transaction, with its import batch and audit rows;
and the downloadable error report."""

import json
import logging
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import String, bindparam, cast, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.bulk import insert_rows
from models import (
    AuditLog,
    Cohort,
    Ikm,
    ImportBatch,
    Product,
    utcnow,
)
from services import audit
from services.cohorts import FIELDS as COHORT_FIELDS
from services.exporter import (
    message,
)
from services.imports.plan import (
    _PLAIN,
    CHILD_SPECS,
    IKM_FIELDS,
    PRODUCT_FIELDS,
    _bulk_work,
    _chunks,
    _data_state,
    _kept_plan,
    _Plan,
    _plan,
    _plan_key,
    _Row,
    _tick,
)
from services.imports.report import LIMITS, ImportRefused, ImportReport, Limits
from services.permissions import Actor, require

log = logging.getLogger(__name__)


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
           kind: str = "auto", limits: Limits = LIMITS,
           overwrite: dict[tuple[str, int], int] | None = None) -> ImportReport:
    """Write an upload in the caller's transaction (never commits).

    Reuses the dry run's check when nothing was written since (same data version, same day,
    same user and file), else checks again. Refuses (ImportRefused "imp.has_rejected", with the
    report) when any row is rejected unless `allow_partial`, in which case only the valid rows
    are written. Upserts every sheet in order (cohorts, IKM, products, then the records linked
    to them), records an ImportBatch and audit rows ("import"), and calls
    `progress(fraction, message_key)`.

    A row older than its record (changed by someone after the export; the dry run lists it in
    `conflicts`) is refused unless `overwrite` maps its (sheet, row) to the record version the
    user saw in that list: then it is written over the colleague's change, and only if nobody
    changed the record again since."""
    require(actor, "programme.write")
    with _bulk_work():
        return _commit(session, actor, filename, data, allow_partial, progress, kind, limits,
                       overwrite or {})


def _commit(session: Session, actor: Actor, filename: str, data: bytes, allow_partial: bool,
            progress, kind: str, limits: Limits, overwrite: dict) -> ImportReport:
    state = _data_state(session)
    plan = None
    if isinstance(data, bytes | bytearray | memoryview):
        plan = _kept_plan(_plan_key(session, actor, filename, data, kind, limits), state)
        if plan is not None and overwrite:
            plan = None  # the dry run refused the rows the user now chose to write
    if plan is None:
        plan = _plan(session, actor, filename, data, kind, limits, lock=True, progress=progress,
                     overwrite=overwrite)
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
                        "rejected": report.rejected}, batch_id=batch.id)
    _tick(progress, 0.9, "imp.progress.audit")
    insert_rows(session, AuditLog.__table__, audit_rows,
                ("at", "username", "action", "table_name", "row_id", "before", "after",
                 "batch_id"), want_ids=False)
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
                      after, literal(batch_id)).where(table.c.id.between(low, high))
        session.execute(insert(log_table).from_select(
            ["at", "username", "action", "table_name", "row_id", "after", "batch_id"], rows))


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
                           "after": {**_jsonable(row.changed), "import_batch": batch_id},
                           "batch_id": batch_id})


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
