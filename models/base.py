"""Shared column helpers and the metadata naming convention (set before any table exists)."""

from datetime import UTC, datetime

from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Current time as an aware UTC datetime (SQLModel stores aware datetimes in UTC)."""
    return datetime.now(UTC)


class Tracked(SQLModel):
    # Who created and last changed a programme row, and when.
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    created_by: str | None = Field(default=None, max_length=64)
    updated_at: datetime | None = Field(default=None)
    updated_by: str | None = Field(default=None, max_length=64)


class Versioned(SQLModel):
    # Optimistic concurrency: SQLAlchemy refuses an UPDATE whose version no longer matches.
    version: int = Field(default=1, nullable=False)

    @declared_attr
    def __mapper_args__(cls):  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}
