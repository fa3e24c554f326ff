"""The command line, run as a user would: output, exit codes, one-line errors, nothing partial."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.migrate import head_revision

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path):
    db_path = tmp_path / "cli.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "IKM_DATA_DIR": str(tmp_path),
           "IKM_BCRYPT_ROUNDS": "4"}
    env.pop("IKM_PASSWORD", None)

    def run(*args, password=None):
        e = dict(env)
        if password is not None:
            e["IKM_PASSWORD"] = password
        return subprocess.run([sys.executable, "-m", "db", *args], cwd=ROOT, env=e,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=300)

    run.db_path = db_path
    return run


def users(db_path: Path) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT username, role, kabupaten_code FROM user "
                            "ORDER BY username").fetchall()


def test_upgrade_reports_revision_and_reference_rows(cli):
    first = cli("upgrade")
    assert first.returncode == 0, first.stderr
    head = head_revision()
    assert f"revision empty -> {head}" in first.stdout
    assert "1142 reference rows added" in first.stdout
    again = cli("upgrade")
    assert f"revision {head} -> {head}; 0 reference rows added" in again.stdout


def test_create_user_with_password_from_environment(cli):
    done = cli("create-user", "Siti", "--role", "staff", "--kabupaten", "35.28",
               password="petis-pamekasan-2026")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "user siti created with role staff, regency 35.28"
    assert users(cli.db_path) == [("siti", "staff", "35.28")]


@pytest.mark.parametrize(("args", "password", "message"), [
    (["create-user", "budi", "--role", "admin"], "short", "at least 12 characters"),
    (["create-user", "budi", "--role", "head", "--kabupaten", "35.29"], "garam-kalianget-26",
     "staff role only"),
    (["create-user", "budi", "--role", "staff", "--kabupaten", "99.99"], "garam-kalianget-26",
     "Unknown regency"),
    (["create-user", "budi", "--role", "boss"], "garam-kalianget-26", "invalid choice"),
    (["create-user", "budi", "--role", "admin"], None, "IKM_PASSWORD"),
    (["seed-demo", "--ikm", "41"], None, "multiple of 4"),
])
def test_errors_are_one_line_non_zero_and_write_nothing(cli, args, password, message):
    cli("upgrade")
    result = cli(*args, password=password)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], lines
    assert "Traceback" not in result.stderr
    assert users(cli.db_path) == []


def test_duplicate_user_is_refused(cli):
    assert cli("create-user", "siti", "--role", "admin", password="petis-pamekasan-2026") \
        .returncode == 0
    again = cli("create-user", "SITI", "--role", "viewer", password="petis-pamekasan-2026")
    assert again.returncode == 1 and "taken" in again.stderr
    assert users(cli.db_path) == [("siti", "admin", None)]


def test_seed_demo_then_backup_and_restore_round_trip(cli, tmp_path):
    seeded = cli("seed-demo", "--ikm", "40", "--quiet")
    assert seeded.returncode == 0, seeded.stderr
    assert "ikm 40" in seeded.stdout and "demo accounts" in seeded.stdout
    refused = cli("seed-demo", "--ikm", "40", "--quiet")
    assert refused.returncode == 1 and "--force" in refused.stderr
    target = tmp_path / "backups" / "copy.db"
    backup = cli("backup", str(target))
    assert backup.returncode == 0 and str(target) in backup.stdout
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM ikm").fetchone() == (40,)
    assert users(target) == users(cli.db_path)
    again = cli("backup", str(target))
    assert again.returncode == 1 and "already exists" in again.stderr
