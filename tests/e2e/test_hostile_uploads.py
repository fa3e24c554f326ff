"""Hostile uploads through the real server: a staff member uploads a sparse workbook (one cell
in A1, one in XFD1048576), a zip bomb that lies about its sizes, and a grid that only the
reader's worker limits can stop. Each is refused on the page in Bahasa Indonesia, the server's
memory stays where it was, and everyone else keeps working."""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
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
from tests.hostile import sparse_workbook, wide_rows_without_references, zip_bomb

pytestmark = pytest.mark.e2e

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GROWTH_MB = 250  # what the server may add to its peak resident memory over all three uploads


@pytest.fixture(scope="module")
def server(server_factory):
    return server_factory()


def resident_peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return int(re.search(r"VmHWM:\s+(\d+)", status.read()).group(1)) / 1024


def open_import_page(page) -> None:
    watch_runs(page)
    page.get_by_role("link", name="Impor / Ekspor", exact=True).click()
    wait_for_run(page)
    expect(page.locator('[data-testid="stFileUploader"]')).to_be_visible()


def upload(page, name: str, data: bytes) -> None:
    files = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    watch_runs(page)
    files.set_input_files({"name": name, "buffer": data, "mimeType": XLSX})
    try:
        wait_for_run(page, timeout=60_000)
    except PlaywrightTimeout:
        settle(page)


def test_hostile_workbooks_are_refused_and_the_server_stays_well(server, new_page):
    staff = new_page()
    goto(staff, server)
    assert login(staff, "staf")
    open_import_page(staff)
    log_from = len(server.log_text())
    peak_before = resident_peak_mb(server.process.pid)

    cases = [("jarang.xlsx", sparse_workbook("XFD1048576"), "memakai sel sampai XFD1048576"),
             ("bom.xlsx", zip_bomb(400, 1000), "bukan workbook Excel (.xlsx) yang utuh"),
             ("lebar.xlsx", wide_rows_without_references(), "terlalu berat untuk dibaca")]
    for name, data, expected in cases:
        upload(staff, name, data)
        expect(staff.locator('[data-testid="stAlertContentError"]').filter(
            has_text=expected)).to_be_visible(timeout=60_000)
        if name == "jarang.xlsx":
            shot(staff, "import_refused_sparse")
    assert resident_peak_mb(server.process.pid) - peak_before < GROWTH_MB
    assert_no_traceback(staff)
    log = server.log_text()[log_from:]
    assert "Traceback" not in log and "stack backtrace" not in log, log[-2000:]

    # the server answers everyone: the health check, and a head's Overview in another browser
    import urllib.request

    with urllib.request.urlopen(server.url("/_stcore/health"), timeout=10) as resp:
        assert resp.read().decode().strip() == "ok"
    head = new_page()
    goto(head, server)
    assert login(head, "kepala")
    expect(head.get_by_role("heading", name="Ringkasan program")).to_be_visible()
    # and the staff member's next, ordinary upload is read
    upload(staff, "biasa.xlsx", sparse_workbook("B3"))
    expect(staff.get_by_text("belum ada yang disimpan").first).to_be_visible(timeout=60_000)
