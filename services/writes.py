"""Machinery every write service shares: refusing invalid records, ids from callers, and
turning a concurrent change caught by the version column into a clear refusal."""

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

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
