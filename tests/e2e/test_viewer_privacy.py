"""A viewer (tamu) downloads Data IKM's list in Chromium: no owner's phone, NIB or address in
the CSV or the XLSX, and none on the page (issue 9). Staff get the full values."""

import io
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    assert_no_traceback,
    goto,
    login,
    settle,
    shot,
    wait_for_run,
    watch_runs,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(server_factory):
    return server_factory()


def personal(server) -> tuple[set[str], set[str], set[str]]:
    uri = f"file:{Path(server.db_path).as_posix()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT phone, nib, address FROM ikm").fetchall()
    return ({p for p, _, _ in rows if p}, {n for _, n, _ in rows if n},
            {a for _, _, a in rows if a})


def rerun(page, action) -> None:
    watch_runs(page)
    action()
    wait_for_run(page)


def download_list(page) -> tuple[str, str]:
    """Data IKM → 'Unduh daftar ini' → CSV and XLSX; both as text."""
    rerun(page, page.get_by_role("link", name="Data IKM", exact=True).click)
    page.get_by_text("Unduh daftar ini", exact=True).click()
    rerun(page, page.get_by_role("button", name="Siapkan unduhan").click)
    with page.expect_download() as csv_file:
        page.get_by_role("button", name="CSV").click()
    csv_text = Path(csv_file.value.path()).read_bytes().decode("utf-8-sig")
    settle(page)
    with page.expect_download() as xlsx_file:
        page.get_by_role("button", name="XLSX").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(xlsx_file.value.path()).read_bytes()))
    xlsx_text = "\n".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row
                          if c.value is not None)
    return csv_text, xlsx_text


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize("username", ["tamu", "staf"])
def test_the_list_download_holds_personal_data_only_for_those_who_need_it(server, new_page,
                                                                       username):
    page = new_page()
    goto(page, server)
    assert login(page, username)
    phones, nibs, addresses = personal(server)  # the database exists once the app has started
    log_from = len(server.log_text())
    csv_text, xlsx_text = download_list(page)
    assert csv_text.count("\n") > 400  # the whole list (480 IKM)
    shown = page.locator('[data-testid="stMain"]').inner_text()
    found_digits = digits(csv_text) + " " + digits(xlsx_text)
    if username == "tamu":
        assert not [p for p in phones if digits(p)[:-3] in found_digits], "a phone leaked"
        assert not [n for n in nibs if n[:-2] in found_digits], "an NIB leaked"
        assert not [a for a in addresses if a in csv_text or a in xlsx_text]
        assert not [p for p in phones if p in shown]
        expect(page.get_by_text("disembunyikan untuk peran Anda", exact=False).first
               ).to_be_attached()
    else:  # staff: the values they work with
        assert sum(digits(p) in found_digits for p in phones) == len(phones)
        assert sum(n in csv_text for n in nibs) == len(nibs)
    shot(page, f"privacy_download_{username}")
    assert_no_traceback(page, server, log_from)
