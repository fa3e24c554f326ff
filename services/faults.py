"""Database and disk faults, told apart and explained: what happened, in words a person can act on.

`explain(exc)` walks an exception and the ones that caused it (SQLAlchemy keeps the driver's in
`.orig`) and answers a Fault: a message key (ui/messages_faults.py, both languages) with its
parameters, and one line for the log. It separates "the server could not write" (a full disk, a
read-only folder, a lost database) from "your file is bad", which is the importer's business.
`report(fault, exc)` logs each kind of fault with its traceback once, and later repeats of it as
one line a minute at most, so a database that is down does not fill the log with tracebacks.
"""

import errno
import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# errno values that mean the server (not the user's file) cannot go on
SERVER_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES,
                           errno.EPERM, errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EIO})
_LOST = ("server closed the connection", "terminating connection", "connection is closed",
         "the database system is shutting down", "consuming input failed",
         "connection already closed", "ssl connection has been closed", "lost synchronization")
_UNREACHABLE = ("connection refused", "could not connect", "connection failed",
                "no route to host", "name or service not known", "could not translate host",
                "timeout expired", "connection timed out", "does not exist",
                "password authentication failed", "the database system is starting up",
                "too many clients")


class DatabaseCorrupt(RuntimeError):
    """The database failed its integrity check; serving from it would show wrong data."""

    def __init__(self, where: str, detail: str):
        super().__init__(f"{where}: {detail}")
        self.where, self.detail = where, detail


@dataclass(frozen=True)
class Fault:
    # A fault people can act on: the message key and parameters, and a line for the log.
    key: str
    params: dict = field(default_factory=dict)
    detail: str = ""


def server_side(exc: BaseException) -> bool:
    """Whether an OS error is the server's (full disk, read-only folder, no memory ...)."""
    return isinstance(exc, OSError) and exc.errno in SERVER_ERRNOS


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        orig = getattr(exc, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            yield orig
        exc = exc.__cause__ or exc.__context__


def _sqlite_path(url: str | None) -> Path | None:
    if not url or not url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    return Path(name) if name and name != ":memory:" else None


def _where(url: str | None) -> str:
    if not url:
        return "?"
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return parsed.database or ":memory:"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY) or not os.access(path, os.W_OK)
    except OSError:
        return False


def open_problem(path: Path) -> str:
    """Why a SQLite file cannot be opened: its folder is missing, it is unreadable or read-only
    (a key for the message), or "" when nothing is visibly wrong."""
    folder = path.parent
    if not folder.exists():
        return "fault.db_no_folder"
    if path.exists() and not os.access(path, os.R_OK):
        return "fault.db_unreadable"
    if _read_only(folder) or (path.exists() and _read_only(path)):
        return "fault.db_readonly"
    return ""


def _connection_error(exc: BaseException) -> bool:
    """A PostgreSQL driver error about the connection itself (not a refused statement, nor a
    deadlock: those are the writers' business)."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a requirement
        return False
    if not isinstance(exc, psycopg.OperationalError) \
            or isinstance(exc, psycopg.errors.TransactionRollback):
        return False
    text = str(exc).lower()
    return isinstance(exc, psycopg.errors.AdminShutdown | psycopg.errors.CannotConnectNow) \
        or any(s in text for s in (*_LOST, *_UNREACHABLE)) or exc.sqlstate is None


def explain(exc: BaseException, *, url: str | None = None) -> Fault | None:
    """The fault behind an exception (database or disk), or None for anything else."""
    where = _where(url)
    path = _sqlite_path(url)
    for item in _chain(exc):
        if isinstance(item, DatabaseCorrupt):
            return Fault("fault.db_corrupt", {"where": item.where, "detail": item.detail[:200]},
                         f"integrity check failed: {item.detail[:300]}")
        text = str(item).strip().splitlines()[0].lower() if str(item).strip() else ""
        module = type(item).__module__
        if isinstance(item, sqlite3.Error) or "sqlite" in module:
            if "unable to open database file" in text:
                key = open_problem(path) if path else ""
                return Fault(key or "fault.db_open", {"where": where},
                             f"unable to open database file {where}")
            if "readonly database" in text or "read-only" in text:
                return Fault("fault.db_readonly", {"where": where}, text)
            if "disk is full" in text or "database or disk is full" in text:
                return Fault("fault.disk_full", {"where": where}, text)
            if "malformed" in text or "file is not a database" in text \
                    or "disk i/o error" in text:
                return Fault("fault.db_corrupt", {"where": where, "detail": text[:200]}, text)
            if "database is locked" in text:
                return Fault("fault.db_busy", {"where": where}, text)
        if _connection_error(item):
            if any(s in text for s in _LOST):
                return Fault("fault.db_lost", {"where": where}, text)
            return Fault("fault.db_unreachable", {"where": where}, text)
        if server_side(item):
            key = "fault.disk_full" if item.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) \
                else "fault.folder_readonly" if item.errno in (errno.EROFS, errno.EACCES,
                                                               errno.EPERM) \
                else "fault.server_resources"
            place = getattr(item, "filename", None) or (str(path.parent) if path else where)
            return Fault(key, {"where": str(place)}, f"{errno.errorcode.get(item.errno)}: {item}")
    return None


_REPORTED: dict[str, float] = {}
_REPORT_LOCK = threading.Lock()
REPEAT_SECONDS = 60.0


def report(fault: Fault | None, exc: BaseException) -> str:
    """Log a fault: with its traceback the first time this kind is seen (or after it has been
    quiet for ten minutes), as one line at most once a minute after that; an unexplained
    exception always with its traceback. Returns a short reference that the message shows."""
    ref = secrets.token_hex(3)
    kind = fault.key if fault else "unexpected"
    now = time.monotonic()
    with _REPORT_LOCK:
        last = _REPORTED.get(kind)
        loud = fault is None or last is None or now - last > 600
        line = not loud and now - last > REPEAT_SECONDS
        if loud or line:
            _REPORTED[kind] = now
    if loud:
        log.error("%s [ref %s]: %s", kind, ref, fault.detail if fault else exc, exc_info=exc)
    elif line:
        log.warning("%s again [ref %s]: %s", kind, ref, fault.detail)
    return ref


def forget_reports() -> None:
    """Start counting afresh (the cause went away, or a test begins)."""
    with _REPORT_LOCK:
        _REPORTED.clear()
