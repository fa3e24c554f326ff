"""Database and disk faults made for real: a closed port, a full disk (a small tmpfs), a
read-only data folder (a tmpfs remounted read-only), a damaged database file, PostgreSQL stopped
while the app runs. Each is explained on the page in the user's language (never Streamlit's
English error page), nothing is lost, the app recovers by itself when the cause goes away, and
the command line prints one line. Also: backups are checked and never leave a partial file."""

import logging
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from db.engine import dispose_engines, make_engine
from models import Ikm
from services import faults
from services.backup import backup_sqlite
from services.errors import ServiceError
from tests.conftest import ROOT
from tests.faults.conftest import damage, fill, free_port, remount, tmpfs
from tests.pages.conftest import make_app
from tests.pages.conftest import shown as unescaped

pytestmark = pytest.mark.faults


def shown(at) -> str:
    return " ".join(unescaped(e.value) for e in at.error)


def use_database(monkeypatch, folder: Path, url: str | None = None) -> None:
    monkeypatch.setenv("DATABASE_URL", url or f"sqlite:///{folder / 'ikm.db'}")
    monkeypatch.setenv("IKM_DATA_DIR", str(folder))
    dispose_engines()


def open_as(username: str, page: str | None = None):
    at = make_app(username)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def new_ikm(at, name: str) -> None:
    at.session_state["ikm_tab_id"] = "add"  # Data IKM's add tab (AppTest does not click tabs)
    at.run()
    form = f"ikm_new_{at.session_state['form_tokens']['ikm_new']}"
    at.text_input(key=f"{form}_name").input(name)
    at.selectbox(key=f"{form}_kecamatan_code").select_index(1)
    at.button(key=f"{form}_save").click().run()


