"""The database layer: migrations own the schema, pragmas hold, writers never lose updates."""

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, text
from sqlmodel import Session, SQLModel, select

from db.engine import make_engine, write_session
from db.migrate import current_revision, head_revision, upgrade
from db.reference_data import load_reference
from models import AppState, Desa, Kabupaten, Kecamatan, RubricCriterion

pytestmark = pytest.mark.db


def test_migrations_create_exactly_the_models_schema(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_upgrade_twice_is_harmless(engine):
    upgrade(engine)
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_reference_data_counts_and_codes(session):
    counts = {k: session.exec(select(func.count()).select_from(m)).one()
              for k, m in (("kab", Kabupaten), ("kec", Kecamatan), ("desa", Desa))}
    assert counts == {"kab": 4, "kec": 72, "desa": 990}
    per_kab = dict(session.exec(select(Kecamatan.kabupaten_code, func.count())
                                .group_by(Kecamatan.kabupaten_code)).all())
    assert per_kab == {"35.26": 18, "35.27": 14, "35.28": 13, "35.29": 27}
    galis = session.exec(select(Kecamatan.code).where(Kecamatan.name == "Galis")).all()
    assert sorted(galis) == ["35.26.18", "35.28.03"]  # same name, two regencies: keyed by code
    weights = session.exec(select(func.sum(RubricCriterion.weight))
                           .where(RubricCriterion.rubric_version == 1)).one()
    assert weights == 100


def test_reference_loading_is_idempotent_and_keeps_edits(session):
    kab = session.get(Kabupaten, "35.29")
    kab.target_ikm = 150
    session.add(kab)
    session.commit()
    added = load_reference(session)
    session.commit()
    assert sum(added.values()) == 0
    assert session.get(Kabupaten, "35.29").target_ikm == 150


def test_write_session_rolls_back_everything_on_error(engine):
    with pytest.raises(RuntimeError), write_session(engine) as s:
        s.add(AppState(key="half", value="written"))
        s.flush()
        raise RuntimeError("crash mid-transaction")
    with Session(engine) as s:
        assert s.get(AppState, "half") is None


def test_sqlite_file_pragmas(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    eng.dispose()


def test_concurrent_read_modify_writes_lose_nothing(tmp_path):
    """8 threads × 40 increments through write_session: all 320 land (BEGIN IMMEDIATE)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(eng)
    with write_session(eng) as s:
        s.add(AppState(key="counter", value="0"))
    errors = []

    def worker():
        try:
            for _ in range(40):
                with write_session(eng) as s:
                    row = s.get(AppState, "counter")
                    row.value = str(int(row.value) + 1)
                    s.add(row)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with Session(eng) as s:
        assert (errors, s.get(AppState, "counter").value) == ([], "320")
    eng.dispose()


def test_foreign_keys_are_enforced(engine):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), write_session(engine) as s:
        s.execute(text("INSERT INTO kecamatan (code, kabupaten_code, name) "
                       "VALUES ('99.99.99', '99.99', 'Nowhere')"))


def test_production_preparation_creates_no_demo_accounts_or_data(engine):
    from db.setup import prepare_database
    from models import Ikm, User

    prepare_database(engine, demo=False)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(User)).one() == 0
        assert s.exec(select(func.count()).select_from(Ikm)).one() == 0


def test_the_sqlite_files_and_the_data_folder_are_the_owners_alone(tmp_path, monkeypatch):
    from db.settings import data_dir

    folder = tmp_path / "data"
    monkeypatch.setenv("IKM_DATA_DIR", str(folder))
    assert data_dir() == folder and oct(folder.stat().st_mode & 0o777) == "0o700"
    old = folder / "lama.db"
    old.write_bytes(b"")
    old.chmod(0o644)  # a file made before the rule: tightened when opened
    for path in (folder / "ikm.db", old):
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        modes = {p.name: oct(p.stat().st_mode & 0o777) for p in folder.glob(path.name + "*")}
        assert set(modes.values()) == {"0o600"}, modes
