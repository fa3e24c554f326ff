"""The admin's backup download in the real browser: what anyone else who learns its address gets.

Streamlit serves a download at a bare `/media/<id>` address that needs no cookie. The backup is
an AES-256 ZIP made with the admin's passphrase, so a fetch of that address, with no cookie,
during the download or after the admin's browser closed, yields no database and no password hash;
the passphrase opens the downloaded file with 7-Zip and with `python -m db restore-backup`.
"""

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    ROOT,
    _missing,
    assert_no_traceback,
    goto,
    login,
    shot,
    wait_for_run,
    watch_runs,
)

pytestmark = pytest.mark.e2e

PASSPHRASE = "garam-kalianget-sumenep-2026"
SQLITE_MAGIC = b"SQLite format 3\x00"
FILE_NAME = f"ikm-madura-{os.environ['IKM_TODAY']}.zip"  # tests/conftest.py pins the day
REMOVED = "file unduhannya sudah dihapus dari server"
USERS = "SELECT username, role, password_hash FROM user ORDER BY username"
# Asks for an address, without cookies, every half second until it answers 404.
ASK_UNTIL_GONE = """url => {
  window.__gone = false;
  (async () => {
    while (!window.__gone) {
      const response = await fetch(url, {credentials: 'omit', cache: 'no-store'});
      if (response.status === 404) window.__gone = true;
      else await new Promise(resolve => setTimeout(resolve, 500));
    }
  })();
}"""


@pytest.fixture(scope="module")
def seven_zip() -> str:
    path = shutil.which("7z")
    if path is None:
        _missing("7z not found (apt-get install p7zip-full)")
    return path


def fetch(url: str) -> tuple[int, bytes]:
    """GET with urllib: no cookie, no session, as anyone who learnt the address would."""
    request = urllib.request.Request(url, headers={"User-Agent": "curious-colleague"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def assert_useless(status: int, body: bytes) -> None:
    """Either nothing, or an encrypted archive: never the database or a password hash."""
    if status != 200:
        assert status == 404, status
        return
    assert body.startswith(b"PK\x03\x04"), body[:64]
    assert SQLITE_MAGIC not in body and b"$2b$" not in body and b"CREATE TABLE" not in body


def rows(db: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchall()


def open_backup_tab(page, server) -> None:
    goto(page, server)
    assert login(page, "admin")
    watch_runs(page)
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Admin").click()
    wait_for_run(page)
    expect(page.get_by_role("heading", name="Administrasi")).to_be_visible()
    page.get_by_role("tab", name="Cadangan", exact=True).click()


def passphrase_box(page):
    return page.get_by_role("textbox", name="Frasa sandi cadangan", exact=True)


def confirm_box(page):
    return page.get_by_role("textbox", name="Ulangi frasa sandi", exact=True)


def offer_backup(page):
    """Type the passphrase twice and submit; return the download button that appears."""
    passphrase_box(page).fill(PASSPHRASE)
    confirm_box(page).fill(PASSPHRASE)
    watch_runs(page)
    page.get_by_role("button", name="Buat cadangan").click()
    wait_for_run(page)
    button = page.get_by_role("button", name="Unduh cadangan terenkripsi")
    expect(button).to_be_visible()
    # The fields are empty again: the passphrase is not left in the page.
    expect(passphrase_box(page)).to_have_value("")
    return button


def test_backup_download_is_encrypted_and_its_address_gives_nobody_the_database(
        server, new_page, seven_zip, tmp_path):
    log_from = len(server.log_text())
    page = new_page()
    open_backup_tab(page, server)
    # A too-short passphrase is refused in the form, and nothing is offered.
    passphrase_box(page).fill("pendek")
    confirm_box(page).fill("pendek")
    watch_runs(page)
    page.get_by_role("button", name="Buat cadangan").click()
    wait_for_run(page)
    expect(page.get_by_text("Frasa sandi minimal 16 karakter.")).to_be_visible()
    expect(page.get_by_role("button", name="Unduh cadangan terenkripsi")).to_have_count(0)

    button = offer_backup(page)
    shot(page, "admin_backup_offer")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == FILE_NAME
    url = download.url
    assert url.startswith(server.url("/media/")), url

    # Anyone with the address and no cookie, at once: the encrypted archive at most.
    status, body = fetch(url)
    assert_useless(status, body)
    saved = tmp_path / FILE_NAME
    download.save_as(saved)
    data = saved.read_bytes()
    assert_useless(200, data)
    if status == 200:
        assert body == data

    # With the passphrase, 7-Zip opens the downloaded file into the database, hashes and all ...
    wrong = subprocess.run([seven_zip, "x", "-pbukan-frasa-sandinya-2026",
                            f"-o{tmp_path / 'wrong'}", str(saved)],
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode != 0
    opened = subprocess.run([seven_zip, "x", f"-p{PASSPHRASE}", f"-o{tmp_path / 'out'}",
                             str(saved)], capture_output=True, text=True, timeout=120)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    database = tmp_path / "out" / FILE_NAME.replace(".zip", ".db")
    assert database.read_bytes().startswith(SQLITE_MAGIC)
    assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    users = rows(database, USERS)
    assert {u[0] for u in users} == {"admin", "kepala", "staf", "penilai", "tamu"}
    assert all(u[2].startswith("$2b$") for u in users)
    assert users == rows(server.db_path, USERS)

    # ... and so does the documented restore command.
    target = tmp_path / "restored" / "ikm.db"
    env = {**os.environ, "IKM_BACKUP_PASSPHRASE": PASSPHRASE}
    restored = subprocess.run([sys.executable, "-m", "db", "restore-backup", str(saved),
                               str(target)], cwd=ROOT, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
    assert restored.returncode == 0, restored.stderr
    assert "integrity ok, 5 users, 480 IKM" in restored.stdout
    assert rows(target, USERS) == users

    # Seconds later the page drops the button, and the address is dead.
    expect(page.get_by_text(REMOVED)).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Unduh cadangan terenkripsi")).to_have_count(0)
    assert fetch(url)[0] == 404
    shot(page, "admin_backup_done")

    audit = rows(server.db_path, "SELECT username, after FROM auditlog WHERE action = 'backup'")
    assert len(audit) == 1 and audit[0][0] == "admin", audit
    assert FILE_NAME in audit[0][1] and PASSPHRASE not in audit[0][1]
    assert PASSPHRASE not in server.log_text()
    assert_no_traceback(page, server, log_from)


def test_backup_address_after_the_admins_browser_closed(server, new_page):
    log_from = len(server.log_text())
    page = new_page()
    open_backup_tab(page, server)
    button = offer_backup(page)
    with page.expect_download() as info:
        button.click()
    url = info.value.url
    page.context.close()  # the admin leaves before the page could clear anything

    assert_useless(*fetch(url))

    # Nobody else uses the app (no script runs, which would clean Streamlit's media store up):
    # the clean-up the click scheduled still removes the file within seconds. A page on the
    # health endpoint (no script run) asks for the address, without cookies, until it is gone.
    probe = new_page()
    probe.goto(server.url("/_stcore/health"))
    probe.evaluate(ASK_UNTIL_GONE, url)
    probe.wait_for_function("() => window.__gone === true", timeout=60_000)
    assert fetch(url)[0] == 404
    assert PASSPHRASE not in server.log_text()[log_from:]
    assert "Traceback" not in server.log_text()[log_from:]
