"""Shared fixtures: a real database per test (SQLite, or PostgreSQL when IKM_TEST_PG_URL is set)."""

import os
import shutil
import uuid
from pathlib import Path

os.environ.setdefault("IKM_BCRYPT_ROUNDS", "4")  # fast hashes in tests; production uses 12
# One day for the whole suite and the servers it starts (services.clock). Tests still derive
# their expectations from the data they made, so the suite passes with any IKM_TODAY set from
# outside, or with the real clock moved by faketime.
os.environ.setdefault("IKM_TODAY", "2026-06-15")

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from db.engine import dispose_engines, make_engine
from db.migrate import upgrade
from db.reference_data import load_reference
from models.enums import Role
from services.permissions import Actor

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("IKM_TEST_PG_URL")  # e.g. postgresql+psycopg://postgres@127.0.0.1:55432/postgres


def _fresh_pg_url() -> str:
    """A new empty PostgreSQL database on the test server; dropped by the caller."""
    name = f"ikm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine():
    """A migrated, empty database of its own for each test, with the reference data loaded."""
    url = _fresh_pg_url() if PG_URL else "sqlite://"
    eng = make_engine(url)
    upgrade(eng)
    with Session(eng) as s:
        load_reference(s)
        s.commit()
    yield eng
    eng.dispose()
    if PG_URL:
        _drop_pg(url)


@pytest.fixture
def session(engine):
    """A session on the test database (commit explicitly to see effects across sessions)."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def admin_actor():
    return Actor(username="admin", role=Role.admin)


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory) -> Path:
    """A SQLite file prepared as the app does in demo mode, built once and copied per test."""
    from db.setup import prepare_database

    path = tmp_path_factory.mktemp("template") / "ikm.db"
    eng = make_engine(f"sqlite:///{path}")
    prepare_database(eng, demo=True)
    eng.dispose()
    return path


@pytest.fixture
def demo_db(tmp_path, demo_db_template, monkeypatch) -> Path:
    """A private copy of the demo database; DATABASE_URL and IKM_DATA_DIR point at it."""
    path = tmp_path / "ikm.db"
    shutil.copy(demo_db_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("IKM_DATA_DIR", str(tmp_path))
    dispose_engines()
    yield path
    dispose_engines()
