"""Engines and sessions: SQLite tuned for a small team (WAL, IMMEDIATE writers) or PostgreSQL."""

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

import models  # noqa: F401  (registers every table)
from db.settings import database_url

log = logging.getLogger(__name__)
T = TypeVar("T")

_engines: dict[str, Engine] = {}


def _private_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (0600), or make an existing
    one so: it holds password hashes and owners' personal data. SQLite gives its -wal and
    -shm files the mode of the database file."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
    except OSError:
        pass  # a folder we cannot write: SQLite's own error says so when it opens the file


def make_engine(url: str) -> Engine:
    """Build a new engine for a URL with the pragmas and pooling this app relies on."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        if not memory:
            _private_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # Autocommit at the driver so that SQLAlchemy's BEGIN below is the only one.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Writers take the lock at BEGIN so concurrent read-modify-writes never lose updates.
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for a URL (default: the configured database), made once."""
    url = url or database_url()
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def dispose_engines() -> None:
    """Close every cached engine (tests and the backup command use this)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reading; nothing it does is committed."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


class FairLock:
    """A lock that writers get in the order they asked for it. SQLite's own wait for its write
    lock polls with growing sleeps, so with eight writers one could wait seconds while later
    ones went first; inside one app process writers queue here instead and each is woken the
    moment its turn comes (other processes, such as the command line, still meet SQLite's
    busy timeout)."""

    def __init__(self):
        self._guard = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._owner: int | None = None

    def acquire(self) -> bool:
        """Wait for our turn; False when this thread holds the lock already (no nesting)."""
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                return False
            if self._owner is None and not self._waiting:
                self._owner = me
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # release() hands the lock over to us
        with self._guard:
            self._owner = me
        return True

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                self._owner = -1  # handed over: held until the next waiter takes it
                self._waiting.popleft().set()
            else:
                self._owner = None


_gates: dict[str, FairLock] = {}
_gates_guard = threading.Lock()


def _gate(engine: Engine) -> FairLock:
    key = str(engine.url)
    with _gates_guard:
        return _gates.setdefault(key, FairLock())


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """One write transaction: committed on success, rolled back on any exception.

    Writers take their locks in one order, so they never deadlock one another: on SQLite the
    whole database at BEGIN IMMEDIATE; on PostgreSQL the data-version row first (every data
    write bumps it at its end, and a grid save touching rows 1 and 2 while someone else
    edited row 2 used to wait on each other in opposite orders), then the rows it changes."""
    engine = engine or get_engine()
    gate = None
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        gate = _gate(engine)
    turn = gate.acquire() if gate is not None else False
    try:
        with Session(engine, expire_on_commit=False) as session:
            try:
                if engine.dialect.name == "postgresql":
                    session.execute(text(
                        "SELECT 1 FROM appstate WHERE key = 'data_version' FOR UPDATE"))
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        if turn:
            gate.release()


# SQLSTATEs of a transaction the server gave up so that another could go on: deadlock
# detected, serialization failure. Running it again is safe (it wrote nothing).
RETRYABLE = frozenset({"40P01", "40001"})
ATTEMPTS = 3


def retryable(exc: BaseException) -> bool:
    """Whether a database error is a deadlock or serialization failure worth running again."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE


def run_write(engine: Engine | None, work: Callable[[Session], T], *,
              attempts: int = ATTEMPTS) -> T:
    """`work(session)` in one write transaction (write_session), run again up to `attempts`
    times when the server gives it up for a deadlock or a serialization failure; if it still
    fails, the caller hears StaleRecord: "changed by someone else, reload"."""
    from services.errors import StaleRecord

    for attempt in range(1, attempts + 1):
        try:
            with write_session(engine) as session:
                return work(session)
        except DBAPIError as exc:
            if not retryable(exc):
                raise
            log.warning("write given up by the database (%s), attempt %d of %d",
                        exc.orig.sqlstate, attempt, attempts)
            if attempt == attempts:
                raise StaleRecord() from exc
    raise AssertionError("unreachable")  # pragma: no cover
