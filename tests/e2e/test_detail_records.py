"""Changing and deleting a record in the IKM detail view, in the browser: staff of Sumenep
opens a certificate in the 'Ubah atau hapus' picker, sees it prefilled (dates too), saves a
change, and deletes it after ticking the confirmation. Screenshots: the open edit form at
1366×768 and the Data IKM paging row."""

import sqlite3
from contextlib import closing
from pathlib import Path

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

TIMEOUT = 20_000


def query(server, sql: str, *params) -> list[tuple]:
    uri = f"file:{Path(server.db_path).as_posix()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(sql, params).fetchall()


def rerun(page, action) -> None:
    watch_runs(page)
    action()
    wait_for_run(page)


def into_view(locator) -> None:
    locator.evaluate("e => e.scrollIntoView({block: 'center'})")
    locator.page.wait_for_timeout(200)


def pick(page, box, text: str) -> None:
    """Choose the option containing `text` in a select box (retried while the list opens)."""
    for _attempt in range(3):
        settle(page)
        box.click()
        page.keyboard.type(text)
        option = page.get_by_role("option").filter(has_text=text).first
        try:
            option.wait_for(state="visible", timeout=5_000)
        except Exception:  # noqa: BLE001 - the list did not open; try again
            page.keyboard.press("Escape")
            continue
        rerun(page, option.click)
        return
    raise AssertionError(f"could not choose {text!r}")


def test_staff_edits_and_deletes_a_certificate(server, new_page):
    page = new_page()
    goto(page, server)
    assert login(page, "staf")
    log_from = len(server.log_text())
    rerun(page, page.get_by_role("link", name="Data IKM", exact=True).click)

    paging = page.get_by_role("button", name="›")
    into_view(paging)
    shot(page, "data_ikm_paging_row")

    rerun(page, page.get_by_role("tab", name="Detail", exact=True).click)
    ikm_id = int(page.get_by_role("combobox", name="IKM", exact=True)
                 .input_value().rsplit("#", 1)[1].rstrip(")"))
    cert_id, number, issued = query(
        server, "SELECT c.id, c.number, c.issued_on FROM certification c JOIN "
                "certificationtype t ON t.code = c.cert_type_code WHERE c.ikm_id = ? AND "
                "c.issued_on IS NOT NULL AND c.number IS NOT NULL ORDER BY c.id LIMIT 1",
        ikm_id)[0]
    detail = page.get_by_role("tabpanel", name="Detail")
    detail.get_by_role("tab", name="Sertifikat", exact=True).click()
    certs = page.get_by_role("tabpanel", name="Sertifikat")
    certs.get_by_text("Ubah atau hapus", exact=True).click()
    pick(page, certs.get_by_role("combobox", name="Data yang diubah"), number)

    field = certs.get_by_role("textbox", name="Nomor", exact=True)
    expect(field).to_have_value(number)
    y, m, d = issued.split("-")
    for part, value in (("day", d), ("month", m), ("year", y)):
        expect(certs.get_by_role("spinbutton", name=f"{part}, Tanggal terbit")).to_have_text(value)
    into_view(certs.get_by_role("button", name="Simpan perubahan"))
    shot(page, "detail_certificate_edit_form")

    field.fill("E2E-0001")
    rerun(page, certs.get_by_role("button", name="Simpan perubahan").click)
    expect(page.get_by_text("Perubahan disimpan.")).to_be_visible(timeout=TIMEOUT)
    assert query(server, "SELECT number, updated_by FROM certification WHERE id = ?",
                 cert_id) == [("E2E-0001", "staf")]

    certs = page.get_by_role("tabpanel", name="Sertifikat")
    delete = certs.get_by_role("button", name="Hapus", exact=True)
    expect(delete).to_be_disabled()
    rerun(page, certs.get_by_text("Saya yakin: hapus data ini").click)
    expect(delete).to_be_enabled()
    rerun(page, delete.click)
    expect(page.get_by_text("Data dihapus.")).to_be_visible(timeout=TIMEOUT)
    assert query(server, "SELECT count(*) FROM certification WHERE id = ?", cert_id) == [(0,)]
    assert_no_traceback(page, server, log_from)