def count_ikm(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM ikm WHERE deleted_at IS NULL").fetchone()[0]


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "db", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


# --- a closed port ------------------------------------------------------------------------------

def test_an_unreachable_database_is_explained_on_the_page_and_by_the_cli(tmp_path, monkeypatch):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/ikm"  # nobody listens there
    use_database(monkeypatch, tmp_path, url)
    at = open_as(None)
    assert not at.exception
    assert "Basis data tidak dapat dihubungi" in shown(at) and "127.0.0.1" in shown(at)
    assert "DATABASE_URL" in shown(at)
    done = cli("upgrade", env={"DATABASE_URL": url})
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: The database cannot")


# --- a damaged database file --------------------------------------------------------------------

def test_a_damaged_database_is_refused_at_start_by_the_app_and_the_cli(tmp_path, monkeypatch,
                                                                       demo_db_template):
    path = tmp_path / "ikm.db"
    shutil.copy(demo_db_template, path)
    damage(path)
    use_database(monkeypatch, tmp_path)
    at = open_as("admin")
    assert not at.exception
    assert "Berkas basis data rusak" in shown(at) and "restore-backup" in shown(at)
    done = cli("upgrade", env={"DATABASE_URL": f"sqlite:///{path}"})
    assert done.returncode == 1 and "damaged" in done.stderr and done.stderr.count("\n") == 1


def test_a_backup_of_a_damaged_database_is_refused_and_leaves_no_file(tmp_path,
                                                                     demo_db_template):
    path = tmp_path / "ikm.db"
    shutil.copy(demo_db_template, path)
    damage(path)
    engine = make_engine(f"sqlite:///{path}")
    target = tmp_path / "backups" / "cadangan.db"
    with pytest.raises(ServiceError) as err:
        backup_sqlite(engine, target)
    engine.dispose()
    assert err.value.key == "bk.source_damaged"
    assert list((tmp_path / "backups").iterdir()) == []
    done = cli("backup", str(target), env={"DATABASE_URL": f"sqlite:///{path}"})
    assert done.returncode == 1 and "integrity check" in done.stderr
    assert list((tmp_path / "backups").iterdir()) == []


# --- a full disk ---------------------------------------------------------------------------------

def test_a_full_disk_is_the_servers_trouble_nothing_is_lost_and_the_app_recovers(
        tmp_path, monkeypatch, demo_db_template):
    with tmpfs(tmp_path / "data", 6144) as folder:
        path = folder / "ikm.db"
        shutil.copy(demo_db_template, path)
        use_database(monkeypatch, folder)
        at = open_as("admin", "app_pages/data_ikm.py")
        before = count_ikm(path)
        filler = fill(folder)
        new_ikm(at, "Keripik Disk Penuh")
        assert not at.exception
        assert "disk penuh" in shown(at) and "tidak bermasalah" in shown(at), shown(at)
        assert count_ikm(path) == before  # nothing half-written
        filler.unlink()  # the admin frees space: the next try works, no restart
        at.run()
        new_ikm(at, "Keripik Disk Lega")
        assert not at.error and count_ikm(path) == before + 1
        dispose_engines()
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_import_on_a_full_disk_blames_the_server_not_the_file(tmp_path, monkeypatch,
                                                                 demo_db_template):
    from models.enums import Role
    from services.imports import commit
    from services.permissions import Actor

    data = ("NIB;Nama usaha;Kabupaten;Kecamatan\r\n" + "".join(
        f"35290988{i:05d};Usaha {i};Sumenep;Guluk-Guluk\r\n" for i in range(400))).encode()
    with tmpfs(tmp_path / "data", 6144) as folder:
        path = folder / "ikm.db"
        shutil.copy(demo_db_template, path)
        engine = make_engine(f"sqlite:///{path}")
        before = count_ikm(path)
        filler = fill(folder)
        with pytest.raises(Exception) as err, Session(engine) as session:
            commit(session, actor=Actor("staf", Role.staff, "35.29"), filename="banyak.csv",
                   data=data)
            session.commit()
        fault = faults.explain(err.value, url=f"sqlite:///{path}")
        assert fault is not None and fault.key == "fault.disk_full"
        engine.dispose()
        filler.unlink()
        assert count_ikm(path) == before


def test_a_backup_onto_a_full_disk_leaves_nothing_and_the_same_name_works_later(
        tmp_path, demo_db_template):
    engine = make_engine(f"sqlite:///{tmp_path / 'ikm.db'}")
    shutil.copy(demo_db_template, tmp_path / "ikm.db")
    with tmpfs(tmp_path / "backups", 2048) as folder:
        filler = fill(folder)
        target = folder / "cadangan.db"
        with pytest.raises(Exception) as err:
            backup_sqlite(engine, target)
        assert faults.explain(err.value) is not None or "full" in str(err.value)
        assert sorted(p.name for p in folder.iterdir()) == ["filler.bin"]
        filler.unlink()
        assert backup_sqlite(engine, target) > 0
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    engine.dispose()


# --- a read-only data folder ------------------------------------------------------------------

def test_a_read_only_data_folder_is_explained_and_nothing_changes(tmp_path, monkeypatch,
                                                                  demo_db_template):
    with tmpfs(tmp_path / "data", 8192) as folder:
        path = folder / "ikm.db"
        shutil.copy(demo_db_template, path)
        original = path.read_bytes()
        remount(folder, "ro")
        use_database(monkeypatch, folder)
        at = open_as("admin")
        assert not at.exception
        assert "hanya-baca" in shown(at), shown(at)
        assert path.read_bytes() == original
        remount(folder, "rw")  # the admin fixes the mount: the app works again, no restart
        at.run()
        assert not at.error and not at.exception


# --- PostgreSQL stopped while the app runs ------------------------------------------------------

def test_postgresql_stopping_is_explained_and_the_app_comes_back_with_it(monkeypatch, tmp_path,
                                                                         cluster):
    use_database(monkeypatch, tmp_path, cluster.url)
    at = open_as("admin")
    assert not at.exception and not at.error
    cluster.stop()
    at.run()
    assert not at.exception
    assert "basis data" in shown(at).lower() and "PostgreSQL" in shown(at), shown(at)
    cluster.start()
    at.run()
    assert not at.exception and not at.error
    engine = make_engine(cluster.url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Ikm)).one() == 480
    engine.dispose()


# --- the log -----------------------------------------------------------------------------------

def test_a_fault_seen_ten_times_is_logged_with_its_traceback_once(caplog, tmp_path):
    faults.forget_reports()
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/ikm"
    engine = make_engine(url)
    caplog.set_level(logging.INFO, logger="services.faults")
    for _ in range(10):
        try:
            with engine.connect():
                pass
        except Exception as exc:  # noqa: BLE001
            faults.report(faults.explain(exc, url=url), exc)
    engine.dispose()
    with_traceback = [r for r in caplog.records if r.exc_info]
    assert len(with_traceback) == 1 and "fault.db_unreachable" in with_traceback[0].getMessage()
    assert len(caplog.records) <= 2
