"""The audit trail and the data version that page caches are keyed by."""

import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Integer, String, cast, update
from sqlmodel import Session, select

from models import AppState, AuditLog

SECRET_FIELDS = {"password_hash"}


def _jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def snapshot(row) -> dict:
    """A row as a JSON-ready dict without secrets, for the before/after columns of the log."""
    data = row.model_dump() if hasattr(row, "model_dump") else dict(row)
    return {k: _jsonable(v) for k, v in data.items() if k not in SECRET_FIELDS}


def record(session: Session, *, username: str | None, action: str, table: str | None = None,
           row_id=None, before: dict | None = None, after: dict | None = None,
           data_changed: bool = True, batch_id: int | None = None) -> None:
    """Add one audit row to the current transaction; bump the data version if data changed.
    `batch_id` names the import batch the row belongs to (an import, or its undo)."""
    session.add(AuditLog(username=username, action=action, table_name=table,
                         row_id=None if row_id is None else str(row_id),
                         before=json.loads(json.dumps(before, default=str)) if before else None,
                         after=json.loads(json.dumps(after, default=str)) if after else None,
                         batch_id=batch_id))
    if data_changed:
        bump_data_version(session)


def bump_data_version(session: Session) -> None:
    """Increase the data version in the current transaction (caches keyed by it go stale).

    One atomic UPDATE, so concurrent writers on PostgreSQL never lose an increment.
    """
    bumped = session.execute(
        update(AppState).where(AppState.key == "data_version")
        .values(value=cast(cast(AppState.value, Integer) + 1, String))).rowcount
    if not bumped:
        session.add(AppState(key="data_version", value="1"))
        session.flush()


def data_version(session: Session) -> int:
    """The current data version (0 for a database never written by a service)."""
    value = session.exec(select(AppState.value).where(AppState.key == "data_version")).first()
    return int(value) if value else 0


def history(session: Session, *, table: str, row_id) -> list[AuditLog]:
    """Every audit row of one record, newest first."""
    return list(session.exec(
        select(AuditLog).where(AuditLog.table_name == table, AuditLog.row_id == str(row_id))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())).all())


def user_audit(session: Session, *, limit: int = 200) -> list[dict]:
    """The newest audit rows about accounts (logins, changes, revocations), newest first."""
    rows = session.exec(select(AuditLog).where(AuditLog.table_name == "user")
                        .order_by(AuditLog.id.desc()).limit(limit)).all()
    return [{"at": r.at, "username": r.username,
             "action": r.action, "row_id": r.row_id,
             "change": json.dumps(r.after, ensure_ascii=False) if r.after else ""} for r in rows]
