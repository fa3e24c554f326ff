"""Machinery every write service shares: refusing invalid records, ids from callers, and
turning a concurrent change caught by the version column into a clear refusal."""

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from models import utcnow
from services import audit
from services.errors import ServiceError, StaleRecord, ValidationFailed
from services.validation import Errors

MAX_ID = 2**31  # ids are INTEGER columns; a larger number cannot be one (PostgreSQL refuses it)


def raise_errors(errors: Errors) -> None:
    """Refuse a record with problems: each field with its first message key and parameters."""
    if errors:
        raise ValidationFailed("err.validation",
                               errors={f: [k] for f, (k, _) in errors.items.items()},
                               details=errors.items)


def as_id(value) -> int:
    """A row id as given by a caller; anything that cannot be one is simply not found."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_ID:
        raise ServiceError("err.not_found")
    return value


def flush(session: Session) -> None:
    """Flush, turning a concurrent change caught by the version column into StaleRecord."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleRecord() from exc


def apply_changes(session: Session, *, actor, row, table: str, before: dict, clean: dict):
    """Write the fields of a validated record that differ from `before`, stamp who and when,
    flush (stale versions refused) and audit before -> after; nothing at all when unchanged."""
    changed = {k: v for k, v in clean.items() if before.get(k) != v}
    if not changed:
        return row
    for key, value in changed.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by = utcnow(), actor.username
    session.add(row)
    flush(session)
    audit.record(session, username=actor.username, action="update", table=table, row_id=row.id,
                 before={k: before[k] for k in changed}, after=changed)
    return row
