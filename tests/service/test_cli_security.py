"""The command line refuses the demo password and weak passwords for production accounts, and
disables demo leftovers (python -m db disable-demo-accounts), as an admin would run it."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from services.auth import DEMO_PASSWORD

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


def accounts(db_path: Path) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT username, active FROM user ORDER BY username").fetchall()


@pytest.mark.parametrize(("password", "message"), [
    (DEMO_PASSWORD, "demo password may not be used"),
    ("Password1234!", "too common"),
    (" petis-pamekasan-2026", "begin or end with a space"),
])
def test_create_user_refuses_demo_common_and_spaced_passwords(cli, password, message):
    result = cli("create-user", "siti", "--role", "admin", password=password)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert accounts(cli.db_path) == []


def test_disable_demo_accounts_deactivates_them_in_one_line(cli):
    assert cli("seed-demo", "--ikm", "4", "--quiet").returncode == 0
    assert cli("create-user", "siti", "--role", "admin",
               password="petis-pamekasan-2026").returncode == 0
    done = cli("disable-demo-accounts")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("5 account(s) disabled and their sessions revoked: "
                                   "admin, kepala, penilai, staf, tamu")
    assert dict(accounts(cli.db_path)) == {"admin": 0, "kepala": 0, "penilai": 0, "staf": 0,
                                           "tamu": 0, "siti": 1}
    with sqlite3.connect(cli.db_path) as conn:
        audited = conn.execute("SELECT count(*) FROM auditlog WHERE username = 'cli' "
                               "AND action = 'update'").fetchone()[0]
    assert audited == 5
    again = cli("disable-demo-accounts")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_disabling_the_only_admin_says_how_to_make_one(cli):
    assert cli("seed-demo", "--ikm", "4", "--quiet").returncode == 0
    done = cli("disable-demo-accounts")
    assert done.returncode == 0 and "create-user" in done.stdout
    assert len(done.stdout.strip().splitlines()) == 1
