"""Accounts and traces: users, login attempts, audit log, import batches, data version."""

from datetime import datetime

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from models.base import Versioned, utcnow


class User(Versioned, table=True):
    # A person who logs in; staff may be scoped to one regency (kabupaten_code).
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=160)
    role: str = Field(max_length=10)
    kabupaten_code: str | None = Field(default=None, foreign_key="kabupaten.code", max_length=5)
    password_hash: str = Field(max_length=80)
    active: bool = True
    language: str = Field(default="id", max_length=2)
    sessions_valid_after: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class LoginAttempt(SQLModel, table=True):
    __table_args__ = (
        Index("ix_loginattempt_username_at", "username", "at"),
        Index("ix_loginattempt_ip_at", "ip", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    ip: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)
    ok: bool
    reason: str | None = Field(default=None, max_length=16)  # bad_password, locked, inactive…


class AuditLog(SQLModel, table=True):
    __table_args__ = (Index("ix_auditlog_table_row", "table_name", "row_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    username: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=16)
    table_name: str | None = Field(default=None, max_length=40)
    row_id: str | None = Field(default=None, max_length=40)
    before: dict | None = Field(default=None, sa_type=JSON)
    after: dict | None = Field(default=None, sa_type=JSON)
    # The import batch that wrote (or undid) the row; also kept as "import_batch" in `after`.
    batch_id: int | None = Field(default=None, index=True)


class ImportBatch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    username: str = Field(max_length=64)
    kind: str = Field(max_length=24)
    filename: str = Field(max_length=240)
    rows_total: int = 0
    rows_ok: int = 0
    rows_failed: int = 0
    committed: bool = False
    undone_at: datetime | None = None  # a batch is undone at most once (services.imports.history)
    undone_by: str | None = Field(default=None, max_length=64)


class AppState(SQLModel, table=True):
    # Small key/value facts about the database itself, such as the data version used by caches.
    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
